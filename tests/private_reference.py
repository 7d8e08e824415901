"""A plain transcription of docs/spec/FORMAT-2.md, written apart from ``reserves``' builder:
every node is computed from its definition (recursively, node by node), commitments through
secp256k1-zkp's ``pedersen_commit`` (the library's own, not the builder's coincurve path),
and the files assembled as dicts written by ``json.dumps``.

It makes the vectors in fixtures/vectors-v2/ (``python tests/private_reference.py``) and
the tests compare the fast path (``reserves publish --private-sums``, ``reserves proof``)
with it byte for byte. It shares nothing with ``reserves`` but the CSV reader.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coincurve import PublicKey
from embit.util import ctypes_secp256k1 as zkp

from reserves.liabilities.csv_file import read_liabilities

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def th(tag: str, *parts: bytes) -> bytes:
    prefix = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(prefix + prefix + b"".join(parts)).digest()


def lp(text: str | bytes) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return len(raw).to_bytes(2, "big") + raw


def u8(x: int) -> bytes:
    return x.to_bytes(1, "big")


def u16(x: int) -> bytes:
    return x.to_bytes(2, "big")


def u64(x: int) -> bytes:
    return x.to_bytes(8, "big")


def u256(x: int) -> bytes:
    return x.to_bytes(32, "big")


def sec1_from_zkp(serialised: bytes, residue_prefix: int) -> bytes:
    """§2.2 / §2.4: secp256k1-zkp names y by quadratic residuosity; SEC1 by parity."""
    x = int.from_bytes(serialised[1:], "big")
    y0 = pow((x**3 + 7) % P, (P + 1) // 4, P)
    y = y0 if serialised[0] == residue_prefix else P - y0
    return bytes([2 + (y & 1)]) + serialised[1:]


@dataclass
class Snapshot:
    exchange: str
    snapshot_id: str
    cutoff: int
    cutoff_text: str
    assets: list[tuple[str, int]]
    ids: list[str]
    rows: list[list[int]]
    secret: bytes
    round_holders: int = 1
    memo: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)

    def holders(self, a: int) -> list[tuple[bytes, str | bytes, int]]:
        """(order_key, id, balance) of the asset's holders and dummy holders (§5.5), in slot order (§5)."""
        held: list[tuple[str | bytes, int]] = [
            (i, row[a]) for i, row in zip(self.ids, self.rows, strict=True) if row[a]
        ]
        dummies = -len(held) % self.round_holders
        held += [(b"\xff" + u16(a) + u64(j), 0) for j in range(dummies)]
        keyed = [(hmac.digest(self.secret, b"order/2" + u16(a) + lp(i), "sha256"), i, v) for i, v in held]
        return sorted(keyed, key=lambda holder: holder[0])

    def count(self, a: int) -> int:
        return len(self.holders(a))

    def height(self, a: int) -> int:
        return (self.count(a) - 1).bit_length() if self.count(a) > 1 else 0

    def total(self, a: int) -> int:
        return sum(row[a] for row in self.rows)

    @property
    def ctx2(self) -> bytes:
        parts = [lp(self.exchange), lp(self.snapshot_id), u64(self.cutoff), u16(len(self.assets))]
        for a, (symbol, decimals) in enumerate(self.assets):
            parts += [lp(symbol), u8(decimals), u64(self.count(a)), u8(self.height(a)), u8(self.total(a).bit_length())]
        return th("reserves/v2/context", *parts)

    def generator(self, a: int) -> bytes:
        """The 64-byte secp256k1-zkp generator H_a (§2.2)."""
        return zkp.generator_generate(th("reserves/v2/generator", self.ctx2, u16(a)))

    def generator_sec1(self, a: int) -> bytes:
        return sec1_from_zkp(zkp.generator_serialize(self.generator(a)), 0x0A)

    def commitment(self, r: int, v: int, a: int) -> bytes:
        """commit(r, v, H_a) in SEC1 (§2.3), through secp256k1-zkp's pedersen_commit."""
        native = zkp.pedersen_commit(u256(r), v, self.generator(a))
        return sec1_from_zkp(zkp.pedersen_commitment_serialize(native), 0x08)

    def mac(self, label: bytes, *parts: bytes) -> bytes:
        return hmac.digest(self.secret, label + b"".join(parts), "sha256")

    def node(self, a: int, level: int, index: int) -> dict[str, Any]:
        """(hash, C, v, r) of node (level, index) of asset a, by its definition (§5.1, §5.2)."""
        return _node(self, a, level, index)


