"""The bulk tree builder: the hot loops of publish and audit.

It computes the same nodes as ``reserves.tree`` (the reference, tested to agree), but a
whole level at a time: a level is one ``numpy`` array of fixed-width *records*, one per
node, each ``hash || u128(sum_1) || … || u128(sum_A)`` — exactly the bytes a parent's
preimage takes from a child. So a parent's preimage is its header followed by its two
children's records, which sit next to each other in the level below; sums are added as
pairs of 64-bit halves with an exact carry and overflow check. Only hashing loops in
Python, and it feeds each node's preimage to SHA-256 in a single call.

Memory is proportional to the accounts: one level and its parents' preimages at a time.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reserves import hashing
from reserves.encoding import u8, u64
from reserves.tree import Node, SumOverflowError

Records = npt.NDArray[np.uint8]
"""A level: shape ``(nodes, 32 + 16 * assets)``, one record per node."""

LevelSink = Callable[[int, Records], None]
"""Receives each level (padding record included) as it is finished, leaves first."""


def record_size(asset_count: int) -> int:
    return 32 + 16 * asset_count


def leaf_records(ctx: bytes, accounts: Sequence[bytes] | bytes, balances: Sequence[bytes] | Records) -> Records:
    """Leaf records for slots ``0 … N-1``.

    ``accounts[i]`` is the account commitment in slot ``i`` and ``balances[i]`` its
    balances already encoded as ``u128(b_1) || … || u128(b_A)`` (bytes, or one row of an
    array of shape ``(N, 16 * A)``).
    """
    joined = accounts if isinstance(accounts, bytes) else b"".join(accounts)
    count = len(joined) // 32
    encoded = (
        balances if isinstance(balances, np.ndarray)
        else np.frombuffer(b"".join(balances), dtype=np.uint8).reshape(count, -1)
    )  # fmt: skip
    work = _leaf_work(joined, encoded.shape[1])
    work[:, 40:] = encoded
    return _hash_leaves(ctx, work)


def leaf_records_from_columns(
    ctx: bytes, accounts: bytes, high: npt.NDArray[np.uint64], low: npt.NDArray[np.uint64]
) -> Records:
    """The same, with balances given as the high and low 64-bit halves, shape ``(N, A)``,
    already in slot order: they are written straight into place, big-endian."""
    count, asset_count = high.shape
    work = _leaf_work(accounts, 16 * asset_count)
    sums = work[:, 40:].view(">u8").reshape(count, asset_count, 2)
    sums[:, :, 0] = high
    sums[:, :, 1] = low
    return _hash_leaves(ctx, work)


def _leaf_work(accounts: bytes, width: int) -> Records:
    """One array of leaf preimages after ``ctx``: ``u64(index) || account || balances``."""
    count = len(accounts) // 32
    work = np.empty((count, 8 + 32 + width), dtype=np.uint8)
    work[:, :8] = np.arange(count, dtype=">u8").view(np.uint8).reshape(count, 8)
    work[:, 8:40] = np.frombuffer(accounts, dtype=np.uint8).reshape(count, 32)
    return work


def _hash_leaves(ctx: bytes, work: Records) -> Records:
    """Hash each preimage row, then let the leaf hash overwrite the account commitment:
    ``work[:, 8:]`` is then ``hash || balances``, the records, without another array."""
    work[:, 8:40] = _hash_rows(hashing.LEAF.with_prefix(ctx), work)
    return work[:, 8:]


def _hash_rows(state: hashlib._Hash, rows: Records) -> Records:
    """SHA-256 of ``state`` continued with each row: shape ``(rows, 32)``; on every core
    for large inputs (``hash_rows_serial`` is the reference)."""
    blob = parallel_map(_hash_range, (state, rows), len(rows))
    return np.frombuffer(blob, dtype=np.uint8).reshape(len(rows), 32)


def hash_rows_serial(state: hashlib._Hash, rows: Records) -> bytes:
    return _hash_range((state, rows), 0, len(rows))


def _hash_range(shared: tuple[hashlib._Hash, Records], start: int, stop: int) -> bytes:
    state, rows = shared
    size = rows.shape[1]
    flat = memoryview(rows.reshape(-1))  # type: ignore[arg-type]
    digests: list[bytes] = []
    for offset in range(start * size, stop * size, size):
        row_state = state.copy()
        row_state.update(flat[offset : offset + size])
        digests.append(row_state.digest())
    return b"".join(digests)


PARALLEL_MIN_ROWS = 100_000
"""Below this many rows, forking workers costs more than it saves."""
WORKERS = max(1, min(os.cpu_count() or 1, 8))
_shared: tuple[Callable[[Any, int, int], bytes], Any] | None = None


def parallel_map(work: Callable[[Any, int, int], bytes], shared: Any, count: int) -> bytes:
    """``work(shared, start, stop)`` over ``range(count)`` split across the cores, results
    concatenated in order. Workers are forked, so ``shared`` (large arrays, hash states)
    reaches them copy-on-write instead of being pickled; only their results travel back."""
    if count < PARALLEL_MIN_ROWS or WORKERS < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return work(shared, 0, count)
    global _shared  # noqa: PLW0603 - forked workers inherit module state: arrays reach them without pickling
    _shared = (work, shared)
    bounds = [(count * i // WORKERS, count * (i + 1) // WORKERS) for i in range(WORKERS)]
    try:
        with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
            return b"".join(pool.starmap(_run_shared, bounds))
    finally:
        _shared = None


def _run_shared(start: int, stop: int) -> bytes:
    assert _shared is not None
    work, shared = _shared
    return work(shared, start, stop)


def build(ctx: bytes, height: int, leaves: Records, sink: LevelSink | None = None) -> Node:
    """Build every level above ``leaves`` and return the root ``(height, 0)``."""
    count, size = leaves.shape
    if not 1 <= count <= 1 << height:
        raise ValueError(f"{count} leaves do not fit a tree of height {height}")
    asset_count = (size - 32) // 16
    current, real = leaves, count
    for level in range(height):
        if real % 2:
            # The last real node has no sibling: the padding node takes its place, in the
            # spare row ``parents`` left for it (only the leaves may need a copy).
            current = current if len(current) > real else _with_padding(current)
            current[real, :32] = np.frombuffer(hashing.PAD.hash(ctx, u8(level), u64(real)), dtype=np.uint8)
        if sink is not None:
            sink(level, current)
        real = len(current) // 2
        current = parents(ctx, level + 1, current, spare=real % 2 == 1 and level + 1 < height)
    if sink is not None:
        sink(height, current)
    return record_to_node(current[0], asset_count)


def parents(ctx: bytes, level: int, children: Records, *, spare: bool = False) -> Records:
    """The nodes at ``level`` over ``children`` (an even number of records); with
    ``spare``, one more zeroed row at the end for the level's padding node."""
    pairs, size = len(children) // 2, children.shape[1]
    asset_count = (size - 32) // 16
    result = np.empty((pairs + spare, size), dtype=np.uint8)
    if spare:
        result[pairs] = 0
    result[:pairs, 32:] = _add_sums(level, children, asset_count)

    preimage_size = 9 + 2 * size
    preimages = np.empty((pairs, preimage_size), dtype=np.uint8)
    preimages[:, 0] = level
    preimages[:, 1:9] = np.arange(pairs, dtype=">u8").view(np.uint8).reshape(pairs, 8)
    preimages[:, 9 : 9 + size] = children[0::2]  # children may be a view (the leaves are)
    preimages[:, 9 + size :] = children[1::2]
    result[:pairs, :32] = _hash_rows(hashing.NODE.with_prefix(ctx), preimages)
    return result


