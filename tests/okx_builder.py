"""Builds OKX-format files (v1 proofs, v2 user files and trees, address CSVs) from
balances and real keys, following the rules the example files were checked against."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from reserves.formats.okx import Balances, format_units, node_hash, parse_balances, sha256_text

UNIT = 10**18


def balances(btc: str, eth: str, usdt: str) -> Balances:
    return parse_balances({"BTC": btc, "ETH": eth, "USDT": usdt}, where="builder")


@dataclass
class Tree:
    levels: list[list[tuple[str, Balances]]]
    """levels[0] are the leaves, left to right, padding included where a level is odd."""

    @property
    def root(self) -> tuple[str, Balances]:
        return self.levels[-1][0]


def build_tree(leaves: list[tuple[str, Balances]]) -> Tree:
    levels = []
    current = list(leaves)
    height = 1
    while True:
        if len(current) > 1 and len(current) % 2:
            current = [*current, (current[-1][0], Balances.zero())]
        levels.append(current)
        if len(current) == 1:
            return Tree(levels)
        height += 1
        parents = []
        for i in range(0, len(current), 2):
            (lh, lb), (rh, rb) = current[i], current[i + 1]
            sums = lb + rb
            parents.append((node_hash(lh, rh, sums, height), sums))
        current = parents


def v1_leaf(nonce: str, own: Balances) -> str:
    return sha256_text(nonce + own.leaf_json())


def v1_proof(nonces: list[str], users: list[Balances], index: int) -> dict[str, Any]:
    tree = build_tree([(v1_leaf(n, b), b) for n, b in zip(nonces, users, strict=True)])
    position = index
    own_hash, own = tree.levels[0][index]
    document: dict[str, Any] = {
        "self": {
            "auditId": "1",
            "balances": own.as_dict(),
            "type": 1 if index % 2 == 0 else 2,
            "nonce": nonces[index],
            "hash": own_hash,
            "height": 1,
        },
        "path": [],
    }
    for height, level in enumerate(tree.levels[:-1], 1):
        sibling = position ^ 1
        sibling_hash, sibling_balances = level[sibling]
        padding = sibling == len(level) - 1 and sibling_balances.is_zero and level[sibling - 1][0] == sibling_hash
        kind = 4 if padding else (1 if sibling % 2 == 0 else 2)
        document["path"].append(
            {
                "auditId": "1",
                "balances": sibling_balances.as_dict(),
                "type": kind,
                "hash": sibling_hash,
                "height": height,
            }
        )
        position //= 2
    root_hash, root = tree.root
    document["path"].append(
        {"auditId": "1", "balances": root.as_dict(), "type": 3, "hash": root_hash, "height": len(tree.levels)}
    )
    return document


def v2_files(users: list[tuple[str, list[Balances]]]) -> tuple[list[dict[str, Any]], str, str]:
    """User files (one per user), the full tree file's text, and the root hash."""
    user_files, leaves = [], []
    for nonce, parts in users:
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        user_hash = sha256_text(nonce + total.leaf_json())
        nodes = [{"balances": p.as_dict(), "hash": sha256_text(user_hash + p.concatenated())} for p in parts]
        user_files.append({"hash": user_hash, "nodes": nodes, "nonce": nonce, "totalBalances": total.as_dict()})
        leaves += [(n["hash"], p) for n, p in zip(nodes, parts, strict=True)]
    tree = build_tree(leaves)
    lines = []
    for height in range(len(tree.levels), 0, -1):  # root first, each level right to left
        for node_hash_, node_balances in reversed(tree.levels[height - 1]):
            lines.append(f"{node_hash_},{height},{node_balances.leaf_json()}")
    return user_files, "\n".join(lines) + "\n", tree.root[0]


def nonce(i: int) -> str:
    return hashlib.sha256(f"nonce-{i}".encode()).hexdigest()


def amount(units: int) -> str:
    return format_units(units)


# -- address ownership ---------------------------------------------------------------------


def okx_evm_sign(message: str, private_key: bytes) -> str:
    signed = Account.sign_message(encode_defunct(primitive=keccak(text=message)), private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def okx_btc_sign(message: str, private_key: bytes, header_offset: int = 4) -> str:
    magic = b"Bitcoin Signed Message:\n"
    body = message.encode()
    digest = hashlib.sha256(hashlib.sha256(bytes([len(magic)]) + magic + bytes([len(body)]) + body).digest()).digest()
    recoverable = PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return base64.b64encode(bytes([27 + header_offset + recoverable[64]]) + recoverable[:64]).decode()


HEADER = (
    "coin,Network,Snapshot Height,address,amount,message,signature1,signature2,redeem script/ public key, eoa1, eoa2"
)


def csv_text(rows: list[list[str]], summary: bool = True) -> str:
    lines = ["coin,snapshot height,amount", "ETH,-,1", ""] if summary else []
    lines.append(HEADER)
    lines += [",".join(row) for row in rows]
    return "\n".join(lines) + "\n"


def json_text(document: Any) -> str:
    return json.dumps(document, indent=2)
