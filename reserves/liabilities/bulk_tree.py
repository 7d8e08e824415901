"""The bulk tree builder: the hot loops of publish and audit.

It computes the same nodes as ``reserves.liabilities.tree`` (the reference, tested to agree), a range
of nodes at a time, in ``reserves.liabilities._bulk`` (compiled; it releases the GIL, so one thread
per core hashes side by side). A node is a fixed-width *record*,
``hash || u128(sum_1) || … || u128(sum_A)``: exactly the bytes a parent's preimage takes
from a child, so a parent hashes its two children's records where they lie.

The tree is built in *chunks* of ``2^k`` leaf slots: a worker turns a chunk's slots into
leaves and climbs ``k`` levels to the chunk's top, handing every level's piece to the
sink; the few chunk tops then climb to the root. Memory is a few chunks at a time
whatever the number of accounts, and the sink (the proof store) receives each level's
pieces in index order.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserves import hashing
from reserves.encoding import u8, u64
from reserves.liabilities.loops import hot_loops
from reserves.liabilities.sparse import SparseAmounts
from reserves.liabilities.tree import Node, SumOverflowError

Records = npt.NDArray[np.uint8]
"""Nodes: shape ``(nodes, 32 + 16 * assets)``, one record per node."""


LevelSink = Callable[[int, Records], None]
"""Receives ``(level, records)`` pieces as they are finished, padding records included.
Each level's pieces arrive in index order; pieces of different levels interleave."""

WORKERS = max(1, min(os.cpu_count() or 1, 8))
CHUNK_LEVELS = 16
"""A chunk is ``2^16`` leaf slots (23 MB of records at 20 assets) unless the tree is smaller."""


def record_size(asset_count: int) -> int:
    return 32 + 16 * asset_count


CHUNK_BYTES = 64 << 20


