"""The v2 context, node hashes and per-asset trees (FORMAT-2 §3-5).

One tree per asset over the accounts that hold it (a non-zero balance), in the order of
their per-asset order keys. Every node carries a tagged hash and a Pedersen commitment
``C = r·G + v·H_a`` to its sum ``v``; a parent commits to the sum of its children's
commitments; an empty subtree is one padding node, a commitment to 0 whose blinding
anyone can derive.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from reserves.context import Asset, AssetList, check_identity
from reserves.encoding import lp, u8, u16, u64
from reserves.errors import InputError
from reserves.hashing import Tag
from reserves.liabilities.private_sums import curve

CONTEXT = Tag("reserves/v2/context")
ACCOUNT = Tag("reserves/v2/account")
LEAF = Tag("reserves/v2/leaf")
NODE = Tag("reserves/v2/node")
PAD = Tag("reserves/v2/pad")
PAD_BLIND = Tag("reserves/v2/pad-blind")
GENERATOR = Tag("reserves/v2/generator")
RANGE = Tag("reserves/v2/range")
ROOT = Tag("reserves/v2/root")

MAX_TOTAL = 1 << curve.MAX_RANGE_BITS
"""Every v2 amount and total is below ``2^64`` smallest units."""


def tree_height(holders: int) -> int:
    """``H_a``: the smallest height whose ``2^H`` slots hold every holder (0 for one)."""
    return (holders - 1).bit_length() if holders > 1 else 0


@dataclass(frozen=True)
class AssetShape:
    """What the public knows of one asset's tree before its root: holders and range bits."""

    holders: int
    """``N_a``: accounts with a non-zero balance of the asset, and its dummy holders if any."""
    range_bits: int
    """``b_a = bitlen(T_a)``: every sibling's range proof shows a value below ``2^b_a``."""

    @property
    def height(self) -> int:
        return tree_height(self.holders)


@dataclass(frozen=True)
class PrivateContext(AssetList):
    """``ctx2`` (FORMAT-2 §3): v1's identity fields and every asset tree's shape."""

    exchange: str
    snapshot_id: str
    cutoff: int
    assets: tuple[Asset, ...]
    shapes: tuple[AssetShape, ...]
    ctx: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_identity(self.exchange, self.snapshot_id, self.cutoff, self.assets)
        if len(self.shapes) != len(self.assets):
            raise ValueError("one shape per asset")
        preimage = [lp(self.exchange), lp(self.snapshot_id), u64(self.cutoff), u16(len(self.assets))]
        for asset, shape in zip(self.assets, self.shapes, strict=True):
            if not 0 <= shape.holders < 1 << 64 or not 0 <= shape.range_bits <= curve.MAX_RANGE_BITS:
                raise InputError(f"{asset.symbol}: holders or range bits out of range")
            if (shape.holders == 0) != (shape.range_bits == 0):
                raise InputError(f"{asset.symbol}: range bits are 0 exactly when no account holds the asset")
            preimage += [lp(asset.symbol), u8(asset.decimals)]
            preimage += [u64(shape.holders), u8(shape.height), u8(shape.range_bits)]
        object.__setattr__(self, "ctx", CONTEXT.hash(b"".join(preimage)))

    def generator(self, asset: int) -> curve.Generator:
        """``H_a = generator_generate(TH("reserves/v2/generator", ctx2 || u16(a)))``."""
        return curve.generator(GENERATOR.hash(self.ctx, u16(asset)))

    def range_extra(self, asset: int, level: int, index: int) -> bytes:
        """What binds a range proof to its node: ``TH("reserves/v2/range", ctx2 || u16(a) || u8(l) || u64(i))``."""
        return RANGE.hash(self.ctx, u16(asset), u8(level), u64(index))


@dataclass(frozen=True)
class Node:
    """A node's public half: its hash and its commitment (33 bytes, SEC1)."""

    hash: bytes
    commitment: bytes


@dataclass(frozen=True)
class OpenNode:
    """A node with what only the publisher knows: its sum and its blinding."""

    hash: bytes
    commitment: bytes
    value: int
    blinding: int

    @property
    def public(self) -> Node:
        return Node(self.hash, self.commitment)


AccountId = str | bytes
"""An account's id, or a dummy holder's (``dummy_id``), which is bytes that are not UTF-8."""


DUMMY_ID_BYTES = 11
"""A dummy holder's id: ``0xff``, the asset (2 bytes), its number (8 bytes)."""


def dummy_id(asset: int, index: int) -> bytes:
    """Dummy holder ``index`` of ``asset`` (FORMAT-2 §5.5): ``0xff || u16(a) || u64(j)``, never
    a real account's id (no UTF-8 text has the byte ``0xff``)."""
    return b"\xff" + u16(asset) + u64(index)


