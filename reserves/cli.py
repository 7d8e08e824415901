"""The ``reserves`` command: the only module that talks to people.

It parses options, calls the library, and turns results and errors into output and exit
codes: 0 every check passed, 1 a check failed, 2 bad usage or malformed input, 3 a data
source could not be read, 4 an internal error (a bug: please report it).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from reserves import __version__
from reserves.context import Asset
from reserves.encoding import check_decimals, check_symbol, format_amount, parse_cutoff, parse_hex32
from reserves.errors import InputError, ReservesError, SourceError, VerificationError
from reserves.formats import FormatVerification, okx_v1, okx_v2, recognise
from reserves.proof import parse_proof
from reserves.results import Check, Status, passed
from reserves.secret import SnapshotSecret
from reserves.snapshot import SnapshotStatement, load_snapshot
from reserves.sources import parse_endpoints
from reserves.strict_json import load_json
from reserves.verify import Anchor, ProofVerification, verify_proof
from reserves.wallets import ReserveSections

# A user's `reserves verify` must start in well under 0.3 s, so the modules that pull in
# web3, eth-account, coincurve, numpy or jinja2 are imported inside the commands that use them.
if TYPE_CHECKING:
    from reserves.audit import AuditReport
    from reserves.custody import CustodyReport
    from reserves.liability_tree import ProgressCallback

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_SOURCE, EXIT_BUG = 0, 1, 2, 3, 4

app = typer.Typer(
    help="Proofs of reserves: publish a liabilities snapshot, verify your own balance in it, audit the whole of it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Piped output is not cut to 80 columns: addresses and amounts must survive whole.
PIPED_WIDTH = 200
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.WARN: "bold yellow", Status.SKIPPED: "dim"}
_DECIMALS_ITEM = re.compile(r"([^=,]+)=(0|[1-9][0-9]?)")


# Options shared by the commands that read chains.
RpcOption = Annotated[
    list[str] | None, typer.Option(help="NAME=URL of an archive node for each EVM chain of the snapshot.")
]
EsploraOption = Annotated[
    list[str] | None, typer.Option(help="NAME=URL of an Esplora API for each Bitcoin chain of the snapshot.")
]
UnreachableOption = Annotated[
    list[str] | None, typer.Option(help="A keyholder to treat as unreachable (repeat for several).")
]
KOption = Annotated[str, typer.Option("--k", help="Sizes of keyholder sets to search, e.g. 1,2,3.")]


def _fail(code: int, message: str) -> NoReturn:
    stderr.print(f"reserves: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    try:
        yield
    except typer.Exit:
        raise
    except InputError as exc:
        _fail(EXIT_INPUT, f"invalid input: {exc}")
    except VerificationError as exc:
        _fail(EXIT_FAILED, f"check failed: {exc}")
    except SourceError as exc:
        _fail(EXIT_SOURCE, f"source unavailable: {exc}")
    except ReservesError as exc:  # pragma: no cover - every branch above is a subclass
        _fail(EXIT_BUG, f"internal error: {exc}")
    except KeyboardInterrupt:
        _fail(130, "interrupted")
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        _fail(
            EXIT_BUG,
            f"internal error ({type(exc).__name__}: {exc}). This is a bug; please report it with the command you ran.",
        )


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A progress bar on stderr for long steps (silent when stderr is not a terminal)."""
    bars = Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(task: str, done: int, total: int) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(task, total=total)
        bars.update(tasks[task], completed=done, total=total)

    with bars:
        yield report


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _print_checks(checks: list[Check]) -> None:
    for check in checks:
        stdout.print(f"[{_STYLE[check.status]}]{check.status.value:<7}[/] {check.name}")
        if check.detail:
            stdout.print(f"        {check.detail}", markup=False)
        if check.expected is not None or check.found is not None:
            stdout.print(f"        expected: {check.expected}", markup=False)
            stdout.print(f"        found:    {check.found}", markup=False)


