"""Commands the exchange runs: ``publish`` its snapshot, hand each user a ``proof``, print
the ``messages`` its custodians sign, and ``sign`` them (a helper for tests and demos)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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
    DecimalsOption,
    EsploraOption,
    JsonOption,
    RpcOption,
    amounts_table,
    cell,
    errors_to_exit_codes,
    new_table,
    print_json,
    progress_bars,
    register_secret_urls,
    say,
    stdout,
)
from reserves.context import Asset
from reserves.encoding import format_amount, parse_cutoff
from reserves.errors import InputError
from reserves.liabilities.published import load_statement
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement
from reserves.onchain.reserve_sections import ReserveSections
from reserves.onchain.sources import Endpoint, endpoints_by_name
from reserves.report.documents import envelope

if TYPE_CHECKING:
    from rich.table import Table

    from reserves.liabilities.private_sums.files import PrivateStatement
    from reserves.liabilities.private_sums.store import PrivateStore
    from reserves.liabilities.proof_store import ProofStore

PANEL = "Exchange"
PRIVATE_SUMS_HELP = (
    "Format v2 (docs/spec/FORMAT-2.md): hidden sums, so a user's proof shows nothing of other accounts. "
    "One tree per asset, sized to its holders (no --height); every asset's total must be below 2^64 smallest units."
)
ROUND_HOLDERS_HELP = (
    "With --private-sums: round each asset's holder count up to a multiple of K (1 to 1,000,000) with "
    "dummy holders of balance 0, so the snapshot does not show exactly how many accounts hold each asset "
    "(a dummy costs what a holder costs to publish and audit)."
)


HeightOption = Annotated[
    int | None, typer.Option(help="Tree height (2^height slots); default: the smallest that fits.", min=1, max=64)
]
ReservesFileOption = Annotated[
    Path | None,
    typer.Option(
        "--reserves",
        help="JSON file with the chains, tokens, wallets and keyholders sections of snapshot.json; "
        "a chain without block_hash is pinned from its --rpc/--esplora node.",
    ),
]
ReusedSecretOption = Annotated[
    Path | None, typer.Option(help="Reuse this secret file instead of drawing a fresh one (reproduces a snapshot).")
]


@app.command("publish", epilog=EXIT_CODES_HELP, rich_help_panel="Exchange")
def publish_command(
    liabilities: Annotated[Path, typer.Argument(help="liabilities.csv: 'account,<SYMBOL>,…', one row per account.")],
    exchange: Annotated[str, typer.Option(help="The exchange's name, as users know it.")],
    snapshot_id: Annotated[str, typer.Option(help="This snapshot's unique id, e.g. the date.")],
    cutoff: Annotated[str, typer.Option(help="Liabilities cut-off, UTC: YYYY-MM-DDTHH:MM:SSZ.")],
    decimals: DecimalsOption,
    out: Annotated[Path, typer.Option(help="Snapshot directory to create.")],
    height: HeightOption = None,
    secret: ReusedSecretOption = None,
    reserves_file: ReservesFileOption = None,
    rpc: RpcOption = None,
    esplora: EsploraOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace --out if it holds a snapshot (never any other directory).")
    ] = False,
    private_sums: Annotated[bool, typer.Option("--private-sums", help=PRIVATE_SUMS_HELP)] = False,
    round_holders: Annotated[int, typer.Option("--round-holders", metavar="K", help=ROUND_HOLDERS_HELP)] = 1,
    scheduler: SchedulerOption = None,
    work_dir: WorkDirOption = None,
    local_workers: LocalWorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a snapshot of the liabilities (Merkle sum tree, proof store, secret).

    Writes OUT/public/snapshot.json (upload the public folder) and, apart, OUT/private/:
    the secret (auditors only) and the proof store (every account's balances), mode 0700.
    With --private-sums, format v2: sibling sums are Pedersen commitments with range proofs.
    With --scheduler or --local-workers, the tree is built on a Dask cluster: the same files.

    Example: reserves publish liabilities.csv --exchange "Demo Exchange" --snapshot-id 2026-11-21
    --cutoff 2026-11-21T00:00:00Z --decimals BTC=8,ETH=18,USDT=6 --out out/snap"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.publishing import OutputExists, SnapshotRequest, publish

        reserves = _reserve_sections(reserves_file, decimals.by_symbol, rpc, esplora)
        when = parse_cutoff(cutoff, where="--cutoff")
        request = SnapshotRequest(
            exchange, snapshot_id, when, decimals.by_symbol, height, reserves, private_sums, round_holders
        )
        given = _given_secret(secret, snapshot_id)
        with (
            cluster_from_options(scheduler, work_dir, local_workers, worker_memory) as cluster,
            progress_bars() as progress,
        ):
            try:
                statement = publish(
                    liabilities, request, out, secret=given, replace=force, cluster=cluster, progress=progress
                )
            except OutputExists as exc:
                raise InputError(f"{exc}; choose another --out or pass --force to replace it") from None
        if as_json:
            print_json(envelope("publish", "PUBLISHED", out=str(out), snapshot=statement.to_json()))
            return
        print_statement(statement, out)


def _given_secret(path: Path | None, snapshot_id: str) -> SnapshotSecret | None:
    """The secret of ``--secret``, refused if it belongs to another snapshot."""
    if path is None:
        return None
    from reserves.publishing import refuse_reused_secret

    given = SnapshotSecret.load(path)
    refuse_reused_secret(path, snapshot_id)
    return given


def _reserve_sections(
    path: Path | None, decimals: dict[str, int], rpc: list[Endpoint] | None, esplora: list[Endpoint] | None
) -> ReserveSections:
    """The ``--reserves`` file's sections, its chains pinned from their nodes where needed."""
    from reserves.publishing import load_reserves_file

    if path is None:
        if rpc or esplora:
            raise InputError("--rpc and --esplora pin the chains of a --reserves file; none was given")
        return ReserveSections()
    assets = tuple(Asset(symbol, d) for symbol, d in decimals.items())
    rpc_urls, esplora_urls = (
        endpoints_by_name(rpc or [], where="--rpc"),
        endpoints_by_name(esplora or [], where="--esplora"),
    )
    register_secret_urls([*rpc_urls.values(), *esplora_urls.values()])
    return load_reserves_file(path, assets, rpc_urls, esplora_urls)


