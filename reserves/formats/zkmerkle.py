"""The zk-Merkle family's user files (``user_config.json``): Binance's
zkmerkle-proof-of-solvency and its forks at HTX and Gate. A fixed-depth sparse Merkle tree
of Poseidon hashes over BN254 (``reserves.formats.poseidon``):

    HTX    leaf = P(AccountIdHash, TotalEquity, TotalDebt, P(|b_0|, ..., |b_N-1|))
    Gate   leaf = P(UniqueIdentification, TotalAssetEquity, TotalAssetDebt, P(packed))
           packed: e_0, d_0, e_1, d_1, ... taken three at a time as a·2^128 + b·2^64 + c
    node = P(left, right); at level i, bit i of the account index set means "right child"

N is the number of assets the audit hashed. HTX's comes from the asset list it publishes
beside the proof (``config.json``: 168 for its published example, where its code says
174); Gate's is a constant of its code (800, earlier 350), so both are tried, and its
asset list (``cex_config.json``) names the assets. The sums themselves are not in the
tree: the exchange's zk proofs (``proof.csv``) prove them, which this check does not.

    (1) the file and the asset list parse                         -- exit 2 otherwise
    (2) your leaf, climbed through the 28 siblings, gives the file's root
    (3) the root is the published one
    (4) the published totals cover your balances
    (5) findings beyond the exchange's validator: signs the hash drops, no secret of
        yours in the leaf, sums proven only by zk proofs this check does not verify

Binance's own files are recognised but not checked: its published example's root does not
reproduce with this Poseidon (Binance pins a later fork of gnark-crypto whose constants
are not available here), so such a file is "cannot check" (exit 3), never a pass.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import CannotCheck, InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, negative_amounts, run_steps
from reserves.formats.decimals import strip_zeros
from reserves.formats.poseidon import FIELD, poseidon
from reserves.strict_json import JsonValue, load_json

DEPTH = 28
GATE_ASSET_COUNTS = (800, 350)
"""Gate's ``AssetCounts`` at gateio/proof-of-reserves HEAD, then in its first release."""
INT64 = 1 << 63
UINT64 = 1 << 64
STEPS = {
    1: ("parse", "the file and the asset list parse"),
    2: ("climb", "your leaf, climbed through the siblings, gives the file's root"),
    3: ("root-published", "the root is the published one"),
    4: ("totals-cover", "the published totals cover your balances"),
}
_check = step_checks(STEPS)
_HEX = re.compile(r"[0-9a-f]{64}")
TWO_DIGIT = {
    "htx-zk": frozenset(
        {"ladys", "brise", "caw", "nft", "bonk", "xen", "lovely", "btt", "aidoge", "babydoge", "shib", "pepe"}
    ),
    "gate-zk": frozenset({"bttc", "shib", "lunc", "xec", "win", "bidr", "spell", "hot", "doge"}),
}
"""Assets each exchange counts in hundredths rather than 10^-8 (display only)."""


@dataclass(frozen=True)
class Layout:
    """Where a format keeps each part of the proof, in the order of ``Proof``'s fields."""

    index: str
    identity: str
    equity: str
    debt: str
    assets: str
    root: str
    siblings: str
    amounts: tuple[str, ...]
    bounds: tuple[int, int]

    @property
    def keys(self) -> tuple[str, ...]:
        """The user file's keys, in the order of ``Proof``'s fields."""
        return (self.index, self.identity, self.equity, self.debt, self.assets, self.root, self.siblings)


LAYOUTS = {
    "htx-zk": Layout(
        "AccountIndex", "AccountIdHash", "TotalEquity", "TotalDebt", "Assets", "Root", "Proof",
        ("Balance",), (-INT64, INT64 - 1),
    ),
    "gate-zk": Layout(
        "Arrangement", "UniqueIdentification", "TotalAssetEquity", "TotalAssetDebt", "AssetDetails",
        "TreeRootHash", "MerkleProofEncode", ("Equity", "Debt"), (0, UINT64 - 1),
    ),
}  # fmt: skip


HTX_FIELDS = set(LAYOUTS["htx-zk"].keys)
GATE_FIELDS = set(LAYOUTS["gate-zk"].keys)
BINANCE_FIELDS = HTX_FIELDS | {"TotalCollateral"}


def _has(fields: set[str]) -> Callable[[Any], bool]:
    return lambda document: isinstance(document, dict) and set(document) == fields


