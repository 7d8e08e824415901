"""Commands the auditor runs: ``audit`` (the liabilities rebuilt, every wallet read at the
pinned blocks, reserves against liabilities) and ``custody`` (which reserves freeze when
keyholders become unreachable)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserves.checks import Outcome, Verdict
from reserves.cli.app import app
from reserves.cli.cluster import (
    LocalWorkersOption,
    SchedulerOption,
    WorkDirOption,
    WorkerMemoryOption,
    cluster_from_options,
)
from reserves.cli.output import (
    EXIT_CODES_HELP,
    EXIT_INPUT,
    STATUS_STYLE,
    EsploraOption,
    JsonOption,
    MaxTimeOption,
    RpcOption,
    SetSizes,
    SetSizesOption,
    TimeoutOption,
    UnreachableOption,
    cell,
    errors_to_exit_codes,
    new_table,
    notice,
    print_checks,
    print_json,
    progress_bars,
    register_secret_urls,
    say,
    say_outcome,
    scrub,
    stdout,
)
from reserves.encoding import format_amount, format_share
from reserves.errors import InputError
from reserves.liabilities.published import PublishedSnapshot, load_statement
from reserves.liabilities.secret import SnapshotSecret
from reserves.onchain.sources import DEFAULT_TIMEOUT, Endpoint, endpoints_by_name
from reserves.report.documents import audit_document, custody_document, envelope
from reserves.report.inputs import AuditInputs

DEFAULT_SET_SIZES = SetSizes((1, 2, 3))
LiabilitiesOnlyOption = Annotated[
    bool,
    typer.Option("--liabilities-only", help="Check the liabilities side alone; the result says reserves were not."),
]

if TYPE_CHECKING:
    from reserves.audit import AuditReport
    from reserves.control.custody import CustodyReport
    from reserves.onchain.reserve_audit import ReserveAudit
    from reserves.onchain.sources import BalanceSource


@app.command("audit", epilog=EXIT_CODES_HELP, rich_help_panel="Auditor")
def audit_command(
    snapshot: Annotated[Path, typer.Argument(help="The published snapshot.json.")],
    liabilities: Annotated[Path, typer.Option(help="The exchange's liabilities.csv for this snapshot.")],
    secret: Annotated[Path, typer.Option(help="The snapshot's secret file.")],
    rpc: RpcOption = None,
    esplora: EsploraOption = None,
    liabilities_only: LiabilitiesOnlyOption = False,
    report: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML report to this file.")] = None,
    unreachable: UnreachableOption = None,
    set_sizes: SetSizesOption = DEFAULT_SET_SIZES,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    max_time: MaxTimeOption = None,
    as_json: JsonOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    scheduler: SchedulerOption = None,
    work_dir: WorkDirOption = None,
    local_workers: LocalWorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
) -> None:
    """Audit a snapshot: liabilities rebuilt, reserves read on-chain, asset by asset.

    Rebuilds the liabilities tree and compares it with snapshot.json (on a Dask cluster with
    --scheduler or --local-workers); reads every wallet at the pinned blocks and compares
    reserves with liabilities.

    PASS only when every check passed; INCOMPLETE (exit 3) when a chain, an ownership check or
    an asset's verdict could not be read.

    Example: reserves audit snap/public/snapshot.json --liabilities liabilities.csv --secret snap/private/secret
    --rpc ethereum=http://127.0.0.1:8545 --esplora bitcoin=http://127.0.0.1:3002 --report report.html"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.audit import audit_snapshot

        statement = load_statement(snapshot)
        given = SnapshotSecret.load(secret)
        if liabilities_only and (rpc or esplora):
            raise InputError("--liabilities-only reads no chain: leave out --rpc and --esplora")
        sources = {} if liabilities_only else _sources(statement, rpc, esplora, timeout, max_time)
        ks, gone, only = set_sizes.sizes, tuple(unreachable or ()), liabilities_only
        on = cluster_from_options(scheduler, work_dir, local_workers, worker_memory)
        with on as cluster, progress_bars() as progress:
            result = audit_snapshot(
                statement,
                liabilities,
                given,
                sources,
                progress=progress,
                custody_ks=ks,
                unreachable=gone,
                liabilities_only=only,
                cluster=cluster,
            )
        verdict = result.verdict(strict=strict)
        _tell(result, verdict, AuditInputs.describe(snapshot, liabilities, sources), report, as_json)
        raise typer.Exit(verdict.exit_code)


