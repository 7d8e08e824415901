"""Balances held sparsely: only the nonzero ones, for files with many assets.

An exchange lists hundreds of assets and a customer holds a few, so a dense row of
``16 * assets`` bytes per account is nearly all zeros (10M accounts x 200 assets: 32 GB).
``SparseAmounts`` keeps, per account, its nonzero balances as ``(asset, u128)`` pairs, and
gives dense rows back for the few accounts a step works on at a time (a chunk of the
tree, a column for format v2). The bytes hashed never change: a dense row is rebuilt
exactly, zeros included, before it is hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SPARSE_FROM_ASSETS = 33
"""Files with at least this many assets hold balances sparsely, and their proof store keeps
only nonzero sums (``reserves-sparse-store/1``)."""


@dataclass(frozen=True)
class SparseAmounts:
    """Rows of ``asset_count`` u128 big-endian balances, only the nonzero ones kept."""

    starts: npt.NDArray[np.int64]
    """Shape ``(rows + 1,)``: row ``r``'s pairs are ``[starts[r], starts[r + 1])``."""
    assets: npt.NDArray[np.uint16]
    """Each pair's asset (its column), ascending within a row."""
    values: npt.NDArray[np.uint8]
    """Shape ``(pairs, 16)``: each pair's balance, u128 big-endian, never zero."""
    asset_count: int

    @property
    def shape(self) -> tuple[int, int]:
        """As the dense array's: ``(rows, 16 * assets)``."""
        return len(self.starts) - 1, 16 * self.asset_count

    def __len__(self) -> int:
        return len(self.starts) - 1

    @classmethod
    def from_dense(cls, dense: npt.NDArray[np.uint8], asset_count: int) -> SparseAmounts:
        """The nonzero balances of dense rows (``(rows, 16 * assets)``)."""
        cells = np.ascontiguousarray(dense).reshape(len(dense), asset_count, 16)
        halves = cells.view(np.uint64).reshape(len(dense), asset_count, 2)
        held = (halves[:, :, 0] | halves[:, :, 1]) != 0
        rows, assets = np.nonzero(held)  # row-major: by row, then by asset
        starts = np.zeros(len(dense) + 1, dtype=np.int64)
        np.cumsum(held.sum(axis=1), out=starts[1:])
        return cls(starts, assets.astype(np.uint16), cells[rows, assets], asset_count)

    @classmethod
    def joined(cls, pieces: Sequence[SparseAmounts], asset_count: int) -> SparseAmounts:
        """Consecutive runs of rows, one after another."""
        if not pieces:
            return cls(np.zeros(1, np.int64), np.empty(0, np.uint16), np.empty((0, 16), np.uint8), asset_count)
        offsets = np.cumsum([0, *(len(p.assets) for p in pieces[:-1])])
        shifted = (p.starts[1:] + offset for p, offset in zip(pieces, offsets, strict=True))
        starts = np.concatenate([pieces[0].starts[:1], *shifted])
        return cls(
            starts.astype(np.int64),
            np.concatenate([p.assets for p in pieces]),
            np.concatenate([p.values for p in pieces]).reshape(-1, 16),
            asset_count,
        )

    def rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """Dense rows ``rows`` (any order, repeats allowed): ``(len(rows), 16 * assets)``."""
        owner, pair = pair_positions(self.starts[rows], self.starts[rows + 1])
        out = np.zeros((len(rows), self.asset_count, 16), dtype=np.uint8)
        out[owner, self.assets[pair]] = self.values[pair]
        return out.reshape(len(rows), 16 * self.asset_count)

    def column(self, asset: int) -> npt.NDArray[np.uint8]:
        """Every row's balance of ``asset``: ``(rows, 16)``."""
        out = np.zeros((len(self), 16), dtype=np.uint8)
        pairs = np.flatnonzero(self.assets == asset)
        out[np.searchsorted(self.starts, pairs, side="right") - 1] = self.values[pairs]
        return out


def pair_positions(
    starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For items owning pairs ``[starts[i], ends[i])``: each of those pairs' owner ``i`` and
    its position, all items' pairs in turn (to scatter sparse pairs into dense rows)."""
    counts = ends - starts
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(starts)), counts)
    return owner, np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)


def dense_rows(amounts: npt.NDArray[np.uint8] | SparseAmounts, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Rows of either form, dense."""
    return amounts.rows(rows) if isinstance(amounts, SparseAmounts) else amounts[rows]
