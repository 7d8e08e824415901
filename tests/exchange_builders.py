"""Valid proofs in other exchanges' formats, of our own making (users and balances we
choose), built with each exchange's rules as its reserves.formats module documents them,
for the valid and tampered cases."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from decimal import ROUND_DOWN, Decimal
from typing import Any

from reserves.formats.bitget import hashmap_order
from reserves.formats.coinex import SCALE, canonical
from reserves.formats.decimals import JavaDecimal, parse_decimal
from reserves.formats.mexc import Balances, format_units, parse_units, sha256_cut
from reserves.formats.poseidon import poseidon


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


def zk_proof(kind: str, amounts: dict[int, tuple[int, ...]], *, count: int, index: int = 5) -> dict[str, Any]:
    """A zk-Merkle user file (``htx`` or ``gate``) of our own making: the leaf as the
    exchanges' Go code hashes it (restated here from their code), siblings we choose, and
    the root that climbing them gives."""
    identity = int.from_bytes(hashlib.sha256(f"{kind}-user".encode()).digest(), "big") >> 8
    if kind == "htx":
        commitment = poseidon(*(abs(amounts.get(i, (0,))[0]) for i in range(count)))
    else:
        flat = [v for i in range(count) for v in amounts.get(i, (0, 0))] + [0, 0]
        commitment = poseidon(*((flat[j] << 128) + (flat[j + 1] << 64) + flat[j + 2] for j in range(0, 2 * count, 3)))
    equity, debt = 7_000_000, 0
    node = poseidon(identity, equity, debt, commitment)
    siblings = [poseidon(level, level + 1) for level in range(28)]
    for level, sibling in enumerate(siblings):
        node = poseidon(sibling, node) if index >> level & 1 else poseidon(node, sibling)
    encoded = [base64.b64encode(s.to_bytes(32, "big")).decode() for s in siblings]
    if kind == "htx":
        assets = [{"Index": i, "Balance": v[0]} for i, v in sorted(amounts.items())]
        return {
            "AccountIndex": index, "AccountIdHash": f"{identity:064x}", "TotalEquity": equity, "TotalDebt": debt,
            "Assets": assets, "Root": f"{node:064x}", "Proof": encoded,
        }  # fmt: skip
    details = [{"Index": i, "Equity": v[0], "Debt": v[1]} for i, v in sorted(amounts.items())]
    return {
        "Arrangement": index, "UniqueIdentification": f"{identity:064x}", "TotalAssetEquity": equity,
        "TotalAssetDebt": debt, "AssetDetails": details, "TreeRootHash": f"{node:064x}",
        "MerkleProofEncode": encoded,
    }  # fmt: skip


def zk_asset_list(kind: str, totals: dict[int, tuple[int, ...]], count: int) -> dict[str, Any]:
    """The asset list an exchange publishes beside its zk proofs (``config.json`` for HTX,
    ``cex_config.json`` for Gate), with ``count`` assets named a0, a1, ..."""
    if kind == "htx":
        info = [{"TotalBalance": totals.get(i, (0,))[0], "Symbol": f"a{i}", "Index": i} for i in range(count)]
        return {"ProofTable": "proof.csv", "ZkKeyName": "zkpor", "CexAssetsInfo": info}
    info = [
        {"TotalEquity": totals.get(i, (0, 0))[0], "TotalDebt": totals.get(i, (0, 0))[1], "BasePrice": 100,
         "Symbol": f"a{i}", "Index": i}
        for i in range(count)
    ]  # fmt: skip
    return {"ProofCsv": "proof.csv", "CexAssetsInfo": info}


def json_with_numbers(document: dict[str, Any]) -> str:
    """JSON with Decimal amounts written as JSON numbers, exactly as spelled (Bitget 2022)."""
    text = json.dumps(document, default=lambda d: f"@@{d}@@", indent=1)
    return re.sub(r'"@@(.*?)@@"', r"\1", text)


def bitget_proof(
    layout: str, own: dict[str, Any], siblings: list[tuple[int, dict[str, Any]]], *, file_order: bool = False
) -> dict[str, Any]:
    """A Bitget (``bitget``) or Bitunix (``bitunix``) proof of our own making, by the rules
    reserves.formats.bitget documents: the amounts are the JSON values given (strings, or
    Decimal for Bitget 2022's numbers), siblings are (side, balances), side 0 padding."""
    bitunix = layout == "bitunix"
    keys = ("merkleLeaf", "height", "type") if bitunix else ("merkelLeaf", "level", "role")
    digits = 64 if bitunix else 16
    precisions = {coin: 8 if coin != "USDT" else 6 for coin in own}

    def java(value: Any) -> JavaDecimal:
        return JavaDecimal.parse(str(value), exponent=True, where="test")

    def text(coin: str, value: JavaDecimal, *, leaf: bool) -> str:
        if isinstance(next(iter(own.values())), Decimal):
            return str(value)
        if bitunix:
            return json.dumps(value.plain(value.scale if leaf else precisions[coin]))
        return json.dumps(value.stripped())

    def canonical(balances: dict[str, JavaDecimal], order: list[str], *, leaf: bool = False) -> str:
        return "{" + ",".join(f'"{k}":{text(k, balances[k], leaf=leaf)}' for k in order) + "}"

    def cut(text_: str) -> str:
        return hashlib.sha256(text_.encode()).hexdigest()[:digits]

    def ordered(keys_: list[str]) -> list[str]:
        return keys_ if file_order and not bitunix else hashmap_order(keys_)

    uid, nonce = "7C5B35528D43F0FEF003C9D6DFFC34D5", "374C105B524AD8A44DAD60C7F6A67CC1"
    level = len(siblings) + 1
    current = {k: java(v) for k, v in own.items()}
    order = list(own) if file_order else hashmap_order(list(own))
    digest = cut(f"{uid},{nonce},{canonical(current, order, leaf=True)}")
    me = {keys[0]: digest, keys[1]: level, keys[2]: 2, "balances": dict(own), "encryptUid": uid, "nonce": nonce}
    if bitunix:
        me["precisions"] = precisions
    path, inserted = [], list(own)
    for i, (side, raw) in enumerate(siblings):
        node_level = level - i
        sibling_hash = digest if side == 0 else cut(f"sibling-{i}")
        path.append({keys[0]: sibling_hash, keys[1]: node_level, keys[2]: side, "balances": dict(raw)})
        theirs = {k: java(v) for k, v in raw.items()}
        left, right = (theirs, current) if side == 1 else (current, theirs)
        mine = inserted
        inserted = (
            list(raw) + [k for k in mine if k not in raw] if side == 1 else mine + [k for k in raw if k not in mine]
        )
        current = {k: left.get(k, JavaDecimal(0, 0)).plus(right.get(k, JavaDecimal(0, 0))) for k in inserted}
        if bitunix:
            current = {k: JavaDecimal(v.units(precisions[k]), precisions[k]) for k, v in current.items()}
        pair = (sibling_hash, digest) if side == 1 else (digest, sibling_hash)
        digest = cut(f"{pair[0]}{pair[1]},{canonical(current, ordered(inserted))},{node_level - 1}")
    totals: dict[str, Any] = {k: v.plain(max(v.scale, 0)) for k, v in current.items()}
    if isinstance(next(iter(own.values())), Decimal):
        totals = {k: Decimal(str(v)) for k, v in current.items()}
    path.append({keys[0]: digest, keys[1]: 1, keys[2]: 3, "balances": totals})
    return {"path": path, "self": me}
