"""MEXC's Merkle proof (``merkle_proof.json``: ``self`` and ``pathList``), as MEXC's own
validator computes it (mexcmerkle/mexc-proof-of-reserves), recomputed byte for byte:

    leaf   = SHA-256(proofId "," accountId "," K1:V1,K2:V2,…)[:32 hex]     V as written
    parent = SHA-256(left "," right "," K1:S1,K2:S2,…)[:32 hex]           S without trailing zeros

Keys are sorted. A parent's balances are the left child's, then (if the right child is
not empty) BTC, USDT, ETH and USDC set to 0 where absent and the right child's added. A
sibling level missing from ``pathList``, or a sibling whose hash is ``""``, is empty: the
parent is ``SHA-256(left ",," balances(left))``. ``type`` is 1 left, 2 right, 3 the root.

    (1) the file parses; amounts are plain decimals              -- exit 2 otherwise
    (2) the leaf recomputes from the proof id, account id and balances
    (3) the path is well formed: levels rise, the root last and only last
    (4) climbing the path gives the root's hash and balances
    (5) the root is the published one (32 hex characters)
    (6) findings beyond MEXC's validator: hashes cut to 128 bits, no per-user secret in
        the leaf (the account id is in the clear), negative amounts
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, negative_amounts, run_steps
from reserves.formats.decimals import parse_decimal, strip_zeros

LEFT, RIGHT, ROOT = 1, 2, 3
SCALE = 30
"""Amounts are held as integers of 10^-30: MEXC's are Java BigDecimals, far coarser."""
ZERO_FILLED = ("BTC", "USDT", "ETH", "USDC")
"""The assets MEXC's validator sets to 0 where absent before adding a right child."""
HASH_HEX = 32
STEPS = {
    1: ("parse", "the file parses; amounts are plain decimals"),
    2: ("leaf", "the leaf recomputes from the proof id, account id and balances"),
    3: ("path-shape", "the path is well formed"),
    4: ("climb", "climbing the path gives the root"),
    5: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
TITLE = "MEXC Merkle proof"
_HASH = re.compile(r"[0-9a-f]{32}")


def _recognises(document: Any) -> bool:
    return isinstance(document, dict) and set(document) == {"self", "pathList"}


FORMAT = ProofFormat("mexc", _recognises)


@dataclass(frozen=True)
class Balances:
    """Amounts by asset, as integers of 10^-SCALE, with the spelling they were read in."""

    units: dict[str, int]
    text: dict[str, str]

    def leaf_text(self) -> str:
        return ",".join(f"{k}:{self.text[k]}" for k in sorted(self.text))

    def node_text(self) -> str:
        return ",".join(f"{k}:{format_units(self.units[k])}" for k in sorted(self.units))

    def plus(self, right: Balances) -> Balances:
        """MEXC's parent balances: these, zero-filled for the four main assets, plus ``right``."""
        units = dict(self.units)
        for symbol in ZERO_FILLED:
            units.setdefault(symbol, 0)
        for symbol, amount in right.units.items():
            units[symbol] = units.get(symbol, 0) + amount
        return Balances(units, {k: format_units(v) for k, v in units.items()})

    @property
    def negative(self) -> list[str]:
        return [k for k, v in sorted(self.units.items()) if v < 0]


@dataclass(frozen=True)
class Node:
    level: int
    type: int
    hash: str
    """32 hex characters, or ``""`` for an empty sibling."""
    balances: Balances


@dataclass(frozen=True)
class Proof:
    proof_id: str
    account_id: str
    leaf: Node
    path: tuple[Node, ...]


def parse_units(text: object, *, where: str) -> int:
    """A MEXC amount (a plain decimal, possibly negative) as an integer of 10^-SCALE."""
    return parse_decimal(text, scale=SCALE, signed=True, where=where)


def format_units(units: int) -> str:
    """Java's ``stripTrailingZeros().toPlainString()``."""
    return strip_zeros(units, SCALE)


def parse(document: Any, source: str) -> Proof:
    if not _recognises(document):
        raise InputError("expected an object with exactly 'self' and 'pathList'", where=source)
    own = document["self"]
    if not isinstance(own, dict) or set(own) != {"level", "type", "hash", "balances", "proofId", "accountId"}:
        raise InputError("expected level, type, hash, balances, proofId and accountId", where=f"{source} $.self")
    for key in ("proofId", "accountId"):
        if not isinstance(own[key], str) or not own[key] or "," in own[key]:
            raise InputError("expected a non-empty string without commas", where=f"{source} $.self.{key}")
    leaf = _node({k: own[k] for k in ("level", "type", "hash", "balances")}, f"{source} $.self", allow_empty=False)
    if not isinstance(document["pathList"], list) or not document["pathList"]:
        raise InputError("expected a non-empty array", where=f"{source} $.pathList")
    path = tuple(_node(item, f"{source} $.pathList[{i}]") for i, item in enumerate(document["pathList"]))
    return Proof(own["proofId"], own["accountId"], leaf, path)


def _node(value: Any, where: str, *, allow_empty: bool = True) -> Node:
    if not isinstance(value, dict) or set(value) != {"level", "type", "hash", "balances"}:
        raise InputError("expected an object with level, type, hash and balances", where=where)
    for key in ("level", "type"):
        if isinstance(value[key], bool) or not isinstance(value[key], int) or not 0 <= value[key] <= 256:
            raise InputError(f"{key} must be an integer from 0 to 256", where=f"{where}.{key}")
    node_hash = value["hash"]
    if not isinstance(node_hash, str) or not (_HASH.fullmatch(node_hash) or (allow_empty and node_hash == "")):
        raise InputError(f"expected {HASH_HEX} lowercase hex characters", where=f"{where}.hash")
    raw = value["balances"]
    if not isinstance(raw, dict) or not raw or not all(isinstance(k, str) and k.isascii() for k in raw):
        raise InputError("expected an object of amounts by asset", where=f"{where}.balances")
    units = {k: parse_units(v, where=f"{where}.balances.{k}") for k, v in raw.items()}
    return Node(value["level"], value["type"], node_hash, Balances(units, dict(raw)))


def sha256_cut(text: str) -> str:
    """MEXC's hash: SHA-256 of the UTF-8 text, hex, cut to 32 characters (128 bits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_HEX]


def verify(document: Any, source: str, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (6) of the module docstring; ``root`` is the published root (32 hex)."""
    proof = parse(document, source)
    totals = {k: v for k, v in proof.path[-1].balances.text.items()}
    return run_steps(TITLE, _steps(proof, root), dict(proof.leaf.balances.text), totals, anchor_step=5)


def _steps(proof: Proof, root: str | None) -> Iterator[Check]:
    yield _check(1, Status.PASS)
    yield _own_leaf(proof)  # (2)
    yield _path_shape(proof)  # (3)
    check, computed = _climb(proof)  # (4)
    yield check
    yield anchored(_check, 5, root, computed)  # (5)
    yield from _findings(proof)  # (6)


def _own_leaf(proof: Proof) -> Check:
    """(2) The leaf recomputes from the proof id, account id and balances as written."""
    computed = sha256_cut(f"{proof.proof_id},{proof.account_id},{proof.leaf.balances.leaf_text()}")
    if computed != proof.leaf.hash:
        return _check(2, Status.FAIL, "self.hash is not SHA-256(proofId,accountId,balances)", computed, proof.leaf.hash)
    return _check(2, Status.PASS, computed)


def _path_shape(proof: Proof) -> Check:
    """(3) Siblings at rising levels above the leaf, each once; the root last and only last."""
    if proof.leaf.level != 0 or proof.leaf.type not in (LEFT, RIGHT):
        found = f"level {proof.leaf.level}, type {proof.leaf.type}"
        return _check(3, Status.FAIL, "self must be a left or right leaf at level 0", "level 0, type 1 or 2", found)
    levels = [node.level for node in proof.path]
    if levels != sorted(set(levels)) or levels[0] < 0:
        return _check(3, Status.FAIL, "levels must rise, each once", "rising levels", str(levels))
    for position, node in enumerate(proof.path):
        last = position == len(proof.path) - 1
        if last != (node.type == ROOT) or node.type not in (LEFT, RIGHT, ROOT):
            expected = "type 3 last" if last else "type 1 or 2"
            detail = f"pathList[{position}]: the root is last and only last"
            return _check(3, Status.FAIL, detail, expected, f"type {node.type}")
    return _check(3, Status.PASS, f"{len(proof.path) - 1} siblings listed, root at level {proof.path[-1].level}")


def _climb(proof: Proof) -> tuple[Check, str]:
    """(4) From the leaf to the root's level, empty siblings where a level is missing."""
    siblings = {node.level: node for node in proof.path[:-1]}
    root = proof.path[-1]
    current, balances = proof.leaf.hash, proof.leaf.balances
    for level in range(root.level):
        sibling = siblings.get(level)
        if sibling is None or sibling.hash == "":
            current = sha256_cut(f"{current},,{balances.node_text()}")
            continue
        if sibling.type == LEFT:
            left, right, balances = sibling.hash, current, sibling.balances.plus(balances)
        else:
            left, right, balances = current, sibling.hash, balances.plus(sibling.balances)
        current = sha256_cut(f"{left},{right},{balances.node_text()}")
    if current != root.hash:
        return _check(
            4, Status.FAIL, "the computed root hash differs from the file's root", root.hash, current
        ), current
    stated = {k: v for k, v in root.balances.units.items() if v}
    if stated != {k: v for k, v in balances.units.items() if v}:
        expected, found = root.balances.node_text(), balances.node_text()
        return _check(4, Status.FAIL, "the computed root balances differ", expected, found), current
    return _check(4, Status.PASS, f"root {current}"), current


def _findings(proof: Proof) -> Iterator[Check]:
    """(6) Weaknesses of the format that MEXC's own validator does not report (WARN; FAIL
    with strict), each said in one plain sentence."""
    yield Check(
        6,
        "truncated-hash",
        "hashes are full SHA-256",
        Status.WARN,
        "hashes are cut to 128 bits: a forged node matching a real one is far easier to find",
    )
    yield Check(
        6,
        "user-secret",
        "the leaf holds a secret of the user's",
        Status.WARN,
        "anyone with your account id and balances can recompute your leaf: the account id is in the clear",
    )
    nodes = [("self", proof.leaf), *((f"pathList[{i}]", n) for i, n in enumerate(proof.path))]
    yield negative_amounts([f"{where} {asset}" for where, node in nodes for asset in node.balances.negative])
