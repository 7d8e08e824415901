"""Bitget's Merkle proof (``merkel_tree_bg.json``: ``path`` and ``self``) and its clone at
Bitunix (``merkle_tree_bitunix.json``), as their own Java validators compute them
(BitgetLimited/proof-of-reserves, BitunixOfficial/proof-of-reserves):

    leaf   = SHA-256(encryptUid "," nonce "," J(balances))
    parent = SHA-256(left right "," J(left balances + right balances) "," level)

Bitget keeps the first 16 hex digits (64 bits); Bitunix the whole hash. J is fastjson's
JSON of the balances, in the order of a ``java.util.HashMap`` (or, in Bitget's 2026
code, of the file), with each exchange's spelling of the values:

- Bitget 2022: the file's amounts are JSON numbers and J writes ``BigDecimal.toString()``
  of each, unquoted, its scale from the additions (``10.00``, ``1.0E-7``);
- Bitget 2025 (v1.0.4) and later: the amounts are strings and J writes them quoted,
  ``stripTrailingZeros().toPlainString()``;
- Bitunix: strings; the leaf's written as in the file, a parent's cut to each coin's
  precision (``self.precisions``) toward zero.

Which key order an audit used is the one under which the leaf reproduces. The parent's
level is the left child's minus one; the root is level 1. ``role`` (Bitunix: ``type``)
is 1 left, 2 right, 3 the root, and for Bitget 0 padding: a copy of the node it pairs
with, with zero balances.

    (1) the file parses; amounts are decimals                    -- exit 2 otherwise
    (2) the leaf recomputes from your uid hash, nonce and balances
    (3) the path is well formed: levels fall by one to the root at level 1, the root last,
        padding a zero-balance copy of the node it pairs with
    (4) climbing the path gives the root's hash, balances and level
    (5) the root is the published one
    (6) findings beyond the exchange's validator: hashes cut to 64 bits (Bitget),
        negative amounts
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, negative_amounts, run_steps, self_and_path
from reserves.formats.decimals import JavaDecimal
from reserves.strict_json import NumberText

LEFT, RIGHT, ROOT, PADDING = 1, 2, 3, 0
MAX_LEVELS = 64
STEPS = {
    1: ("parse", "the file parses; amounts are decimals"),
    2: ("leaf", "the leaf recomputes from your uid hash, nonce and balances"),
    3: ("path-shape", "the path is well formed"),
    4: ("climb", "climbing the path gives the root"),
    5: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
Balances = dict[str, JavaDecimal]


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    hash_key: str
    level_key: str
    side_key: str
    hex_digits: int


BITGET_LAYOUT = Layout("bitget", "Bitget Merkle proof", "merkelLeaf", "level", "role", 16)
BITUNIX_LAYOUT = Layout("bitunix", "Bitunix Merkle proof", "merkleLeaf", "height", "type", 64)


def _recogniser(layout: Layout) -> Callable[[Any], bool]:
    def recognises(document: Any) -> bool:
        own = self_and_path(document)
        return own is not None and layout.hash_key in own

    return recognises


BITGET = ProofFormat(BITGET_LAYOUT.name, _recogniser(BITGET_LAYOUT))
BITUNIX = ProofFormat(BITUNIX_LAYOUT.name, _recogniser(BITUNIX_LAYOUT))


@dataclass(frozen=True)
class Node:
    hash: str
    level: int
    side: int
    balances: Balances
    order: tuple[str, ...]
    """The coins in the file's order."""


@dataclass(frozen=True)
class Proof:
    layout: Layout
    leaf: Node
    uid: str
    nonce: str
    path: tuple[Node, ...]
    """The siblings from the leaf's level up, then the root."""
    numbers: bool
    """Bitget 2022: amounts are JSON numbers (J writes ``toString``), not strings."""
    precisions: dict[str, int]
    """Bitunix: decimals kept per coin in a parent's sums."""

    @property
    def root(self) -> Node:
        return self.path[-1]


def hashmap_order(keys: list[str]) -> list[str]:
    """The iteration order of a ``java.util.HashMap`` the keys were put into in this order:
    by bucket (the spread ``String.hashCode`` modulo a table grown from 16 at load 3/4),
    then in order of insertion."""
    table = 16
    while len(keys) > table * 3 // 4:
        table *= 2

    def bucket(key: str) -> int:
        code = 0
        for character in key:  # coins are ASCII: one UTF-16 unit each
            code = (code * 31 + ord(character)) & 0xFFFFFFFF
        return (code ^ (code >> 16)) & (table - 1)

    return sorted(keys, key=bucket)  # sorted is stable: ties keep insertion order


def _hash(text: str, layout: Layout) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[: layout.hex_digits]


