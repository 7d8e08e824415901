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
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from reserves import __version__
from reserves.audit import LiabilitiesAudit, audit_liabilities
from reserves.encoding import check_decimals, check_symbol, format_amount, parse_cutoff, parse_hex32
from reserves.errors import InputError, ReservesError, SourceError, VerificationError
from reserves.liability_tree import ProgressCallback
from reserves.proof import load_proof
from reserves.proof_store import ProofStore
from reserves.publish import SnapshotRequest, publish
from reserves.results import Check, Status
from reserves.secret import SnapshotSecret
from reserves.snapshot import SnapshotStatement, load_snapshot
from reserves.verify import Anchor, ProofVerification, verify_proof

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_SOURCE, EXIT_BUG = 0, 1, 2, 3, 4

app = typer.Typer(
    help="Proofs of reserves: publish a liabilities snapshot, verify your own balance in it, audit the whole of it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.WARN: "bold yellow", Status.SKIPPED: "dim"}
_DECIMALS_ITEM = re.compile(r"([^=,]+)=(0|[1-9][0-9]?)")


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
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot statement as JSON.")] = False,
) -> None:
    """Publish a snapshot: build the Merkle sum tree of the liabilities and write
    snapshot.json (public), secret (auditors only, mode 0600) and the proof store."""
    with _errors_to_exit_codes():
        request = SnapshotRequest(
            exchange=exchange,
            snapshot_id=snapshot_id,
            cutoff=parse_cutoff(cutoff, where="--cutoff"),
            decimals=_parse_decimals(decimals),
            height=height,
        )
        given = SnapshotSecret.load(secret) if secret is not None else None
        with _progress() as progress:
            statement = publish(liabilities, request, out, secret=given, replace=force, progress=progress)
        if as_json:
            _print_json(statement.to_json())
            return
        _print_statement(statement, out)


def _print_statement(statement: SnapshotStatement, out: Path) -> None:
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
        proof = ProofStore.open(snapshot_dir).proof(account)
        sys.stdout.write(proof.to_text())


@app.command("verify")
def verify_command(
    proof_file: Annotated[Path, typer.Argument(help="Your proof file (reserves-proof/1 JSON).")],
    snapshot: Annotated[
        Path | None, typer.Option(help="The snapshot.json the exchange published, fetched separately.")
    ] = None,
    root: Annotated[str | None, typer.Option(help="Or the published root hash (64 hex characters).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too (e.g. a root not anchored).")] = False,
) -> None:
    """Check that your balances are counted in the exchange's published root
    (FORMAT §6.3, steps 1 to 6)."""
    with _errors_to_exit_codes():
        if snapshot is not None and root is not None:
            raise InputError("give --snapshot or --root, not both")
        anchor = Anchor(
            snapshot=load_snapshot(snapshot) if snapshot is not None else None,
            root_hash=parse_hex32(root, what="root hash", where="--root") if root is not None else None,
        )
        result = verify_proof(load_proof(proof_file), anchor)
        if as_json:
            _print_json(_verification_json(result, strict))
        else:
            _print_verification(result, strict)
        if not result.ok(strict=strict):
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


def _print_verification(result: ProofVerification, strict: bool) -> None:
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings and skipped checks too.")] = False,
) -> None:
    """Rebuild the whole tree from the liabilities and the secret, and compare its root,
    per-asset totals and account count with snapshot.json."""
    with _errors_to_exit_codes():
        statement = load_snapshot(snapshot)
        given = SnapshotSecret.load(secret)
        with _progress() as progress:
            result = audit_liabilities(statement, liabilities, given, progress=progress)
        if as_json:
            _print_json(_audit_json(result, strict))
        else:
            _print_audit(result, strict)
        if not result.ok(strict=strict):
            raise typer.Exit(EXIT_FAILED)


def _audit_json(result: LiabilitiesAudit, strict: bool) -> dict[str, Any]:
    context = result.statement.context
    return {
        "result": "PASS" if result.ok(strict=strict) else "FAIL",
        "snapshot": {
            "exchange": context.exchange,
            "snapshot_id": context.snapshot_id,
            "cutoff": context.cutoff_text,
            "root": result.statement.root.hash.hex(),
            "accounts": result.statement.accounts,
        },
        "rows": result.rows,
        "liabilities": {
            t.symbol: {
                "published": format_amount(t.published, t.decimals),
                "rebuilt": format_amount(t.rebuilt, t.decimals),
            }
            for t in result.totals
        },
        "checks": [check.to_json() for check in result.checks],
    }


def _print_audit(result: LiabilitiesAudit, strict: bool) -> None:
    context = result.statement.context
    stdout.print(
        f"Audit of snapshot {context.snapshot_id!r} of {context.exchange!r} (cut-off {context.cutoff_text}), "
        f"{result.rows} liability rows",
        markup=False,
    )
    if result.totals:
        table = Table(title="Liabilities per asset", title_justify="left")
        for column in ("asset", "published", "rebuilt", ""):
            table.add_column(column, justify="left" if column == "asset" else "right")
        for total in result.totals:
            same = total.published == total.rebuilt
            table.add_row(
                total.symbol,
                format_amount(total.published, total.decimals),
                format_amount(total.rebuilt, total.decimals),
                "[green]equal[/]" if same else "[red]DIFFERENT[/]",
            )
        stdout.print(table)
    _print_checks(result.checks)
    verdict = "[bold green]PASS[/]" if result.ok(strict=strict) else "[bold red]FAIL[/]"
    stdout.print(
        f"{verdict}: liabilities {'match' if result.ok(strict=strict) else 'do not match'} the published snapshot."
    )


def main() -> None:
    app()