def _node(s: Snapshot, a: int, level: int, index: int) -> dict[str, Any]:
    key = (a, level, index)
    if key in s.memo:
        return s.memo[key]
    ctx = s.ctx2
    holders = s.holders(a)
    if index << level >= len(holders):
        r = 1 + int.from_bytes(th("reserves/v2/pad-blind", ctx, u16(a), u8(level), u64(index)), "big") % (N - 1)
        c = PublicKey.from_secret(u256(r)).format()
        node = {
            "hash": th("reserves/v2/pad", ctx, u16(a), u8(level), u64(index), c),
            "C": c,
            "v": 0,
            "r": r,
            "pad": True,
        }
    elif level == 0:
        _, account_id, v = holders[index]
        salt = s.mac(b"salt/2", lp(account_id))
        account = th("reserves/v2/account", ctx, lp(account_id), salt)
        r = 1 + int.from_bytes(s.mac(b"blind/2", u16(a), lp(account_id)), "big") % (N - 1)
        c = s.commitment(r, v, a)
        node = {
            "hash": th("reserves/v2/leaf", ctx, u16(a), u64(index), account, c),
            "C": c,
            "v": v,
            "r": r,
            "pad": False,
        }
    else:
        left, right = _node(s, a, level - 1, 2 * index), _node(s, a, level - 1, 2 * index + 1)
        c = PublicKey.combine_keys([PublicKey(left["C"]), PublicKey(right["C"])]).format()
        digest = th(
            "reserves/v2/node", ctx, u16(a), u8(level), u64(index), left["hash"], left["C"], right["hash"], right["C"]
        )
        node = {"hash": digest, "C": c, "v": left["v"] + right["v"], "r": (left["r"] + right["r"]) % N, "pad": False}
    s.memo[key] = node
    return node


def amount(value: int, decimals: int) -> str:
    whole, fraction = divmod(value, 10**decimals)
    text = str(whole)
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    return text


def snapshot_object(s: Snapshot) -> dict[str, Any]:
    """§6.1's commitment fields and §5.3's root."""
    trees, root_parts = [], [s.ctx2]
    for a, (symbol, decimals) in enumerate(s.assets):
        count, total = s.count(a), s.total(a)
        root = None
        root_parts.append(u64(total))
        if count:
            top = s.node(a, s.height(a), 0)
            root = {"hash": top["hash"].hex(), "commitment": top["C"].hex(), "blinding": u256(top["r"]).hex()}
            root_parts += [top["hash"], top["C"], u256(top["r"])]
        trees.append(
            {
                "asset": symbol,
                "holders": count,
                "height": s.height(a),
                "range_bits": total.bit_length(),
                "total": amount(total, decimals),
                "root": root,
            }
        )
    return {
        "exchange": s.exchange,
        "snapshot_id": s.snapshot_id,
        "cutoff": s.cutoff_text,
        "assets": [{"symbol": symbol, "decimals": decimals} for symbol, decimals in s.assets],
        "trees": trees,
        "root": th("reserves/v2/root", *root_parts).hex(),
    }


def slot_names(s: Snapshot, a: int) -> list[str]:
    """Each slot's id; a dummy holder's (§5.5) as ``dummy:`` and its id in hex."""
    return [holder if isinstance(holder, str) else "dummy:" + holder.hex() for _, holder, _ in s.holders(a)]


