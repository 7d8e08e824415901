"""The exchange's side: from ``liabilities.csv`` to a published snapshot directory.

    <out>/snapshot.json   the public statement (FORMAT §6.1)
    <out>/secret          the snapshot secret, mode 0600: for auditors only
    <out>/store/          the proof store (``reserves.liabilities.proof_store``)

Everything is written into a temporary sibling directory (``.<out>.<pid>.<random>.partial``)
that is renamed into place only once complete, so a failure never leaves a half-written
snapshot behind; staging directories of publishes that died (their process is gone) are
removed by the next publish to the same place, since they may hold a secret. Replacing
``out`` is allowed only where it holds a snapshot. Files are 0644 and directories 0755
whatever the umask (the secret 0600). The same liabilities and secret always give
byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reserves.atomic_file import write_text_atomically
from reserves.context import Asset, SnapshotContext
from reserves.errors import InputError
from reserves.liabilities.csv_file import LiabilitiesFile, read_liabilities
from reserves.liabilities.liability_tree import build_liability_tree
from reserves.liabilities.proof_store import (
    PRIVATE_DIR,
    PUBLIC_DIR,
    SECRET_FILE,
    SNAPSHOT_FILE,
    STORE_DIR,
    ProofStoreWriter,
    level_sizes,
    write_manifest,
)
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotCommitment, SnapshotStatement
from reserves.onchain.reserve_sections import ReserveSections, parse_reserve_sections
from reserves.progress import ProgressCallback, silent
from reserves.strict_json import JsonValue, load_json

if TYPE_CHECKING:
    from reserves.liabilities.cluster.engine import Cluster
    from reserves.liabilities.private_sums.files import PrivateStatement


class OutputExists(InputError):
    """The output directory exists and replacing it was not asked for."""


@dataclass(frozen=True)
class SnapshotRequest:
    """What the exchange says about the snapshot it publishes."""

    exchange: str
    snapshot_id: str
    cutoff: int
    """Unix seconds."""
    decimals: Mapping[str, int]
    """Decimals of every asset column of the liabilities file."""
    height: int | None = None
    """Tree height; ``None`` for the smallest that fits (at least 1)."""
    reserves: ReserveSections = field(default_factory=ReserveSections)
    """Chains (with pinned blocks), tokens, wallets and keyholders."""
    private_sums: bool = False
    """Format v2 (FORMAT-2.md): hidden sums, one tree per asset; ``height`` must be ``None``."""
    holders_multiple: int = 1
    """Format v2: every asset's holder count is rounded up to a multiple of this with dummy
    holders of balance 0 (FORMAT-2 §5.5), so the snapshot does not show it exactly."""


def smallest_height(accounts: int) -> int:
    return max(1, (accounts - 1).bit_length())


def publish(
    liabilities_path: Path,
    request: SnapshotRequest,
    out: Path,
    *,
    secret: SnapshotSecret | None = None,
    replace: bool = False,
    cluster: Cluster | None = None,
    progress: ProgressCallback | None = None,
) -> SnapshotStatement | PrivateStatement:
    """Build and write the snapshot directory ``out``; return its statement. With
    ``cluster``, the tree is built in stages by its runner (``reserves.liabilities.cluster``):
    the same bytes, in memory bounded by the work's pieces rather than by the accounts."""
    if out.exists() or out.is_symlink():
        if not replace:
            raise OutputExists(f"{out} already exists")
        if not is_snapshot_directory(out):
            raise InputError(
                f"{out} is not a snapshot directory (public/snapshot.json and private/store/): it is never replaced"
            )
    write = _writer(liabilities_path, request, cluster, progress)
    secret = secret or SnapshotSecret.generate()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror}") from None
    try:
        (staging / PRIVATE_DIR).mkdir()
        (staging / PUBLIC_DIR).mkdir()
        _write_secret(staging / SECRET_FILE, secret)
        statement = write(staging, secret)
        (staging / SNAPSHOT_FILE).write_text(statement.to_text(), encoding="ascii")
        _set_modes(staging)
        _move_into_place(staging, out)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return statement


