"""``reserves-snapshot/2`` and ``reserves-proof/2`` (FORMAT-2 §6): parsed strictly into
frozen objects, written in the project's one JSON layout.

Parsing checks the grammar only (types, spellings, lengths, points on the curve); whether
the numbers fit together is the verification's work (``checking``), so a proof an exchange
got wrong reads as a failed check, not as a malformed file.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reserves.context import Asset
from reserves.encoding import (
    check_decimals,
    check_symbol,
    format_amount,
    format_cutoff,
    parse_amount,
    parse_cutoff,
    parse_hex32,
)
from reserves.errors import InputError
from reserves.liabilities.private_sums import PROOF_FORMAT, SNAPSHOT_FORMAT, curve
from reserves.liabilities.private_sums.tree import AssetRoot, AssetShape, Node, PrivateContext, snapshot_root
from reserves.liabilities.proof import check_account_id
from reserves.liabilities.snapshot import dump_json
from reserves.onchain.reserve_sections import ReserveSections, parse_reserve_sections
from reserves.strict_json import MAX_PROOF_BYTES, JsonValue, load_json

_COMMITMENT_KEYS = ("exchange", "snapshot_id", "cutoff", "assets", "trees", "root")
_RESERVE_KEYS = ("chains", "tokens", "wallets", "keyholders")


@dataclass(frozen=True)
class PrivateCommitment:
    """The context, every asset's published root and the snapshot root: what a v2 proof
    embeds and what a user anchors to."""

    context: PrivateContext
    roots: tuple[AssetRoot, ...]
    root: bytes = field(init=False)
    """``TH("reserves/v2/root", …)`` over every asset's root (FORMAT-2 §5.3)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", snapshot_root(self.context, self.roots))

    def to_json(self) -> dict[str, Any]:
        ctx = self.context
        trees = []
        for asset, shape, root in zip(ctx.assets, ctx.shapes, self.roots, strict=True):
            published = None
            if root.node is not None:
                published = {
                    "hash": root.node.hash.hex(),
                    "commitment": root.node.commitment.hex(),
                    "blinding": root.blinding.to_bytes(32, "big").hex(),
                }
            trees.append(
                {
                    "asset": asset.symbol,
                    "holders": shape.holders,
                    "height": shape.height,
                    "range_bits": shape.range_bits,
                    "total": format_amount(root.total, asset.decimals),
                    "root": published,
                }
            )
        return {
            "exchange": ctx.exchange,
            "snapshot_id": ctx.snapshot_id,
            "cutoff": format_cutoff(ctx.cutoff),
            "assets": [{"symbol": a.symbol, "decimals": a.decimals} for a in ctx.assets],
            "trees": trees,
            "root": self.root.hex(),
        }


@dataclass(frozen=True)
class SnapshotRoot:
    hash: bytes


@dataclass(frozen=True)
class PrivateStatement:
    """``snapshot.json`` in format v2: the commitment and the reserve sections."""

    commitment: PrivateCommitment
    reserves: ReserveSections = field(default_factory=ReserveSections)

    @property
    def context(self) -> PrivateContext:
        return self.commitment.context

    def liability_totals(self) -> dict[str, int]:
        """Each asset's published total (its tree's opened root), smallest units."""
        return {a.symbol: r.total for a, r in zip(self.context.assets, self.commitment.roots, strict=True)}

    @property
    def root(self) -> SnapshotRoot:
        """The snapshot root, which wallets' ownership messages name as v1's root hash."""
        return SnapshotRoot(self.commitment.root)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"format": SNAPSHOT_FORMAT}
        document.update(self.commitment.to_json())
        document.update(self.reserves.to_json(self.context.assets))
        return document

    def to_text(self) -> str:
        return dump_json(self.to_json())


@dataclass(frozen=True)
class Sibling:
    """One node of a path as the file gives it; padding siblings carry no range proof."""

    node: Node
    range_proof: bytes | None