def range_proof(s: Snapshot, a: int, level: int, index: int) -> bytes:
    """§5.4: the sibling's proof over [0, 2^b_a), bound to its position."""
    node = s.node(a, level, index)
    native = zkp.pedersen_commit(u256(node["r"]), node["v"], s.generator(a))
    extra = th("reserves/v2/range", s.ctx2, u16(a), u8(level), u64(index))
    nonce = s.mac(b"range/2", u16(a), u8(level), u64(index))
    bits = s.total(a).bit_length()
    return bytes(zkp.rangeproof_sign(nonce, node["v"], native, u256(node["r"]), b"", extra, s.generator(a), 0, 0, bits))


def proof_object(s: Snapshot, account_id: str) -> dict[str, Any]:
    """§6.2 for one account."""
    holdings = []
    for a, (symbol, decimals) in enumerate(s.assets):
        slots = [i for i, (_, holder, _) in enumerate(s.holders(a)) if holder == account_id]
        if not slots:
            continue
        index = slots[0]
        own = s.node(a, 0, index)
        path = []
        for level in range(s.height(a)):
            j = (index >> level) ^ 1
            sibling = s.node(a, level, j)
            entry: dict[str, Any] = {"hash": sibling["hash"].hex(), "commitment": sibling["C"].hex()}
            if not sibling["pad"]:
                entry["range_proof"] = base64.b64encode(range_proof(s, a, level, j)).decode()
            path.append(entry)
        holdings.append(
            {
                "asset": symbol,
                "index": index,
                "balance": amount(own["v"], decimals),
                "blinding": u256(own["r"]).hex(),
                "path": path,
            }
        )
    salt = s.mac(b"salt/2", lp(account_id))
    return {
        "format": "reserves-proof/2",
        "snapshot": snapshot_object(s),
        "account": {"id": account_id, "salt": salt.hex()},
        "holdings": holdings,
    }


def intermediates(s: Snapshot) -> dict[str, Any]:
    trees = []
    for a, (symbol, _) in enumerate(s.assets):
        levels = []
        for level in range(s.height(a) + 1 if s.count(a) else 0):
            width = -(-s.count(a) // (1 << level))
            levels.append(
                [
                    {
                        "hash": s.node(a, level, i)["hash"].hex(),
                        "commitment": s.node(a, level, i)["C"].hex(),
                        "value": s.node(a, level, i)["v"],
                        "blinding": u256(s.node(a, level, i)["r"]).hex(),
                        "range_extra": th("reserves/v2/range", s.ctx2, u16(a), u8(level), u64(i)).hex(),
                    }
                    for i in range(width)
                ]
            )
        trees.append(
            {
                "asset": symbol,
                "generator": s.generator_sec1(a).hex(),
                "slots": slot_names(s, a),
                "levels": levels,
            }
        )
    return {"ctx2": s.ctx2.hex(), "trees": trees}


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def load(folder: Path, spec: dict[str, Any]) -> Snapshot:
    """A vector folder's inputs: ``liabilities.csv``, ``secret`` and the identity in ``spec``."""
    decimals = dict(spec["assets"])
    liabilities = read_liabilities(folder / "liabilities.csv", decimals)
    return Snapshot(
        spec["exchange"],
        spec["snapshot_id"],
        spec["cutoff"],
        spec["cutoff_text"],
        [(a.symbol, a.decimals) for a in liabilities.assets],
        liabilities.ids,
        [list(row) for row in liabilities.balances],
        bytes.fromhex((folder / "secret").read_text()[:64]),
        spec.get("round_holders", 1),
    )


def write_vectors(folder: Path, spec: dict[str, Any]) -> None:
    s = load(folder, spec)
    sections = {"chains": {}, "tokens": [], "wallets": [], "keyholders": []}
    (folder / "snapshot.json").write_text(dump({"format": "reserves-snapshot/2", **snapshot_object(s), **sections}))
    (folder / "intermediates.json").write_text(dump(intermediates(s)))
    (folder / "proofs").mkdir(exist_ok=True)
    for number, account_id in enumerate(s.ids):
        (folder / "proofs" / f"{number}.json").write_text(dump(proof_object(s, account_id)))


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures/vectors-v2")
    specs = json.loads((root / "identities.json").read_text())
    for name, spec in specs.items():
        write_vectors(root / name, spec)