def _write_tree(
    staging: Path,
    liabilities: LiabilitiesFile,
    request: SnapshotRequest,
    secret: SnapshotSecret,
    progress: ProgressCallback,
) -> SnapshotStatement:
    """Format v1: one Merkle sum tree and its proof store."""
    height = request.height if request.height is not None else smallest_height(len(liabilities))
    context = SnapshotContext(request.exchange, request.snapshot_id, request.cutoff, height, liabilities.assets)
    if len(liabilities) > context.capacity:
        raise InputError(
            f"a tree of height {height} has {context.capacity} slots, fewer than the "
            f"{len(liabilities)} accounts of {liabilities.source}"
        )
    with ProofStoreWriter(staging / STORE_DIR) as writer:
        tree = build_liability_tree(context, liabilities, secret, sink=writer, progress=progress)
        statement = SnapshotStatement(SnapshotCommitment(context, tree.root), len(liabilities), request.reserves)
        writer.finish(tree.order_keys(), statement)
    return statement


def _writer(
    path: Path, request: SnapshotRequest, cluster: Cluster | None, progress: ProgressCallback | None
) -> Callable[[Path, SnapshotSecret], SnapshotStatement | PrivateStatement]:
    """What writes the snapshot into the staging folder: on one machine the liabilities are
    read (and checked) first, before anything is written; a cluster reads them in its stages."""
    report = progress or silent
    if request.private_sums:
        from reserves.liabilities.private_sums.building import rounded_up

        rounded_up(request.holders_multiple)  # a bad multiple is refused before the file is read
    elif request.holders_multiple != 1:
        raise InputError("holder counts are rounded up with dummy holders in format v2 (private sums) only")
    if cluster is not None:
        if request.private_sums:
            raise InputError("format v2 (private sums) is built on one machine: a cluster builds format v1")
        return lambda staging, secret: _write_tree_on_cluster(staging, path, request, secret, cluster, report)
    liabilities = read_liabilities(path, request.decimals, progress=progress)
    write = _write_private_trees if request.private_sums else _write_tree
    return lambda staging, secret: write(staging, liabilities, request, secret, report)


def _write_tree_on_cluster(
    staging: Path,
    liabilities: Path,
    request: SnapshotRequest,
    secret: SnapshotSecret,
    cluster: Cluster,
    progress: ProgressCallback,
) -> SnapshotStatement:
    """Format v1, built in stages by the cluster's runner: the same files as ``_write_tree``."""
    from reserves.liabilities.cluster.engine import rebuild

    def context_for(assets: tuple[Asset, ...], accounts: int) -> SnapshotContext:
        height = request.height if request.height is not None else smallest_height(accounts)
        return SnapshotContext(request.exchange, request.snapshot_id, request.cutoff, height, assets)

    store = staging / STORE_DIR
    tree = rebuild(
        liabilities,
        request.decimals,
        context_for,
        secret,
        cluster.runner,
        cluster.work_dir,
        store_to=store,
        sizes=cluster.sizes,
        progress=progress,
    )
    if tree.root is None:
        raise InputError(
            f"a tree of height {tree.context.height} has {tree.context.capacity} slots, fewer than the "
            f"{tree.accounts} accounts of {liabilities}"
        )
    statement = SnapshotStatement(SnapshotCommitment(tree.context, tree.root), tree.accounts, request.reserves)
    write_manifest(store, statement, level_sizes(tree.accounts, tree.context.height))
    return statement


def _write_private_trees(
    staging: Path,
    liabilities: LiabilitiesFile,
    request: SnapshotRequest,
    secret: SnapshotSecret,
    progress: ProgressCallback,
) -> PrivateStatement:
    """Format v2 (FORMAT-2.md): a tree per asset with hidden sums, and its store."""
    from reserves.liabilities.private_sums.building import Identity, build_private_trees, rounded_up
    from reserves.liabilities.private_sums.files import PrivateStatement
    from reserves.liabilities.private_sums.store import StoreWriter

    if request.height is not None:
        raise InputError("format v2 sizes each asset's tree to its holders: a height cannot be chosen")
    identity = Identity(request.exchange, request.snapshot_id, request.cutoff)
    dummies = rounded_up(request.holders_multiple)
    writer = StoreWriter(staging / STORE_DIR)
    commitment = build_private_trees(liabilities, identity, secret.key, sink=writer, dummies=dummies, progress=progress)
    writer.finish(commitment, secret.key, progress=progress)
    return PrivateStatement(commitment, request.reserves)


def _write_secret(path: Path, secret: SnapshotSecret) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret.to_text())