def _tell(result: AuditReport, verdict: Verdict, inputs: AuditInputs, report: Path | None, as_json: bool) -> None:
    """The audit's outcome on stdout (text or JSON), unread sources on stderr, and the report."""
    if as_json:
        print_json(audit_document(result, verdict, inputs))
    else:
        print_audit(result, verdict)
    for message in result.unreadable:
        say(f"reserves: source unavailable: {message}", err=True)
    if report is not None:
        _write_report(report, result, verdict, inputs, as_json)


def _sources(
    statement: PublishedSnapshot,
    rpc: list[Endpoint] | None,
    esplora: list[Endpoint] | None,
    timeout: float,
    max_time: float | None,
) -> dict[str, BalanceSource]:
    """The sources for the snapshot's chains, from the options and the environment."""
    from reserves.onchain.sources.connect import connect_sources, environment_endpoints
    from reserves.onchain.sources.http import TimeBudget

    chains = statement.reserves.chains
    rpc_urls = environment_endpoints(chains, endpoints_by_name(rpc or [], where="--rpc"), "evm")
    esplora_urls = environment_endpoints(chains, endpoints_by_name(esplora or [], where="--esplora"), "bitcoin")
    register_secret_urls([*rpc_urls.values(), *esplora_urls.values()])
    budget = TimeBudget.of(max_time) if max_time is not None else None
    return connect_sources(
        chains, rpc_urls, esplora_urls, timeout=timeout, notice=notice, budget=budget, where=("--rpc", "--esplora")
    )


def _write_report(path: Path, result: AuditReport, verdict: Verdict, inputs: AuditInputs, as_json: bool) -> None:
    """Write the report after the verdict was printed: a failed write never hides it. The
    exit code is the verdict's when it failed, else 2 (a file that cannot be written)."""
    from reserves.report.html import render_html, write_report

    try:
        write_report(path, scrub(render_html(result, verdict, inputs)))
    except InputError as exc:
        say(f"reserves: invalid input: {exc}", err=True)
        raise typer.Exit(verdict.exit_code if verdict.outcome is Outcome.FAIL else EXIT_INPUT) from None
    if not as_json:
        say(f"Report written to {path}")