def _node(value: Any, where: str, layout: Layout, numbers: bool | None, extra: set[str], *, root: bool = False) -> Node:
    keys = {"balances", layout.hash_key, layout.level_key, layout.side_key}
    if root and isinstance(value, dict) and layout.side_key not in value:
        value = {**value, layout.side_key: ROOT}  # Bitget's 2026 file leaves the root's role out
    if not isinstance(value, dict) or not keys <= set(value) or not set(value) <= keys | extra:
        raise InputError(f"expected {', '.join(sorted(keys))} (and optionally {', '.join(sorted(extra))})", where=where)
    digest, level, side = value[layout.hash_key], value[layout.level_key], value[layout.side_key]
    if not isinstance(digest, str) or not re.fullmatch(f"[0-9a-f]{{{layout.hex_digits}}}", digest):
        raise InputError(f"expected {layout.hex_digits} lowercase hex characters", where=f"{where}.{layout.hash_key}")
    for key, number in ((layout.level_key, level), (layout.side_key, side)):
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 1 << 16:
            raise InputError("expected a small non-negative integer", where=f"{where}.{key}")
    raw = value["balances"]
    if not isinstance(raw, dict) or not raw or not all(isinstance(k, str) and k.isascii() and k for k in raw):
        raise InputError("expected an object of amounts by coin", where=f"{where}.balances")
    balances = {}
    for coin, amount in raw.items():
        spelled = f"{where}.balances.{coin}"
        is_number = isinstance(amount, (int, NumberText)) and not isinstance(amount, bool)
        if numbers is not None and is_number != numbers:
            raise InputError("amounts are all strings or all numbers in one file", where=spelled)
        balances[coin] = JavaDecimal.parse(str(amount), exponent=is_number, where=spelled)
    return Node(digest, level, side, balances, tuple(raw))


def parse(document: Any, source: str, layout: Layout) -> Proof:
    """The file as Bitget's (or Bitunix's) validator reads it."""
    if not _recogniser(layout)(document):
        raise InputError(f"expected an object with exactly path and self, self with {layout.hash_key}", where=source)
    own, path = document["self"], document["path"]
    if not isinstance(path, list) or not 2 <= len(path) <= MAX_LEVELS:
        raise InputError(f"expected an array of 2 to {MAX_LEVELS} nodes", where=f"{source} $.path")
    first = next(iter((own.get("balances") or {None: None}).values()))
    numbers = isinstance(first, (int, NumberText)) and not isinstance(first, bool)
    extra = (
        {"encryptUid", "nonce", "auditId", "precisions"}
        if layout is BITUNIX_LAYOUT
        else {"encryptUid", "nonce", "auditId"}
    )
    leaf = _node(own, f"{source} $.self", layout, numbers, extra)
    for key in ("encryptUid", "nonce"):
        if not isinstance(own.get(key), str) or not own[key]:
            raise InputError("expected a non-empty string", where=f"{source} $.self.{key}")
    nodes = tuple(
        _node(v, f"{source} $.path[{i}]", layout, numbers, {"encryptUid", "nonce", "auditId"}, root=i == len(path) - 1)
        for i, v in enumerate(path)
    )
    precisions = _precisions(own, leaf, f"{source} $.self.precisions") if layout is BITUNIX_LAYOUT else {}
    return Proof(layout, leaf, own["encryptUid"], own["nonce"], nodes, numbers, precisions)


def _precisions(own: dict[str, Any], leaf: Node, where: str) -> dict[str, int]:
    raw = own.get("precisions")
    if not isinstance(raw, dict) or set(raw) != set(leaf.balances):
        raise InputError("expected the decimals of each coin of the balances", where=where)
    if any(isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 36 for p in raw.values()):
        raise InputError("expected whole numbers of decimals from 0 to 36", where=where)
    return dict(raw)


def _value_text(proof: Proof, coin: str, amount: JavaDecimal, *, leaf: bool) -> str:
    """How J writes one amount."""
    if proof.numbers:
        return str(amount)
    if proof.layout is BITUNIX_LAYOUT:
        return json.dumps(amount.plain(amount.scale if leaf else proof.precisions[coin]))
    return json.dumps(amount.stripped())


def canonical(proof: Proof, balances: Balances, order: list[str], *, leaf: bool = False) -> str:
    """J: the balances as fastjson writes them, keys in ``order``."""
    return "{" + ",".join(f"{json.dumps(k)}:{_value_text(proof, k, balances[k], leaf=leaf)}" for k in order) + "}"


def leaf_hash(proof: Proof, order: list[str]) -> str:
    return _hash(f"{proof.uid},{proof.nonce},{canonical(proof, proof.leaf.balances, order, leaf=True)}", proof.layout)