HTX = ProofFormat("htx-zk", _has(HTX_FIELDS))
GATE = ProofFormat("gate-zk", _has(GATE_FIELDS))
BINANCE = ProofFormat("binance-zk", _has(BINANCE_FIELDS))
ASSET_LIST_FILES = {HTX.name: "config.json", GATE.name: "cex_config.json"}
"""The file each exchange publishes with its asset list, which ``verify`` needs."""


@dataclass(frozen=True)
class Asset:
    symbol: str
    totals: tuple[int, ...]
    """HTX: (total balance,); Gate: (total equity, total debt)."""


@dataclass(frozen=True)
class Proof:
    format_name: str
    index: int
    identity: int
    equity: int
    debt: int
    amounts: dict[int, tuple[int, ...]]
    """By asset index: HTX (balance,), Gate (equity, debt)."""
    root: int
    siblings: tuple[int, ...]


def _field_hex(value: JsonValue) -> int:
    text = value.string()
    if not _HEX.fullmatch(text) or int(text, 16) >= FIELD:
        value.fail("expected 64 lowercase hex characters naming an element of the BN254 field")
    return int(text, 16)


def _sibling(value: JsonValue) -> int:
    text = value.string()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or base64.b64encode(raw).decode() != text or int.from_bytes(raw, "big") >= FIELD:
        value.fail("expected the standard base64 of 32 bytes naming an element of the BN254 field")
    return int.from_bytes(raw, "big")


def _siblings(value: JsonValue) -> tuple[int, ...]:
    items = list(value.items())
    if len(items) != DEPTH:
        value.fail(f"expected {DEPTH} sibling hashes, found {len(items)}")
    return tuple(_sibling(item) for item in items)


def parse(document: Any, source: str, name: str) -> Proof:
    """A user file of the zk-Merkle format ``name`` (``htx-zk`` or ``gate-zk``)."""
    top, layout = JsonValue(document, "$", source), LAYOUTS[name]
    top.object(tuple(sorted(layout.keys)))
    amounts: dict[int, tuple[int, ...]] = {}
    for item in top[layout.assets].items():
        item.object(("Index", *layout.amounts))
        index = item["Index"].integer(0, 0xFFFF)
        if index in amounts:
            item["Index"].fail(f"asset {index} is listed twice")
        amounts[index] = tuple(item[k].integer(*layout.bounds) for k in layout.amounts)
    return Proof(
        name,
        top[layout.index].integer(0, (1 << DEPTH) - 1),
        _field_hex(top[layout.identity]),
        top[layout.equity].integer(0, FIELD - 1),
        top[layout.debt].integer(0, FIELD - 1),
        amounts,
        _field_hex(top[layout.root]),
        _siblings(top[layout.siblings]),
    )


def load_assets(path: Path, name: str) -> list[Asset]:
    """The asset list the exchange publishes (``config.json`` or ``cex_config.json``), by index."""
    top = load_json(path)
    top.object(("CexAssetsInfo",), tuple(k for k in top.value if k != "CexAssetsInfo"))
    totals = ("TotalBalance",) if name == HTX.name else ("TotalEquity", "TotalDebt")
    found: dict[int, Asset] = {}
    for item in top["CexAssetsInfo"].items():
        item.object(("Index", "Symbol", *totals), ("BasePrice",))
        index = item["Index"].integer(0, 0xFFFF)
        if index in found:
            item["Index"].fail(f"asset {index} is listed twice")
        found[index] = Asset(item["Symbol"].string(), tuple(item[k].integer(0, UINT64 - 1) for k in totals))
    if sorted(found) != list(range(len(found))):
        top["CexAssetsInfo"].fail(f"the asset indices are not 0 to {len(found) - 1}")
    return [found[i] for i in range(len(found))]


def leaf(proof: Proof, count: int) -> int:
    """The account's leaf when the audit hashed ``count`` assets."""
    if proof.format_name == HTX.name:
        elements = [abs(proof.amounts.get(i, (0,))[0]) for i in range(count)]
    else:
        flat = [v for i in range(count) for v in proof.amounts.get(i, (0, 0))] + [0, 0]
        elements = [(flat[j] << 128) + (flat[j + 1] << 64) + flat[j + 2] for j in range(0, 2 * count, 3)]
    return poseidon(proof.identity, proof.equity, proof.debt, poseidon(*elements))


def climb(node: int, index: int, siblings: tuple[int, ...]) -> int:
    """The root reached from ``node`` at ``index`` through the siblings, leaf level first."""
    for level, sibling in enumerate(siblings):
        node = poseidon(sibling, node) if index >> level & 1 else poseidon(node, sibling)
    return node


