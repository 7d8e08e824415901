"""OKX Merkle v1 user proof (``merkle_proof_file.json``: ``self`` and ``path``).

    leaf   = SHA-256(nonce || {"BTC":"…","ETH":"…","USDT":"…"})
    parent = SHA-256(left || right || BTC || ETH || USDT || height), sums rounded down to 8 places

``type`` says where a node sits: 1 left, 2 right, 3 the root (the last element), 4
padding (a right sibling with zero balances). Beyond what the exchange's validator
checks, this one requires non-negative plain-decimal balances, heights that rise by one,
the root last and only last, padding with zero balances, and it shows the user's
balances beside the exchange's totals.

    (1) the file parses; balances are non-negative plain decimals   -- exit 2 otherwise
    (2) the leaf recomputes from the user's nonce and balances
    (3) the path is well formed: sides, heights, root last and only last, zero padding
    (4) climbing the path gives the root's hash, balances and height
    (5) the root is the published one (``--root``)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, run_steps, self_and_path
from reserves.formats.okx import Balances, node_hash, parse_balances, parse_hash, sha256_text

LEFT, RIGHT, ROOT, PADDING = 1, 2, 3, 4
STEPS = {
    1: ("parse", "the file parses; balances are non-negative plain decimals"),
    2: ("leaf", "the leaf recomputes from the user's nonce and balances"),
    3: ("path-shape", "the path is well formed"),
    4: ("climb", "climbing the path gives the root"),
    5: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
TITLE = "OKX Merkle v1 proof"


def _recognises(document: Any) -> bool:
    own = self_and_path(document)
    others = ("userHash", "merkelLeaf", "merkleLeaf")  # Bybit's, Bitget's and Bitunix's
    return own is not None and not any(k in own for k in others)


FORMAT = ProofFormat("okx-v1", _recognises)


@dataclass(frozen=True)
class Node:
    type: int
    height: int
    hash: str
    balances: Balances


@dataclass(frozen=True)
class Proof:
    nonce: str
    leaf: Node
    path: tuple[Node, ...]


def parse(document: Any, source: str) -> Proof:
    if not _recognises(document):
        raise InputError("expected an object with exactly 'self' and 'path'", where=source)
    own = document["self"]
    if not isinstance(own, dict):
        raise InputError("expected an object", where=f"{source} $.self")
    nonce = parse_hash(own.get("nonce"), where=f"{source} $.self.nonce")
    leaf = _node(own, f"{source} $.self")
    if not isinstance(document["path"], list) or not document["path"]:
        raise InputError("expected a non-empty array", where=f"{source} $.path")
    path = tuple(_node(item, f"{source} $.path[{i}]") for i, item in enumerate(document["path"]))
    return Proof(nonce, leaf, path)


def _node(value: Any, where: str) -> Node:
    if not isinstance(value, dict):
        raise InputError("expected an object", where=where)
    allowed = {"auditId", "balances", "type", "nonce", "hash", "height"}
    unknown = set(value) - allowed
    if unknown:
        raise InputError(f"unknown key {sorted(unknown)[0]!r}", where=where)
    for key in ("type", "height"):
        if isinstance(value.get(key), bool) or not isinstance(value.get(key), int):
            raise InputError(f"{key} must be an integer", where=f"{where}.{key}")
    return Node(
        value["type"],
        value["height"],
        parse_hash(value.get("hash"), where=f"{where}.hash"),
        parse_balances(value.get("balances"), where=f"{where}.balances"),
    )


def verify(document: Any, source: str, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (5) of ``STEPS``; ``root`` is the root hash OKX published (hex), if given."""
    proof = parse(document, source)
    return run_steps(TITLE, _steps(proof, root), proof.leaf.balances.as_dict(), proof.path[-1].balances.as_dict())


