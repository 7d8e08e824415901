"""Commands of the liabilities side: ``publish``, ``proof`` and ``verify`` (the native
format and the other exchanges' formats of ``reserves.formats``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_CODES_HELP,
    JsonOption,
    amounts_table,
    cell,
    envelope,
    errors_to_exit_codes,
    new_table,
    print_checks,
    print_json,
    progress_bars,
    register_secret_urls,
    say,
    say_outcome,
    stdout,
)
from reserves.context import Asset
from reserves.encoding import check_decimals, check_symbol, parse_cutoff, parse_hex32
from reserves.errors import InputError
from reserves.formats import FormatVerification, okx_v1, okx_v2, recognise
from reserves.liabilities.proof import parse_proof
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement, load_snapshot
from reserves.onchain.reserve_sections import ReserveSections
from reserves.onchain.sources import parse_endpoints
from reserves.strict_json import MAX_PROOF_BYTES, load_json
from reserves.verify import Anchor, ProofVerification, verify_proof

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


@app.command("publish", epilog=EXIT_CODES_HELP)
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
    force: Annotated[
        bool, typer.Option("--force", help="Replace --out if it holds a snapshot (never any other directory).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Publish a snapshot: build the Merkle sum tree of the liabilities and write
    snapshot.json (public), secret (auditors only, mode 0600) and the proof store.

    Example: reserves publish liabilities.csv --exchange "Demo Exchange" --snapshot-id 2026-11-21
    --cutoff 2026-11-21T00:00:00Z --decimals BTC=8,ETH=18,USDT=6 --out out/snap"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.publish import SnapshotRequest, load_reserves_file, publish, refuse_reused_secret

        asset_decimals = _parse_decimals(decimals)
        reserves = ReserveSections()
        if reserves_file is not None:
            assets = tuple(Asset(symbol, d) for symbol, d in asset_decimals.items())
            endpoints = parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
            register_secret_urls([*endpoints[0].values(), *endpoints[1].values()])
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
        if secret is not None:
            refuse_reused_secret(secret, snapshot_id)
        with progress_bars() as progress:
            statement = publish(liabilities, request, out, secret=given, replace=force, progress=progress)
        if as_json:
            print_json(envelope("publish", "PUBLISHED", out=str(out), snapshot=statement.to_json()))
            return
        print_statement(statement, out)


def print_statement(statement: SnapshotStatement, out: Path) -> None:
    context = statement.context
    say(f"Published snapshot {context.snapshot_id!r} of {context.exchange!r} to {out}/")
    say(f"  accounts: {statement.accounts}   height: {context.height}   cut-off: {context.cutoff_text}")
    say(f"  root:     {statement.root.hash.hex()}")
    stdout.print(amounts_table("Liabilities (root sums)", context.assets, {"total": statement.root.sums}))
    say(f"Publish {out / 'snapshot.json'}; give {out / 'secret'} only to your auditors.")


@app.command("proof", epilog=EXIT_CODES_HELP)
def proof_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory made by 'reserves publish'.")],
    account: Annotated[str, typer.Argument(help="The account id, exactly as in liabilities.csv.")],
) -> None:
    """Print one account's inclusion proof (JSON) from a snapshot's proof store, after
    checking its path climbs to the snapshot's root.

    Example: reserves proof out/snap user-000042@example.com > alice-proof.json"""
    with errors_to_exit_codes():
        from reserves.liabilities.proof_store import ProofStore

        proof = ProofStore.open(snapshot_dir).proof(account)
        sys.stdout.write(proof.to_text())


NATIVE_FORMAT = "native"
OTHER_FORMATS = {f.name: f for f in (okx_v1.FORMAT, okx_v2.FORMAT)}
FORMAT_NAMES = [NATIVE_FORMAT, *OTHER_FORMATS]

NO_ANCHOR = (
    "no anchor: a proof only means something against the root the exchange published. Give --snapshot FILE "
    "(the snapshot.json the exchange published, fetched separately) or --root HEX (a root hash published "
    "elsewhere){tree}; or --no-anchor to check the file's consistency alone"
)


@app.command("verify", epilog=EXIT_CODES_HELP)
def verify_command(
    proof_file: Annotated[
        Path, typer.Argument(help="Your proof file: reserves-proof/1, or OKX's v1 proof or v2 user file.")
    ],
    snapshot: Annotated[
        Path | None, typer.Option(help="The snapshot.json the exchange published, fetched separately.")
    ] = None,
    root: Annotated[
        str | None, typer.Option(help="Or the published root hash (64 hex characters; 0x and upper case accepted).")
    ] = None,
    no_anchor: Annotated[
        bool,
        typer.Option(
            "--no-anchor", help="Check the file alone, against its own root: never a PASS, at best CONSISTENT."
        ),
    ] = False,
    proof_format: Annotated[
        str | None,
        typer.Option("--format", help="Force the format: native, okx-v1 or okx-v2 (default: recognised by content)."),
    ] = None,
    tree: Annotated[Path | None, typer.Option(help="OKX v2: the full liabilities tree file OKX published.")] = None,
    as_json: JsonOption = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings and skipped checks too (and on --no-anchor).")
    ] = False,
) -> None:
    """Check that your balances are counted in the exchange's published root
    (FORMAT §6.3, steps 1 to 7; or OKX's published formats).

    Example: reserves verify alice-proof.json --snapshot snapshot.json"""
    with errors_to_exit_codes(as_json=as_json):
        if snapshot is not None and root is not None:
            raise InputError("give --snapshot or --root, not both")
        document = load_json(proof_file, max_bytes=MAX_PROOF_BYTES)
        name, how = _proof_format(document.value, proof_format, proof_file)
        anchored = snapshot is not None or root is not None or (name == okx_v2.FORMAT.name and tree is not None)
        if not anchored and not no_anchor:
            raise InputError(
                NO_ANCHOR.format(tree=" or, for OKX v2, --tree FILE" if name == okx_v2.FORMAT.name else "")
            )
        if anchored and no_anchor:
            raise InputError("--no-anchor checks the file alone: give it without --snapshot, --root or --tree")
        if name != NATIVE_FORMAT:
            if snapshot is not None:
                raise InputError(f"--snapshot anchors reserves-proof/1 files; for {name} give --root")
            anchor_root = parse_root(root).hex() if root is not None else None
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
            root_hash=parse_root(root) if root is not None else None,
        )
        result = verify_proof(parse_proof(document), anchor)
        verdict = result.verdict(strict=strict)
        if as_json:
            print_json(
                envelope("verify", verdict, result.checks, format="reserves-proof/1", **_verification_json(result))
            )
        else:
            say(f"Format: reserves-proof/1 ({how})")
            print_verification(result, strict)
        raise typer.Exit(verdict.exit_code)


def parse_root(text: str) -> bytes:
    """A root hash as users copy it: 64 hex digits, with or without ``0x``, in either case."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    return parse_hex32(digits.lower(), what="root hash", where="--root")


def _proof_format(document: Any, forced: str | None, path: Path) -> tuple[str, str]:
    """The format's name and how it was chosen."""
    if forced is not None:
        if forced not in FORMAT_NAMES:
            raise InputError(f"unknown format {forced!r}: use {', '.join(FORMAT_NAMES)}", where="--format")
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
    verdict = result.verdict(strict=strict)
    if as_json:
        print_json(envelope("verify", verdict, result.checks, format=result.format_name, anchored=result.anchored,
                            balances=result.balances, totals=result.totals))  # fmt: skip
    else:
        say(f"Format: {result.format_name} ({how})")
        table = new_table(
            "Balances", ["asset", "your balance", "exchange total"], right=["your balance", "exchange total"]
        )
        for asset, amount in result.balances.items():
            table.add_row(cell(asset), cell(amount), cell(result.totals.get(asset, "—")))
        stdout.print(table)
        print_checks(result.checks)
        say_outcome(verdict)
    raise typer.Exit(verdict.exit_code)


def _verification_json(result: ProofVerification) -> dict[str, Any]:
    proof = result.proof
    document = proof.snapshot.to_json()
    return {
        "anchored": result.anchored,
        "account": {
            "id": proof.account.id,
            "index": proof.account.index,
            "balances": proof.to_json()["account"]["balances"],
        },
        "snapshot": {k: document[k] for k in ("exchange", "snapshot_id", "cutoff", "height")},
        "totals": document["root"]["sums"],
    }


def print_verification(result: ProofVerification, strict: bool) -> None:
    proof = result.proof
    context = proof.snapshot.context
    say(
        f"Account {proof.account.id!r} in snapshot {context.snapshot_id!r} of {context.exchange!r} "
        f"(cut-off {context.cutoff_text})"
    )
    stdout.print(
        amounts_table(
            "Balances",
            context.assets,
            {"your balance": proof.account.balances, "snapshot total": proof.snapshot.root.sums},
        )
    )
    print_checks(result.checks)
    say_outcome(result.verdict(strict=strict))
