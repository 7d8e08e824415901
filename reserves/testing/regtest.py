"""A small, real Bitcoin regtest chain and a loopback Esplora server over it, for the
demo and the tests. It must never be pointed at, or mistaken for, a real network.

No Bitcoin node can be installed where this project is built, so the Esplora client is
tested (and the demo runs) against this:
blocks start at the real regtest genesis block, every later block has a real header
(previous hash, merkle root of its transactions, regtest proof of work), and every
transaction is a real, signed transaction (embit) whose txid is its hash. The server
answers the Esplora endpoints the client uses, in Esplora's JSON shapes, with its
pagination (25 confirmed transactions a page, newest first, continued after a txid).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from embit import networks
from embit.ec import PrivateKey
from embit.script import Script, Witness, address_to_scriptpubkey, multisig, p2pkh, p2wpkh, p2wsh
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from reserves.testing.loopback import LoopbackServer, send_body

REGTEST = networks.NETWORKS["regtest"]
GENESIS_TIME = 1296688602
REGTEST_BITS = 0x207FFFFF
REGTEST_TARGET = 0x7FFFFF << (8 * (0x20 - 3))


def dsha(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def key(seed: int) -> PrivateKey:
    return PrivateKey(hashlib.sha256(f"reserves-test-key-{seed}".encode()).digest())


def p2wpkh_address(private: PrivateKey) -> str:
    return str(p2wpkh(private.get_public_key()).address(REGTEST))


def p2pkh_address(private: PrivateKey) -> str:
    return str(p2pkh(private.get_public_key()).address(REGTEST))


def multisig_p2wsh(m: int, keys: list[PrivateKey]) -> tuple[str, Script]:
    witness_script = multisig(m, [k.get_public_key() for k in keys])
    return str(p2wsh(witness_script).address(REGTEST)), witness_script


@dataclass
class Block:
    height: int
    hash: str
    time: int
    txs: list[Transaction]


@dataclass
class Coin:
    value: int
    script: Script
    owner: PrivateKey | None


@dataclass
class RegtestChain:
    """Mines blocks of real transactions; tracks coins so that spends can be signed."""

    blocks: list[Block] = field(default_factory=list)
    coins: dict[tuple[str, int], Coin] = field(default_factory=dict)
    prevouts: dict[tuple[str, int], Coin] = field(default_factory=dict)
    miner: PrivateKey = field(default_factory=lambda: key(0))
    address_network: str = "regtest"
    """How the server spells addresses (embit's network name). Only tests of clients that
    insist on mainnet spellings set it to ``main``: the chain itself is always regtest."""
    _owners: dict[bytes, PrivateKey] = field(default_factory=dict)
    """Keys the chain signs with, by the P2WPKH script they own."""
    _reserved: set[tuple[str, int]] = field(default_factory=set)
    """Coins already spent by a transaction built but not yet mined."""

    def __post_init__(self) -> None:
        self.blocks.append(self._genesis())

    @property
    def tip(self) -> Block:
        return self.blocks[-1]

    def _genesis(self) -> Block:
        message = b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
        script_sig = Script(bytes.fromhex("04ffff001d0104") + bytes([len(message)]) + message)
        pubkey = bytes.fromhex(
            "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6"
            "bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
        )
        coinbase = Transaction(
            version=1,
            vin=[TransactionInput(b"\x00" * 32, 0xFFFFFFFF, script_sig)],
            vout=[TransactionOutput(50 * 10**8, Script(bytes([65]) + pubkey + b"\xac"))],
        )
        header = struct.pack("<I", 1) + b"\x00" * 32 + coinbase.txid()[::-1]
        header += struct.pack("<III", GENESIS_TIME, REGTEST_BITS, 2)
        return Block(0, dsha(header)[::-1].hex(), GENESIS_TIME, [coinbase])

    def mine(self, txs: Sequence[Transaction] = ()) -> Block:
        height = len(self.blocks)
        script_sig = Script(bytes([3]) + height.to_bytes(3, "little") + b"reserves")  # BIP 34
        fees = sum(self.fee(tx) for tx in txs)
        coinbase = Transaction(
            version=2,
            vin=[TransactionInput(b"\x00" * 32, 0xFFFFFFFF, script_sig)],
            vout=[TransactionOutput(50 * 10**8 + fees, p2wpkh(self.miner.get_public_key()))],
        )
        all_txs = [coinbase, *txs]
        time_ = GENESIS_TIME + 600 * height
        prefix = struct.pack("<I", 0x20000000) + bytes.fromhex(self.tip.hash)[::-1] + merkle_root(all_txs)
        nonce = 0
        while True:
            header = prefix + struct.pack("<III", time_, REGTEST_BITS, nonce)
            digest = dsha(header)
            if int.from_bytes(digest, "little") <= REGTEST_TARGET:
                break
            nonce += 1
        block = Block(height, digest[::-1].hex(), time_, all_txs)
        self.blocks.append(block)
        for tx in all_txs:
            txid = tx.txid().hex()
            for vin in tx.vin:
                if not is_coinbase(vin):
                    self.coins.pop((vin.txid.hex(), vin.vout))
            for index, out in enumerate(tx.vout):
                coin = Coin(
                    out.value,
                    out.script_pubkey,
                    self.miner if tx is coinbase else self._owners.get(out.script_pubkey.data),
                )
                self.coins[(txid, index)] = coin
                self.prevouts[(txid, index)] = coin
        return block

    def register(self, private: PrivateKey) -> None:
        """Let the chain sign for coins paid to this key's P2WPKH address."""
        self._owners[p2wpkh(private.get_public_key()).data] = private

    def fee(self, tx: Transaction) -> int:
        spent = sum(self.coins[(vin.txid.hex(), vin.vout)].value for vin in tx.vin)
        return int(spent - sum(out.value for out in tx.vout))

    def pay(self, payer: PrivateKey, outputs: list[tuple[str, int]], fee: int = 1000) -> Transaction:
        """A signed P2WPKH transaction from ``payer``'s coins to ``(address, value)`` outputs."""
        payer_script = p2wpkh(payer.get_public_key())
        owned = [
            (op, c) for op, c in self.coins.items() if c.script.data == payer_script.data and not self._pending(op)
        ]
        needed = sum(v for _, v in outputs) + fee
        chosen, total = [], 0
        for outpoint, coin in owned:
            chosen.append((outpoint, coin))
            total += coin.value
            if total >= needed:
                break
        if total < needed:
            raise ValueError("not enough coins")
        vout = [TransactionOutput(v, address_script(a)) for a, v in outputs]
        if total > needed:
            vout.append(TransactionOutput(total - needed, payer_script))
        tx = Transaction(version=2, vin=[TransactionInput(bytes.fromhex(t), i) for (t, i), _ in chosen], vout=vout)
        script_code = p2pkh(payer.get_public_key())
        for index, (_, coin) in enumerate(chosen):
            digest = tx.sighash_segwit(index, script_code, coin.value)
            signature = payer.sign(digest).serialize() + b"\x01"
            tx.vin[index].witness = Witness([signature, payer.get_public_key().sec()])
        self._reserved.update(op for op, _ in chosen)
        return tx

    def _pending(self, outpoint: tuple[str, int]) -> bool:
        return outpoint in self._reserved

    def esplora_tx(self, tx: Transaction, block: Block) -> dict[str, Any]:
        """The transaction in Esplora's JSON shape."""
        vin = []
        for item in tx.vin:
            entry: dict[str, Any] = {
                "txid": item.txid.hex(),
                "vout": item.vout,
                "scriptsig": item.script_sig.data.hex(),
                "witness": [w.hex() for w in item.witness.items],
                "is_coinbase": is_coinbase(item),
                "sequence": item.sequence,
            }
            if is_coinbase(item):
                entry["prevout"] = None
            else:
                coin = self.prevouts[(item.txid.hex(), item.vout)]
                entry["prevout"] = output_json(coin.value, coin.script, self.address_network)
            vin.append(entry)
        raw = tx.serialize()
        return {
            "txid": tx.txid().hex(),
            "version": tx.version,
            "locktime": tx.locktime,
            "vin": vin,
            "vout": [output_json(o.value, o.script_pubkey, self.address_network) for o in tx.vout],
            "size": len(raw),
            "weight": 4 * len(raw),
            "fee": 0 if is_coinbase(tx.vin[0]) else self._fee_of(tx),
            "status": {
                "confirmed": True,
                "block_height": block.height,
                "block_hash": block.hash,
                "block_time": block.time,
            },
        }

    def _fee_of(self, tx: Transaction) -> int:
        spent = sum(self.prevouts[(vin.txid.hex(), vin.vout)].value for vin in tx.vin)
        return int(spent - sum(o.value for o in tx.vout))

    def history(self, address: str) -> list[dict[str, Any]]:
        """Confirmed transactions touching ``address``, newest first (Esplora's order)."""
        found = []
        for block in reversed(self.blocks):
            for tx in reversed(block.txs):
                as_json = self.esplora_tx(tx, block)
                touches = any(o["scriptpubkey_address"] == address for o in as_json["vout"]) or any(
                    i["prevout"] and i["prevout"]["scriptpubkey_address"] == address for i in as_json["vin"]
                )
                if touches:
                    found.append(as_json)
        return found

    def balance(self, address: str, height: int) -> int:
        """The reference answer, from the coin set as of ``height``."""
        total = 0
        for tx in (t for b in self.blocks[: height + 1] for t in b.txs):
            for out in tx.vout:
                if _address(out.script_pubkey, self.address_network) == address:
                    total += out.value
            for vin in tx.vin:
                spent = self.prevouts[(vin.txid.hex(), vin.vout)] if not is_coinbase(vin) else None
                if spent is not None and _address(spent.script, self.address_network) == address:
                    total -= spent.value
        return total


def is_coinbase(vin: TransactionInput) -> bool:
    return bool(vin.txid == b"\x00" * 32 and vin.vout == 0xFFFFFFFF)


def merkle_root(txs: list[Transaction]) -> bytes:
    layer: list[bytes] = [bytes(tx.txid()[::-1]) for tx in txs]
    while len(layer) > 1:
        if len(layer) % 2:
            layer.append(layer[-1])
        layer = [dsha(layer[i] + layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def address_script(address: str) -> Script:
    return address_to_scriptpubkey(address)


def _address(script: Script, network: str = "regtest") -> str | None:
    try:
        return str(script.address(networks.NETWORKS[network]))
    except Exception:  # noqa: BLE001 - a bare public key has no address
        return None


def output_json(value: int, script: Script, network: str = "regtest") -> dict[str, Any]:
    return {
        "scriptpubkey": script.data.hex(),
        "scriptpubkey_type": script.script_type() or "unknown",
        "scriptpubkey_address": _address(script, network),
        "value": value,
    }


class EsploraServer(LoopbackServer):
    """Serves ``chain`` on 127.0.0.1 (a free port) in a thread; use as a context manager.

    ``fail_next`` makes the next N requests answer ``fail_status`` (429 by default) first.
    """

    def __init__(self, chain: RegtestChain) -> None:
        self.chain = chain
        self.requests: list[str] = []
        self.fail_next = 0
        self.fail_status = 429
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def answer(self, path: str) -> tuple[int, str, str]:
        parts = path.strip("/").split("/")
        chain = self.chain
        if parts[0] == "block-height" and len(parts) == 2:
            height = int(parts[1])
            if height >= len(chain.blocks):
                return 404, "text/plain", "Block not found"
            return 200, "text/plain", chain.blocks[height].hash
        if parts == ["blocks", "tip", "height"]:
            return 200, "text/plain", str(chain.tip.height)
        if parts[0] == "address" and len(parts) in (4, 5) and parts[2:4] == ["txs", "chain"]:
            history = chain.history(parts[1])
            if len(parts) == 5:
                ids = [t["txid"] for t in history]
                history = history[ids.index(parts[4]) + 1 :] if parts[4] in ids else []
            return 200, "application/json", json.dumps(history[:25])
        return 404, "text/plain", "not found"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(self.path)
                    failing = server.fail_next > 0
                    if failing:
                        server.fail_next -= 1
                if failing:
                    status, kind, body = server.fail_status, "text/plain", "Too Many Requests"
                else:
                    status, kind, body = server.answer(self.path)
                send_body(self, status, body.encode(), kind)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
