"""Bybit's Merkle proof (``self`` and ``path``, a ``balance`` per node), as Bybit's own
validator computes it (bybit-exchange/merkle-proof), recomputed byte for byte:

    leaf   = SHA-256(userHash || v1 || v2 || …)                  values as written
    parent = SHA-256(left || right || s1 || s2 || … || height)   sums rounded down to 8 places

The values and sums run in the asset order of the audit's asset-list version (Bybit's
Java enums), never in the file's order: a file that moved two values between assets would
otherwise keep its hash while showing the user other balances. A version is recognised by
its exact set of assets; the versions whose order is known here are listed in
``VERSIONS``, and a file of any other version is recognised but not checked. ``type`` is
1 left, 2 right, 3 the root (last). The 2022 four-coin format rounds USDT and USDC sums
to 4 places.

    (1) the file parses; amounts are plain decimals              -- exit 2 otherwise
    (2) the leaf recomputes from the user hash and the balances
    (3) the path is well formed: heights rise by one, the root last and only last
    (4) climbing the path gives the root's hash, height and balances (as written)
    (5) the root is the published one
    (6) findings beyond Bybit's validator: no leaf the user can tie to an account they
        know, negative amounts
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import CannotCheck, InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, negative_amounts, run_steps, self_and_path
from reserves.formats.decimals import fixed_places, parse_decimal

LEFT, RIGHT, ROOT = 1, 2, 3
SCALE = 18
"""Amounts are held as integers of 10^-18."""
ASSET_40 = tuple(
    [
        "AGLA",
        "APT",
        "ATOM",
        "AVAX",
        "MNT",
        "BTC",
        "DAI",
        "DOGE",
        "DOT",
        "DYDX",
        "EOS",
        "ETH",
        "FTM",
        "LTC",
        "MATIC",
        "SOL",
        "USDC",
        "USDT",
        "XRP",
        "SHIB",
        "OP",
        "SAND",
        "LDO",
        "LINK",
        "COMP",
        "UNI",
        "MANA",
        "CRV",
        "BLUR",
        "SUSHI",
        "PEPE",
        "WLD",
        "BEAM",
        "AGI",
        "FET",
        "IMX",
        "RNDR",
        "GALA",
        "APEX",
        "SHRAP",
    ]
)
"""Audit 2024-05 (``Asset40``), as Bybit's published example lists it."""
ASSET_40_V2 = tuple(
    [
        "AGLA",
        "APT",
        "ATOM",
        "AVAX",
        "MNT",
        "BTC",
        "DOGE",
        "DOT",
        "DYDX",
        "EOS",
        "ETH",
        "FTM",
        "LTC",
        "MATIC",
        "SOL",
        "USDC",
        "USDT",
        "XRP",
        "SHIB",
        "OP",
        "SAND",
        "LDO",
        "LINK",
        "COMP",
        "UNI",
        "MANA",
        "CRV",
        "BLUR",
        "SUSHI",
        "PEPE",
        "WLD",
        "BEAM",
        "AGI",
        "FET",
        "IMX",
        "RENDER",
        "GALA",
        "APEX",
        "SHRAP",
        "USDE",
    ]
)
"""Audit 2024-08 (``Asset40V2``), as Bybit's published example lists it."""
ASSET_50 = tuple(
    [
        "AGLA",
        "APT",
        "ATOM",
        "AVAX",
        "MNT",
        "BTC",
        "DOGE",
        "DOT",
        "DYDX",
        "A",
        "ETH",
        "S",
        "LTC",
        "POL",
        "SOL",
        "USDC",
        "USDT",
        "XRP",
        "SHIB",
        "OP",
        "SAND",
        "LDO",
        "LINK",
        "COMP",
        "UNI",
        "MANA",
        "CRV",
        "BLUR",
        "SUSHI",
        "PEPE",
        "WLD",
        "BEAM",
        "AGI",
        "FET",
        "IMX",
        "RENDER",
        "GALA",
        "APEX",
        "SHRAP",
        "USDE",
        "GRAM",
        "XAUT",
        "HYPE",
        "STABLE",
        "ENA",
        "ARB",
        "ASTER",
        "ONDO",
        "AAVE",
        "USD1",
    ]
)
"""The current ``Asset50``."""
ORIGINAL = ("BTC", "ETH", "USDT", "USDC")
"""The 2022 four-coin format."""
VERSIONS = {"asset50": ASSET_50, "asset40v2": ASSET_40_V2, "asset40": ASSET_40, "original": ORIGINAL}
"""Asset-list versions whose order is known, by name."""
STEPS = {
    1: ("parse", "the file parses; amounts are plain decimals"),
    2: ("leaf", "the leaf recomputes from the user hash and the balances"),
    3: ("path-shape", "the path is well formed"),
    4: ("climb", "climbing the path gives the root"),
    5: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
TITLE = "Bybit Merkle proof"
_HASH = re.compile(r"[0-9a-f]{64}")


def _recognises(document: Any) -> bool:
    own = self_and_path(document)
    return own is not None and "userHash" in own


FORMAT = ProofFormat("bybit", _recognises)


@dataclass(frozen=True)
class Node:
    type: int
    height: int
    hash: str
    units: dict[str, int]
    text: dict[str, str]


@dataclass(frozen=True)
class Proof:
    version: str
    order: tuple[str, ...]
    user_hash: str
    leaf: Node
    path: tuple[Node, ...]

    def places(self, asset: str) -> int:
        """Decimal places of a sum: 8, but 4 for USDT and USDC in the 2022 format."""
        return 4 if self.version == "original" and asset in ("USDT", "USDC") else 8


def parse_units(text: object, *, where: str) -> int:
    return parse_decimal(text, scale=SCALE, signed=True, where=where)


def format_places(units: int, places: int) -> str:
    """Java's ``setScale(places, RoundingMode.DOWN).toPlainString()``."""
    return fixed_places(units, SCALE, places)


def parse(document: Any, source: str) -> Proof:
    if not _recognises(document):
        raise InputError("expected an object with exactly 'self' (with a userHash) and 'path'", where=source)
    own = document["self"]
    user_hash = own["userHash"]
    if not isinstance(user_hash, str) or not _HASH.fullmatch(user_hash):
        raise InputError("expected 64 lowercase hex characters", where=f"{source} $.self.userHash")
    leaf = _node(own, f"{source} $.self", {"auditId", "type", "hash", "height", "nonce", "userHash", "balance"})
    if not isinstance(document["path"], list) or len(document["path"]) < 2:
        raise InputError("expected an array of the siblings and the root", where=f"{source} $.path")
    fields = {"auditId", "type", "hash", "height", "nonce", "balance"}
    path = tuple(_node(item, f"{source} $.path[{i}]", fields) for i, item in enumerate(document["path"]))
    version = next((name for name, order in VERSIONS.items() if set(order) == set(leaf.units)), None)
    if version is None:
        raise CannotCheck(
            f"{source}: a Bybit proof of an asset list whose order is not known here "
            f"({len(leaf.units)} assets): recognised, but its hashes cannot be checked"
        )
    for i, node in enumerate(path):
        if set(node.units) != set(leaf.units):
            raise InputError("the assets differ from the user's", where=f"{source} $.path[{i}].balance")
    return Proof(version, VERSIONS[version], user_hash, leaf, path)


def _node(value: Any, where: str, fields: set[str]) -> Node:
    if (
        not isinstance(value, dict)
        or not set(value) <= fields
        or not {"type", "hash", "height", "balance"} <= set(value)
    ):
        raise InputError(f"expected an object of {', '.join(sorted(fields))}", where=where)
    for key in ("type", "height"):
        if isinstance(value[key], bool) or not isinstance(value[key], int) or not 0 <= value[key] <= 256:
            raise InputError(f"{key} must be an integer from 0 to 256", where=f"{where}.{key}")
    if not isinstance(value["hash"], str) or not _HASH.fullmatch(value["hash"]):
        raise InputError("expected 64 lowercase hex characters", where=f"{where}.hash")
    raw = value["balance"]
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise InputError("expected an object of amounts by asset", where=f"{where}.balance")
    units = {k: parse_units(v, where=f"{where}.balance.{k}") for k, v in raw.items()}
    return Node(value["type"], value["height"], value["hash"], units, dict(raw))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(document: Any, source: str, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (6) of the module docstring; ``root`` is the published root (hex)."""
    proof = parse(document, source)
    title = f"{TITLE} ({proof.version})"
    return run_steps(title, _steps(proof, root), dict(proof.leaf.text), dict(proof.path[-1].text), anchor_step=5)


def _steps(proof: Proof, root: str | None) -> Iterator[Check]:
    yield _check(1, Status.PASS, f"asset list {proof.version}: {len(proof.order)} assets")
    yield _own_leaf(proof)  # (2)
    yield _path_shape(proof)  # (3)
    check, computed = _climb(proof)  # (4)
    yield check
    yield anchored(_check, 5, root, computed)  # (5)
    yield from _findings(proof)  # (6)


def _own_leaf(proof: Proof) -> Check:
    """(2) The leaf from the user hash and the balances as written, in the version's order."""
    computed = sha256_text(proof.user_hash + "".join(proof.leaf.text[a] for a in proof.order))
    if computed != proof.leaf.hash:
        return _check(2, Status.FAIL, "self.hash is not SHA-256(userHash || balances)", computed, proof.leaf.hash)
    return _check(2, Status.PASS, computed)


def _path_shape(proof: Proof) -> Check:
    """(3) A leaf at height 1, siblings at heights 1, 2, …, the root last and only last."""
    if proof.leaf.type not in (LEFT, RIGHT) or proof.leaf.height != 1:
        found = f"type {proof.leaf.type}, height {proof.leaf.height}"
        return _check(3, Status.FAIL, "self must be a left or right leaf at height 1", "type 1 or 2, height 1", found)
    for position, node in enumerate(proof.path):
        last = position == len(proof.path) - 1
        if last != (node.type == ROOT) or node.type not in (LEFT, RIGHT, ROOT):
            detail = f"path[{position}]: the root is last and only last"
            return _check(3, Status.FAIL, detail, "type 3 last" if last else "type 1 or 2", f"type {node.type}")
        if node.height != position + 1:
            detail = f"path[{position}]: heights must rise by one"
            return _check(3, Status.FAIL, detail, str(position + 1), str(node.height))
    return _check(3, Status.PASS, f"{len(proof.path) - 1} siblings, root at height {proof.path[-1].height}")


def _climb(proof: Proof) -> tuple[Check, str]:
    """(4) Up the path: each parent over the exact sums rounded down, and its height."""
    current, sums = proof.leaf.hash, dict(proof.leaf.units)
    for node in proof.path[:-1]:
        sums = {a: sums[a] + node.units[a] for a in proof.order}
        texts = {a: format_places(sums[a], proof.places(a)) for a in proof.order}
        sums = {a: parse_units(texts[a], where="sum") for a in proof.order}
        left, right = (node.hash, current) if node.type == LEFT else (current, node.hash)
        current = sha256_text(left + right + "".join(texts[a] for a in proof.order) + str(node.height + 1))
    top = proof.path[-1]
    if current != top.hash:
        return _check(4, Status.FAIL, "the computed root hash differs from the file's root", top.hash, current), current
    computed = [format_places(sums[a], proof.places(a)) for a in proof.order]
    stated = [top.text[a] for a in proof.order]
    if computed != stated:
        wrong = next(a for a, x, y in zip(proof.order, computed, stated, strict=True) if x != y)
        detail = f"the computed root balance of {wrong} differs (Bybit compares them as written)"
        return _check(
            4, Status.FAIL, detail, stated[proof.order.index(wrong)], computed[proof.order.index(wrong)]
        ), current
    return _check(4, Status.PASS, f"root {current}"), current


def _findings(proof: Proof) -> Iterator[Check]:
    """(6) Weaknesses of the format that Bybit's own validator does not report."""
    yield Check(
        6,
        "user-secret",
        "the leaf is tied to something the user knows",
        Status.WARN,
        "the leaf is made from an opaque userHash whose derivation Bybit does not publish: you cannot "
        "check that this leaf is yours",
    )
    nodes = [("self", proof.leaf), *((f"path[{i}]", n) for i, n in enumerate(proof.path))]
    yield negative_amounts(
        [f"{where} {asset}" for where, node in nodes for asset in proof.order if node.units[asset] < 0]
    )
