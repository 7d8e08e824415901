"""The tasks of a staged build (see the package docstring), each a plain function of
small arguments and files under the job's folder, so that any worker can run any task
and a task run twice (a worker that died, retried) writes the same bytes again.

A task is never handed the secret: it reads it from the job folder's ``secret`` file
(0600), so it is absent from task arguments, which a scheduler keeps and may show.

Files under the job folder (``Job.work``):

    secret                       the snapshot secret
    buckets/PPPPP/BBBBB.bin      block B's records whose order key falls in partition P:
                                 order_key ‖ commitment ‖ u64 line ‖ balances
    commitments/PPPPP/BBBBB.bin  (audits) block B's commitments in partition P by their own prefix
    runs/PPPPP.keys, .amounts    partition P sorted: order_key ‖ commitment, and balances
    store/                       the proof store's files, written in place (publish)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from reserves import hashing
from reserves.context import Asset
from reserves.errors import InputError
from reserves.liabilities import bulk_tree, columnar
from reserves.liabilities.csv_file import RowsRead, parse_rows
from reserves.liabilities.liability_tree import ascending, count_repeats
from reserves.liabilities.loops import hot_loops
from reserves.liabilities.proof_store import ORDER_KEYS_FILE, level_file
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.sparse import dense_rows
from reserves.liabilities.tree import SumOverflowError

SECRET_NAME = "secret"
STORE_NAME = "store"
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class Job:
    """What every task is told: where things are and how they are cut, never the secret."""

    source: str
    """The liabilities file, at a path every worker can read."""
    name: str
    """The file as the user named it, for messages."""
    work: str
    """The job's folder on storage the driver and every worker share."""
    header: bytes
    """The file's first line, its line end included."""
    assets: tuple[Asset, ...]
    ctx: bytes
    partitions: int
    blocks: int
    store: bool
    """Write the proof store's files (publish), or only find the root (audit)."""
    commitments: bool
    """Count repeated account commitments too (audit)."""

    @property
    def width(self) -> int:
        """A bucket record's bytes: order key, commitment, line, balances."""
        return 72 + 16 * len(self.assets)

    def bucket(self, kind: str, partition: int, block: int) -> Path:
        return Path(self.work, kind, f"{partition:05d}", f"{block:05d}.bin")

    def run(self, partition: int, part: str) -> Path:
        return Path(self.work, "runs", f"{partition:05d}.{part}")

    @property
    def store_dir(self) -> Path:
        return Path(self.work, STORE_NAME)

    def key(self) -> bytes:
        return SnapshotSecret.load(Path(self.work, SECRET_NAME)).key

    def partition_of(self, prefixes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """Partition ``p`` holds the keys whose first 8 bytes lie in ``[p·2^64/P, (p+1)·2^64/P)``."""
        bounds = np.array([(p << 64) // self.partitions for p in range(self.partitions)], dtype=np.uint64)
        return np.searchsorted(bounds, prefixes, side="right").astype(np.int64) - 1


def read_bytes(source: str, start: int, stop: int) -> bytes:
    with open(source, "rb") as handle:
        handle.seek(start)
        return handle.read(stop - start)


# -- stage 0: scan ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """A byte range of the file, as the whole-file checks and the planner see it."""

    line_feeds: int
    bad_utf8: int | None
    """The file offset of the first byte that is not UTF-8."""
    lone_return: int | None
    """The file offset of the first carriage return without a line feed."""
    stands_alone: bool
    """No quoted field in it holds a line feed or is left open: it can be read by itself."""
    quoted_line_feeds: int


def scan_range(source: str, start: int, stop: int, body: int, commas: int) -> Scan:
    """Range ``[start, stop)`` of ``source`` (rows start at ``body``)."""
    raw = read_bytes(source, start, stop)
    bad_utf8 = None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_utf8 = start + exc.start
    compiled = columnar.compiled_loops()
    line_feeds, lone_returns, quotes = compiled.scan_text(raw)
    found = _LONE_CR.search(raw) if lone_returns else None
    alone, inside = True, 0
    if quotes:
        _, _, kind, inside = compiled.check_records(raw[max(0, body - start) :], commas)
        alone = kind != 3 and inside == 0
    return Scan(line_feeds, bad_utf8, None if found is None else start + found.start(), alone, inside)


# -- stage 1: read ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """Whole records of the file: bytes ``[start, stop)``, the first on line ``first_line``."""

    start: int
    stop: int
    first_line: int
    multiline: bool
    """Some record in it spans lines (then only the reference reader reads it)."""


@dataclass(frozen=True)
class RowError:
    """The first error of a block, as the single-machine reader words it."""

    line: int
    message: str
    where: str | None

    def to_error(self) -> InputError:
        return InputError(self.message, where=self.where)


@dataclass(frozen=True)
class BlockRead:
    rows: int
    """Accounts read (before the error, if any)."""
    error: RowError | None


def read_block(job: Job, number: int, block: Block) -> BlockRead:
    """Parse block ``number``, hash its ids and write its records to their buckets."""
    raw = read_bytes(job.source, block.start, block.stop)
    rows = _parsed(job, block, raw)
    offsets, ids, amounts = rows.columns
    count = len(offsets) - 1
    hashes = np.empty((count, 64), dtype=np.uint8)
    key, prefix = job.key(), hashing.ACCOUNT.prefix + job.ctx
    bulk_tree.in_ranges(lambda a, b: hot_loops().account_hashes(offsets, ids, key, prefix, hashes, a, b), count)
    records = np.empty((count, job.width), dtype=np.uint8)
    records[:, :64] = hashes
    records[:, 64:72] = np.asarray(rows.lines, dtype=">u8").view(np.uint8).reshape(count, 8)
    records[:, 72:] = dense_rows(amounts, np.arange(count))
    _write_buckets(job, "buckets", number, records)
    if job.commitments:
        _write_buckets(job, "commitments", number, np.ascontiguousarray(hashes[:, 32:]))
    return BlockRead(count, rows.error)


@dataclass(frozen=True)
class _Rows:
    columns: columnar.Columns
    lines: npt.NDArray[np.int64] | list[int]
    error: RowError | None


def _parsed(job: Job, block: Block, raw: bytes) -> _Rows:
    """The block's accounts: on the columnar fast path when it reads them all, else by the
    reference reader (which words the error, and knows lines when records span them)."""
    if not block.multiline:
        fast = columnar.read_buffer(pa.py_buffer(job.header + raw), job.assets)
        if fast is not None:
            return _Rows(fast, np.arange(block.first_line, block.first_line + len(fast[0]) - 1), None)
    read: RowsRead = parse_rows(raw, job.assets, source=job.name, first_line=block.first_line)
    file = read.liabilities
    error = None
    if read.error is not None and read.error_line is not None:
        error = RowError(read.error_line, read.error.message, read.error.where)
    return _Rows((file.id_offsets, file.id_bytes, file.amounts), read.lines, error)


def _write_buckets(job: Job, kind: str, block: int, records: npt.NDArray[np.uint8]) -> None:
    """Each record to the bucket of its partition (by its first 8 bytes), in file order."""
    prefixes = np.ascontiguousarray(records[:, :8]).view(">u8").ravel().astype(np.uint64)
    partitions = job.partition_of(prefixes)
    order = np.argsort(partitions, kind="stable")
    bounds = np.searchsorted(partitions[order], np.arange(job.partitions + 1))
    ordered = records[order]
    for partition in range(job.partitions):
        _write_file(job.bucket(kind, partition, block), ordered[bounds[partition] : bounds[partition + 1]])


def _write_file(path: Path, data: npt.NDArray[np.uint8]) -> None:
    """Written whole under a temporary name, then renamed: a retried task never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    partial.write_bytes(np.ascontiguousarray(data).data)
    partial.replace(path)


# -- stage 2: sort ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sorted:
    count: int
    repeat: tuple[int, int] | None
    """The lines of the first record (in file order) whose id repeats an earlier one's, and that earlier one."""
    repeated_commitments: int


def sort_partition(job: Job, partition: int, write_run: bool) -> Sorted:
    """Partition ``partition``'s records in order-key order: its run, and any repeated id."""
    records = _gathered(job, "buckets", partition, job.width)
    ordered = records[ascending(records[:, :32])]
    same = np.flatnonzero(np.all(ordered[1:, :32] == ordered[:-1, :32], axis=1))
    repeat = None
    if len(same):
        lines = np.ascontiguousarray(ordered[:, 64:72]).view(">u8").ravel()
        # Equal keys keep file order, so each repeat's earlier record is the one before it.
        pairs = sorted((int(lines[i + 1]), int(lines[i])) for i in same.tolist())
        repeat = (pairs[0][1], pairs[0][0])
    if write_run:
        _write_file(job.run(partition, "keys"), ordered[:, :64])
        _write_file(job.run(partition, "amounts"), ordered[:, 72:])
    repeated = count_repeats(_gathered(job, "commitments", partition, 32)) if job.commitments else 0
    return Sorted(len(ordered), repeat, repeated)


def first_line_of(job: Job, key: bytes, before: int) -> int | None:
    """The first line before ``before`` whose record has order key ``key``, from the buckets
    (the driver asks this of a block's bad record: the reference would call it a repeat)."""
    prefix = np.frombuffer(key[:8], dtype=">u8").astype(np.uint64)
    records = _gathered(job, "buckets", int(job.partition_of(prefix)[0]), job.width)
    same = records[np.all(records[:, :32] == np.frombuffer(key, dtype=np.uint8), axis=1)]
    lines = [line for line in np.ascontiguousarray(same[:, 64:72]).view(">u8").ravel().tolist() if line < before]
    return min(lines, default=None)


def _gathered(job: Job, kind: str, partition: int, width: int) -> npt.NDArray[np.uint8]:
    """Every block's bucket of ``partition``, in block order (so equal keys stay in file order)."""
    pieces = [np.fromfile(job.bucket(kind, partition, block), dtype=np.uint8) for block in range(job.blocks)]
    return np.concatenate(pieces).reshape(-1, width) if pieces else np.empty((0, width), np.uint8)


# -- stage 3: build -----------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    tops: list[tuple[int, bytes]]
    """``(chunk, top record)`` of every chunk this partition owns."""
    overflow: tuple[int, int, int, int] | None
    """The lowest ``(level, index, asset, sum)`` whose sum reaches 2^128."""


@dataclass(frozen=True)
class Layout:
    """Where every partition's slots are: the tree the runs make."""

    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    accounts: int
    height: int

    @property
    def chunk_levels(self) -> int:
        return min(bulk_tree.CHUNK_LEVELS, self.height)


def build_partition(job: Job, partition: int, layout: Layout) -> Built:
    """Build the chunks whose first slot lies in ``partition`` (reading the head of the
    next runs for the last one) and, for a publish, write their levels and order keys in place."""
    k, first, count = layout.chunk_levels, layout.offsets[partition], layout.counts[partition]
    owned = range(-(-first >> k), ((first + count - 1) >> k) + 1) if count else range(0)
    if job.store and count:
        keys = np.fromfile(job.run(partition, "keys"), dtype=np.uint8).reshape(-1, 64)
        _write_at(job.store_dir / ORDER_KEYS_FILE, np.ascontiguousarray(keys[:, :32]), first * 32)
    if not owned:
        return Built([], None)
    start, stop = owned[0] << k, min(layout.accounts, (owned[-1] + 1) << k)
    hashes, amounts = _slots(job, layout, start, stop)
    leaves = bulk_tree.LeafInput(hashes, amounts, np.arange(stop - start, dtype=np.int64))
    builder = bulk_tree.Builder(job.ctx, leaves, k, first_slot=start, accounts=layout.accounts)
    tops: list[tuple[int, bytes]] = []
    overflow: SumOverflowError | None = None
    for number in owned:
        chunk = builder.chunk(number)
        if isinstance(chunk.result, SumOverflowError):
            if overflow is None or chunk.result.position < overflow.position:
                overflow = chunk.result
        else:
            tops.append((number, chunk.result.tobytes()))
            if job.store:
                for level, records in chunk.pieces:
                    _write_at(job.store_dir / level_file(level), records, (number << (k - level)) * builder.size)
        builder.release(chunk.scratch)
    if overflow is not None:
        return Built([], (overflow.level, overflow.index, overflow.asset, overflow.value))
    return Built(tops, None)


def _slots(job: Job, layout: Layout, start: int, stop: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Hashes and balances of slots ``[start, stop)``, from whichever runs hold them."""
    width = 16 * len(job.assets)
    hashes, amounts = [], []
    for partition, (first, count) in enumerate(zip(layout.offsets, layout.counts, strict=True)):
        low, high = max(start, first), min(stop, first + count)
        if low >= high:
            continue
        skip, rows = low - first, high - low
        hashes.append(np.fromfile(job.run(partition, "keys"), np.uint8, rows * 64, offset=skip * 64))
        amounts.append(np.fromfile(job.run(partition, "amounts"), np.uint8, rows * width, offset=skip * width))
    return np.concatenate(hashes).reshape(-1, 64), np.concatenate(amounts).reshape(-1, width)


def _write_at(path: Path, records: npt.NDArray[np.uint8], offset: int) -> None:
    """``records`` at byte ``offset`` of ``path`` (made by the driver); rewriting is harmless."""
    descriptor = os.open(path, os.O_WRONLY)
    try:
        view = np.ascontiguousarray(records).data.cast("B")
        while view:
            written = os.pwrite(descriptor, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(descriptor)
