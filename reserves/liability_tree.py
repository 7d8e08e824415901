"""From a liabilities file and a secret to the whole tree (FORMAT §4, §5).

The exchange's publish and the auditor's rebuild run this same code, so an auditor who
gets the same root has recomputed every salt, slot and node the exchange committed to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserves import levels
from reserves.context import SnapshotContext
from reserves.encoding import u128
from reserves.errors import InputError
from reserves.liabilities import LiabilitiesFile
from reserves.secret import SnapshotSecret
from reserves.tree import Node, SumOverflowError, account_commitment

ProgressCallback = Callable[[str, int, int], None]
"""``(task, completed, total)``: how far a long step has come."""

_REPORT_EVERY = 1 << 14


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

    order_keys = np.empty((count, 32), dtype=np.uint8)
    for row, account_id in enumerate(liabilities.ids):
        order_keys[row] = np.frombuffer(secret.order_key(account_id), dtype=np.uint8)
        if row % _REPORT_EVERY == 0:
            report("placing accounts", row, count)
    report("placing accounts", count, count)
    slot_rows = _ascending(order_keys)
    sorted_keys = order_keys[slot_rows]

    ctx = context.ctx
    accounts: list[bytes] = []
    encoded: list[bytes] = []
    for slot, row in enumerate(slot_rows.tolist()):
        account_id = liabilities.ids[row]
        accounts.append(account_commitment(ctx, account_id, secret.salt(account_id)))
        encoded.append(b"".join(u128(b) for b in liabilities.balances[row]))
        if slot % _REPORT_EVERY == 0:
            report("hashing leaves", slot, count)
    report("hashing leaves", count, count)
    duplicates = count - len(set(accounts))

    def level_done(level: int, records: levels.Records) -> None:
        report("hashing levels", level, context.height)
        if sink is not None:
            sink(level, records)

    try:
        root = levels.build(ctx, context.height, levels.leaf_records(ctx, accounts, encoded), level_done)
    except SumOverflowError as exc:
        symbol = context.assets[exc.asset].symbol
        raise InputError(
            f"the total of {symbol} over the accounts under node ({exc.level}, {exc.index}) "
            "is not below 2^128 smallest units",
            where=liabilities.source,
        ) from None
    return LiabilityTree(root, slot_rows, sorted_keys.tobytes(), duplicates)


def _ascending(keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Row order that sorts 32-byte keys by their bytes (big-endian 64-bit words)."""
    words = keys.view(">u8")
    # lexsort sorts by the last key first, so the most significant word goes last.
    return np.lexsort([words[:, w] for w in range(3, -1, -1)]).astype(np.int64)