def refuse_reused_secret(secret_path: Path, snapshot_id: str) -> None:
    """A secret fixes every account's slot and salt: reused for another snapshot, it puts each
    user beside the same neighbour again, whose balances the user's proofs show each time.
    A secret is tied to the snapshot whose ``public/snapshot.json`` lies beside its
    ``private/`` folder (as ``publish`` writes them); reproducing that snapshot is allowed, a
    new snapshot id is refused."""
    beside = secret_path.parent.parent / SNAPSHOT_FILE
    if not beside.is_file():
        return
    value = load_json(beside).value.get("snapshot_id")
    if isinstance(value, str) and value != snapshot_id:
        raise InputError(
            f"this secret belongs to snapshot {value!r} ({beside}); reusing it for {snapshot_id!r} would give "
            "every account the same slot and neighbour again, so users could follow another customer's "
            "balances across snapshots: draw a fresh secret"
        )


def is_snapshot_directory(path: Path) -> bool:
    return (
        path.is_dir()
        and not path.is_symlink()
        and (path / SNAPSHOT_FILE).is_file()
        and (path / STORE_DIR / "manifest.json").is_file()
    )


def remove_dead_staging(out: Path) -> None:
    """Remove ``out``'s staging and retired directories left by publishes whose process died."""
    for leftover in out.parent.glob(f".{out.name}.*"):
        parts = leftover.name[len(out.name) + 2 :].split(".")
        if leftover.suffix not in (".partial", ".old") or not parts[0].isdigit() or not leftover.is_dir():
            continue
        if not _process_alive(int(parts[0])):
            shutil.rmtree(leftover, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _set_modes(staging: Path) -> None:
    """Whatever the umask: ``public/`` 0755 with 0644 files; ``private/`` 0700 with 0700
    folders and 0600 files (the secret and every account's balances)."""
    staging.chmod(0o755)
    private = str(staging / PRIVATE_DIR)
    for directory, subdirectories, files in os.walk(staging):
        hidden = directory == private or directory.startswith(private + os.sep)
        for name in subdirectories:
            inside = hidden or os.path.join(directory, name) == private
            os.chmod(os.path.join(directory, name), 0o700 if inside else 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o600 if hidden else 0o644)


def _move_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".old", dir=out.parent))
    retired.rmdir()
    out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def load_reserves_file(
    path: Path, assets: tuple[Asset, ...], rpc: Mapping[str, str], esplora: Mapping[str, str]
) -> ReserveSections:
    """Read the exchange's reserves file: the ``chains``, ``tokens``, ``wallets`` and
    ``keyholders`` sections of ``snapshot.json``, where a chain may leave out ``block``
    (pin the node's latest) and ``block_hash`` (read it from the node at ``block``)."""
    document = load_json(path)
    document.object(("chains",), ("tokens", "wallets", "keyholders"))
    completed: dict[str, Any] = {"tokens": [], "wallets": [], "keyholders": [], **document.value}
    chains = document["chains"]
    if not isinstance(chains.value, dict):
        chains.fail("expected an object of chains by name")
    pinned: dict[str, Any] = {}
    for name, entry in chains.value.items():
        pinned[name] = _pin(chains[name], name, entry, rpc, esplora)
    completed["chains"] = pinned
    return parse_reserve_sections(JsonValue(completed, "$", document.source), assets)


def _pin(value: JsonValue, name: str, entry: Any, rpc: Mapping[str, str], esplora: Mapping[str, str]) -> Any:
    if not isinstance(entry, dict) or "block_hash" in entry:
        return entry  # complete, or malformed: parse_reserve_sections says which
    from reserves.onchain.sources.connect import pin_esplora_block, pin_evm_block  # loaded only when pinning

    kind = entry.get("kind")
    endpoints, pin = (rpc, pin_evm_block) if kind == "evm" else (esplora, pin_esplora_block)
    if name not in endpoints:
        value.fail(f"no block_hash: give one, or an endpoint for {name} to pin the block from its node")
    height = entry.get("block")
    if height is not None and (isinstance(height, bool) or not isinstance(height, int)):
        value["block"].fail("expected an integer")
    number, block_hash = pin(endpoints[name], height, name=name)
    return {**entry, "block": number, "block_hash": block_hash.hex()}


def rewrite_statement(path: Path, statement: SnapshotStatement | PrivateStatement) -> None:
    """Replace ``snapshot.json`` atomically."""
    write_text_atomically(path, statement.to_text(), encoding="ascii")
