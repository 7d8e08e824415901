"""CoinEx's Merkle proof (``root``, ``self``, ``path``), as coinexcom/proof-of-reserves
hashes it:

    leaf   = SHA-256(nonce || J(balances))
    parent = SHA-256(left || right || J(left balances + right balances))
    empty  = SHA-256(node || J(node's balances))     where a path entry is ``{}``

J is Go's ``json.Marshal`` of a map of decimals: keys sorted, values quoted, written
without trailing zeros; the user's balances list only the coins they hold, and a parent's
the coins either child holds. ``pos`` says on which side the sibling sits. The empty-sibling
rule is the one CoinEx's published example follows (its code and documentation describe
``SHA-256(node || node || J)``, which does not reproduce the example's root): the example a
user downloads is the ground truth.

    (1) the file parses; amounts are plain decimals              -- exit 2 otherwise
    (2) climbing from the user's nonce and balances gives the root's hash and balances
    (3) the root is the published one
    (4) findings beyond CoinEx's validator: negative amounts
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, negative_amounts, run_steps
from reserves.formats.decimals import parse_decimal, strip_zeros

SCALE = 30
STEPS = {
    1: ("parse", "the file parses; amounts are plain decimals"),
    2: ("climb", "climbing from your nonce and balances gives the root"),
    3: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
TITLE = "CoinEx Merkle proof"
_HASH = re.compile(r"[0-9a-f]{64}")


def _recognises(document: Any) -> bool:
    return isinstance(document, dict) and set(document) == {"root", "self", "path"}


FORMAT = ProofFormat("coinex", _recognises)


@dataclass(frozen=True)
class Sibling:
    hash: str
    left: bool
    """The sibling sits on the left (``pos`` is ``left``)."""
    balances: dict[str, int]


@dataclass(frozen=True)
class Proof:
    nonce: str
    balances: dict[str, int]
    path: tuple[Sibling | None, ...]
    """``None`` where the path entry is ``{}``: no sibling at that level."""
    root_hash: str
    root_balances: dict[str, int]


def canonical(balances: dict[str, int]) -> str:
    """Go's ``json.Marshal`` of the balances: sorted keys, quoted values without trailing zeros."""
    return json.dumps({k: strip_zeros(balances[k], SCALE) for k in sorted(balances)}, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _balances(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.isascii() and k for k in value):
        raise InputError("expected an object of amounts by coin", where=where)
    return {k: parse_decimal(v, scale=SCALE, signed=True, where=f"{where}.{k}") for k, v in value.items()}


def _hash(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise InputError("expected 64 lowercase hex characters", where=where)
    return value


def parse(document: Any, source: str) -> Proof:
    if not _recognises(document):
        raise InputError("expected an object with exactly root, self and path", where=source)
    own, root = document["self"], document["root"]
    if not isinstance(own, dict) or set(own) != {"balances", "nonce"} or not isinstance(own["nonce"], str):
        raise InputError("expected balances and a nonce", where=f"{source} $.self")
    if not isinstance(root, dict) or set(root) != {"balances", "hash"}:
        raise InputError("expected balances and hash", where=f"{source} $.root")
    if not isinstance(document["path"], list) or len(document["path"]) > 64:
        raise InputError("expected an array of at most 64 entries", where=f"{source} $.path")
    path: list[Sibling | None] = []
    for i, item in enumerate(document["path"]):
        where = f"{source} $.path[{i}]"
        if item == {}:
            path.append(None)
            continue
        if (
            not isinstance(item, dict)
            or set(item) != {"balances", "hash", "pos"}
            or item["pos"] not in ("left", "right")
        ):
            raise InputError("expected {} or balances, hash and pos (left or right)", where=where)
        path.append(
            Sibling(
                _hash(item["hash"], f"{where}.hash"),
                item["pos"] == "left",
                _balances(item["balances"], f"{where}.balances"),
            )
        )
    return Proof(
        own["nonce"],
        _balances(own["balances"], f"{source} $.self.balances"),
        tuple(path),
        _hash(root["hash"], f"{source} $.root.hash"),
        _balances(root["balances"], f"{source} $.root.balances"),
    )


def verify(document: Any, source: str, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (3) and the findings of the module docstring."""
    proof = parse(document, source)
    balances = {k: strip_zeros(v, SCALE) for k, v in proof.balances.items()}
    totals = {k: strip_zeros(v, SCALE) for k, v in proof.root_balances.items()}
    return run_steps(TITLE, _steps(proof, root), balances, totals, anchor_step=3)


def _steps(proof: Proof, root: str | None) -> Iterator[Check]:
    yield _check(1, Status.PASS, f"{len(proof.path)} levels")
    check, computed = _climb(proof)  # (2)
    yield check
    yield anchored(_check, 3, root, computed)  # (3)
    nodes = [("self", proof.balances), *((f"path[{i}]", s.balances) for i, s in enumerate(proof.path) if s)]
    negative = [f"{where} {coin}" for where, held in nodes for coin, v in sorted(held.items()) if v < 0]
    yield negative_amounts(negative, step=4)


def _climb(proof: Proof) -> tuple[Check, str]:
    """(2) The leaf from the nonce and the balances, then every parent, to the root."""
    current, sums = _sha(proof.nonce + canonical(proof.balances)), dict(proof.balances)
    for sibling in proof.path:
        if sibling is None:
            current = _sha(current + canonical(sums))
            continue
        for coin, amount in sibling.balances.items():
            sums[coin] = sums.get(coin, 0) + amount
        left, right = (sibling.hash, current) if sibling.left else (current, sibling.hash)
        current = _sha(left + right + canonical(sums))
    if current != proof.root_hash:
        detail = "the computed root hash differs from the file's root"
        return _check(2, Status.FAIL, detail, proof.root_hash, current), current
    if canonical(sums) != canonical(proof.root_balances):
        detail = "the computed root balances differ"
        return _check(2, Status.FAIL, detail, canonical(proof.root_balances), canonical(sums)), current
    return _check(2, Status.PASS, f"root {current}"), current
