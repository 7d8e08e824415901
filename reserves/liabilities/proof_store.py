"""The proof store: every node an inclusion proof can need, readable by offset.

A snapshot directory holds what may be published apart from what must not:

    public/snapshot.json             the statement (FORMAT §6.1): upload ``public/``
    private/secret                   the publisher's secret (0600)
    private/store/                   the proof store (every account's balances; 0600 files)

An exchange has millions of accounts, so the store is not one file per account but one
file per level plus one sorted index:

    store/manifest.json      format, height, accounts, record size, nodes per level, root
    store/level-NN.bin       level NN's records (``hash || u128 sums``), padding included
    store/order-keys.bin     each slot's ``order_key`` (32 bytes), ascending by slot

With many assets (33 or more) a level keeps only its nodes' nonzero sums, beside their
hashes (``store/sums-NN.bin``; ``reserves.liabilities.store_records``).

Slots ascend by ``order_key`` (FORMAT §5), so ``order-keys.bin`` is sorted by
construction and a binary search over it maps an account id to its slot without an
index of ids. A proof then reads ``H`` records by offset: nothing is loaded whole.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import numpy.typing as npt

from reserves.checks import Status
from reserves.errors import InputError, VerificationError
from reserves.liabilities import bulk_tree
from reserves.liabilities.proof import AccountEntry, InclusionProof, check_account_id
from reserves.liabilities.proof_lines import ProofLines
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement, load_snapshot
from reserves.liabilities.store_records import (
    DENSE_FORMAT,
    ENTRY,
    PAIR,
    SPARSE_FORMAT,
    sparse_entries,
    store_format,
    sums_file,
    whole_records,
)
from reserves.liabilities.tree import Node, account_commitment, leaf
from reserves.progress import ProgressCallback, silent
from reserves.strict_json import load_json
from reserves.verify import Anchor, verify_proof

STORE_FORMAT = DENSE_FORMAT
PUBLIC_DIR = "public"
"""What may be published: ``snapshot.json``. Upload this folder, never its parent."""
PRIVATE_DIR = "private"
"""What must not be: the secret and the proof store (every account's balances); mode 0700."""
SNAPSHOT_FILE = f"{PUBLIC_DIR}/snapshot.json"
SECRET_FILE = f"{PRIVATE_DIR}/secret"
STORE_DIR = f"{PRIVATE_DIR}/store"


class ProofStoreWriter:
    """A level sink (``reserves.liabilities.bulk_tree.LevelSink``) that writes the store's files: it
    appends each piece to its level's file (pieces of a level arrive in index order)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True)
        self.level_sizes: list[int] = []
        self._files: list[BinaryIO] = []
        self._sums: list[BinaryIO] = []
        self._pairs: list[int] = []

    def __call__(self, level: int, records: bulk_tree.Records) -> None:
        sparse = store_format((records.shape[1] - 32) // 16) == SPARSE_FORMAT
        while len(self._files) <= level:
            self._files.append((self.directory / level_file(len(self._files))).open("wb"))
            if sparse:
                self._sums.append((self.directory / sums_file(len(self._sums))).open("wb"))
            self.level_sizes.append(0)
            self._pairs.append(0)
        if sparse:
            entries, pairs = sparse_entries(records, self._pairs[level])
            self._files[level].write(entries.data)
            self._sums[level].write(pairs.data)
            self._pairs[level] += len(pairs)
        else:
            self._files[level].write(np.ascontiguousarray(records).data)
        self.level_sizes[level] += len(records)

    def close(self) -> None:
        for handle in [*self._files, *self._sums]:
            handle.close()

    def __enter__(self) -> ProofStoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finish(self, order_keys: npt.NDArray[np.uint8], statement: SnapshotStatement) -> None:
        self.close()
        (self.directory / ORDER_KEYS_FILE).write_bytes(np.ascontiguousarray(order_keys).data)
        write_manifest(self.directory, statement, self.level_sizes)


ORDER_KEYS_FILE = "order-keys.bin"


def level_file(level: int) -> str:
    return f"level-{level:02d}.bin"


def level_sizes(accounts: int, height: int) -> list[int]:
    """Records per level file: each level's nodes, and a padding node where their count is odd."""
    sizes = []
    for level in range(height + 1):
        real = -(-accounts // (1 << level))
        sizes.append(real + real % 2 if level < height else real)
    return sizes


def write_manifest(directory: Path, statement: SnapshotStatement, sizes: list[int]) -> None:
    """``manifest.json``, once every level file and ``order-keys.bin`` are written."""
    manifest = {
        "format": store_format(len(statement.context.assets)),
        "height": statement.context.height,
        "accounts": statement.accounts,
        "record_size": bulk_tree.record_size(len(statement.context.assets)),
        "levels": sizes,
        "root": statement.root.hash.hex(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


@dataclass(frozen=True)
class ProofStore:
    """A published snapshot directory, opened for proof extraction."""

    directory: Path
    statement: SnapshotStatement
    secret: SnapshotSecret
    record_size: int
    level_sizes: tuple[int, ...]
    maps: dict[str, mmap.mmap | bytes] = field(default_factory=dict, repr=False, compare=False)
    """The files mapped by ``serving``, by name; empty when each call opens what it reads."""
    bulk: ProofLines | None = field(default=None, repr=False, compare=False)
    """``serving``'s bulk proof maker (``jsonl``)."""

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
            "format": store_format(len(context.assets)),
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

    @contextmanager
    def serving(self) -> Iterator[ProofStore]:
        """This store with every file mapped once, for many proofs (a server, ``reserves
        proofs``): ``proof`` then reads no file and may be called from many threads."""
        with ExitStack() as stack:
            files = {"order-keys": self.directory / STORE_DIR / "order-keys.bin"}
            files |= {f"level-{level:02d}": self._level_path(level) for level in range(len(self.level_sizes))}
            if self.sparse:
                files |= {f"sums-{level:02d}": self._sums_path(level) for level in range(len(self.level_sizes))}
            maps: dict[str, mmap.mmap | bytes] = {}
            for name, path in files.items():
                try:
                    handle = stack.enter_context(path.open("rb"))
                    empty = os.fstat(handle.fileno()).st_size == 0  # a level whose sums are all zero
                    maps[name] = (
                        b"" if empty else stack.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
                    )
                except (OSError, ValueError) as exc:
                    raise InputError(f"cannot map {path}: {getattr(exc, 'strerror', None) or exc}") from None
            served = ProofStore(self.directory, self.statement, self.secret, self.record_size, self.level_sizes, maps)
            bulk = ProofLines(served, maps)
            try:
                yield replace(served, bulk=bulk)
            finally:
                bulk.close()  # its arrays let go of the maps before they are closed

    def jsonl(self, ids: list[str]) -> list[str]:
        """The JSON line of each id's proof, ``json.dumps({"id": id, "proof": proof.to_json()})``
        and a line feed, each checked as ``proof`` checks it, made in bulk: from ``serving``."""
        if self.bulk is None:
            raise RuntimeError("jsonl is for a served store: use 'with store.serving() as served'")
        return self.bulk.lines(ids)

    def documents(self, ids: list[str]) -> list[str]:
        """Each id's proof as ``proof(id).to_text()`` writes it, checked as ``proof`` checks it,
        made in bulk: from ``serving``."""
        if self.bulk is None:
            raise RuntimeError("documents are for a served store: use 'with store.serving() as served'")
        return self.bulk.documents(ids)

    @property
    def sparse(self) -> bool:
        """Whether the store keeps only nonzero sums (``store_records``)."""
        return store_format(len(self.statement.context.assets)) == SPARSE_FORMAT

    def _level_path(self, level: int) -> Path:
        return self.directory / STORE_DIR / f"level-{level:02d}.bin"

    def _sums_path(self, level: int) -> Path:
        return self.directory / STORE_DIR / sums_file(level)

    @contextmanager
    def _mapped(self, name: str, path: Path) -> Iterator[mmap.mmap | bytes]:
        """The file mapped: the serving map, or one opened for this call (an empty file: no bytes)."""
        if name in self.maps:
            yield self.maps[name]
            return
        try:
            with path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    yield b""
                    return
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    yield mapped
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None

    def slot_of(self, account_id: str) -> int | None:
        """Binary search of the account's order key; ``None`` if it is not in the tree."""
        key = self.secret.order_key(account_id)
        path = self.directory / STORE_DIR / "order-keys.bin"
        with self._mapped("order-keys", path) as keys:
            count = len(keys) // 32
            if count != self.statement.accounts:
                raise InputError(f"holds {count} keys, expected {self.statement.accounts}", where=str(path))
            return find_key(keys, key)

    def node(self, level: int, index: int) -> Node:
        path = self._level_path(level)
        if not 0 <= index < self.level_sizes[level]:
            raise InputError(f"node ({level}, {index}) is not in the store", where=str(path))
        width = ENTRY if self.sparse else self.record_size
        with self._mapped(f"level-{level:02d}", path) as records:
            record = records[index * width : (index + 1) * width]
        if len(record) != width:
            raise InputError(f"truncated at node {index}", where=str(path))
        if self.sparse:
            record = self._whole(level, record)
        return bulk_tree.record_to_node(record, len(self.statement.context.assets))

    def _whole(self, level: int, entry: bytes) -> bytes:
        """A sparse entry's whole record, its sums read from the level's sums file."""
        start, end = int.from_bytes(entry[32:40], "big"), int.from_bytes(entry[40:48], "big")
        path = self._sums_path(level)
        with self._mapped(f"sums-{level:02d}", path) as sums:
            raw = sums[PAIR * start : PAIR * end] if end > start else b""
        rebased = np.frombuffer(entry[:32] + (0).to_bytes(8, "big") + (end - start).to_bytes(8, "big"), np.uint8)
        try:
            pairs = np.frombuffer(raw, dtype=np.uint8).reshape(-1, PAIR)
            return whole_records(rebased.reshape(1, ENTRY), pairs, len(self.statement.context.assets)).tobytes()
        except ValueError as exc:
            raise InputError(f"node {start}..{end} of level {level}: {exc}", where=str(path)) from None

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


def find_key(keys: bytes | mmap.mmap, key: bytes) -> int | None:
    """Where ``key`` stands in ``keys`` (sorted 32-byte keys back to back), or ``None``."""
    count = len(keys) // 32
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


def read_ids(path: Path) -> list[str]:
    """Account ids, one a line (UTF-8; LF or CRLF), as ``reserves proofs --ids`` takes them."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}", where=str(path)) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    ids = []
    for number, line in enumerate(lines, start=1):
        account_id = line[:-1] if line.endswith("\r") else line
        ids.append(check_account_id(account_id, where=f"{path}:{number}"))
    if not ids:
        raise InputError("lists no account id", where=str(path))
    return ids


class ServedProof(Protocol):
    def to_json(self) -> dict[str, Any]: ...
    def to_text(self) -> str: ...


class ServingStore(Protocol):
    """A store that serves proofs by account id: format v1's ``ProofStore`` or v2's ``PrivateStore``."""

    def proof(self, account_id: str) -> ServedProof: ...


class ServableStore(Protocol):
    def serving(self) -> AbstractContextManager[ServingStore]: ...


BATCH = 4096
"""Proofs made together by ``ProofStore.jsonl``."""


def _json_lines(served: ServingStore, ids: list[str]) -> list[str]:
    """``{"id", "proof"}`` lines: in bulk from a format v1 store, else one proof at a time."""
    if isinstance(served, ProofStore):
        return served.jsonl(ids)
    return [json.dumps({"id": account_id, "proof": served.proof(account_id).to_json()}) + "\n" for account_id in ids]


def _documents(served: ServingStore, ids: list[str]) -> list[str]:
    """Each proof as ``proof`` prints it: in bulk from a format v1 store, else one at a time."""
    if isinstance(served, ProofStore):
        return served.documents(ids)
    return [served.proof(account_id).to_text() for account_id in ids]


def write_proofs(
    store: ServableStore,
    ids: list[str],
    *,
    jsonl: Path | None = None,
    out: Path | None = None,
    progress: ProgressCallback = silent,
) -> int:
    """Every account's proof, into one JSON Lines file (``jsonl``: ``{"id", "proof"}`` a
    line) or a new folder (``out``: ``<SHA-256 of the id>.json`` each, as ``proof`` prints
    it). All or nothing: on any error nothing is left at either path."""
    if (jsonl is None) == (out is None):
        raise InputError("give exactly one of a JSON Lines file or an output folder")
    target = jsonl if jsonl is not None else out
    assert target is not None
    if out is not None and out.exists():
        raise InputError(f"{out} exists: proofs are written into a new folder")
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with store.serving() as served:
            if jsonl is not None:
                with staging.open("w", encoding="utf-8") as handle:
                    for start in range(0, len(ids), BATCH):
                        batch = ids[start : start + BATCH]
                        handle.writelines(_json_lines(served, batch))
                        progress("proofs", start + len(batch), len(ids))
            else:
                staging.mkdir(parents=True)
                for start in range(0, len(ids), BATCH):
                    batch = ids[start : start + BATCH]
                    for account_id, text in zip(batch, _documents(served, batch), strict=True):
                        name = hashlib.sha256(account_id.encode("utf-8")).hexdigest() + ".json"
                        (staging / name).write_text(text, encoding="utf-8")
                    progress("proofs", start + len(batch), len(ids))
        os.replace(staging, target)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        elif staging.exists():
            staging.unlink()
    return len(ids)
