"""Which proof format a document is, and the rules for anchoring it.

The native ``reserves-proof/1`` and each other exchange's format (one module each, listed
in ``FORMATS``) are recognised by their content, or named by the caller. A proof means
something only against a root published apart from it: ``anchor_problem`` says what is
wrong with the anchors a caller gives (as data; the CLI words it with its options).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.errors import InputError
from reserves.formats import (
    FormatVerification,
    ProofFormat,
    bitget,
    bybit,
    coinex,
    mexc,
    okx_v1,
    okx_v2,
    swissborg,
    zkmerkle,
)

NATIVE = "native"
FORMATS: dict[str, ProofFormat] = {
    f.name: f
    for f in (
        okx_v1.FORMAT,
        okx_v2.FORMAT,
        bybit.FORMAT,
        mexc.FORMAT,
        swissborg.FORMAT,
        coinex.FORMAT,
        bitget.BITGET,
        bitget.BITUNIX,
        zkmerkle.HTX,
        zkmerkle.GATE,
        zkmerkle.BINANCE,
    )
}
"""Other exchanges' formats by name; a new exchange's format is one more entry."""
FORMAT_NAMES = (NATIVE, *FORMATS)
TREE_ANCHORED = frozenset({okx_v2.FORMAT.name})
"""Formats whose published tree file is itself an anchor."""
SNAPSHOT_ANCHORED = frozenset({NATIVE, swissborg.FORMAT.name})
"""Formats anchored to a published file of the exchange's (snapshot.json; SwissBorg's audit roots)."""
NEEDS_CREDENTIAL = frozenset({swissborg.FORMAT.name})
"""Formats whose leaves only the user's own credential makes."""
ASSET_LIST_FILES = zkmerkle.ASSET_LIST_FILES
"""Formats checked with the asset list the exchange publishes (given as the snapshot; not an anchor)."""
SIGNED_NUMBERS = frozenset({zkmerkle.HTX.name, zkmerkle.BINANCE.name, bitget.BITGET.name})
"""Formats whose files hold negative JSON numbers (HTX's int64 balances, Bitget 2022's amounts)."""
FRACTIONAL_NUMBERS = frozenset({bitget.BITGET.name})
"""Formats whose files hold amounts as JSON numbers with fractions (Bitget 2022), read as exact text."""
ROOT_HEX_DIGITS = {mexc.FORMAT.name: mexc.HASH_HEX, bitget.BITGET.name: bitget.BITGET_LAYOUT.hex_digits}
"""Formats whose root hash is not 64 hex digits (a truncated SHA-256)."""


class AnchorProblem(enum.Enum):
    MISSING = "no anchor was given"
    NOT_ALONE = "checking the file alone excludes every anchor"
    TWO_ANCHORS = "a snapshot and a root hash were both given"
    SNAPSHOT_FOR_OTHER_FORMAT = "a snapshot.json anchors only reserves-proof/1 files"
    TREE_FOR_OTHER_FORMAT = "a tree file goes only with a format that publishes one"
    TREE_MISSING = "the format is checked against its published tree, which was not given"
    AUDIT_ROOTS_MISSING = "the format is checked against the audit roots the exchange publishes, not given"
    ASSET_LIST_MISSING = "the format is checked with the asset list the exchange publishes, not given"


@dataclass(frozen=True)
class Recognised:
    name: str
    """``native`` or a key of ``FORMATS``."""
    forced: bool
    """Named by the caller rather than recognised by content."""


class UnknownFormat(InputError):
    """A format name that is not in the registry, or a document of no known format."""


def recognise(document: Any, source: str, forced: str | None = None) -> Recognised:
    """The format of a parsed JSON document (or the one named by ``forced``)."""
    if forced is not None:
        if forced not in FORMAT_NAMES:
            raise UnknownFormat(f"unknown format {forced!r}: the formats are {', '.join(FORMAT_NAMES)}")
        return Recognised(forced, forced=True)
    if isinstance(document, dict) and "format" in document:
        return Recognised(NATIVE, forced=False)  # the parser names a wrong version precisely
    matches = [f for f in FORMATS.values() if f.recognises(document)]
    if len(matches) != 1:
        raise UnknownFormat(
            "cannot tell its format: expected reserves-proof/1, an OKX v1 proof (self, path), an OKX v2 "
            "user file (hash, nodes, nonce, totalBalances), a Bybit proof (self with userHash, path), a "
            "MEXC proof (self, pathList), a Bitget or Bitunix proof (self with merkelLeaf or merkleLeaf), a "
            "SwissBorg user file, a CoinEx proof (root, self, path) or a zk-Merkle "
            "user_config.json (HTX, Gate, Binance)",
            where=source,
        )
    return Recognised(matches[0].name, forced=False)


def anchor_problem(name: str, *, snapshot: bool, root: bool, tree: bool, alone: bool) -> AnchorProblem | None:
    """What is wrong with the anchors given for a proof of format ``name``; ``None`` if nothing."""
    if name == zkmerkle.BINANCE.name:
        return None  # recognised, never checked: whatever the anchors, the outcome is "cannot check"
    if name in ASSET_LIST_FILES:
        if not snapshot:
            return AnchorProblem.ASSET_LIST_MISSING
        snapshot = False  # the asset list, not an anchor: the root is
    if snapshot and root:
        return AnchorProblem.TWO_ANCHORS
    if snapshot and name not in SNAPSHOT_ANCHORED:
        return AnchorProblem.SNAPSHOT_FOR_OTHER_FORMAT
    if name in SNAPSHOT_ANCHORED and name != NATIVE and not snapshot and not alone:
        return AnchorProblem.AUDIT_ROOTS_MISSING
    if tree and name not in TREE_ANCHORED:
        return AnchorProblem.TREE_FOR_OTHER_FORMAT
    if root and not tree and name in TREE_ANCHORED:
        return AnchorProblem.TREE_MISSING
    anchored = snapshot or root or (tree and name in TREE_ANCHORED)
    if anchored and alone:
        return AnchorProblem.NOT_ALONE
    if not anchored and not alone:
        return AnchorProblem.MISSING
    return None


def verify_other(
    name: str,
    document: Any,
    source: str,
    *,
    root: str | None,
    tree: Path | None = None,
    published: Path | None = None,
    credential: str | None = None,
) -> FormatVerification:
    """Verify a document of another exchange's format ``name`` against ``root`` (hex), its
    tree, the exchange's ``published`` audit file and the user's ``credential``."""
    if name == swissborg.FORMAT.name:
        if published is None or credential is None:
            raise InputError("a SwissBorg user file is checked with the audit roots and the user's credential")
        return swissborg.verify(document, source, published, credential, root=root)
    if name == okx_v1.FORMAT.name:
        return okx_v1.verify(document, source, root=root)
    if name == mexc.FORMAT.name:
        return mexc.verify(document, source, root=root)
    if name == bybit.FORMAT.name:
        return bybit.verify(document, source, root=root)
    if name in (bitget.BITGET.name, bitget.BITUNIX.name):
        layout = bitget.BITGET_LAYOUT if name == bitget.BITGET.name else bitget.BITUNIX_LAYOUT
        return bitget.verify(document, source, layout, root=root)
    if name == coinex.FORMAT.name:
        return coinex.verify(document, source, root=root)
    if name in (zkmerkle.HTX.name, zkmerkle.GATE.name, zkmerkle.BINANCE.name):
        return zkmerkle.verify(document, source, published, name=name, root=root)
    return okx_v2.verify(document, source, tree, root=root)