def chunk_levels_for(asset_count: int) -> int:
    """``CHUNK_LEVELS``, or fewer when records are so wide (hundreds of assets) that a chunk's
    scratch array (twice its leaves' records) would pass ``CHUNK_BYTES``. A chunk's size
    never changes a byte of the tree, only how much of it is in memory at once."""
    fitting = (CHUNK_BYTES // (2 * record_size(asset_count))).bit_length() - 1
    return max(1, min(CHUNK_LEVELS, fitting))


@dataclass(frozen=True)
class LeafInput:
    """What the leaf level is made of, row-wise as read from the liabilities file.

    The account in slot ``s`` is file row ``slot_rows[s]``; its account commitment is
    ``hashes[row, 32:]`` and its balances ``amounts[row]``, each ``u128`` big-endian.
    """

    hashes: npt.NDArray[np.uint8]
    """Shape ``(rows, 64)``: ``order_key || account commitment`` (only the second half is used here)."""
    amounts: npt.NDArray[np.uint8] | SparseAmounts
    """Shape ``(rows, 16 * assets)``, or only the nonzero balances (made dense a chunk at a time)."""
    slot_rows: npt.NDArray[np.int64]
    """Shape ``(slots,)``."""

    @classmethod
    def in_slot_order(cls, accounts: bytes, amounts: npt.NDArray[np.uint8]) -> LeafInput:
        """Accounts already in slot order: ``accounts`` is the ``32 * N`` bytes of their commitments."""
        count = len(accounts) // 32
        hashes = np.zeros((count, 64), dtype=np.uint8)
        hashes[:, 32:] = np.frombuffer(accounts, dtype=np.uint8).reshape(count, 32)
        return cls(hashes, np.ascontiguousarray(amounts, dtype=np.uint8), np.arange(count, dtype=np.int64))

    @property
    def asset_count(self) -> int:
        return int(self.amounts.shape[1]) // 16


def build(
    ctx: bytes, height: int, leaves: LeafInput, sink: LevelSink | None = None, *, chunk_levels: int | None = None
) -> Node:
    """Build the tree over ``leaves`` and return the root ``(height, 0)``; chunks are
    ``2^chunk_levels`` slots (default ``chunk_levels_for`` the assets)."""
    count = len(leaves.slot_rows)
    chunk_levels = chunk_levels_for(leaves.asset_count) if chunk_levels is None else chunk_levels
    if chunk_levels < 1:
        raise ValueError("a chunk is at least two slots")
    if not 1 <= count <= 1 << height:
        raise ValueError(f"{count} leaves do not fit a tree of height {height}")
    builder = Builder(ctx, leaves, min(chunk_levels, height))
    emit = sink or (lambda level, records: None)
    chunks = -(-count // (1 << builder.chunk_levels))
    tops = builder.tops(chunks, height)
    first_overflow: SumOverflowError | None = None
    for number, chunk in enumerate(_in_order(builder.chunk, chunks)):
        if isinstance(chunk.result, SumOverflowError):
            # The reference stops at the lowest level's first overflowing node: a later
            # chunk may still hold one on a lower level, so every chunk is looked at.
            if first_overflow is None or chunk.result.position < first_overflow.position:
                first_overflow = chunk.result
        elif first_overflow is None:
            for level, records in chunk.pieces:
                emit(level, records)
            tops[number] = chunk.result
        builder.release(chunk.scratch)
    if first_overflow is not None:
        raise first_overflow
    return builder.root(tops, chunks, height, emit)


@dataclass(frozen=True)
class Chunk:
    """A chunk's levels below its top, in the scratch array they live in."""

    pieces: list[tuple[int, Records]]
    result: Records | SumOverflowError
    """Its top record, or the first sum of it that reaches 2^128 (lowest level first)."""
    scratch: Records


class Builder:
    """Builds chunks of a tree of ``accounts`` leaves (default: every slot of ``leaves``);
    ``leaves.slot_rows[0]`` is the row of slot ``first_slot``, so a builder may hold only
    the slots of the chunks it builds (``reserves.liabilities.cluster``)."""

    def __init__(
        self, ctx: bytes, leaves: LeafInput, chunk_levels: int, *, first_slot: int = 0, accounts: int | None = None
    ) -> None:
        self.ctx = ctx
        self.leaves = leaves
        self.chunk_levels = chunk_levels
        self.first_slot = first_slot
        self.accounts = len(leaves.slot_rows) if accounts is None else accounts
        self.size = record_size(leaves.asset_count)
        self.leaf_prefix = hashing.LEAF.prefix + ctx
        self.node_prefix = hashing.NODE.prefix + ctx
        self._scratch: queue.SimpleQueue[Records] = queue.SimpleQueue()

    def chunk(self, number: int) -> Chunk:
        """Levels ``0 … k-1`` over the chunk's slots, and its top node at level ``k``. The
        pieces are views of one scratch array, to be handed back with ``release``."""
        first = number << self.chunk_levels
        count = min(self.accounts - first, 1 << self.chunk_levels)
        try:
            scratch = self._scratch.get_nowait()
        except queue.Empty:
            # Leaves and every level above, each with a spare row: < 2^(k+1) + k + 1 rows.
            scratch = np.empty(((2 << self.chunk_levels) + self.chunk_levels + 1, self.size), dtype=np.uint8)
        leaves, first_row = self.leaves, first - self.first_slot
        hashes, amounts, slot_rows = leaves.hashes, leaves.amounts, leaves.slot_rows
        if isinstance(amounts, SparseAmounts):  # this chunk's rows, dense
            rows = slot_rows[first_row : first_row + count]
            hashes, amounts, slot_rows, first_row = hashes[rows], amounts.rows(rows), np.arange(count), 0
        hot_loops().leaf_records(
            self.leaf_prefix, hashes, amounts, slot_rows, first, scratch[:count], self.size - 32, first_row
        )
        try:
            *pieces, (_, top) = self.climb(scratch, count, 0, self.chunk_levels, first)
        except SumOverflowError as overflow:
            return Chunk([], overflow, scratch)
        return Chunk(pieces, top[0], scratch)

    def tops(self, chunks: int, height: int) -> Records:
        """Room for the chunk tops and every level above them: at most half as many nodes as
        the level below, rounded up, plus a padding node (a tree taller than it needs to be
        has a real node and its padding sibling on each level above its accounts)."""
        return np.zeros((2 * chunks + 2 * height + 2, self.size), dtype=np.uint8)

    def root(self, tops: Records, chunks: int, height: int, emit: LevelSink) -> Node:
        """The chunk tops (the first ``chunks`` records of ``tops``) climbed to the root,
        every level above the chunks handed to ``emit``."""
        records = tops[:0]
        for level, records in self.climb(tops, chunks, self.chunk_levels, height, 0):
            emit(level, records)
        return record_to_node(records[0], self.leaves.asset_count)

    def release(self, scratch: Records) -> None:
        """A chunk's scratch array, free again once its pieces are written."""
        self._scratch.put(scratch)

    def climb(self, space: Records, real: int, start: int, stop: int, first: int) -> Iterator[tuple[int, Records]]:
        """From the ``real`` records at the top of ``space`` at level ``start`` (indexes
        from ``first``) up to level ``stop``: yields every level's records, ``start`` with
        its padding and ``stop`` (the top) last. Each level is built in ``space`` right
        after the one below, with a spare row for its padding node."""
        records = space[: real + 1]
        for level in range(start, stop):
            if real % 2:
                # The last real node has no sibling: the padding node takes its place.
                records[real, :32] = np.frombuffer(hashing.PAD.hash(self.ctx, u8(level), u64(first + real)), np.uint8)
                records[real, 32:] = 0
            below = records[: real + real % 2]
            yield level, below
            pairs = len(below) // 2
            space = space[len(below) :]
            parents = space[: pairs + 1]
            overflow = hot_loops().parent_records(
                self.node_prefix, level + 1, first // 2, below, parents[:pairs], self.size
            )
            if overflow >= 0:
                self._overflow(level + 1, first // 2, below, overflow)
            records, real, first = parents, pairs, first // 2
        yield stop, records[:real]

    def _overflow(self, level: int, first: int, children: Records, position: int) -> None:
        assets = self.leaves.asset_count
        pair, asset = divmod(position, assets)
        left, right = (record_to_node(children[2 * pair + side], assets) for side in (0, 1))
        raise SumOverflowError(level, first + pair, asset, left.sums[asset] + right.sums[asset])


def _in_order(work: Callable[[int], Chunk], count: int) -> Iterator[Chunk]:
    """``work(0) … work(count - 1)`` on ``WORKERS`` threads, results in order, at most a
    few in flight (so memory stays a few chunks whatever ``count`` is)."""
    if WORKERS < 2 or count < 2:
        for number in range(count):
            yield work(number)
        return
    with ThreadPoolExecutor(WORKERS) as pool:
        pending: deque[Future[Chunk]] = deque()
        try:
            for number in range(count):
                pending.append(pool.submit(work, number))
                if len(pending) > 2 * WORKERS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def in_ranges(work: Callable[[int, int], None], count: int, step: int = 1 << 16) -> None:
    """``work(start, stop)`` over ``range(count)`` in ranges of ``step``, on every core."""
    bounds = [(start, min(start + step, count)) for start in range(0, count, step)]
    if WORKERS < 2 or len(bounds) < 2:
        for start, stop in bounds:
            work(start, stop)
        return
    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(work, start, stop) for start, stop in bounds]:
            future.result()


def record_to_node(record: Records | bytes, asset_count: int) -> Node:
    raw = bytes(record)
    return Node(raw[:32], tuple(int.from_bytes(raw[32 + 16 * a : 48 + 16 * a], "big") for a in range(asset_count)))
