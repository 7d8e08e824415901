"""Commands of the auditor and of the exchange's custody: ``audit``, ``custody``,
``messages`` and ``sign``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_FAILED,
    EXIT_SOURCE,
    STATUS_STYLE,
    EsploraOption,
    KOption,
    RpcOption,
    UnreachableOption,
    errors_to_exit_codes,
    print_checks,
    print_json,
    progress_bars,
    stderr,
    stdout,
)
from reserves.encoding import format_amount
from reserves.errors import InputError
from reserves.results import passed
from reserves.secret import SnapshotSecret
from reserves.snapshot import SnapshotStatement, load_snapshot
from reserves.sources import parse_endpoints

if TYPE_CHECKING:
    from reserves.audit import AuditReport
    from reserves.custody import CustodyReport


@app.command("audit")
def audit_command(
    snapshot: Annotated[Path, typer.Argument(help="The published snapshot.json.")],
    liabilities: Annotated[Path, typer.Option(help="The exchange's liabilities.csv for this snapshot.")],
    secret: Annotated[Path, typer.Option(help="The snapshot's secret file.")],
    rpc: RpcOption = None,
    esplora: EsploraOption = None,
    report: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML report to this file.")] = None,
    unreachable: UnreachableOption = None,
    k: KOption = "1,2,3",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings and skipped checks too.")] = False,
) -> None:
    """Rebuild the liabilities tree and compare it with snapshot.json; read every wallet on-chain
    at the pinned blocks and compare reserves with liabilities, asset by asset."""
    with errors_to_exit_codes():
        from reserves.audit import audit_snapshot
        from reserves.report import render_html, write_report
        from reserves.sources.connect import connect_sources

        statement = load_snapshot(snapshot)
        given = SnapshotSecret.load(secret)
        chains = statement.reserves.chains
        sources = connect_sources(
            chains, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        with progress_bars() as progress:
            result = audit_snapshot(
                statement, liabilities, given, sources, progress=progress, custody_ks=parse_ks(k),
                unreachable=tuple(unreachable or ()),
            )  # fmt: skip
        if report is not None:
            write_report(report, render_html(result, strict=strict))
        if as_json:
            print_json(_audit_json(result, strict))
        else:
            print_audit(result, strict)
            if report is not None:
                stdout.print(f"Report written to {report}", markup=False)
        for message in result.unreadable:
            stderr.print(f"reserves: source unavailable: {message}", markup=False)
        if result.failed():
            raise typer.Exit(EXIT_FAILED)
        if result.unreadable:
            raise typer.Exit(EXIT_SOURCE)
        if not result.ok(strict=strict):
            raise typer.Exit(EXIT_FAILED)


def parse_ks(text: str) -> tuple[int, ...]:
    sizes = []
    for item in text.split(","):
        if not item.isdigit() or not 1 <= int(item) <= 8:
            raise InputError(f"expected sizes from 1 to 8 separated by commas, found {text!r}", where="--k")
        sizes.append(int(item))
    return tuple(dict.fromkeys(sizes))


@app.command("messages")
def messages_command(
    snapshot: Annotated[Path, typer.Argument(help="The snapshot.json to sign for.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as JSON.")] = False,
) -> None:
    """Print the canonical ownership message each wallet's signers must sign (FORMAT §6.4)."""
    with errors_to_exit_codes():
        from reserves.ownership import wallet_messages

        pairs = wallet_messages(load_snapshot(snapshot))
        if as_json:
            print_json([{"label": w.label, "chain": w.chain, "address": w.address, "message": m} for w, m in pairs])
            return
        for wallet, message in pairs:
            stdout.print(f"[bold]{wallet.label}[/] ({wallet.chain} {wallet.address}):")
            stdout.print(message, markup=False)
            stdout.print()


@app.command("sign")
def sign_command(
    snapshot: Annotated[Path, typer.Argument(help="The snapshot.json to add ownership signatures to (rewritten).")],
    keys: Annotated[
        Path,
        typer.Option(
            help='JSON file {"<wallet label>": ["<64-hex private key>", ...]}: keys never leave this process.'
        ),
    ],
) -> None:
    """Sign each named wallet's canonical message with the given keys and write the
    signatures into snapshot.json (a helper for tests and demos; real custody signs offline)."""
    with errors_to_exit_codes():
        from reserves.ownership import load_signing_keys, sign_snapshot
        from reserves.publish import rewrite_statement

        statement = sign_snapshot(load_snapshot(snapshot), load_signing_keys(keys))
        rewrite_statement(snapshot, statement)
        signed = [w.label for w in statement.reserves.wallets if w.ownership is not None]
        stdout.print(f"Signed ownership of {', '.join(signed) or 'no wallet'} in {snapshot}", markup=False)


