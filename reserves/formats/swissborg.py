"""SwissBorg's proof of liabilities (SwissBorg/proof-of-liabilities): a user file
(``userLiab``: the user's leaves, one Merkle sum tree per currency) checked against the
audit roots SwissBorg publishes (``auditRoots``) and the user's own credential:

    audit nonce    aN = HMAC(credential, "SB PoL - Audit nonce derivation," auditId)
    tree nonce     mN = HMAC(aN, "SB PoL - Currency Merkle tree nonce derivation," currency)
    leaf nonce     lN = HMAC(mN, "SB PoL - Leaf nonce derivation," leafIndex)
    leaf           SHA-256("leaf," lN "," userId "," liability)
    inner node     SHA-256("inner," leftSum "," rightSum "," leftHash "," rightHash)
    commitment     SHA-256("SB PoL - Audit commitment hash" ("," id "," liability "," root)…)

HMAC keys are the previous values as text; amounts are written without trailing zeros;
the partitions of the commitment run by upper-case currency. The tree is heap-indexed: a
leaf ``i`` under ``d`` witnesses sits at ``i + 2^d - 1``, an odd index is a left child.
Leaves and witnesses hold positive amounts. Only the user's credential makes their
leaves: nobody else can tell which leaves are theirs.

    (1) both files parse; amounts are positive plain decimals     -- exit 2 otherwise
    (2) the audit commitment recomputes from its partitions
    (3) the user file is for this audit and its partitions
    (4) each leaf recomputes from the credential and climbs to its partition's root
    (5) the audit is the published one (the audit roots file; ``--root`` its commitment)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, run_steps
from reserves.formats.decimals import parse_decimal, strip_zeros
from reserves.strict_json import load_json

SCALE = 30
STEPS = {
    1: ("parse", "both files parse; amounts are positive plain decimals"),
    2: ("audit-commitment", "the audit commitment recomputes from its partitions"),
    3: ("audit-identity", "the user file is for this audit and its partitions"),
    4: ("leaves", "each leaf recomputes from your credential and climbs to its partition's root"),
    5: ("root-published", "the audit is the published one"),
}
_check = step_checks(STEPS)
TITLE = "SwissBorg proof of liabilities"
_HASH = re.compile(r"[0-9a-f]{64}")


def _recognises(document: Any) -> bool:
    return isinstance(document, dict) and set(document) == {"audit_id", "liabilities", "user_id"}


FORMAT = ProofFormat("swissborg", _recognises)


@dataclass(frozen=True)
class Witness:
    digest: str
    liability: int


@dataclass(frozen=True)
class Leaf:
    partition: str
    liability: int
    index: int
    witnesses: tuple[Witness, ...]


@dataclass(frozen=True)
class Partition:
    id: str
    currency: str
    liability: int
    digest: str


@dataclass(frozen=True)
class Audit:
    id: str
    digest: str
    partitions: dict[str, Partition]


def parse_units(text: object, *, where: str) -> int:
    return parse_decimal(text, scale=SCALE, signed=False, where=where)


def format_units(units: int) -> str:
    """decimal.js ``toString()``: no trailing zeros, no exponent."""
    return strip_zeros(units, SCALE)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or "," in value:
        raise InputError("expected a non-empty string without commas", where=where)
    return value


def _hash(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise InputError("expected 64 lowercase hex characters", where=where)
    return value


def parse_audit(path: Path) -> Audit:
    """SwissBorg's published audit roots (``auditRoots_*.json``)."""
    document = load_json(path)
    source = str(path)
    audit = document.value.get("audit") if set(document.value) == {"audit"} else None
    if not isinstance(audit, dict) or not {"commitment", "id", "partitions"} <= set(audit):
        raise InputError("expected SwissBorg's audit roots: audit with commitment, id and partitions", where=source)
    partitions: dict[str, Partition] = {}
    for i, item in enumerate(audit["partitions"] if isinstance(audit["partitions"], list) else []):
        where = f"{source} $.audit.partitions[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("commitment"), dict):
            raise InputError("expected an object with commitment, currency and id", where=where)
        commitment = item["commitment"]
        partition = Partition(
            _text(item.get("id"), f"{where}.id"),
            _text(item.get("currency"), f"{where}.currency"),
            parse_units(commitment.get("liability"), where=f"{where}.commitment.liability"),
            _hash(commitment.get("digest"), f"{where}.commitment.digest"),
        )
        partitions[partition.id] = partition
    if not partitions:
        raise InputError("expected a non-empty array of partitions", where=f"{source} $.audit.partitions")
    commitment = audit["commitment"] if isinstance(audit["commitment"], dict) else {}
    digest = _hash(commitment.get("digest"), f"{source} $.audit.commitment.digest")
    return Audit(_text(audit["id"], f"{source} $.audit.id"), digest, partitions)


