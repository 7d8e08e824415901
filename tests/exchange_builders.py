"""Valid MEXC proofs of our own making (users and balances we choose), built with MEXC's
rules as reserves.formats.mexc documents them, for the valid and tampered cases."""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_DOWN, Decimal
from typing import Any

from reserves.formats.coinex import SCALE, canonical
from reserves.formats.decimals import parse_decimal
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


def bybit_original_proof(own: dict[str, str], siblings: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    """A Bybit proof in the 2022 four-coin format (BTC, ETH, USDT, USDC; 4 places for the
    stablecoins' sums) for balances we choose; ``siblings`` are (type, balances)."""
    order = ("BTC", "ETH", "USDT", "USDC")
    places = {"BTC": 8, "ETH": 8, "USDT": 4, "USDC": 4}
    user_hash = hashlib.sha256(b"user").hexdigest()
    current = hashlib.sha256((user_hash + "".join(own[a] for a in order)).encode()).hexdigest()
    document: dict[str, Any] = {
        "self": {"type": 1, "hash": current, "height": 1, "userHash": user_hash, "balance": dict(own)},
        "path": [],
    }
    sums = {a: Decimal(own[a]) for a in order}
    for height, (side, raw) in enumerate(siblings, 1):
        sibling_hash = hashlib.sha256(f"sibling-{height}".encode()).hexdigest()
        sums = {a: (sums[a] + Decimal(raw[a])).quantize(Decimal(1).scaleb(-places[a]), ROUND_DOWN) for a in order}
        left, right = (sibling_hash, current) if side == 1 else (current, sibling_hash)
        texts = "".join(format(sums[a], "f") for a in order)
        current = hashlib.sha256((left + right + texts + str(height + 1)).encode()).hexdigest()
        document["path"].append({"type": side, "hash": sibling_hash, "height": height, "balance": dict(raw)})
    root = {a: format(sums[a], "f") for a in order}
    document["path"].append({"type": 3, "hash": current, "height": len(siblings) + 1, "balance": root})
    return document


def coinex_proof(own: dict[str, str], siblings: list[tuple[str, dict[str, str]] | None]) -> dict[str, Any]:
    """A CoinEx proof for balances we choose; each sibling is (pos, balances) or ``None``
    for an empty level (``{}`` in the file), hashed as CoinEx's published example does."""

    def units(raw: dict[str, str]) -> dict[str, int]:
        return {k: parse_decimal(v, scale=SCALE, signed=True, where="test") for k, v in raw.items()}

    nonce = hashlib.sha256(b"coinex-user").hexdigest()
    sums = units(own)
    current = hashlib.sha256((nonce + canonical(sums)).encode()).hexdigest()
    path: list[dict[str, Any]] = []
    for level, sibling in enumerate(siblings):
        if sibling is None:
            current = hashlib.sha256((current + canonical(sums)).encode()).hexdigest()
            path.append({})
            continue
        pos, raw = sibling
        sibling_hash = hashlib.sha256(f"coinex-sibling-{level}".encode()).hexdigest()
        for coin, amount in units(raw).items():
            sums[coin] = sums.get(coin, 0) + amount
        left, right = (sibling_hash, current) if pos == "left" else (current, sibling_hash)
        current = hashlib.sha256((left + right + canonical(sums)).encode()).hexdigest()
        path.append({"balances": dict(raw), "hash": sibling_hash, "pos": pos})
    root = json.loads(canonical(sums))
    return {"root": {"balances": root, "hash": current}, "self": {"balances": dict(own), "nonce": nonce}, "path": path}