def print_statement(statement: SnapshotStatement | PrivateStatement, out: Path) -> None:
    say(f"Published snapshot {statement.context.snapshot_id!r} of {statement.context.exchange!r} to {out}/")
    if isinstance(statement, SnapshotStatement):
        context = statement.context
        say(f"  accounts: {statement.accounts}   height: {context.height}   cut-off: {context.cutoff_text}")
        say(f"  root:     {statement.root.hash.hex()}")
        stdout.print(amounts_table("Liabilities (root sums)", context.assets, {"total": statement.root.sums}))
    else:
        say(f"  format v2 (private sums)   cut-off: {statement.context.cutoff_text}")
        say(f"  root:     {statement.root.hash.hex()}")
        stdout.print(private_totals_table(statement))
    say(
        f"Publish {out / 'public'} (snapshot.json); keep {out / 'private'} private: give its secret only to your "
        "auditors, and serve proofs from its store."
    )


def private_totals_table(statement: PrivateStatement) -> Table:
    """Format v2's public figures per asset: holders, tree height, range bits and total."""
    table = new_table("Liabilities (opened root commitments)", ("asset", "holders", "height", "range bits", "total"))
    context = statement.context
    for asset, shape, root in zip(context.assets, context.shapes, statement.commitment.roots, strict=True):
        total = format_amount(root.total, asset.decimals)
        table.add_row(*(cell(str(v)) for v in (asset.symbol, shape.holders, shape.height, shape.range_bits, total)))
    return table


@app.command("proof", epilog=EXIT_CODES_HELP, rich_help_panel="Exchange")
def proof_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory made by 'reserves publish'.")],
    account: Annotated[str, typer.Argument(help="The account id, exactly as in liabilities.csv.")],
) -> None:
    """Print one account's inclusion proof (JSON) to hand to its user.

    The path is read from the snapshot's proof store and checked to climb to its root first.
    Format v2: one path per asset the account holds, with the range proofs of its siblings
    (made on the first request for them and kept in the store).

    Example: reserves proof out/snap user-000042@example.com > alice-proof.json"""
    with errors_to_exit_codes():
        sys.stdout.write(_open_store(snapshot_dir).proof(account).to_text())