def _amounts_table(title: str, statement_assets: Any, columns: dict[str, tuple[int, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("asset")
    for name in columns:
        table.add_column(name, justify="right")
    for position, asset in enumerate(statement_assets):
        table.add_row(asset.symbol, *(format_amount(v[position], asset.decimals) for v in columns.values()))
    return table


def _parse_decimals(text: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for item in text.split(","):
        match = _DECIMALS_ITEM.fullmatch(item)
        if match is None:
            raise InputError(f"expected SYMBOL=DECIMALS[,SYMBOL=DECIMALS…], found {item!r}", where="--decimals")
        symbol, decimals = match.group(1), int(match.group(2))
        if symbol in result:
            raise InputError(f"{symbol} is given twice", where="--decimals")
        result[check_symbol(symbol, where="--decimals")] = check_decimals(decimals, where="--decimals")
    return result


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        stdout.print(f"reserves {__version__}")
        raise typer.Exit(EXIT_OK)


@app.command("publish")
def publish_command(
    liabilities: Annotated[Path, typer.Argument(help="liabilities.csv: 'account,<SYMBOL>,…', one row per account.")],
    exchange: Annotated[str, typer.Option(help="The exchange's name, as users know it.")],
    snapshot_id: Annotated[str, typer.Option(help="This snapshot's unique id, e.g. the date.")],
    cutoff: Annotated[str, typer.Option(help="Liabilities cut-off, UTC: YYYY-MM-DDTHH:MM:SSZ.")],
    decimals: Annotated[str, typer.Option(help="Decimals of every asset column, e.g. BTC=8,ETH=18,USDT=6.")],
    out: Annotated[Path, typer.Option(help="Snapshot directory to create.")],
    height: Annotated[
        int | None, typer.Option(help="Tree height (2^height slots); default: the smallest that fits.", min=1, max=64)
    ] = None,
    secret: Annotated[
        Path | None, typer.Option(help="Reuse this secret file instead of drawing a fresh one (reproduces a snapshot).")
    ] = None,
    reserves_file: Annotated[
        Path | None,
        typer.Option(
            "--reserves",
            help="JSON file with the chains, tokens, wallets and keyholders sections of snapshot.json; "
            "a chain without block_hash is pinned from its --rpc/--esplora node.",
        ),
    ] = None,
    rpc: Annotated[list[str] | None, typer.Option(help="NAME=URL of an EVM node, to pin that chain's block.")] = None,
    esplora: Annotated[
        list[str] | None, typer.Option(help="NAME=URL of an Esplora API, to pin that chain's block.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot statement as JSON.")] = False,
) -> None:
    """Publish a snapshot: build the Merkle sum tree of the liabilities and write
    snapshot.json (public), secret (auditors only, mode 0600) and the proof store."""
    with _errors_to_exit_codes():
        from reserves.publish import SnapshotRequest, load_reserves_file, publish

        asset_decimals = _parse_decimals(decimals)
        reserves = ReserveSections()
        if reserves_file is not None:
            assets = tuple(Asset(symbol, d) for symbol, d in asset_decimals.items())
            endpoints = parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
            reserves = load_reserves_file(reserves_file, assets, *endpoints)
        elif rpc or esplora:
            raise InputError("--rpc and --esplora pin the chains of a --reserves file; none was given")
        request = SnapshotRequest(
            exchange=exchange,
            snapshot_id=snapshot_id,
            cutoff=parse_cutoff(cutoff, where="--cutoff"),
            decimals=asset_decimals,
            height=height,
            reserves=reserves,
        )
        given = SnapshotSecret.load(secret) if secret is not None else None
        with _progress() as progress:
            statement = publish(liabilities, request, out, secret=given, replace=force, progress=progress)
        if as_json:
            _print_json(statement.to_json())
            return
        print_statement(statement, out)


def print_statement(statement: SnapshotStatement, out: Path) -> None:
    context = statement.context
    stdout.print(f"Published snapshot {context.snapshot_id!r} of {context.exchange!r} to {out}/", markup=False)
    stdout.print(f"  accounts: {statement.accounts}   height: {context.height}   cut-off: {context.cutoff_text}")
    stdout.print(f"  root:     {statement.root.hash.hex()}")
    stdout.print(_amounts_table("Liabilities (root sums)", context.assets, {"total": statement.root.sums}))
    stdout.print(f"Publish {out / 'snapshot.json'}; give {out / 'secret'} only to your auditors.", markup=False)


@app.command("proof")
def proof_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory made by 'reserves publish'.")],
    account: Annotated[str, typer.Argument(help="The account id, exactly as in liabilities.csv.")],
) -> None:
    """Print one account's inclusion proof (JSON) from a snapshot's proof store."""
    with _errors_to_exit_codes():
        from reserves.proof_store import ProofStore

        proof = ProofStore.open(snapshot_dir).proof(account)
        sys.stdout.write(proof.to_text())


NATIVE_FORMAT = "native"
OTHER_FORMATS = {f.name: f for f in (okx_v1.FORMAT, okx_v2.FORMAT)}


@app.command("verify")
def verify_command(
    proof_file: Annotated[
        Path, typer.Argument(help="Your proof file: reserves-proof/1, or OKX's v1 proof or v2 user file.")
    ],
    snapshot: Annotated[
        Path | None, typer.Option(help="The snapshot.json the exchange published, fetched separately.")
    ] = None,
    root: Annotated[str | None, typer.Option(help="Or the published root hash (64 hex characters).")] = None,
    proof_format: Annotated[
        str | None,
        typer.Option("--format", help="Force the format: native, okx-v1 or okx-v2 (default: recognised by content)."),
    ] = None,
    tree: Annotated[Path | None, typer.Option(help="OKX v2: the full liabilities tree file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too (e.g. a root not anchored).")] = False,
) -> None:
    """Check that your balances are counted in the exchange's published root
    (FORMAT §6.3, steps 1 to 6; or OKX's published formats)."""
    with _errors_to_exit_codes():
        if snapshot is not None and root is not None:
            raise InputError("give --snapshot or --root, not both")
        document = load_json(proof_file)
        name, how = _proof_format(document.value, proof_format, proof_file)
        if name != NATIVE_FORMAT:
            if snapshot is not None:
                raise InputError(f"--snapshot anchors reserves-proof/1 files; for {name} give --root")
            anchor_root = parse_hex32(root, what="root hash", where="--root").hex() if root is not None else None
            if name == okx_v1.FORMAT.name:
                other = okx_v1.verify(document.value, str(proof_file), root=anchor_root)
            else:
                other = okx_v2.verify(document.value, str(proof_file), tree, root=anchor_root)
            _report_format(other, how, as_json, strict)
            return
        if tree is not None:
            raise InputError("--tree goes with OKX v2 user files")
        anchor = Anchor(
            snapshot=load_snapshot(snapshot) if snapshot is not None else None,
            root_hash=parse_hex32(root, what="root hash", where="--root") if root is not None else None,
        )
        result = verify_proof(parse_proof(document), anchor)
        if as_json:
            _print_json({"format": "reserves-proof/1", **_verification_json(result, strict)})
        else:
            stdout.print(f"Format: reserves-proof/1 ({how})")
            print_verification(result, strict)
        if not result.ok(strict=strict):
            raise typer.Exit(EXIT_FAILED)


def _proof_format(document: Any, forced: str | None, path: Path) -> tuple[str, str]:
    """The format's name and how it was chosen."""
    if forced is not None:
        if forced != NATIVE_FORMAT and forced not in OTHER_FORMATS:
            raise InputError(f"unknown format {forced!r}: use native, {', '.join(OTHER_FORMATS)}", where="--format")
        return forced, "forced by --format"
    if isinstance(document, dict) and "format" in document:
        return NATIVE_FORMAT, "recognised by its content"  # the parser names a wrong version precisely
    found = recognise(document, list(OTHER_FORMATS.values()))
    if found is None:
        raise InputError(
            "cannot tell its format: expected reserves-proof/1, an OKX v1 proof (self, path) or an OKX v2 user file "
            "(hash, nodes, nonce, totalBalances); use --format",
            where=str(path),
        )
    return found.name, "recognised by its content"


def _report_format(result: FormatVerification, how: str, as_json: bool, strict: bool) -> None:
    if as_json:
        _print_json({
            "format": result.format_name,
            "result": "PASS" if result.ok(strict=strict) else "FAIL",
            "anchored": result.anchored,
            "balances": result.balances,
            "totals": result.totals,
            "checks": [c.to_json() for c in result.checks],
        })  # fmt: skip
    else:
        stdout.print(f"Format: {result.format_name} ({how})", markup=False)
        table = Table(title="Balances", title_justify="left")
        for column in ("asset", "your balance", "exchange total"):
            table.add_column(column, justify="left" if column == "asset" else "right")
        for asset, amount in result.balances.items():
            table.add_row(asset, amount, result.totals.get(asset, "—"))
        stdout.print(table)
        _print_checks(result.checks)
        if result.ok(strict=strict):
            how_anchored = (
                "anchored to the published root" if result.anchored else "NOT anchored: root taken from the file"
            )
            stdout.print(f"[bold green]PASS[/]: your balances are included in the root ({how_anchored}).")
        else:
            failed = next(c for c in result.checks if c.status is not Status.PASS)
            stdout.print(f"[bold red]FAIL[/]: {failed.name}", markup=True)
    if not result.ok(strict=strict):
        raise typer.Exit(EXIT_FAILED)


@app.command("okx-addresses")
def okx_addresses_command(
    csv_file: Annotated[Path, typer.Argument(help="OKX's address-ownership CSV (either published layout).")],
    rpc: Annotated[list[str] | None, typer.Option(help="NETWORK=URL of an archive node, e.g. ETH=http://...")] = None,
    esplora: Annotated[
        list[str] | None, typer.Option(help="NETWORK=URL of an Esplora API, e.g. BTC=http://...")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings and skipped rows too.")] = False,
) -> None:
    """Check each row's address-ownership signature in OKX's CSV (and, with --rpc/--esplora,
    its stated amount at its stated height)."""
    with _errors_to_exit_codes():
        from reserves.formats.okx_addresses import verify_file as verify_okx_addresses

        report = verify_okx_addresses(
            csv_file, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        counts = {s: sum(1 for r in report.results if r.check.status is s) for s in Status}
        compared = [r.balance for r in report.results if r.balance is not None]
        amounts = {s: sum(1 for c in compared if c.status is s) for s in Status}
        if as_json:
            _print_json({
                "file": report.source,
                "rows": [
                    {"line": r.row.line, "coin": r.row.coin, "network": r.row.network, "address": r.row.address,
                     "ownership": r.check.to_json(), "balance": r.balance.to_json() if r.balance else None}
                    for r in report.results
                ],
                "counts": {s.value: n for s, n in counts.items()},
                "amount_counts": {s.value: n for s, n in amounts.items()},
            })  # fmt: skip
        else:
            _print_checks(report.checks)
            summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
            stdout.print(f"{len(report.results)} address rows: {summary}", markup=False)
            if compared:
                compared_summary = ", ".join(f"{n} {s.value}" for s, n in amounts.items() if n)
                stdout.print(f"stated amounts at their heights: {compared_summary}", markup=False)
            if counts[Status.WARN]:
                stdout.print("WARN: the signed message is a constant: a valid signature can be replayed later.")
        if not passed(report.checks, strict=strict):
            raise typer.Exit(EXIT_FAILED)


def _verification_json(result: ProofVerification, strict: bool) -> dict[str, Any]:
    proof = result.proof
    document = proof.snapshot.to_json()
    return {
        "result": "PASS" if result.ok(strict=strict) else "FAIL",
        "anchored": result.anchored,
        "account": {
            "id": proof.account.id,
            "index": proof.account.index,
            "balances": proof.to_json()["account"]["balances"],
        },
        "snapshot": {k: document[k] for k in ("exchange", "snapshot_id", "cutoff", "height")},
        "totals": document["root"]["sums"],
        "checks": [check.to_json() for check in result.checks],
    }


def print_verification(result: ProofVerification, strict: bool) -> None:
    proof = result.proof
    context = proof.snapshot.context
    stdout.print(
        f"Account {proof.account.id!r} in snapshot {context.snapshot_id!r} of {context.exchange!r} "
        f"(cut-off {context.cutoff_text})",
        markup=False,
    )
    stdout.print(
        _amounts_table(
            "Balances",
            context.assets,
            {"your balance": proof.account.balances, "snapshot total": proof.snapshot.root.sums},
        )
    )
    _print_checks(result.checks)
    if result.ok(strict=strict):
        how = "anchored to the published root" if result.anchored else "NOT anchored: root taken from the proof itself"
        stdout.print(f"[bold green]PASS[/]: your balances are included in the root ({how}).")
    else:
        failed = next(c for c in result.checks if c.status is not Status.PASS)
        stdout.print(f"[bold red]FAIL[/]: {failed.name}", markup=True)


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
    with _errors_to_exit_codes():
        from reserves.audit import audit_snapshot
        from reserves.report import render_html, write_report
        from reserves.sources.connect import connect_sources

        statement = load_snapshot(snapshot)
        given = SnapshotSecret.load(secret)
        chains = statement.reserves.chains
        sources = connect_sources(
            chains, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        with _progress() as progress:
            result = audit_snapshot(
                statement, liabilities, given, sources, progress=progress, custody_ks=_parse_ks(k),
                unreachable=tuple(unreachable or ()),
            )  # fmt: skip
        if report is not None:
            write_report(report, render_html(result, strict=strict))
        if as_json:
            _print_json(_audit_json(result, strict))
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


def _parse_ks(text: str) -> tuple[int, ...]:
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
    with _errors_to_exit_codes():
        from reserves.ownership import wallet_messages

        pairs = wallet_messages(load_snapshot(snapshot))
        if as_json:
            _print_json([{"label": w.label, "chain": w.chain, "address": w.address, "message": m} for w, m in pairs])
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
    with _errors_to_exit_codes():
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
    with _errors_to_exit_codes():
        from reserves.reserve_audit import audit_reserves
        from reserves.sources.connect import connect_sources

        statement = load_snapshot(snapshot)
        sources = connect_sources(
            statement.reserves.chains, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        sums = {a.symbol: s for a, s in zip(statement.context.assets, statement.root.sums, strict=True)}
        with _progress() as progress:
            result = audit_reserves(statement, sums, sources, progress=progress, custody_ks=_parse_ks(k),
                                    unreachable=tuple(unreachable or ()))  # fmt: skip
        checks = [c for c in result.checks if c.name.startswith(("(8)", "(12)"))]
        if as_json:
            _print_json({"custody": _custody_json(result.custody, statement), "checks": [c.to_json() for c in checks]})
        else:
            if result.custody is not None:
                print_custody(result.custody, statement)
            _print_checks(checks)
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


def _verdict(result: AuditReport, strict: bool) -> str:
    if result.failed():
        return "FAIL"
    if result.unreadable:
        return "INCOMPLETE"
    return "PASS" if result.ok(strict=strict) else "FAIL"


def _audit_json(result: AuditReport, strict: bool) -> dict[str, Any]:
    statement = result.liabilities.statement
    context = statement.context
    document: dict[str, Any] = {
        "result": _verdict(result, strict),
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
    _print_checks(result.checks)
    verdict = _verdict(result, strict)
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
            f"[{_STYLE[v.status]}]{v.status.value}[/]",
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


def main() -> None:
    app()
