"""Valid MEXC proofs of our own making (users and balances we choose), built with MEXC's
rules as reserves.formats.mexc documents them, for the valid and tampered cases."""

from __future__ import annotations

from typing import Any

from reserves.formats.mexc import Balances, format_units, parse_units, sha256_cut


def _balances(raw: dict[str, str]) -> Balances:
    return Balances({k: parse_units(v, where="test") for k, v in raw.items()}, dict(raw))


def mexc_proof(
    own: dict[str, str], siblings: list[tuple[int, dict[str, str]]], proof_id: str = "PR-T"
) -> dict[str, Any]:
    """A proof for account 42 holding ``own``; ``siblings`` are (type, balances) at levels
    0, 1, … (type 0: an empty level, left out of the file). Leaves of siblings hash their
    own made-up ids."""
    text = ",".join(f"{k}:{own[k]}" for k in sorted(own))
    current = sha256_cut(f"{proof_id},42,{text}")
    document: dict[str, Any] = {
        "self": {"level": 0, "type": 1, "hash": current, "balances": dict(own), "proofId": proof_id, "accountId": "42"},
        "pathList": [],
    }
    balances = _balances(own)
    for level, (side, raw) in enumerate(siblings):
        if side == 0:
            current = sha256_cut(f"{current},,{balances.node_text()}")
            continue
        sibling = _balances(raw)
        sibling_hash = sha256_cut(f"sibling-{level}")
        if side == 1:
            left, right, balances = sibling_hash, current, sibling.plus(balances)
        else:
            left, right, balances = current, sibling_hash, balances.plus(sibling)
        current = sha256_cut(f"{left},{right},{balances.node_text()}")
        document["pathList"].append({"level": level, "type": side, "hash": sibling_hash, "balances": dict(raw)})
    root = {k: format_units(v) for k, v in balances.units.items()}
    document["pathList"].append({"level": len(siblings), "type": 3, "hash": current, "balances": root})
    return document