def parse_leaves(document: Any, source: str) -> tuple[str, str, tuple[Leaf, ...]]:
    """The user file: its audit id, user id and leaves."""
    if not _recognises(document) or not isinstance(document["liabilities"], list) or not document["liabilities"]:
        raise InputError("expected audit_id, user_id and a non-empty array of liabilities", where=source)
    leaves = []
    for i, item in enumerate(document["liabilities"]):
        where = f"{source} $.liabilities[{i}]"
        proof = item.get("proof") if isinstance(item, dict) else None
        if not isinstance(proof, dict) or not isinstance(proof.get("witnesses"), list):
            raise InputError("expected audit_partition_id, liability and a proof with witnesses", where=where)
        index = proof.get("leaf_index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1 << len(proof["witnesses"]):
            raise InputError("leaf_index must be an integer below 2^(number of witnesses)", where=f"{where}.proof")
        witnesses = tuple(
            Witness(
                _hash(w.get("digest"), f"{where}.proof.witnesses[{j}].digest"),
                parse_units(w.get("liability"), where=f"{where}.proof.witnesses[{j}].liability"),
            )
            if isinstance(w, dict)
            else _not_an_object(f"{where}.proof.witnesses[{j}]")
            for j, w in enumerate(proof["witnesses"])
        )
        leaves.append(
            Leaf(
                _text(item.get("audit_partition_id"), f"{where}.audit_partition_id"),
                parse_units(item.get("liability"), where=f"{where}.liability"),
                index,
                witnesses,
            )
        )
    return (
        _text(document["audit_id"], f"{source} $.audit_id"),
        _text(document["user_id"], f"{source} $.user_id"),
        tuple(leaves),
    )


def _not_an_object(where: str) -> Witness:
    raise InputError("expected an object with digest and liability", where=where)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hmac(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    document: Any, source: str, audit_path: Path, credential: str, *, root: str | None = None
) -> FormatVerification:
    """Steps (1) to (5) of the module docstring."""
    audit_id, user_id, leaves = parse_leaves(document, source)
    audit = parse_audit(audit_path)
    held: dict[str, int] = {}
    for leaf in leaves:
        partition = audit.partitions.get(leaf.partition)
        currency = partition.currency if partition else leaf.partition
        held[currency] = held.get(currency, 0) + leaf.liability
    totals = {p.currency: format_units(p.liability) for p in audit.partitions.values() if p.currency in held}
    balances = {currency: format_units(units) for currency, units in held.items()}
    steps = _steps(audit, audit_id, user_id, leaves, credential, root)
    return run_steps(TITLE, steps, balances, totals)


def _steps(
    audit: Audit, audit_id: str, user_id: str, leaves: tuple[Leaf, ...], credential: str, root: str | None
) -> Iterator[Check]:
    yield _check(1, Status.PASS, f"{len(leaves)} leaves in {len({leaf.partition for leaf in leaves})} partitions")
    yield _commitment(audit)  # (2)
    yield _identity(audit, audit_id, leaves)  # (3)
    yield _leaves(audit, user_id, leaves, credential)  # (4)
    yield anchored(_check, 5, root, audit.digest, published_tree=True)  # (5)


def _commitment(audit: Audit) -> Check:
    """(2) The audit commitment over every partition's id, liability and root."""
    parts = sorted(audit.partitions.values(), key=lambda p: p.currency.upper())
    text = "".join(f",{p.id},{format_units(p.liability)},{p.digest}" for p in parts)
    computed = _sha("SB PoL - Audit commitment hash" + text)
    if computed != audit.digest:
        return _check(2, Status.FAIL, "the commitment does not recompute from the partitions", audit.digest, computed)
    return _check(2, Status.PASS, f"{computed} over {len(parts)} partitions")


def _identity(audit: Audit, audit_id: str, leaves: tuple[Leaf, ...]) -> Check:
    """(3) The user file names this audit and partitions that are in it."""
    if audit_id != audit.id:
        return _check(3, Status.FAIL, "the user file is for another audit", audit.id, audit_id)
    unknown = [leaf.partition for leaf in leaves if leaf.partition not in audit.partitions]
    if unknown:
        return _check(
            3, Status.FAIL, "a partition of the user file is not in the audit", "a listed partition", unknown[0]
        )
    return _check(3, Status.PASS, f"audit {audit.id}")


def _leaves(audit: Audit, user_id: str, leaves: tuple[Leaf, ...], credential: str) -> Check:
    """(4) Every leaf from the credential's nonce chain, climbed to its partition's root."""
    audit_nonce = _hmac(credential, "SB PoL - Audit nonce derivation," + audit.id)
    for number, leaf in enumerate(leaves):
        partition = audit.partitions[leaf.partition]
        if leaf.liability <= 0 or any(w.liability <= 0 for w in leaf.witnesses):
            return _check(4, Status.FAIL, f"leaf {number}: amounts must be positive", "> 0", "0")
        tree_nonce = _hmac(audit_nonce, "SB PoL - Currency Merkle tree nonce derivation," + partition.currency)
        nonce = _hmac(tree_nonce, f"SB PoL - Leaf nonce derivation,{leaf.index}")
        digest, total = _climb(_sha(f"leaf,{nonce},{user_id},{format_units(leaf.liability)}"), leaf)
        if (digest, total) != (partition.digest, partition.liability):
            detail = f"leaf {number} ({partition.currency}) does not climb to its partition's root"
            detail += " (is the credential yours?)"
            found = f"{digest} ({format_units(total)})"
            return _check(4, Status.FAIL, detail, f"{partition.digest} ({format_units(partition.liability)})", found)
    return _check(4, Status.PASS, f"{len(leaves)} leaves climb to their partitions' roots")


def _climb(digest: str, leaf: Leaf) -> tuple[str, int]:
    """Up the heap-indexed tree: both children's sums are in every inner node's hash."""
    index, total = leaf.index + (1 << len(leaf.witnesses)) - 1, leaf.liability
    for witness in leaf.witnesses:
        mine, theirs = format_units(total), format_units(witness.liability)
        if index % 2 == 1:
            digest = _sha(f"inner,{mine},{theirs},{digest},{witness.digest}")
        else:
            digest = _sha(f"inner,{theirs},{mine},{witness.digest},{digest}")
        total, index = total + witness.liability, (index - 1) // 2
    return digest, total
