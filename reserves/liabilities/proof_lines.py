"""Proofs in bulk: the JSON Lines ``reserves proofs --jsonl`` writes and the files of
``reserves proofs --out``, many accounts at a time.

Each line is exactly ``json.dumps({"id": id, "proof": store.proof(id).to_json()})``, each
file exactly ``store.proof(id).to_text()`` (what ``reserves proof`` prints), and
every proof is checked as ``ProofStore.proof`` checks it before it is written (its leaf
against the id, salt and secret; its path climbed to the snapshot's root), only in bulk:

    1. every id's order key and account commitment in one compiled call
    2. slots by binary search over the order keys' first 8 bytes (checked whole)
    3. each path's records gathered level by level from the mapped level files
    4. each leaf recomputed; each parent recomputed from its two children by the compiled
       node hash and compared with the stored parent (the root: the snapshot's)
    5. the JSON written from the records by the compiled formatter, on one line or indented

A proof that fails a check is made again by ``ProofStore.proof``, which raises its error.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from reserves import hashing
from reserves.encoding import u64, u128
from reserves.liabilities.loops import hot_loops
from reserves.liabilities.proof import PROOF_FORMAT, check_account_id
from reserves.liabilities.snapshot import dump_json
from reserves.liabilities.store_records import ENTRY, PAIR, whole_records

if TYPE_CHECKING:
    from reserves.liabilities.proof_store import ProofStore

BATCH_BYTES = 64 << 20
"""About how much of the paths' whole records a batch of proofs holds at once."""


