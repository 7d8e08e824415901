"""From a liabilities file and a secret to the whole tree (FORMAT §4, §5).

The exchange's publish and the auditor's rebuild run this same code, so an auditor who
gets the same root has recomputed every salt, slot and node the exchange committed to.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserves import hashing, levels
from reserves.context import SnapshotContext
from reserves.encoding import lp
from reserves.errors import InputError
from reserves.liabilities import LiabilitiesFile
from reserves.secret import SnapshotSecret
from reserves.tree import Node, SumOverflowError

ProgressCallback = Callable[[str, int, int], None]
"""``(task, completed, total)``: how far a long step has come."""


@dataclass(frozen=True)
class LiabilityTree:
    """The built tree's root and the placement of accounts in slots."""

    root: Node
    slot_rows: npt.NDArray[np.int64]
    """``slot_rows[slot]`` is the row (in the liabilities file) of the account in ``slot``."""
    order_keys: bytes
    """``order_key`` of each slot's account, ascending: ``32 * N`` bytes."""
    duplicate_accounts: int
    """Slots whose account commitment equals an earlier slot's (always 0 for a sound build)."""


def build_liability_tree(
    context: SnapshotContext,
    liabilities: LiabilitiesFile,
    secret: SnapshotSecret,
    *,
    sink: levels.LevelSink | None = None,
    progress: ProgressCallback | None = None,
) -> LiabilityTree:
    report = progress or (lambda task, done, total: None)
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
    hashed = levels.parallel_map(_account_hashes, (secret, ctx, liabilities.ids), count)
    # Each row: order_key (32 bytes) || account commitment (32 bytes).
    per_row = np.frombuffer(hashed, dtype=np.uint8).reshape(count, 64)
    order_keys = per_row[:, :32]
    report("placing accounts", count, count)
    slot_rows = _ascending(order_keys)
    sorted_keys = order_keys[slot_rows]
    commitments = np.ascontiguousarray(per_row[slot_rows, 32:])
    duplicates = _repeats(commitments)
    accounts = commitments.tobytes()

    def level_done(level: int, records: levels.Records) -> None:
        report("hashing levels", level, context.height)
        if sink is not None:
            sink(level, records)

    try:
        report("hashing leaves", 0, count)
        leaves = levels.leaf_records_from_columns(
            ctx, accounts, liabilities.high[slot_rows], liabilities.low[slot_rows]
        )
        report("hashing leaves", count, count)
        root = levels.build(ctx, context.height, leaves, level_done)
    except SumOverflowError as exc:
        symbol = context.assets[exc.asset].symbol
        raise InputError(
            f"the total of {symbol} over the accounts under node ({exc.level}, {exc.index}) "
            "is not below 2^128 smallest units",
            where=liabilities.source,
        ) from None
    return LiabilityTree(root, slot_rows, sorted_keys.tobytes(), duplicates)


def _account_hashes(shared: tuple[SnapshotSecret, bytes, list[str]], start: int, stop: int) -> bytes:
    """``order_key || account commitment`` of rows ``start … stop-1`` (FORMAT §4, §5), with
    each id encoded once and the HMAC key and tag prefix states set up once."""
    secret, ctx, ids = shared
    order_state = hmac.new(secret.key, b"order", "sha256")
    salt_state = hmac.new(secret.key, b"salt", "sha256")
    account_state = hashing.ACCOUNT.with_prefix(ctx)
    out: list[bytes] = []
    for account_id in ids[start:stop]:
        encoded = lp(account_id)
        order = order_state.copy()
        order.update(encoded)
        salt = salt_state.copy()
        salt.update(encoded)
        commitment = account_state.copy()
        commitment.update(encoded)
        commitment.update(salt.digest())
        out += (order.digest(), commitment.digest())
    return b"".join(out)


def _ascending(keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
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


def _repeats(keys: npt.NDArray[np.uint8]) -> int:
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
