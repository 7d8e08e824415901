"""A small exchange with real reserves: EVM wallets on anvil (ETH and an ERC-20 USDT)
and Bitcoin wallets on a regtest chain served over Esplora. Blocks are pinned, then
funds move, so that reading at 'latest' would give other numbers than the pinned block."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from evm_node import Anvil, anvil, deploy_safe, deploy_token, send_ether, transfer_token

from reserves.control.signatures import bitcoin_public_key
from reserves.testing.regtest import EsploraServer, RegtestChain, key, multisig_p2wsh, p2pkh_address, p2wpkh_address

ETHER = 10**18
BTC = 10**8

# Reserves at the pinned blocks (smallest units of each asset).
COLD_ETH = 250 * ETHER
HOT_ETH = 20 * ETHER
COLD_USDT = 1_000_000 * 10**6
BTC_PAYMENTS = 30  # to the cold wallet: more than one Esplora page
COLD_BTC = BTC_PAYMENTS * BTC
MULTISIG_BTC = 7 * BTC
HOT_BTC = BTC // 2

SAFE_OWNER_KEYS = [bytes([0x31]) * 32, bytes([0x32]) * 32, bytes([0x33]) * 32]
"""The 2-of-3 Safe holding the cold ETH and USDT: custodians a, b and c."""
EVM_HOT_KEY = b"\x22" * 32
VAULT_SEEDS = (10, 11, 12)
"""The 2-of-3 Bitcoin vault's keys: custodians a, b and c again."""


@dataclass
class World:
    node: Anvil
    esplora: EsploraServer
    chain: RegtestChain
    token: str
    evm_cold: str
    evm_hot: str
    btc_cold: str
    btc_multisig: str
    btc_multisig_script: str
    btc_hot: str
    evm_block: int
    btc_block: int

    def reserves_file(self, directory: Path, **overrides: Any) -> Path:
        document: dict[str, Any] = {
            "chains": {
                "ethereum": {"kind": "evm", "chain_id": 31337, "native_asset": "ETH", "block": self.evm_block},
                "bitcoin": {"kind": "bitcoin", "network": "regtest", "native_asset": "BTC", "block": self.btc_block},
            },
            "tokens": [{"chain": "ethereum", "asset": "USDT", "contract": self.token, "decimals": 6}],
            "wallets": [
                {
                    "chain": "ethereum",
                    "address": self.evm_cold,
                    "kind": "cold",
                    "label": "eth-cold",
                    "assets": ["ETH", "USDT"],
                    "claimed": {"ETH": "250", "USDT": "1000000"},
                },
                {"chain": "ethereum", "address": self.evm_hot, "kind": "hot", "label": "eth-hot", "assets": ["ETH"]},
                {
                    "chain": "bitcoin",
                    "address": self.btc_cold,
                    "kind": "hot",
                    "label": "btc-deposit",
                    "assets": ["BTC"],
                },
                {
                    "chain": "bitcoin",
                    "address": self.btc_multisig,
                    "kind": "cold",
                    "label": "btc-vault",
                    "assets": ["BTC"],
                    "script": self.btc_multisig_script,
                },
                {"chain": "bitcoin", "address": self.btc_hot, "kind": "hot", "label": "btc-hot", "assets": ["BTC"]},
            ],
            "keyholders": [
                {
                    "name": f"custodian-{name}",
                    "keys": [Account.from_key(owner).address, bitcoin_public_key(key(seed).secret).hex()],
                }
                for name, owner, seed in zip("abc", SAFE_OWNER_KEYS, VAULT_SEEDS, strict=True)
            ],
        }
        document.update(overrides)
        path = directory / "reserves.json"
        path.write_text(json.dumps(document, indent=2))
        return path

    def signing_keys(self, directory: Path, **overrides: list[bytes]) -> Path:
        """The exchange's keys by wallet label (what ``reserves sign --keys`` reads)."""
        keys = {
            "eth-cold": SAFE_OWNER_KEYS[:2],
            "eth-hot": [EVM_HOT_KEY],
            "btc-deposit": [bytes(key(1).secret)],
            "btc-vault": [bytes(key(10).secret), bytes(key(12).secret)],
            "btc-hot": [bytes(key(2).secret)],
        }
        keys.update(overrides)
        path = directory / "keys.json"
        path.write_text(json.dumps({label: [k.hex() for k in ks] for label, ks in keys.items()}))
        return path


def liabilities_csv(directory: Path, btc: str = "35", eth: str = "200", usdt: str = "900000") -> Path:
    """Three accounts whose totals are the given amounts (split unevenly)."""
    path = directory / "liabilities.csv"
    path.write_text(
        "account,BTC,ETH,USDT\n"
        f"alice@example.com,1,{eth},0\n"
        f"bob@example.com,{int(btc) - 1},0,{usdt}\n"
        "carol@example.com,0,0,0\n"
    )
    return path


@contextmanager
def world(*anvil_options: str) -> Iterator[World]:
    with ExitStack() as stack:
        node = stack.enter_context(anvil(*anvil_options))
        w3 = node.web3
        token = deploy_token(w3, "USDT", 6, 10**15)
        evm_cold = deploy_safe(w3, [Account.from_key(k).address for k in SAFE_OWNER_KEYS], 2)
        evm_hot = Account.from_key(EVM_HOT_KEY).address
        send_ether(w3, evm_cold, COLD_ETH)
        send_ether(w3, evm_hot, HOT_ETH)
        transfer_token(w3, token, evm_cold, COLD_USDT)
        evm_block = w3.eth.block_number
        # After the pinned block: inflows that must not count.
        send_ether(w3, evm_cold, 1000 * ETHER)
        transfer_token(w3, token, evm_cold, 5 * 10**6)

        chain = RegtestChain()
        cold_key = key(1)
        chain.register(cold_key)
        for _ in range(101 + BTC_PAYMENTS):
            chain.mine()
        btc_cold = p2wpkh_address(cold_key)
        btc_multisig, witness_script = multisig_p2wsh(2, [key(seed) for seed in VAULT_SEEDS])
        btc_hot = p2pkh_address(key(2))
        for _ in range(BTC_PAYMENTS):  # one payment a block: 30 transactions, two pages
            chain.mine([chain.pay(chain.miner, [(btc_cold, BTC)])])
        chain.mine([chain.pay(chain.miner, [(btc_multisig, MULTISIG_BTC), (btc_hot, HOT_BTC)])])
        btc_block = chain.tip.height
        # After the pinned height: the cold wallet spends, and receives.
        chain.mine([chain.pay(cold_key, [(p2wpkh_address(key(3)), 5 * BTC)])])
        chain.mine([chain.pay(chain.miner, [(btc_cold, 9 * BTC)])])
        server = stack.enter_context(EsploraServer(chain))
        yield World(
            node,
            server,
            chain,
            token,
            evm_cold,
            evm_hot,
            btc_cold,
            btc_multisig,
            witness_script.data.hex(),
            btc_hot,
            evm_block,
            btc_block,
        )
