"""The Merkle sum tree of FORMAT §4, one node at a time.

This is the reference: plain Python integers, one function per kind of node, written to
read like the spec. The user's verifier climbs a path with it, and the bulk builder in
``reserves.liabilities.bulk_tree`` is tested against it. It must never accept a sum of 2^128 or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reserves import hashing
from reserves.encoding import U128_LIMIT, lp, u8, u64, u128
from reserves.errors import VerificationError


@dataclass(frozen=True)
class Node:
    """A tree node: its hash and its vector of per-asset sums (smallest units)."""

    hash: bytes
    sums: tuple[int, ...]


class SumOverflowError(VerificationError):
    """A parent's sum for some asset reached 2^128."""

    def __init__(self, level: int, index: int, asset: int, value: int) -> None:
        self.level, self.index, self.asset, self.value = level, index, asset, value
        super().__init__(f"the sum of asset #{asset} at node ({level}, {index}) is {value}, not below 2^128")

    @property
    def position(self) -> tuple[int, int]:
        """``(level, index)``: built level by level, the lowest position overflows first."""
        return self.level, self.index


def account_commitment(ctx: bytes, account_id: str, salt: bytes) -> bytes:
    """``TH("reserves/v1/account", ctx || lp(id) || salt)``."""
    return hashing.ACCOUNT.hash(ctx, lp(account_id), salt)


def leaf(ctx: bytes, index: int, account: bytes, balances: Sequence[int]) -> Node:
    """The leaf at ``(0, index)`` holding ``balances``."""
    encoded = b"".join(u128(b) for b in balances)
    return Node(hashing.LEAF.hash(ctx, u64(index), account, encoded), tuple(balances))


def padding(ctx: bytes, level: int, index: int, asset_count: int) -> Node:
    """The padding node at the top of an empty subtree at ``(level, index)``."""
    return Node(hashing.PAD.hash(ctx, u8(level), u64(index)), (0,) * asset_count)


def parent(ctx: bytes, level: int, index: int, left: Node, right: Node) -> Node:
    """The internal node at ``(level, index)`` over its two children."""
    sums = tuple(a + b for a, b in zip(left.sums, right.sums, strict=True))
    for asset, value in enumerate(sums):
        if value >= U128_LIMIT:
            raise SumOverflowError(level, index, asset, value)
    hash_ = hashing.NODE.hash(
        ctx,
        u8(level),
        u64(index),
        left.hash,
        b"".join(u128(s) for s in left.sums),
        right.hash,
        b"".join(u128(s) for s in right.sums),
    )
    return Node(hash_, sums)


def build_levels(ctx: bytes, height: int, leaves: Sequence[Node]) -> list[list[Node]]:
    """Every materialised node, level by level: the real nodes and one padding node per
    level where the last real node has no sibling. ``levels[height]`` is ``[root]``."""
    if not 1 <= len(leaves) <= 1 << height:
        raise ValueError(f"{len(leaves)} leaves do not fit a tree of height {height}")
    asset_count = len(leaves[0].sums)
    levels: list[list[Node]] = []
    current = list(leaves)
    for level in range(height):
        if len(current) % 2:
            current.append(padding(ctx, level, len(current), asset_count))
        levels.append(current)
        current = [parent(ctx, level + 1, i, current[2 * i], current[2 * i + 1]) for i in range(len(current) // 2)]
    levels.append(current)
    return levels