@dataclass(frozen=True)
class Holding:
    """One asset the account holds, with its path up that asset's tree."""

    asset: int
    """Position in the snapshot's asset list."""
    index: int
    balance: int
    blinding: int
    path: tuple[Sibling, ...]

    def to_json(self, assets: tuple[Asset, ...]) -> dict[str, Any]:
        path = []
        for sibling in self.path:
            entry = {"hash": sibling.node.hash.hex(), "commitment": sibling.node.commitment.hex()}
            if sibling.range_proof is not None:
                entry["range_proof"] = base64.b64encode(sibling.range_proof).decode("ascii")
            path.append(entry)
        asset = assets[self.asset]
        return {
            "asset": asset.symbol,
            "index": self.index,
            "balance": format_amount(self.balance, asset.decimals),
            "blinding": self.blinding.to_bytes(32, "big").hex(),
            "path": path,
        }


@dataclass(frozen=True)
class PrivateProof:
    """``reserves-proof/2``: one account's holdings, each with its path."""

    snapshot: PrivateCommitment
    account_id: str
    salt: bytes
    holdings: tuple[Holding, ...]

    def to_json(self) -> dict[str, Any]:
        assets = self.snapshot.context.assets
        return {
            "format": PROOF_FORMAT,
            "snapshot": self.snapshot.to_json(),
            "account": {"id": self.account_id, "salt": self.salt.hex()},
            "holdings": [holding.to_json(assets) for holding in self.holdings],
        }

    def to_text(self) -> str:
        return dump_json(self.to_json())


def parse_commitment(value: JsonValue) -> PrivateCommitment:
    """The fields shared by a v2 ``snapshot.json`` and a v2 proof's ``snapshot`` object."""
    assets = []
    for item in value["assets"].items():
        item.object(("symbol", "decimals"))
        symbol = check_symbol(item["symbol"].string(), where=item["symbol"].where)
        assets.append(Asset(symbol, check_decimals(item["decimals"].integer(), where=item["decimals"].where)))
    trees = list(value["trees"].items())
    if len(trees) != len(assets):
        value["trees"].fail(f"expected one tree per asset ({len(assets)}), found {len(trees)}")
    shapes, roots = zip(*(_parse_tree(tree, asset) for tree, asset in zip(trees, assets, strict=True)), strict=True)
    try:
        context = PrivateContext(
            exchange=value["exchange"].string(),
            snapshot_id=value["snapshot_id"].string(),
            cutoff=parse_cutoff(value["cutoff"].string(), where=value["cutoff"].where),
            assets=tuple(assets),
            shapes=tuple(shapes),
        )
    except InputError as exc:
        raise InputError(exc.message, where=f"{value.where}.{exc.where}" if exc.where else value.where) from None
    commitment = PrivateCommitment(context, tuple(roots))
    stated = parse_hex32(value["root"].string(), what="snapshot root", where=value["root"].where)
    if stated != commitment.root:
        value["root"].fail(f"is not the hash of the trees' roots: they give {commitment.root.hex()}")
    return commitment


def _parse_tree(value: JsonValue, asset: Asset) -> tuple[AssetShape, AssetRoot]:
    value.object(("asset", "holders", "height", "range_bits", "total", "root"))
    if value["asset"].string() != asset.symbol:
        value["asset"].fail(f"expected {asset.symbol!r} (the trees follow the asset list)")
    holders = value["holders"].integer()
    shape = AssetShape(holders, value["range_bits"].integer(0, curve.MAX_RANGE_BITS))
    if value["height"].integer(0, 64) != shape.height:
        value["height"].fail(f"{holders} holders make a tree of height {shape.height}")
    total = parse_amount(value["total"].string(), asset.decimals, where=value["total"].where)
    if total.bit_length() != shape.range_bits:
        value["range_bits"].fail(f"must be the bit length of the total, {total.bit_length()}")
    root = value["root"]
    if holders == 0:
        if root.value is not None:
            root.fail("must be null: no account holds the asset")
        return shape, AssetRoot(0, None, 0)
    root.object(("hash", "commitment", "blinding"))
    node = Node(
        parse_hex32(root["hash"].string(), what="hash", where=root["hash"].where), parse_point(root["commitment"])
    )
    blinding = int.from_bytes(parse_hex32(root["blinding"].string(), what="blinding", where=root["blinding"].where))
    if blinding >= curve.ORDER:
        root["blinding"].fail("must be below the group order")
    return shape, AssetRoot(total, node, blinding)


