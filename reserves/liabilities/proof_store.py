"""The proof store: every node an inclusion proof can need, readable by offset.

An exchange has millions of accounts, so the store is not one file per account but one
file per level plus one sorted index:

    store/manifest.json      format, height, accounts, record size, nodes per level, root
    store/level-NN.bin       level NN's records (``hash || u128 sums``), padding included
    store/order-keys.bin     each slot's ``order_key`` (32 bytes), ascending by slot

Slots ascend by ``order_key`` (FORMAT §5), so ``order-keys.bin`` is sorted by
construction and a binary search over it maps an account id to its slot without an
index of ids. A proof then reads ``H`` records by offset: nothing is loaded whole.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from reserves.checks import Status
from reserves.errors import InputError, VerificationError
from reserves.liabilities import bulk_tree
from reserves.liabilities.proof import AccountEntry, InclusionProof, check_account_id
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement, load_snapshot
from reserves.liabilities.tree import Node, account_commitment, leaf
from reserves.strict_json import load_json
from reserves.verify import Anchor, verify_proof

STORE_FORMAT = "reserves-proof-store/1"
STORE_DIR = "store"
SNAPSHOT_FILE = "snapshot.json"
SECRET_FILE = "secret"


class ProofStoreWriter:
    """A level sink (``reserves.liabilities.bulk_tree.LevelSink``) that writes the store's files: it
    appends each piece to its level's file (pieces of a level arrive in index order)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True)
        self.level_sizes: list[int] = []
        self._files: list[BinaryIO] = []

    def __call__(self, level: int, records: bulk_tree.Records) -> None:
        while len(self._files) <= level:
            self._files.append((self.directory / f"level-{len(self._files):02d}.bin").open("wb"))
            self.level_sizes.append(0)
        self._files[level].write(np.ascontiguousarray(records).data)
        self.level_sizes[level] += len(records)

    def close(self) -> None:
        for handle in self._files:
            handle.close()

    def __enter__(self) -> ProofStoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finish(self, order_keys: npt.NDArray[np.uint8], statement: SnapshotStatement) -> None:
        self.close()
        (self.directory / "order-keys.bin").write_bytes(np.ascontiguousarray(order_keys).data)
        manifest = {
            "format": STORE_FORMAT,
            "height": statement.context.height,
            "accounts": statement.accounts,
            "record_size": bulk_tree.record_size(len(statement.context.assets)),
            "levels": self.level_sizes,
            "root": statement.root.hash.hex(),
        }
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


@dataclass(frozen=True)
class ProofStore:
    """A published snapshot directory, opened for proof extraction."""

    directory: Path
    statement: SnapshotStatement
    secret: SnapshotSecret
    record_size: int
    level_sizes: tuple[int, ...]

    @classmethod
    def open(cls, directory: Path) -> ProofStore:
        if not directory.is_dir():
            raise InputError(f"{directory} is not a snapshot directory (made by 'reserves publish')")
        statement = load_snapshot(directory / SNAPSHOT_FILE)
        secret = SnapshotSecret.load(directory / SECRET_FILE)
        manifest = load_json(directory / STORE_DIR / "manifest.json")
        manifest.object(("format", "height", "accounts", "record_size", "levels", "root"))
        context = statement.context
        record_size = bulk_tree.record_size(len(context.assets))
        expected: dict[str, object] = {
            "format": STORE_FORMAT,
            "height": context.height,
            "accounts": statement.accounts,
            "record_size": record_size,
            "root": statement.root.hash.hex(),
        }
        for key, value in expected.items():
            if manifest[key].value != value:
                manifest[key].fail(f"does not match {SNAPSHOT_FILE}: expected {value!r}, found {manifest[key].value!r}")
        sizes = tuple(item.integer() for item in manifest["levels"].items())
        if len(sizes) != context.height + 1:
            manifest["levels"].fail(f"expected {context.height + 1} levels, found {len(sizes)}")
        return cls(directory, statement, secret, record_size, sizes)

    def slot_of(self, account_id: str) -> int | None:
        """Binary search of the account's order key; ``None`` if it is not in the tree."""
        key = self.secret.order_key(account_id)
        path = self.directory / STORE_DIR / "order-keys.bin"
        try:
            with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as keys:
                count = len(keys) // 32
                if count != self.statement.accounts:
                    raise InputError(f"holds {count} keys, expected {self.statement.accounts}", where=str(path))
                low, high = 0, count
                while low < high:
                    middle = (low + high) // 2
                    if keys[32 * middle : 32 * middle + 32] < key:
                        low = middle + 1
                    else:
                        high = middle
                if low < count and keys[32 * low : 32 * low + 32] == key:
                    return low
                return None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None

    def node(self, level: int, index: int) -> Node:
        path = self.directory / STORE_DIR / f"level-{level:02d}.bin"
        if not 0 <= index < self.level_sizes[level]:
            raise InputError(f"node ({level}, {index}) is not in the store", where=str(path))
        try:
            with path.open("rb") as handle:
                handle.seek(index * self.record_size)
                record = handle.read(self.record_size)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        if len(record) != self.record_size:
            raise InputError(f"truncated at node {index}", where=str(path))
        return bulk_tree.record_to_node(record, len(self.statement.context.assets))

    def proof(self, account_id: str) -> InclusionProof:
        """The inclusion proof of ``account_id``; checks its leaf against the store."""
        check_account_id(account_id, where="account id")
        slot = self.slot_of(account_id)
        if slot is None:
            raise InputError(f"account {account_id!r} is not in snapshot {self.statement.context.snapshot_id!r}")
        context = self.statement.context
        stored_leaf = self.node(0, slot)
        salt = self.secret.salt(account_id)
        expected = leaf(context.ctx, slot, account_commitment(context.ctx, account_id, salt), stored_leaf.sums)
        if expected.hash != stored_leaf.hash:
            raise VerificationError(
                f"the store's leaf in slot {slot} is not {account_id!r}'s: expected "
                f"{expected.hash.hex()}, found {stored_leaf.hash.hex()} (store and secret disagree)"
            )
        path = tuple(self.node(level, (slot >> level) ^ 1) for level in range(context.height))
        entry = AccountEntry(account_id, salt, slot, stored_leaf.sums)
        proof = InclusionProof(self.statement.commitment, entry, path)
        self._check_climbs_to_the_root(proof)
        return proof

    def _check_climbs_to_the_root(self, proof: InclusionProof) -> None:
        """Never hand a user a proof that fails: a corrupted store is refused here, named as
        such, rather than blamed on the exchange by the user's verify."""
        result = verify_proof(proof, Anchor(snapshot=self.statement))
        failed = next((c for c in result.checks if c.status is Status.FAIL), None)
        if failed is not None:
            raise VerificationError(
                f"the proof store is corrupted: the path of slot {proof.account.index} fails {failed.name} "
                f"({failed.detail}); republish the snapshot's store"
            )