@app.command("custody")
def custody_command(
    snapshot: Annotated[Path, typer.Argument(help="The published snapshot.json.")],
    rpc: RpcOption = None,
    esplora: EsploraOption = None,
    unreachable: UnreachableOption = None,
    k: KOption = "1,2,3",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Which reserves freeze if keyholders become unreachable: signers from scripts, Safe
    owners at the pinned block and the snapshot's keyholders."""
    with errors_to_exit_codes():
        from reserves.reserve_audit import audit_reserves
        from reserves.sources.connect import connect_sources

        statement = load_snapshot(snapshot)
        sources = connect_sources(
            statement.reserves.chains, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        sums = {a.symbol: s for a, s in zip(statement.context.assets, statement.root.sums, strict=True)}
        with progress_bars() as progress:
            result = audit_reserves(statement, sums, sources, progress=progress, custody_ks=parse_ks(k),
                                    unreachable=tuple(unreachable or ()))  # fmt: skip
        checks = [c for c in result.checks if c.name.startswith(("(8)", "(12)"))]
        if as_json:
            print_json({"custody": _custody_json(result.custody, statement), "checks": [c.to_json() for c in checks]})
        else:
            if result.custody is not None:
                print_custody(result.custody, statement)
            print_checks(checks)
        for message in result.unreadable:
            stderr.print(f"reserves: source unavailable: {message}", markup=False)
        if result.unreadable:
            raise typer.Exit(EXIT_SOURCE)
        if not passed(checks, strict=strict):
            raise typer.Exit(EXIT_FAILED)


def _custody_json(custody: CustodyReport | None, statement: SnapshotStatement) -> dict[str, Any] | None:
    if custody is None:
        return None
    decimals = {a.symbol: a.decimals for a in statement.context.assets}
    document: dict[str, Any] = {
        "keyholders": list(custody.keyholders),
        "wallets": [
            {
                "label": w.wallet.label,
                "kind": w.wallet.kind,
                "threshold": w.policy.threshold,
                "keys": list(w.policy.keys),
            }
            for w in custody.wallets
        ],
        "worst_case": [
            {
                "asset": e.asset,
                "k": e.k,
                "frozen": format_amount(e.frozen, decimals[e.asset]),
                "share": e.share,
                "keyholder_sets": [list(group) for group in e.sets],
                "searched": e.searched,
            }
            for e in custody.exposures
        ],
        "flags": [{"kind": f.kind, "detail": f.detail} for f in custody.flags],
    }
    if custody.unreachable:
        document["unreachable"] = {
            "keyholders": list(custody.unreachable),
            "frozen_wallets": list(custody.frozen_wallets),
            "frozen": {a: format_amount(v, decimals[a]) for a, v in (custody.frozen_now or {}).items()},
        }
    return document


def print_custody(custody: CustodyReport, statement: SnapshotStatement) -> None:
    from reserves.custody import holder_of, share

    decimals = {a.symbol: a.decimals for a in statement.context.assets}
    named = holder_of(statement.reserves.keyholders)
    policies = Table(title="Custody: who must sign to move each wallet", title_justify="left")
    for column in ("wallet", "kind", "policy", "keyholders"):
        policies.add_column(column)
    for w in custody.wallets:
        holders = ", ".join(named.get(key, "its own key (not in keyholders)") for key in w.policy.keys)
        policies.add_row(w.wallet.label, w.wallet.kind, f"{w.policy.threshold}-of-{len(w.policy.keys)}", holders)
    stdout.print(policies)
    worst = Table(
        title="Worst case: share of reserves frozen if any k keyholders are unreachable", title_justify="left"
    )
    worst.add_column("asset")
    ks = sorted({e.k for e in custody.exposures})
    for k in ks:
        worst.add_column(f"k = {k}")
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
        worst.add_row(symbol, *cells)
    stdout.print(worst)
    if custody.unreachable:
        frozen = custody.frozen_now or {}
        totals = custody.totals or {}
        parts = [f"{a} {share(v, totals.get(a, 0))}" for a, v in frozen.items()]
        stdout.print(
            f"With {', '.join(custody.unreachable)} unreachable: frozen wallets "
            f"{', '.join(custody.frozen_wallets) or 'none'}; frozen share {', '.join(parts)}",
            markup=False,
        )


def audit_verdict(result: AuditReport, strict: bool) -> str:
    if result.failed():
        return "FAIL"
    if result.unreadable:
        return "INCOMPLETE"
    return "PASS" if result.ok(strict=strict) else "FAIL"


def _audit_json(result: AuditReport, strict: bool) -> dict[str, Any]:
    statement = result.liabilities.statement
    context = statement.context
    document: dict[str, Any] = {
        "result": audit_verdict(result, strict),
        "snapshot": {
            "exchange": context.exchange,
            "snapshot_id": context.snapshot_id,
            "cutoff": context.cutoff_text,
            "root": statement.root.hash.hex(),
            "accounts": statement.accounts,
        },
        "rows": result.liabilities.rows,
        "liabilities": {
            t.symbol: {
                "published": format_amount(t.published, t.decimals),
                "rebuilt": format_amount(t.rebuilt, t.decimals),
            }
            for t in result.liabilities.totals
        },
    }
    if result.reserves is not None:
        decimals = {a.symbol: a.decimals for a in context.assets}
        document["reserves"] = {
            v.asset.symbol: {
                "liabilities": format_amount(v.liabilities, v.asset.decimals),
                "reserves": format_amount(v.reserves, v.asset.decimals),
                "ratio": v.ratio,
                "status": v.status.value,
            }
            for v in result.reserves.verdicts
        }
        document["wallets"] = [
            {
                "chain": r.wallet.chain,
                "label": r.wallet.label,
                "kind": r.wallet.kind,
                "address": r.wallet.address,
                "asset": r.asset,
                "found": None if r.found is None else format_amount(r.found, decimals[r.asset]),
                "claimed": None
                if r.wallet.claimed is None
                else format_amount(r.wallet.claimed[r.asset], decimals[r.asset]),
                "counted": r.counted,
                "note": r.note,
            }
            for r in result.reserves.readings
        ]
        document["ownership"] = [
            {"label": o.wallet.label, "status": o.status.value, "detail": o.detail, "signed_by": list(o.signed_by)}
            for o in result.reserves.ownership
        ]
        document["custody"] = _custody_json(result.reserves.custody, statement)
        document["unreadable"] = result.unreadable
    document["checks"] = [check.to_json() for check in result.checks]
    return document


def print_audit(result: AuditReport, strict: bool) -> None:
    liabilities = result.liabilities
    context = liabilities.statement.context
    stdout.print(
        f"Audit of snapshot {context.snapshot_id!r} of {context.exchange!r} (cut-off {context.cutoff_text}), "
        f"{liabilities.rows} liability rows",
        markup=False,
    )
    if liabilities.totals:
        table = Table(title="Liabilities per asset", title_justify="left")
        for column in ("asset", "published", "rebuilt", ""):
            table.add_column(column, justify="left" if column == "asset" else "right")
        for total in liabilities.totals:
            same = total.published == total.rebuilt
            table.add_row(
                total.symbol,
                format_amount(total.published, total.decimals),
                format_amount(total.rebuilt, total.decimals),
                "[green]equal[/]" if same else "[red]DIFFERENT[/]",
            )
        stdout.print(table)
    if result.reserves is not None:
        _print_reserves(result)
        if result.reserves.custody is not None:
            print_custody(result.reserves.custody, liabilities.statement)
    print_checks(result.checks)
    verdict = audit_verdict(result, strict)
    if result.reserves is None:
        message = (
            "liabilities match the published snapshot."
            if verdict == "PASS"
            else "liabilities do not match the published snapshot."
        )
    elif verdict == "PASS":
        message = "liabilities match the snapshot and every asset's reserves cover its liabilities."
    elif verdict == "INCOMPLETE":
        message = "some sources could not be read; assets held there have no verdict."
    else:
        message = "see the failed checks above."
    style = {"PASS": "bold green", "FAIL": "bold red", "INCOMPLETE": "bold yellow"}[verdict]
    stdout.print(f"[{style}]{verdict}[/]: {message}")


def _print_reserves(result: AuditReport) -> None:
    assert result.reserves is not None
    decimals = {a.symbol: a.decimals for a in result.liabilities.statement.context.assets}
    table = Table(title="Reserves per asset (at the pinned blocks)", title_justify="left")
    for column in ("asset", "liabilities", "reserves", "ratio", "verdict"):
        table.add_column(column, justify="left" if column in ("asset", "verdict") else "right")
    for v in result.reserves.verdicts:
        table.add_row(
            v.asset.symbol,
            format_amount(v.liabilities, v.asset.decimals),
            format_amount(v.reserves, v.asset.decimals),
            v.ratio,
            f"[{STATUS_STYLE[v.status]}]{v.status.value}[/]",
        )
    stdout.print(table)
    wallets = Table(title="Wallets", title_justify="left")
    for column in ("chain", "label", "kind", "address", "asset", "found", "claimed", "counted"):
        wallets.add_column(column, justify="right" if column in ("found", "claimed") else "left")
    for r in result.reserves.readings:
        wallets.add_row(
            r.wallet.chain,
            r.wallet.label,
            r.wallet.kind,
            r.wallet.address,
            r.asset,
            "—" if r.found is None else format_amount(r.found, decimals[r.asset]),
            "—" if r.wallet.claimed is None else format_amount(r.wallet.claimed[r.asset], decimals[r.asset]),
            "yes" if r.counted else f"no: {r.note}",
        )
    stdout.print(wallets)