@app.command("custody", epilog=EXIT_CODES_HELP, rich_help_panel="Auditor")
def custody_command(
    snapshot: Annotated[Path, typer.Argument(help="The published snapshot.json.")],
    rpc: RpcOption = None,
    esplora: EsploraOption = None,
    unreachable: UnreachableOption = None,
    set_sizes: SetSizesOption = DEFAULT_SET_SIZES,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    max_time: MaxTimeOption = None,
    as_json: JsonOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Which reserves freeze if keyholders become unreachable.

    Signers come from scripts, Safe owners at the pinned block and the snapshot's keyholders.

    Example: reserves custody snap/public/snapshot.json --rpc ethereum=URL --esplora bitcoin=URL --unreachable cfo"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.audit import custody_verdict
        from reserves.onchain.reserve_audit import audit_reserves

        statement = load_statement(snapshot)
        sources = _sources(statement, rpc, esplora, timeout, max_time)
        sums = statement.liability_totals()
        with progress_bars() as progress:
            result = audit_reserves(
                statement,
                sums,
                sources,
                progress=progress,
                custody_ks=set_sizes.sizes,
                unreachable=tuple(unreachable or ()),
            )
        checks = [c for c in result.checks if c.step in CUSTODY_STEPS]
        verdict = custody_verdict(checks, result, strict=strict)
        if as_json:
            print_json(envelope("custody", verdict, checks, custody=custody_document(result.custody, statement)))
        else:
            if result.custody is not None:
                print_custody(result.custody, statement)
            print_checks(checks)
            say_outcome(verdict)
        for message in result.unreadable:
            say(f"reserves: source unavailable: {message}", err=True)
        raise typer.Exit(verdict.exit_code)


CUSTODY_STEPS = (8, 12)
"""The audit's steps that the custody command reports: ownership (who signs) and custody."""


def print_custody(custody: CustodyReport, statement: PublishedSnapshot) -> None:
    from reserves.control.custody import holder_of

    decimals = statement.context.decimals
    named = holder_of(statement.reserves.keyholders)
    policies = new_table("Custody: who must sign to move each wallet", ("wallet", "kind", "policy", "keyholders"))
    for w in custody.wallets:
        holders = ", ".join(named.get(key, "its own key (not in keyholders)") for key in w.policy.keys)
        policy = f"{w.policy.threshold}-of-{len(w.policy.keys)}"
        policies.add_row(cell(w.wallet.label), cell(w.wallet.kind), cell(policy), cell(holders))
    stdout.print(policies)
    ks = sorted({e.k for e in custody.exposures})
    worst = new_table(
        "Worst case: share of reserves frozen if any k keyholders are unreachable", ["asset", *(f"k = {k}" for k in ks)]
    )
    for symbol in statement.context.symbols:
        cells = []
        for k in ks:
            exposure = next(e for e in custody.exposures if e.asset == symbol and e.k == k)
            if not exposure.searched:
                cells.append("not searched (too many sets)")
            elif not exposure.frozen:
                cells.append("0%")
            elif not exposure.sets:
                cells.append(f"{exposure.share}: no more than a smaller set freezes")
            else:
                who = "; ".join(" + ".join(group) for group in exposure.sets)
                cells.append(f"{exposure.share} ({format_amount(exposure.frozen, decimals[symbol])}) by {who}")
        worst.add_row(cell(symbol), *(cell(c) for c in cells))
    stdout.print(worst)
    if custody.unreachable:
        frozen = custody.frozen_now or {}
        totals = custody.totals or {}
        parts = [f"{a} {format_share(v, totals.get(a, 0))}" for a, v in frozen.items()]
        say(
            f"With {', '.join(custody.unreachable)} unreachable: frozen wallets "
            f"{', '.join(custody.frozen_wallets) or 'none'}; frozen share {', '.join(parts)}"
        )


def print_audit(result: AuditReport, verdict: Verdict) -> None:
    liabilities = result.liabilities
    context = liabilities.statement.context
    say(
        f"Audit of snapshot {context.snapshot_id!r} of {context.exchange!r} (cut-off {context.cutoff_text}), "
        f"{liabilities.rows} liability rows"
    )
    if liabilities.totals:
        table = new_table(
            "Liabilities per asset", ("asset", "published", "rebuilt", ""), right=("published", "rebuilt")
        )
        for total in liabilities.totals:
            same = total.published == total.rebuilt
            table.add_row(
                cell(total.symbol),
                cell(format_amount(total.published, total.decimals)),
                cell(format_amount(total.rebuilt, total.decimals)),
                cell("equal", "green") if same else cell("DIFFERENT", "red"),
            )
        stdout.print(table)
    if result.reserves is not None:
        _print_reserves(result.reserves, liabilities.statement)
        if result.reserves.custody is not None:
            print_custody(result.reserves.custody, liabilities.statement)
    print_checks(result.checks)
    say_outcome(verdict)


def _print_reserves(reserves: ReserveAudit, statement: PublishedSnapshot) -> None:
    decimals = statement.context.decimals
    table = new_table(
        "Reserves per asset (at the pinned blocks)",
        ("asset", "liabilities", "reserves", "ratio", "verdict"),
        right=("liabilities", "reserves", "ratio"),
    )
    for v in reserves.verdicts:
        table.add_row(
            cell(v.asset.symbol),
            cell(format_amount(v.liabilities, v.asset.decimals)),
            cell(format_amount(v.reserves, v.asset.decimals)),
            cell(v.ratio),
            cell(v.status.value, STATUS_STYLE[v.status]),
        )
    stdout.print(table)
    columns = ("chain", "label", "kind", "address", "asset", "found", "claimed", "counted")
    wallets = new_table("Wallets", columns, right=("found", "claimed"))
    for r in reserves.readings:
        wallets.add_row(
            *(cell(v) for v in (r.wallet.chain, r.wallet.label, r.wallet.kind, r.wallet.address, r.asset)),
            cell("—" if r.found is None else format_amount(r.found, decimals[r.asset])),
            cell("—" if r.wallet.claimed is None else format_amount(r.wallet.claimed[r.asset], decimals[r.asset])),
            cell("yes" if r.counted else f"no: {r.note}"),
        )
    stdout.print(wallets)