def verify(
    document: Any, source: str, assets_file: Path | None, *, name: str, root: str | None = None
) -> FormatVerification:
    """Steps (1) to (5) of the module docstring; ``assets_file`` is the published asset list."""
    if name == BINANCE.name:
        raise CannotCheck(
            f"{source} is a Binance zk-Merkle user file, which this version recognises but cannot check: "
            "Binance's published example does not reproduce with the Poseidon hash implemented here"
        )
    if assets_file is None:
        raise InputError(f"a {name} user file is checked with the exchange's asset list ({ASSET_LIST_FILES[name]})")
    proof = parse(document, source, name)
    assets = load_assets(assets_file, name)
    wide = [i for i in proof.amounts if i >= len(assets)]
    if wide:
        raise InputError(f"asset {wide[0]} is not in the asset list {assets_file} ({len(assets)} assets)", where=source)
    balances = {assets[i].symbol: _whole(name, assets[i].symbol, v[0]) for i, v in sorted(proof.amounts.items())}
    totals = {a.symbol: _whole(name, a.symbol, a.totals[0]) for a in assets if a.totals[0]}
    title = "HTX zk-Merkle proof" if name == HTX.name else "Gate zk-Merkle proof"
    return run_steps(title, _steps(proof, assets, root), balances, totals, anchor_step=3)


def _whole(name: str, symbol: str, units: int) -> str:
    return strip_zeros(units, 2 if symbol in TWO_DIGIT[name] else 8)


def _steps(proof: Proof, assets: list[Asset], root: str | None) -> Iterator[Check]:
    counts = (len(assets),) if proof.format_name == HTX.name else GATE_ASSET_COUNTS
    yield _check(1, Status.PASS, f"{len(proof.amounts)} of your assets; {len(assets)} in the asset list")
    check, computed = _climb(proof, counts)  # (2)
    yield check
    yield anchored(_check, 3, root, f"{computed:064x}")  # (3)
    yield _cover(proof, assets)  # (4)
    yield from _findings(proof, assets)  # (5)


def _climb(proof: Proof, counts: tuple[int, ...]) -> tuple[Check, int]:
    """(2) The leaf for each asset count the audit may have hashed, climbed to the root."""
    tried = []
    for count in counts:
        own = leaf(proof, count)
        computed = climb(own, proof.index, proof.siblings)
        if computed == proof.root:
            return _check(2, Status.PASS, f"leaf {own:064x} ({count} assets), root {computed:064x}"), computed
        tried.append(computed)
    detail = "the root computed from your leaf differs from the file's root"
    if len(counts) > 1:
        detail += f" (with {' and '.join(map(str, counts))} assets)"
    return _check(2, Status.FAIL, detail, f"{proof.root:064x}", f"{tried[0]:064x}"), tried[0]


def _cover(proof: Proof, assets: list[Asset]) -> Check:
    """(4) No balance of yours exceeds the exchange's published total for that asset."""
    names = ("balance",) if proof.format_name == HTX.name else ("equity", "debt")
    for index, values in sorted(proof.amounts.items()):
        for what, mine, total in zip(names, values, assets[index].totals, strict=True):
            if abs(mine) > total:
                detail = f"your {assets[index].symbol} {what} exceeds the exchange's published total"
                return _check(4, Status.FAIL, detail, str(total), str(abs(mine)))
    return _check(4, Status.PASS, f"each of your {len(proof.amounts)} assets is within the published total")


def _findings(proof: Proof, assets: list[Asset]) -> Iterator[Check]:
    """(5) Weaknesses the exchange's own validator does not report (WARN; FAIL with strict)."""
    negative = [assets[i].symbol for i, values in sorted(proof.amounts.items()) if values[0] < 0]
    yield negative_amounts([f"your {symbol} balance (the hash drops its sign)" for symbol in negative], step=5)
    secret = (
        "the account id hash is SHA-256 of your uid alone: anyone who knows your uid can find your leaf"
        if proof.format_name == HTX.name
        else "the leaf's identifier is derived in a way Gate does not publish: you cannot check that it is yours"
    )
    yield Check(5, "user-secret", "the leaf holds a secret of the user's", Status.WARN, secret)
    yield Check(
        5,
        "sums-proven",
        "the root's totals are the sum of the accounts",
        Status.WARN,
        "the tree holds no sums: only the exchange's zk proofs (proof.csv) show the totals add up, and a user's "
        "check does not verify them",
    )
