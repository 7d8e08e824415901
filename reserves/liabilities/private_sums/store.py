"""The publisher's v2 store: every node of every asset tree, and a cache of range proofs.

    private/store/manifest.json        format, snapshot root, per asset: nodes per level
    private/store/accounts.bin         every account's key (``account/2``), sorted
    private/store/A-keys.bin           asset A's holders' order keys, in slot order
    private/store/A-level-LL.bin       asset A's level LL: ``hash || C || u64(v) || u256(r)``
    private/store/A-ranges-LL.bin      range proofs of level LL's nodes, one fixed-size slot
                                       each (all zero until made): the top levels are made
                                       at publish, the rest on the first request

``A`` is the asset's position, ``LL`` the level. A proof reads ``H_a`` records per held
asset by offset, makes the range proofs it lacks, and is checked (FORMAT-2 §7 without the
anchor) before it is handed out.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reserves.checks import Status
from reserves.errors import InputError, VerificationError
from reserves.liabilities.private_sums import curve
from reserves.liabilities.private_sums.building import RECORD, TreeSink, node_of, range_request
from reserves.liabilities.private_sums.checking import verify_private_proof
from reserves.liabilities.private_sums.files import (
    Holding,
    PrivateCommitment,
    PrivateProof,
    PrivateStatement,
    Sibling,
    parse_statement,
)
from reserves.liabilities.private_sums.tree import OpenNode, PrivateContext, PrivateSecrets, padding
from reserves.liabilities.proof import check_account_id
from reserves.liabilities.proof_store import SECRET_FILE, SNAPSHOT_FILE, STORE_DIR, find_key
from reserves.liabilities.secret import SnapshotSecret
from reserves.progress import ProgressCallback, silent
from reserves.strict_json import load_json

STORE_FORMAT = "reserves-proof-store/2"
EAGER_LEVEL = 14
"""Range proofs of nodes at this level and above are made at publish: each is on the path
of at least 16,384 holders, so nearly every proof needs them. There is about one such node
per 8,192 holdings (from level 12, one per 2,048: range proofs were then a sixth of publish);
a cold proof makes the 14 levels below, per asset held."""


class StoreWriter(TreeSink):
    """The build's sink: every level into its file as it comes; then the range proofs of the
    top levels, the empty range-proof caches and the manifest (``finish``)."""

    def __init__(self, directory: Path, *, eager_level: int = EAGER_LEVEL) -> None:
        self.directory, self.eager_level = directory, eager_level
        directory.mkdir(parents=True)
        self.counts: dict[int, list[int]] = {}
        self.top: dict[tuple[int, int], bytes] = {}

    def accounts(self, keys: bytes) -> None:
        (self.directory / "accounts.bin").write_bytes(keys)

    def holders(self, asset: int, order_keys: bytes) -> None:
        (self.directory / f"{asset}-keys.bin").write_bytes(order_keys)

    def level(self, asset: int, level: int, records: bytes) -> None:
        (self.directory / f"{asset}-level-{level:02d}.bin").write_bytes(records)
        self.counts.setdefault(asset, []).append(len(records) // RECORD)
        if level >= self.eager_level:
            self.top[asset, level] = records

    def finish(self, commitment: PrivateCommitment, key: bytes, *, progress: ProgressCallback = silent) -> None:
        """Range proofs for every node at the eager level and above (but the roots), the other
        levels' caches left empty (sparse files), and the manifest."""
        context = commitment.context
        eager = {(a, level): records for (a, level), records in self.top.items() if level < len(self.counts[a]) - 1}
        made = _eager_range_proofs(context, key, eager, progress)
        for asset, counts in self.counts.items():
            length = curve.range_proof_length(context.shapes[asset].range_bits)
            for level, count in enumerate(counts):
                with (self.directory / f"{asset}-ranges-{level:02d}.bin").open("wb") as ranges:
                    ranges.truncate(length * count)  # sparse: zero until made
                    if (asset, level) in made:
                        ranges.seek(0)
                        ranges.write(b"".join(made[asset, level]))
        levels = [self.counts.get(asset, []) for asset in range(len(context.assets))]
        manifest = {"format": STORE_FORMAT, "root": commitment.root.hex(), "levels": levels}
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _eager_range_proofs(
    context: PrivateContext, key: bytes, levels: dict[tuple[int, int], bytes], progress: ProgressCallback
) -> dict[tuple[int, int], list[bytes]]:
    """Every node's range proof of the given levels, in index order (one thread per core)."""
    secrets, made = PrivateSecrets(key), {}
    total, done = sum(len(records) // RECORD for records in levels.values()), 0
    progress("range proofs of the top levels", 0, total)
    for (asset, level), records in levels.items():
        count = len(records) // RECORD
        wanted = [range_request(context, secrets, asset, level, i, node_of(records, i)) for i in range(count)]
        made[asset, level] = curve.range_proofs(wanted)
        done += count
        progress("range proofs of the top levels", done, total)
    return made


def store_format(directory: Path) -> str | None:
    """The ``format`` a snapshot directory's store states, or ``None`` if it states none."""
    try:
        value = json.loads((directory / STORE_DIR / "manifest.json").read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PrivateStore:
    """A published v2 snapshot directory, opened for proofs."""

    directory: Path
    statement: PrivateStatement
    secrets: PrivateSecrets
    levels: tuple[tuple[int, ...], ...]

    @classmethod
    def open(cls, directory: Path) -> PrivateStore:
        if not directory.is_dir():
            raise InputError(f"{directory} is not a snapshot directory (made by 'reserves publish')")
        statement = parse_statement(load_json(directory / SNAPSHOT_FILE))
        secret = SnapshotSecret.load(directory / SECRET_FILE)
        manifest = load_json(directory / STORE_DIR / "manifest.json").object(("format", "root", "levels"))
        if manifest["format"].value != STORE_FORMAT or manifest["root"].value != statement.commitment.root.hex():
            manifest.fail(f"is not the {STORE_FORMAT} store of {SNAPSHOT_FILE}")
        levels = tuple(tuple(count.integer() for count in asset.items()) for asset in manifest["levels"].items())
        context = statement.context
        expected = [() if s.holders == 0 else tuple(_level_sizes(s.holders)) for s in context.shapes]
        if list(levels) != expected:
            manifest["levels"].fail(f"does not match the trees of {SNAPSHOT_FILE}")
        return cls(directory, statement, PrivateSecrets(secret.key), levels)

    @contextmanager
    def serving(self) -> Iterator[PrivateStore]:
        """This store, for many proofs (``reserves proofs``): each proof reads its records by
        offset and may write range proofs into the cache (the same bytes whoever writes them)."""
        yield self

    def _path(self, name: str) -> Path:
        return self.directory / STORE_DIR / name

    def _read(self, name: str, offset: int, size: int) -> bytes:
        with self._path(name).open("rb") as handle:
            handle.seek(offset)
            data = handle.read(size)
        if len(data) != size:
            raise InputError(f"{self._path(name)} is shorter than its manifest says")
        return data

    def _find(self, name: str, key: bytes) -> int | None:
        """Where ``key`` stands in the sorted key file ``name`` (mapped, not read whole), or ``None``."""
        path = self._path(name)
        try:
            with path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return None
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as keys:
                    return find_key(keys, key)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None

    def _slot(self, asset: int, account_id: str) -> int | None:
        """Where the account sits in the asset's tree, or ``None`` if it does not hold it."""
        if not self.levels[asset]:
            return None
        return self._find(f"{asset}-keys.bin", self.secrets.order_key(asset, account_id))

    def proof(self, account_id: str) -> PrivateProof:
        """The account's v2 proof, checked to climb and open before it is returned."""
        check_account_id(account_id, where="account id")
        if self._find("accounts.bin", self.secrets.account_key(account_id)) is None:
            raise InputError(f"no account {account_id!r} in this snapshot")
        holdings = []
        for asset in range(len(self.levels)):
            index = self._slot(asset, account_id)
            if index is not None:
                holdings.append(self._holding(asset, index))
        proof = PrivateProof(self.statement.commitment, account_id, self.secrets.salt(account_id), tuple(holdings))
        result = verify_private_proof(proof)
        failed = [c for c in result.checks if c.status is Status.FAIL]
        if failed:
            raise VerificationError(
                f"the store gives a proof that does not verify: {failed[0].title} ({failed[0].detail})"
            )
        return proof

    def _holding(self, asset: int, index: int) -> Holding:
        leaf = node_of(self._read(f"{asset}-level-00.bin", index * RECORD, RECORD))
        ctx, path, ranged = self.statement.context.ctx, [], []
        for level, count in enumerate(self.levels[asset][:-1]):
            position = (index >> level) ^ 1
            if position >= count:
                path.append(Sibling(padding(ctx, asset, level, position).public, None))
                continue
            node = node_of(self._read(f"{asset}-level-{level:02d}.bin", position * RECORD, RECORD))
            ranged.append((len(path), level, position, node))
            path.append(Sibling(node.public, None))
        proofs = self._range_proofs(asset, [(level, position, node) for _, level, position, node in ranged])
        for (at, _, _, node), proof in zip(ranged, proofs, strict=True):
            path[at] = Sibling(node.public, proof)
        return Holding(asset, index, leaf.value, leaf.blinding, tuple(path))

    def _range_proofs(self, asset: int, nodes: list[tuple[int, int, OpenNode]]) -> list[bytes]:
        """The cached range proofs of these ``(level, index, node)``; the missing ones are made
        (one thread per core) and written into the cache."""
        context = self.statement.context
        length = curve.range_proof_length(context.shapes[asset].range_bits)
        proofs = [self._read(f"{asset}-ranges-{level:02d}.bin", index * length, length) for level, index, _ in nodes]
        missing = [i for i, proof in enumerate(proofs) if not any(proof)]
        wanted = [range_request(context, self.secrets, asset, *nodes[i]) for i in missing]
        for i, made in zip(missing, curve.range_proofs(wanted), strict=True):
            level, index, _ = nodes[i]
            with self._path(f"{asset}-ranges-{level:02d}.bin").open("r+b") as handle:
                handle.seek(index * length)
                handle.write(made)
            proofs[i] = made
        return proofs


def _level_sizes(holders: int) -> list[int]:
    """Nodes per level of a tree over ``holders`` leaves, up to the root."""
    sizes = [holders]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes
