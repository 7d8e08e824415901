"""Commands of the liabilities side: ``publish``, ``proof`` and ``verify`` (the native
format and the other exchanges' formats of ``reserves.formats``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_FAILED,
    amounts_table,
    errors_to_exit_codes,
    print_checks,
    print_json,
    progress_bars,
    stdout,
)
from reserves.context import Asset
from reserves.encoding import check_decimals, check_symbol, parse_cutoff, parse_hex32
from reserves.errors import InputError
from reserves.formats import FormatVerification, okx_v1, okx_v2, recognise
from reserves.proof import parse_proof
from reserves.results import Status
from reserves.secret import SnapshotSecret
from reserves.snapshot import SnapshotStatement, load_snapshot
from reserves.sources import parse_endpoints
from reserves.strict_json import load_json
from reserves.verify import Anchor, ProofVerification, verify_proof
from reserves.wallets import ReserveSections

_DECIMALS_ITEM = re.compile(r"([^=,]+)=(0|[1-9][0-9]?)")


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
    with errors_to_exit_codes():
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
        with progress_bars() as progress:
            statement = publish(liabilities, request, out, secret=given, replace=force, progress=progress)
        if as_json:
            print_json(statement.to_json())
            return
        print_statement(statement, out)


def print_statement(statement: SnapshotStatement, out: Path) -> None:
    context = statement.context
    stdout.print(f"Published snapshot {context.snapshot_id!r} of {context.exchange!r} to {out}/", markup=False)
    stdout.print(f"  accounts: {statement.accounts}   height: {context.height}   cut-off: {context.cutoff_text}")
    stdout.print(f"  root:     {statement.root.hash.hex()}")
    stdout.print(amounts_table("Liabilities (root sums)", context.assets, {"total": statement.root.sums}))
    stdout.print(f"Publish {out / 'snapshot.json'}; give {out / 'secret'} only to your auditors.", markup=False)


@app.command("proof")
def proof_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory made by 'reserves publish'.")],
    account: Annotated[str, typer.Argument(help="The account id, exactly as in liabilities.csv.")],
) -> None:
    """Print one account's inclusion proof (JSON) from a snapshot's proof store."""
    with errors_to_exit_codes():
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
    with errors_to_exit_codes():
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
            print_json({"format": "reserves-proof/1", **_verification_json(result, strict)})
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
        print_json({
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
        print_checks(result.checks)
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
        amounts_table(
            "Balances",
            context.assets,
            {"your balance": proof.account.balances, "snapshot total": proof.snapshot.root.sums},
        )
    )
    print_checks(result.checks)
    if result.ok(strict=strict):
        how = "anchored to the published root" if result.anchored else "NOT anchored: root taken from the proof itself"
        stdout.print(f"[bold green]PASS[/]: your balances are included in the root ({how}).")
    else:
        failed = next(c for c in result.checks if c.status is not Status.PASS)
        stdout.print(f"[bold red]FAIL[/]: {failed.name}", markup=True)