def _open_store(snapshot_dir: Path) -> ProofStore | PrivateStore:
    """The snapshot directory's proof store, of the format its manifest states."""
    from reserves.liabilities.private_sums.store import STORE_FORMAT, PrivateStore, store_format
    from reserves.liabilities.proof_store import ProofStore

    private = store_format(snapshot_dir) == STORE_FORMAT
    return PrivateStore.open(snapshot_dir) if private else ProofStore.open(snapshot_dir)


@app.command("proofs", epilog=EXIT_CODES_HELP, rich_help_panel="Exchange")
def proofs_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory made by 'reserves publish'.")],
    ids: Annotated[Path, typer.Option("--ids", help="The account ids, one a line (UTF-8).")],
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help='Write one JSON Lines file: {"id": …, "proof": …} a line.')
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Or write a new folder: one <SHA-256 of the id>.json per account."),
    ] = None,
) -> None:
    """Write many accounts' inclusion proofs at once, for the exchange's servers.

    The store is mapped once and every proof is checked to climb to the root, as 'proof'
    does. All or nothing: an unknown id or any error leaves no output. From Python:
    'with ProofStore.open(dir).serving() as store: store.proof(id)' (thread-safe).

    Example: reserves proofs out/snap --ids ids.txt --jsonl proofs.jsonl"""
    with errors_to_exit_codes(), progress_bars() as progress:
        from reserves.liabilities.proof_store import read_ids, write_proofs

        started = time.perf_counter()
        count = write_proofs(_open_store(snapshot_dir), read_ids(ids), jsonl=jsonl, out=out, progress=progress)
        seconds = time.perf_counter() - started
        say(f"Wrote {count} proofs to {jsonl or out} in {seconds:.1f} s.")


@app.command("messages", epilog=EXIT_CODES_HELP, rich_help_panel="Exchange")
def messages_command(
    snapshot: Annotated[Path, typer.Argument(help="The snapshot.json to sign for.")],
    as_json: JsonOption = False,
) -> None:
    """Print the message each wallet's signers must sign (FORMAT §6.4).

    Control characters are shown escaped: what you see is what is signed.

    Example: reserves messages out/snap/public/snapshot.json"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.control.ownership import wallet_messages

        pairs = wallet_messages(load_statement(snapshot))
        if as_json:
            messages = [{"label": w.label, "chain": w.chain, "address": w.address, "message": m} for w, m in pairs]
            print_json(envelope("messages", "OK", messages=messages))
            return
        for wallet, message in pairs:
            say(f"{wallet.label} ({wallet.chain} {wallet.address}):", style="bold")
            for line in message.split("\n"):
                say(line)
            say()


@app.command("sign", epilog=EXIT_CODES_HELP, rich_help_panel="Exchange")
def sign_command(
    snapshot: Annotated[Path, typer.Argument(help="The snapshot.json to add ownership signatures to (rewritten).")],
    keys: Annotated[
        Path,
        typer.Option(
            help='JSON file {"<wallet label>": ["<64-hex private key>", ...]}: keys never leave this process.'
        ),
    ],
) -> None:
    """Sign the wallets' ownership messages into snapshot.json (tests and demos).

    A helper: real custody signs offline and pastes the signatures into ownership.

    Example: reserves sign out/snap/public/snapshot.json --keys fixtures/examples/keys.json"""
    with errors_to_exit_codes():
        from reserves.control.ownership import load_signing_keys, sign_snapshot
        from reserves.publishing import rewrite_statement

        statement = sign_snapshot(load_statement(snapshot), load_signing_keys(keys))
        rewrite_statement(snapshot, statement)
        signed = [w.label for w in statement.reserves.wallets if w.ownership is not None]
        say(f"Signed ownership of {', '.join(signed) or 'no wallet'} in {snapshot}")