def _steps(proof: Proof, root: str | None) -> Iterator[Check]:
    yield _check(1, Status.PASS)
    yield _own_leaf(proof)  # (2)
    yield _path_shape(proof)  # (3)
    check, computed = _climb(proof)  # (4)
    yield check
    yield anchored(_check, 5, root, computed)  # (5)


def _own_leaf(proof: Proof) -> Check:
    """(2) The leaf recomputes from the user's nonce and balances."""
    computed = sha256_text(proof.nonce + proof.leaf.balances.leaf_json())
    if computed != proof.leaf.hash:
        return _check(2, Status.FAIL, "self.hash is not SHA-256(nonce || balances)", computed, proof.leaf.hash)
    return _check(2, Status.PASS, computed)


def _path_shape(proof: Proof) -> Check:
    """(3) A leaf at height 1, then one node a height, the root last and only last."""
    leaf, path = proof.leaf, proof.path
    if leaf.type not in (LEFT, RIGHT) or leaf.height != 1:
        found = f"type {leaf.type}, height {leaf.height}"
        return _check(3, Status.FAIL, "self must be a left or right leaf at height 1", "type 1 or 2, height 1", found)
    for position, node in enumerate(path):
        problem = _node_problem(node, position, last=position == len(path) - 1)
        if problem is not None:
            return _check(3, Status.FAIL, *problem)
    if len(path) < 2 or path[0].type not in (LEFT, RIGHT, PADDING) or path[0].type == leaf.type:
        detail = "path[0] must be the leaf's sibling, on the other side"
        return _check(3, Status.FAIL, detail, f"not type {leaf.type}", f"type {path[0].type}")
    return _check(3, Status.PASS, f"{len(path) - 1} siblings, root at height {path[-1].height}")


def _node_problem(node: Node, position: int, *, last: bool) -> tuple[str, str, str] | None:
    """What is wrong with ``path[position]`` (detail, expected, found), or ``None``."""
    where = f"path[{position}]"
    if last != (node.type == ROOT):
        expected = "type 3 last" if last else "type 1, 2 or 4"
        return f"{where}: the root must be the last element and only the last", expected, f"type {node.type}"
    if node.type not in (LEFT, RIGHT, ROOT, PADDING):
        return f"{where}: unknown type", "1, 2, 3 or 4", str(node.type)
    if node.height != position + 1:
        return f"{where}: heights must rise by one", str(position + 1), str(node.height)
    if node.type == PADDING and not node.balances.is_zero:
        return f"{where}: a padding node has zero balances", "0, 0, 0", ", ".join(node.balances.text)
    if not node.balances.rounded:
        detail = f"{where}: OKX's sums have at most 8 decimals; more are covered by no hash"
        return detail, "at most 8 decimals", ", ".join(node.balances.text)
    return None


def _climb(proof: Proof) -> tuple[Check, str]:
    """(4) Climbing the path gives the root; the computed root's hash."""
    leaf, path = proof.leaf, proof.path
    current_hash, current = leaf.hash, leaf.balances
    for position, sibling in enumerate(path[:-1]):
        if sibling.type != PADDING and sibling.hash == current_hash:
            detail = f"path[{position}] copies the node it pairs with, as only padding (type 4) may"
            return _check(4, Status.FAIL, detail, "type 4", f"type {sibling.type}"), current_hash
        sibling_is_left = sibling.type == LEFT if position else leaf.type == RIGHT
        left, right = (sibling.hash, current_hash) if sibling_is_left else (current_hash, sibling.hash)
        current = current + sibling.balances
        current_hash = node_hash(left, right, current, position + 2)
    top = path[-1]
    if current_hash != top.hash:
        detail = "the computed root hash differs from the file's root"
        return _check(4, Status.FAIL, detail, top.hash, current_hash), current_hash
    if current.units != top.balances.units or current.text != top.balances.text:
        expected, found = ", ".join(top.balances.text), ", ".join(current.text)
        return _check(4, Status.FAIL, "the computed root balances differ", expected, found), current_hash
    return _check(4, Status.PASS, f"root {current_hash}"), current_hash