class ProofLines:
    """Made once for a served store (its files mapped): then ``lines`` for any ids, from any thread."""

    def __init__(self, store: ProofStore, maps: Mapping[str, mmap.mmap | bytes]) -> None:
        context = store.statement.context
        self.store, self.ctx, self.height, self.record = store, context.ctx, context.height, store.record_size
        self.keys = np.frombuffer(maps["order-keys"], dtype=np.uint8).reshape(-1, 32)
        self.prefixes = np.ascontiguousarray(self.keys[:, :8]).view(">u8").ravel().astype(np.uint64)
        width = ENTRY if store.sparse else self.record
        levels = range(self.height + 1)
        self.levels = [np.frombuffer(maps[f"level-{n:02d}"], dtype=np.uint8).reshape(-1, width) for n in levels]
        self.sums = (
            [np.frombuffer(maps[f"sums-{n:02d}"], np.uint8).reshape(-1, PAIR) for n in levels] if store.sparse else []
        )
        root = store.statement.root
        self.root = np.frombuffer(root.hash + b"".join(u128(s) for s in root.sums), dtype=np.uint8)
        self.decimals = tuple(asset.decimals for asset in context.assets)
        self.names = tuple(json.dumps(asset.symbol).encode("ascii") + b": " for asset in context.assets)
        snapshot = store.statement.commitment.to_json()
        name = json.dumps(PROOF_FORMAT)
        self.head = f'{{"format": {name}, "snapshot": {json.dumps(snapshot)}, "account": {{"id": '
        indented = dump_json(snapshot).rstrip("\n").replace("\n", "\n  ")  # one level in, as the proof holds it
        self.indented_head = f'{{\n  "format": {name},\n  "snapshot": {indented},\n  "account": {{\n    "id": '
        self.batch = max(16, min(4096, BATCH_BYTES // (self.record * (self.height + 1))))

    def close(self) -> None:
        """Let go of the mapped files (``serving`` closes them next)."""
        self.keys = np.empty((0, 32), dtype=np.uint8)
        self.levels, self.sums = [], []

    def lines(self, ids: list[str]) -> list[str]:
        """One JSON line (with its line feed) per id, in order."""
        return self._batched(ids, indented=False)

    def documents(self, ids: list[str]) -> list[str]:
        """Each id's proof as ``reserves proof`` prints it (indented, with its line feed), in order."""
        return self._batched(ids, indented=True)

    def _batched(self, ids: list[str], *, indented: bool) -> list[str]:
        batches = (ids[start : start + self.batch] for start in range(0, len(ids), self.batch))
        return [text for batch in batches for text in self._made(batch, indented=indented)]

    def _made(self, ids: list[str], *, indented: bool) -> list[str]:
        """``lines`` or ``documents`` for a batch small enough that its paths' whole records fit ``BATCH_BYTES``."""
        if not ids:
            return []
        hashes = self._account_hashes(ids)
        slots = self._slots(ids, hashes)
        leaves, siblings = self._paths(slots)
        self._check(ids, slots, hashes, leaves, siblings)
        loops, height, depth = hot_loops(), self.height, 4 if indented else -1
        balances = loops.nodes_json(leaves, self.record, self.decimals, self.names, False, depth)
        path = loops.nodes_json(siblings.reshape(-1, self.record), self.record, self.decimals, self.names, True, depth)
        write = self._document if indented else self._line
        return [
            write(account_id, slots[n], balances[n], path[n * height : (n + 1) * height])
            for n, account_id in enumerate(ids)
        ]

    def _line(self, account_id: str, slot: int, balances: str, nodes: list[str]) -> str:
        quoted, salt = json.dumps(account_id), self.store.secret.salt(account_id).hex()
        account = f'{quoted}, "salt": "{salt}", "index": {slot}, "balances": {balances}}}'
        return f'{{"id": {quoted}, "proof": {self.head}{account}, "path": [{", ".join(nodes)}]}}}}\n'

    def _document(self, account_id: str, slot: int, balances: str, nodes: list[str]) -> str:
        quoted, salt = json.dumps(account_id), self.store.secret.salt(account_id).hex()
        account = f'{quoted},\n    "salt": "{salt}",\n    "index": {slot},\n    "balances": {balances}\n  }}'
        path = "[\n    " + ",\n    ".join(nodes) + "\n  ]" if nodes else "[]"
        return f'{self.indented_head}{account},\n  "path": {path}\n}}\n'

    def _account_hashes(self, ids: list[str]) -> npt.NDArray[np.uint8]:
        """Step 1: ``order_key || account commitment`` of each id."""
        encoded = [check_account_id(account_id, where="account id").encode("utf-8") for account_id in ids]
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        hashes = np.empty((len(ids), 64), dtype=np.uint8)
        prefix = hashing.ACCOUNT.prefix + self.ctx
        hot_loops().account_hashes(offsets, data, self.store.secret.key, prefix, hashes, 0, len(ids))
        return hashes

    def _slots(self, ids: list[str], hashes: npt.NDArray[np.uint8]) -> list[int]:
        """Step 2: each id's slot; an id not in the tree is refused as ``proof`` refuses it."""
        wanted = np.ascontiguousarray(hashes[:, :8]).view(">u8").ravel().astype(np.uint64)
        found: list[int] = np.searchsorted(self.prefixes, wanted).tolist()
        slots = []
        for number, first in enumerate(found):
            slot, key = first, hashes[number, :32]
            while slot < len(self.keys) and self.prefixes[slot] == wanted[number]:
                if np.array_equal(self.keys[slot], key):
                    break
                slot += 1  # another key with the same first 8 bytes
            else:
                self._refuse(ids[number])  # not in the tree: ``proof`` says so
            slots.append(slot)
        return slots

    def _paths(self, slots: list[int]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
        """Step 3: each slot's leaf record, and its path's siblings (``siblings[:, level]``)."""
        at = np.asarray(slots, dtype=np.int64)
        siblings = np.stack([self._records(level, (at >> level) ^ 1) for level in range(self.height)], axis=1)
        return self._records(0, at), siblings

    def _records(self, level: int, indexes: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """Whole records of nodes ``indexes`` of ``level``, however the store keeps them."""
        if not self.sums:
            return self.levels[level][indexes]
        return whole_records(self.levels[level][indexes], self.sums[level], len(self.decimals))

    def _check(
        self,
        ids: list[str],
        slots: list[int],
        hashes: npt.NDArray[np.uint8],
        leaves: npt.NDArray[np.uint8],
        siblings: npt.NDArray[np.uint8],
    ) -> None:
        """Step 4: each leaf from the id, and each path climbed to the root (as the user's
        verify climbs it), a level of every path at a time; a proof that fails is made again
        alone, whose check raises the error."""
        leaf_prefix, node_prefix = hashing.LEAF.prefix + self.ctx, hashing.NODE.prefix + self.ctx
        for number, slot in enumerate(slots):
            preimage = leaf_prefix + u64(slot) + hashes[number, 32:].tobytes() + leaves[number, 32:].tobytes()
            if hashlib.sha256(preimage).digest() != leaves[number, :32].tobytes():
                self._refuse(ids[number])
        at = np.asarray(slots, dtype=np.int64)
        nodes, pairs = leaves.copy(), np.empty((len(slots), 2, self.record), dtype=np.uint8)
        for level in range(self.height):
            right = ((at >> level) & 1).astype(bool)[:, None]
            pairs[:, 0] = np.where(right, siblings[:, level], nodes)
            pairs[:, 1] = np.where(right, nodes, siblings[:, level])
            overflow = hot_loops().parents_at(node_prefix, level + 1, at >> (level + 1), pairs, nodes, self.record)
            if overflow >= 0:
                self._refuse(ids[overflow // len(self.decimals)])
        for number in np.flatnonzero(~np.all(nodes == self.root, axis=1)).tolist():
            self._refuse(ids[number])

    def _refuse(self, account_id: str) -> None:
        """Make the proof alone: it raises the error the bulk path found, worded once."""
        self.store.proof(account_id)
        raise AssertionError(f"the bulk check and the single proof disagree on {account_id!r}")
