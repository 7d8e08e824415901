"""From the liabilities to the v2 trees (FORMAT-2 §5): the publisher's and the auditor's build.

(1) per asset, the holders (non-zero balances) and the total, which must be below 2^64
(2) ``ctx2`` from the identity and every tree's shape
(3) per asset, holders in order-key order, their leaves and every level above them
(4) the published roots: hash, commitment, total and blinding of each tree
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reserves.errors import InputError
from reserves.liabilities.csv_file import LiabilitiesFile
from reserves.liabilities.private_sums import curve
from reserves.liabilities.private_sums.files import PrivateCommitment
from reserves.liabilities.private_sums.tree import (
    MAX_TOTAL,
    AssetRoot,
    AssetShape,
    OpenNode,
    PrivateContext,
    PrivateSecrets,
    account_commitment,
    build_levels,
    leaf,
)
from reserves.progress import ProgressCallback, silent


@dataclass(frozen=True)
class Identity:
    """Who publishes which snapshot, as of when."""

    exchange: str
    snapshot_id: str
    cutoff: int


@dataclass(frozen=True)
class AssetTree:
    """One asset's tree: its holders' order keys (slot order) and every level."""

    order_keys: list[bytes]
    levels: list[list[OpenNode]]


@dataclass(frozen=True)
class PrivateBuild:
    """Everything ``publish`` writes and ``audit`` compares."""

    commitment: PrivateCommitment
    trees: list[AssetTree]
    account_keys: list[bytes]
    """Every account's store key (``account/2``), sorted: which ids are accounts at all."""


def build_private_trees(
    liabilities: LiabilitiesFile, identity: Identity, key: bytes, *, progress: ProgressCallback = silent
) -> PrivateBuild:
    """Steps (1) to (4) of the module docstring."""
    ids, rows = liabilities.ids, liabilities.balances
    secrets = PrivateSecrets(key)
    shapes = [_shape(liabilities, rows, asset) for asset in range(len(liabilities.assets))]  # (1)
    context = PrivateContext(
        identity.exchange, identity.snapshot_id, identity.cutoff, liabilities.assets, tuple(shapes)
    )
    progress("building trees", 0, len(shapes))
    trees, roots = [], []
    for asset in range(len(shapes)):  # (3)
        tree = _asset_tree(context, secrets, asset, ids, [row[asset] for row in rows])
        top = tree.levels[-1][0] if tree.levels else None
        roots.append(
            AssetRoot(sum(row[asset] for row in rows), top.public if top else None, top.blinding if top else 0)
        )
        trees.append(tree)
        progress("building trees", asset + 1, len(shapes))
    account_keys = sorted(secrets.account_key(account_id) for account_id in ids)
    return PrivateBuild(PrivateCommitment(context, tuple(roots)), trees, account_keys)  # (4)


def _shape(liabilities: LiabilitiesFile, rows: Sequence[tuple[int, ...]], asset: int) -> AssetShape:
    """(1) Holders and range bits, refusing a total that a 64-bit range proof cannot cover."""
    values = [row[asset] for row in rows if row[asset]]
    total = sum(values)
    if total >= MAX_TOTAL:
        raise InputError(too_large(liabilities.assets[asset].symbol, liabilities.assets[asset].decimals, values))
    return AssetShape(len(values), total.bit_length())


def too_large(symbol: str, decimals: int, values: Sequence[int]) -> str:
    """Why an asset cannot be published in v2, and the most decimals that would fit."""
    message = f"{symbol}: the total of its balances is not below 2^64 smallest units at {decimals} decimals"
    for fewer in range(1, decimals + 1):
        unit = 10**fewer
        if sum(-(-value // unit) for value in values) < MAX_TOTAL:
            return (
                f"{message}, so format v2's range proofs cannot cover it; at {decimals - fewer} decimals "
                f"(balances rounded up) it fits: declare {symbol} with {decimals - fewer} decimals"
            )
    return f"{message} and does not fit in whole units either: format v2 cannot publish it"


def _asset_tree(
    context: PrivateContext, secrets: PrivateSecrets, asset: int, ids: Sequence[str], values: Sequence[int]
) -> AssetTree:
    """(3) One asset's holders in order-key order, their leaves and every level above."""
    holders = sorted(
        (secrets.order_key(asset, account_id), account_id, value)
        for account_id, value in zip(ids, values, strict=True)
        if value
    )
    if not holders:
        return AssetTree([], [])
    value_generator = context.generator(asset)
    leaves = [
        leaf(
            context,
            asset,
            index,
            account_commitment(context.ctx, account_id, secrets.salt(account_id)),
            value,
            secrets.blinding(asset, account_id),
            value_generator,
        )
        for index, (_, account_id, value) in enumerate(holders)
    ]
    return AssetTree([key for key, _, _ in holders], build_levels(context, asset, leaves))


def sibling_range_proof(
    context: PrivateContext, secrets: PrivateSecrets, asset: int, level: int, index: int, node: OpenNode
) -> bytes:
    """The range proof a path carries for the node ``(level, index)`` (FORMAT-2 §5.4)."""
    return curve.range_proof(
        node.value,
        node.blinding,
        node.commitment,
        context.generator(asset),
        nonce=secrets.range_nonce(asset, level, index),
        extra=context.range_extra(asset, level, index),
        bits=context.shapes[asset].range_bits,
    )
