"""How the proof store lays out a level's nodes: whole records, or only their nonzero sums.

A node's record is ``hash || u128(sum_1) || … || u128(sum_A)``, the bytes its parent hashes.
With a few assets the store keeps records whole (``reserves-proof-store/1``). With many
(``sparse.SPARSE_FROM_ASSETS`` or more) nearly every sum of a low node is zero, so the store
keeps (``reserves-sparse-store/1``), per level:

    level-NN.bin   an entry per node: hash (32) ‖ u64 first pair ‖ u64 end pair
    sums-NN.bin    the nonzero sums of every node in turn: u16 asset ‖ u128 sum (18 bytes each)

and rebuilds whole records, zeros included, when a proof reads them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reserves.liabilities.sparse import SPARSE_FROM_ASSETS, SparseAmounts, pair_positions

DENSE_FORMAT = "reserves-proof-store/1"
SPARSE_FORMAT = "reserves-sparse-store/1"
ENTRY = 48
"""Bytes of a node's entry in a sparse level file."""
PAIR = 18
"""Bytes of one nonzero sum: u16 asset, u128 value."""


def store_format(asset_count: int) -> str:
    return SPARSE_FORMAT if asset_count >= SPARSE_FROM_ASSETS else DENSE_FORMAT


def sums_file(level: int) -> str:
    return f"sums-{level:02d}.bin"


def sparse_entries(
    records: npt.NDArray[np.uint8], first_pair: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Whole records (``(n, 32 + 16 * assets)``) as their entries and nonzero sums, the
    first sum numbered ``first_pair`` in its level."""
    count = len(records)
    sums = SparseAmounts.from_dense(records[:, 32:], (records.shape[1] - 32) // 16)
    entries = np.empty((count, ENTRY), dtype=np.uint8)
    entries[:, :32] = records[:, :32]
    entries[:, 32:40] = (first_pair + sums.starts[:-1]).astype(">u8").view(np.uint8).reshape(count, 8)
    entries[:, 40:48] = (first_pair + sums.starts[1:]).astype(">u8").view(np.uint8).reshape(count, 8)
    pairs = np.empty((len(sums.assets), PAIR), dtype=np.uint8)
    pairs[:, :2] = sums.assets.astype(">u2").view(np.uint8).reshape(-1, 2)
    pairs[:, 2:] = sums.values
    return entries, pairs


def whole_records(
    entries: npt.NDArray[np.uint8], sums: npt.NDArray[np.uint8], asset_count: int
) -> npt.NDArray[np.uint8]:
    """The whole records of ``entries`` (``(n, ENTRY)``, any nodes of one level), their
    sums read from that level's ``sums`` (``(pairs, PAIR)``)."""
    count = len(entries)
    starts = np.ascontiguousarray(entries[:, 32:40]).view(">u8").ravel().astype(np.int64)
    ends = np.ascontiguousarray(entries[:, 40:48]).view(">u8").ravel().astype(np.int64)
    if (ends < starts).any() or int(ends.max(initial=0)) > len(sums):
        raise ValueError("a node's sums lie outside its level's sums file")
    records = np.zeros((count, asset_count, 16), dtype=np.uint8)
    owner, pair = pair_positions(starts, ends)
    assets = np.ascontiguousarray(sums[pair, :2]).view(">u2").ravel().astype(np.int64)
    if (assets >= asset_count).any():
        raise ValueError("a node's sum names an asset the snapshot does not have")
    records[owner, assets] = sums[pair, 2:]
    whole = np.empty((count, 32 + 16 * asset_count), dtype=np.uint8)
    whole[:, :32] = entries[:, :32]
    whole[:, 32:] = records.reshape(count, 16 * asset_count)
    return whole