def account_commitment(ctx: bytes, account_id: AccountId, salt: bytes) -> bytes:
    """``TH("reserves/v2/account", ctx2 || lp(id) || salt)``."""
    return ACCOUNT.hash(ctx, lp(account_id), salt)


def leaf(
    context: PrivateContext,
    asset: int,
    index: int,
    account: bytes,
    value: int,
    blinding: int,
    value_generator: curve.Generator,
) -> OpenNode:
    """The leaf ``(0, index)``: ``C = r·G + v·H_a``; the hash commits to C, not to v."""
    commitment = curve.commit(blinding, value, value_generator)
    digest = LEAF.hash(context.ctx, u16(asset), u64(index), account, commitment)
    return OpenNode(digest, commitment, value, blinding)


def padding_blinding(ctx: bytes, asset: int, level: int, index: int) -> int:
    """A padding node's public blinding, never 0."""
    seed = int.from_bytes(PAD_BLIND.hash(ctx, u16(asset), u8(level), u64(index)), "big")
    return 1 + seed % (curve.ORDER - 1)


def padding(ctx: bytes, asset: int, level: int, index: int) -> OpenNode:
    """The padding node at ``(level, index)``: a commitment to 0 anyone can derive."""
    blinding = padding_blinding(ctx, asset, level, index)
    commitment = curve.blinding_point(blinding)
    return OpenNode(PAD.hash(ctx, u16(asset), u8(level), u64(index), commitment), commitment, 0, blinding)


def node_hash(ctx: bytes, asset: int, level: int, index: int, left: Node, right: Node) -> bytes:
    return NODE.hash(ctx, u16(asset), u8(level), u64(index), left.hash, left.commitment, right.hash, right.commitment)


def parent(ctx: bytes, asset: int, level: int, index: int, left: OpenNode, right: OpenNode) -> OpenNode:
    """The node ``(level, index)`` over its two children: ``C = C_L + C_R``."""
    return OpenNode(
        node_hash(ctx, asset, level, index, left.public, right.public),
        curve.add(left.commitment, right.commitment),
        left.value + right.value,
        (left.blinding + right.blinding) % curve.ORDER,
    )


def build_levels(context: PrivateContext, asset: int, leaves: Sequence[OpenNode]) -> list[list[OpenNode]]:
    """Every level of one asset's tree, leaves first, the root alone last; a level of odd
    length meets the padding node beside its last node."""
    levels = [list(leaves)]
    for level in range(1, context.shapes[asset].height + 1):
        below = levels[-1]
        if len(below) % 2:
            below = [*below, padding(context.ctx, asset, level - 1, len(below))]
        levels.append(
            [parent(context.ctx, asset, level, i // 2, below[i], below[i + 1]) for i in range(0, len(below), 2)]
        )
    return levels


@dataclass(frozen=True)
class AssetRoot:
    """What ``snapshot.json`` publishes of one asset's tree."""

    total: int
    """``T_a`` in smallest units."""
    node: Node | None
    """The root's hash and commitment; ``None`` when no account holds the asset."""
    blinding: int
    """``R_a``: anyone checks ``R_a·G + T_a·H_a`` is the root's commitment."""


def snapshot_root(context: PrivateContext, roots: Sequence[AssetRoot]) -> bytes:
    """The one hash that anchors a v2 snapshot (FORMAT-2 §5.3): ``TH("reserves/v2/root",
    ctx2 || for each asset: u64(T_a) || [hash || C || u256(R_a) when it has holders])``."""
    parts = [context.ctx]
    for root in roots:
        parts.append(u64(root.total))
        if root.node is not None:
            parts += [root.node.hash, root.node.commitment, root.blinding.to_bytes(32, "big")]
    return ROOT.hash(*parts)


@dataclass(frozen=True)
class PrivateSecrets:
    """What the snapshot secret derives in v2 (FORMAT-2 §4), apart from v1's uses."""

    key: bytes

    def _mac(self, label: bytes, *parts: bytes) -> bytes:
        return hmac.digest(self.key, label + b"".join(parts), "sha256")

    def salt(self, account_id: AccountId) -> bytes:
        return self._mac(b"salt/2", lp(account_id))

    def account_key(self, account_id: AccountId) -> bytes:
        """Names an account in the store without its id."""
        return self._mac(b"account/2", lp(account_id))

    def order_key(self, asset: int, account_id: AccountId) -> bytes:
        return self._mac(b"order/2", u16(asset), lp(account_id))

    def blinding(self, asset: int, account_id: AccountId) -> int:
        return 1 + int.from_bytes(self._mac(b"blind/2", u16(asset), lp(account_id)), "big") % (curve.ORDER - 1)

    def range_nonce(self, asset: int, level: int, index: int) -> bytes:
        """Whoever holds it can rewind the range proof and read the value: it never leaves the store."""
        return self._mac(b"range/2", u16(asset), u8(level), u64(index))