def parse_point(value: JsonValue) -> bytes:
    """A commitment: 66 lowercase hex characters of a SEC1 compressed point on secp256k1."""
    text = value.string()
    if len(text) != 66 or any(c not in "0123456789abcdef" for c in text):
        value.fail("expected a commitment: 66 lowercase hex characters (SEC1 compressed)")
    if not curve.is_point(bytes.fromhex(text)):
        value.fail("is not a point on secp256k1")
    return bytes.fromhex(text)


def parse_statement(document: JsonValue) -> PrivateStatement:
    if isinstance(document.value, dict) and document.value.get("format") != SNAPSHOT_FORMAT:
        document["format"].fail(f"expected {SNAPSHOT_FORMAT!r}, found {document['format'].value!r}")
    document.object(("format", *_COMMITMENT_KEYS, *_RESERVE_KEYS))
    commitment = parse_commitment(document)
    return PrivateStatement(commitment, parse_reserve_sections(document, commitment.context.assets))


def parse_private_proof(document: JsonValue) -> PrivateProof:
    if isinstance(document.value, dict) and document.value.get("format") != PROOF_FORMAT:
        document["format"].fail(f"expected {PROOF_FORMAT!r}, found {document['format'].value!r}")
    document.object(("format", "snapshot", "account", "holdings"))
    snapshot = parse_commitment(document["snapshot"].object(_COMMITMENT_KEYS))
    account = document["account"].object(("id", "salt"))
    account_id = check_account_id(account["id"].string(), where=account["id"].where)
    salt = parse_hex32(account["salt"].string(), what="salt", where=account["salt"].where)
    symbols = [asset.symbol for asset in snapshot.context.assets]
    holdings: list[Holding] = []
    for item in document["holdings"].items():
        holding = _parse_holding(item, snapshot.context.assets, symbols)
        if holdings and holding.asset <= holdings[-1].asset:
            item["asset"].fail("holdings follow the snapshot's asset order, each asset once")
        holdings.append(holding)
    return PrivateProof(snapshot, account_id, salt, tuple(holdings))


def _parse_holding(value: JsonValue, assets: tuple[Asset, ...], symbols: list[str]) -> Holding:
    value.object(("asset", "index", "balance", "blinding", "path"))
    symbol = value["asset"].string()
    if symbol not in symbols:
        value["asset"].fail(f"{symbol!r} is not an asset of the snapshot")
    asset = symbols.index(symbol)
    balance = parse_amount(value["balance"].string(), assets[asset].decimals, where=value["balance"].where)
    if not 0 < balance < 1 << curve.MAX_RANGE_BITS:
        value["balance"].fail("a holding is above 0 and below 2^64 smallest units")
    blinding = int.from_bytes(parse_hex32(value["blinding"].string(), what="blinding", where=value["blinding"].where))
    if not 0 < blinding < curve.ORDER:
        value["blinding"].fail("must be above 0 and below the group order")
    path = tuple(_parse_sibling(entry) for entry in value["path"].items())
    return Holding(asset, value["index"].integer(), balance, blinding, path)


def _parse_sibling(value: JsonValue) -> Sibling:
    value.object(("hash", "commitment"), ("range_proof",))
    node = Node(
        parse_hex32(value["hash"].string(), what="hash", where=value["hash"].where), parse_point(value["commitment"])
    )
    proof = value.get("range_proof")
    return Sibling(node, None if proof is None else parse_base64(proof))


def parse_base64(value: JsonValue) -> bytes:
    """Standard base64 with padding, in its one canonical spelling."""
    text = value.string()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        value.fail("expected standard base64 (A-Z a-z 0-9 + /, padded with =)")
    if base64.b64encode(raw).decode("ascii") != text:
        value.fail("is not in canonical base64 (unused bits must be zero)")
    return raw


def load_private_proof(path: Path) -> PrivateProof:
    """A user's ``reserves-proof/2`` file."""
    return parse_private_proof(load_json(path, max_bytes=MAX_PROOF_BYTES))
