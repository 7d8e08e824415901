"""From a liabilities file and a secret to the whole tree (FORMAT §4, §5).

The exchange's publish and the auditor's rebuild run this same code, so an auditor who
gets the same root has recomputed every salt, slot and node the exchange committed to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserves import hashing
from reserves.context import SnapshotContext
from reserves.errors import InputError
from reserves.liabilities import bulk_tree
from reserves.liabilities.csv_file import LiabilitiesFile
from reserves.liabilities.loops import hot_loops, notice_if_slow
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.tree import Node, SumOverflowError
from reserves.progress import ProgressCallback, silent


@dataclass(frozen=True)
class LiabilityTree:
    """The built tree's root and the placement of accounts in slots."""

    root: Node
    slot_rows: npt.NDArray[np.int64]
    """``slot_rows[slot]`` is the row (in the liabilities file) of the account in ``slot``."""
    account_hashes: npt.NDArray[np.uint8]
    """Shape ``(N, 64)``: ``order_key || account commitment`` of each file row."""
    duplicate_accounts: int
    """Slots whose account commitment equals an earlier slot's (always 0 for a sound build)."""

    def order_keys(self) -> npt.NDArray[np.uint8]:
        """Shape ``(N, 32)``: ``order_key`` of each slot's account, ascending."""
        return self.account_hashes[self.slot_rows, :32]


def build_liability_tree(
    context: SnapshotContext,
    liabilities: LiabilitiesFile,
    secret: SnapshotSecret,
    *,
    sink: bulk_tree.LevelSink | None = None,
    progress: ProgressCallback | None = None,
) -> LiabilityTree:
    report = progress or silent
    count = len(liabilities)
    if count > context.capacity:
        raise InputError(
            f"{count} accounts do not fit a tree of height {context.height} ({context.capacity} slots)",
            where=liabilities.source,
        )
    if liabilities.assets != context.assets:
        raise ValueError("liabilities and context disagree about the assets")

    ctx = context.ctx
    report("placing accounts", 0, count)
    # Each row: order_key (32 bytes) || account commitment (32 bytes), in file order.
    hashes = np.empty((count, 64), dtype=np.uint8)
    account_prefix = hashing.ACCOUNT.prefix + ctx

    notice_if_slow(count)

    def hash_accounts(start: int, stop: int) -> None:
        hot_loops().account_hashes(
            liabilities.id_offsets, liabilities.id_bytes, secret.key, account_prefix, hashes, start, stop
        )

    bulk_tree.in_ranges(hash_accounts, count)
    order_keys = hashes[:, :32]
    slot_rows = ascending(order_keys)
    duplicates = count_repeats(hashes[:, 32:])
    report("placing accounts", count, count)

    placed = 0

    def level_done(level: int, records: bulk_tree.Records) -> None:
        nonlocal placed
        if level == 0:
            placed += len(records)
            report("hashing the tree", min(placed, count), count)
        if sink is not None:
            sink(level, records)

    try:
        report("hashing the tree", 0, count)
        root = bulk_tree.build(
            ctx, context.height, bulk_tree.LeafInput(hashes, liabilities.amounts, slot_rows), level_done
        )
    except SumOverflowError as exc:
        raise total_too_large(context, exc, liabilities.source) from None
    return LiabilityTree(root, slot_rows, hashes, duplicates)


def total_too_large(context: SnapshotContext, overflow: SumOverflowError, source: str) -> InputError:
    """The error for the lowest node whose sum of an asset reaches 2^128."""
    symbol = context.assets[overflow.asset].symbol
    return InputError(
        f"the total of {symbol} over the accounts under node ({overflow.level}, {overflow.index}) "
        "is not below 2^128 smallest units",
        where=source,
    )


def ascending(keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Row order that sorts 32-byte keys by their bytes.

    Keys are HMAC outputs, so their first 8 bytes almost never tie: sort by those as one
    big-endian integer, then order any run of equal prefixes by the whole key (exact, and
    far cheaper than a four-word lexsort)."""
    prefix = np.ascontiguousarray(keys[:, :8]).view(">u8").ravel().astype(np.uint64)
    order = np.argsort(prefix, kind="stable")
    for start, stop in _equal_runs(prefix[order]):
        run = order[start:stop]
        order[start:stop] = sorted(run.tolist(), key=lambda row: keys[row].tobytes())
    return order.astype(np.int64)


def count_repeats(keys: npt.NDArray[np.uint8]) -> int:
    """How many 32-byte keys repeat an earlier one (the same prefix trick, exact)."""
    prefix = np.ascontiguousarray(keys[:, :8]).view(">u8").ravel().astype(np.uint64)
    order = np.argsort(prefix)
    repeats = 0
    for start, stop in _equal_runs(prefix[order]):
        repeats += (stop - start) - len({keys[row].tobytes() for row in order[start:stop].tolist()})
    return repeats


def _equal_runs(sorted_values: npt.NDArray[np.uint64]) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of two or more equal values in a sorted array."""
    equal = np.flatnonzero(sorted_values[1:] == sorted_values[:-1])
    runs: list[tuple[int, int]] = []
    for position in equal.tolist():
        if runs and runs[-1][1] == position + 1:
            runs[-1] = (runs[-1][0], position + 2)
        else:
            runs.append((position, position + 2))
    return runs