def verify(document: Any, source: str, layout: Layout, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (6) of the module docstring."""
    proof = parse(document, source, layout)
    balances = {k: v.stripped() for k, v in proof.leaf.balances.items()}
    totals = {k: v.stripped() for k, v in proof.root.balances.items()}
    return run_steps(layout.title, _steps(proof, root), balances, totals, anchor_step=5)


def _steps(proof: Proof, root: str | None) -> Iterator[Check]:
    yield _check(
        1, Status.PASS, f"{len(proof.path) - 1} siblings; amounts as {'numbers' if proof.numbers else 'strings'}"
    )
    check, hashmap = _leaf(proof)  # (2)
    yield check
    yield _shape(proof)  # (3)
    check, computed = _climb(proof, hashmap)  # (4)
    yield check
    yield anchored(_check, 5, root, computed)  # (5)
    yield from _findings(proof)  # (6)


def _leaf(proof: Proof) -> tuple[Check, bool]:
    """(2) The leaf under a HashMap's key order, else the file's; which one decides the climb."""
    file_order = list(proof.leaf.order)
    for hashmap, order in ((True, hashmap_order(file_order)), (False, file_order)):
        if leaf_hash(proof, order) == proof.leaf.hash:
            how = "HashMap key order" if hashmap else "the file's key order"
            return _check(2, Status.PASS, f"leaf {proof.leaf.hash} ({how})"), hashmap
    found = leaf_hash(proof, hashmap_order(file_order))
    return _check(2, Status.FAIL, "the leaf differs from the file's", proof.leaf.hash, found), True


def _shape(proof: Proof) -> Check:
    """(3) Levels fall by one from the leaf's to the root's 1; sides; padding holds nothing."""
    sides = (LEFT, RIGHT, PADDING) if proof.layout is BITGET_LAYOUT else (LEFT, RIGHT)
    key, side_key = proof.layout.level_key, proof.layout.side_key
    for i, node in enumerate(proof.path):
        last = i == len(proof.path) - 1
        if node.level != proof.leaf.level - i:
            return _check(
                3,
                Status.FAIL,
                f"path[{i}].{key} is not {proof.leaf.level - i}",
                str(proof.leaf.level - i),
                str(node.level),
            )
        if (node.side == ROOT) != last or (not last and node.side not in sides):
            return _check(3, Status.FAIL, f"path[{i}].{side_key} {node.side} is not allowed there")
        if node.side == PADDING and any(v.unscaled for v in node.balances.values()):
            return _check(3, Status.FAIL, f"padding at path[{i}] holds a balance")
        if proof.precisions and set(node.balances) != set(proof.precisions):
            return _check(3, Status.FAIL, f"path[{i}] lists other coins than your balances")
    if proof.root.level != 1:
        return _check(3, Status.FAIL, f"the root's {key} is not 1", "1", str(proof.root.level))
    return _check(3, Status.PASS, f"levels {proof.leaf.level} to 1")


def _climb(proof: Proof, hashmap: bool) -> tuple[Check, str]:
    """(4) Every parent from the leaf up: its sums, its level and its hash."""
    current = proof.leaf
    for i, sibling in enumerate(proof.path[:-1]):
        if sibling.side == PADDING and sibling.hash != current.hash:
            detail = f"padding at path[{i}] does not repeat the node it pairs with"
            return _check(4, Status.FAIL, detail, current.hash, sibling.hash), current.hash
        left, right = (sibling, current) if sibling.side == LEFT else (current, sibling)
        current = _parent(proof, left, right, hashmap)
    top = proof.root
    if current.hash != top.hash:
        return _check(
            4, Status.FAIL, "the computed root hash differs from the file's root", top.hash, current.hash
        ), current.hash
    wrong = sorted(set(current.balances) ^ set(top.balances)) or [
        k for k in current.balances if not _equal(current.balances[k], top.balances[k])
    ]
    if wrong:
        stated, found = top.balances.get(wrong[0]), current.balances.get(wrong[0])
        detail = f"the computed root balance of {wrong[0]} differs"
        return _check(4, Status.FAIL, detail, stated and stated.stripped(), found and found.stripped()), current.hash
    return _check(4, Status.PASS, f"root {current.hash}"), current.hash


def _equal(one: JavaDecimal, other: JavaDecimal) -> bool:
    """``compareTo == 0``: the same number, whatever the scales."""
    scale = max(one.scale, other.scale, 0)
    return one.units(scale) == other.units(scale)


def _parent(proof: Proof, left: Node, right: Node, hashmap: bool) -> Node:
    inserted = list(left.order) + [k for k in right.order if k not in left.balances]
    sums: Balances = {}
    for coin in inserted:
        zero = JavaDecimal(0, 0)
        total = left.balances.get(coin, zero).plus(right.balances.get(coin, zero))
        if proof.precisions:
            total = JavaDecimal(total.units(proof.precisions[coin]), proof.precisions[coin])
        sums[coin] = total
    order = hashmap_order(inserted) if hashmap or proof.layout is BITUNIX_LAYOUT else inserted
    level = left.level - 1
    text = f"{left.hash}{right.hash},{canonical(proof, sums, order)},{level}"
    return Node(_hash(text, proof.layout), level, 0, sums, tuple(order))


def _findings(proof: Proof) -> Iterator[Check]:
    """(6) Weaknesses the exchange's own validator does not report (WARN; FAIL with strict)."""
    if proof.layout.hex_digits < 64:
        yield Check(
            6,
            "truncated-hash",
            "hashes are full SHA-256",
            Status.WARN,
            "hashes are cut to 64 bits: a forged node matching a real one is within reach of a large computer",
        )
    nodes = [("self", proof.leaf), *((f"path[{i}]", n) for i, n in enumerate(proof.path))]
    negative = [f"{where} {coin}" for where, node in nodes for coin, v in node.balances.items() if v.unscaled < 0]
    yield negative_amounts(negative)