def _add_sums(level: int, children: Records, asset_count: int) -> Records:
    """Element-wise ``left.sums + right.sums`` as big-endian u128 bytes, exact."""
    pairs = len(children) // 2
    # The children's sums, as (pair, side, asset, high/low) native 64-bit words.
    native = children[:, 32:].view(">u8").reshape(pairs, 2, asset_count, 2).astype(np.uint64)
    left, right = native[:, 0], native[:, 1]
    out = np.empty((pairs, asset_count, 2), dtype=np.uint64)
    np.add(left[..., 1], right[..., 1], out=out[..., 1])
    carry = out[..., 1] < left[..., 1]
    np.add(left[..., 0], right[..., 0], out=out[..., 0])
    overflow = out[..., 0] < left[..., 0]
    out[..., 0] += carry
    overflow |= out[..., 0] < carry  # adding the carry wrapped the high word
    if overflow.any():
        index, asset = (int(v) for v in np.argwhere(overflow)[0])
        value = _u128(left[index, asset, 0], left[index, asset, 1]) + _u128(
            right[index, asset, 0], right[index, asset, 1]
        )
        raise SumOverflowError(level, index, asset, value)
    return out.astype(">u8").reshape(pairs, 2 * asset_count).view(np.uint8)


def _with_padding(records: Records) -> Records:
    """``records`` with one zeroed row more, for a padding node."""
    count, size = records.shape
    padded = np.zeros((count + 1, size), dtype=np.uint8)
    padded[:count] = records
    return padded


def _u128(hi: np.uint64, lo: np.uint64) -> int:
    return (int(hi) << 64) | int(lo)


def record_to_node(record: Records | bytes, asset_count: int) -> Node:
    raw = bytes(record)
    return Node(raw[:32], tuple(int.from_bytes(raw[32 + 16 * a : 48 + 16 * a], "big") for a in range(asset_count)))
