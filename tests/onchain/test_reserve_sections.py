"""The reserve sections of snapshot.json are parsed strictly (FORMAT §6.1, §6.4, §6.5;
ATTACKS.md #9, #10, #11), and amounts convert between units without ever rounding up."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from reserves.context import Asset
from reserves.errors import InputError
from reserves.onchain.reserve_audit import reserve_ratio, to_asset_units
from reserves.onchain.reserve_sections import BitcoinChain, parse_reserve_sections
from reserves.onchain.sources import BalanceQuery
from reserves.onchain.sources.esplora import EsploraSource
from reserves.strict_json import parse_json
from reserves.testing.regtest import EsploraServer, RegtestChain, key, multisig_p2wsh, p2pkh_address, p2wpkh_address

ASSETS = (Asset("BTC", 8), Asset("ETH", 18), Asset("USDT", 6))
EVM = "0x52908400098527886E0F7030069857D2E4169EE7"
TOKEN = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
VAULT, VAULT_SCRIPT = multisig_p2wsh(2, [key(10), key(11), key(12)])
BASE: dict[str, Any] = {
    "chains": {
        "ethereum": {"kind": "evm", "chain_id": 1, "native_asset": "ETH", "block": 10, "block_hash": "ab" * 32},
        "bitcoin": {
            "kind": "bitcoin",
            "network": "regtest",
            "native_asset": "BTC",
            "block": 5,
            "block_hash": "cd" * 32,
        },
    },
    "tokens": [{"chain": "ethereum", "asset": "USDT", "contract": TOKEN, "decimals": 6}],
    "wallets": [
        {
            "chain": "ethereum",
            "address": EVM,
            "kind": "cold",
            "label": "c",
            "assets": ["ETH", "USDT"],
            "claimed": {"ETH": "1.5", "USDT": "10"},
        },
        {
            "chain": "bitcoin",
            "address": VAULT,
            "kind": "cold",
            "label": "v",
            "assets": ["BTC"],
            "script": VAULT_SCRIPT.data.hex(),
            "ownership": {"message": "m", "signatures": ["s"]},
        },
        {"chain": "bitcoin", "address": p2pkh_address(key(2)), "kind": "hot", "label": "h", "assets": ["BTC"]},
    ],
    "keyholders": [{"name": "custodian-a", "keys": ["02" + "11" * 32]}],
}


def parse(document: dict[str, Any]):  # type: ignore[no-untyped-def]
    return parse_reserve_sections(parse_json(json.dumps(document).encode(), source="s.json"), ASSETS)


def test_valid_sections_parse_and_round_trip() -> None:
    sections = parse(BASE)
    assert sections.wallets[0].claimed == {"ETH": 15 * 10**17, "USDT": 10 * 10**6}
    assert sections.wallets[1].script == VAULT_SCRIPT.data
    assert sections.token("ethereum", "USDT") is not None
    assert sections.to_json(ASSETS) == BASE


def test_evm_address_spellings_share_one_canonical_form() -> None:
    lower = copy.deepcopy(BASE)
    lower["wallets"][0]["address"] = EVM.lower()
    wallet = parse(lower).wallets[0]
    assert (wallet.address, wallet.canonical) == (EVM.lower(), EVM)


def test_bech32_upper_case_is_canonicalised() -> None:
    upper = copy.deepcopy(BASE)
    upper["wallets"][1]["address"] = VAULT.upper()
    assert parse(upper).wallets[1].canonical == VAULT


def mutated(path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    target: Any = document
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        target = target[k]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param("wallets.0.address", EVM[:-1] + "e", "has an invalid EIP-55 checksum", id="bad-checksum"),
        pytest.param("wallets.0.address", EVM[2:], "is not 0x and 40 hex digits", id="no-0x"),
        pytest.param(
            "wallets.1.address",
            VAULT[:-1] + ("q" if VAULT[-1] != "q" else "p"),
            "is not a valid Bitcoin address",
            id="bad-bech32",
        ),
        pytest.param(
            "wallets.1.address", VAULT[:10].upper() + VAULT[10:], "mixes upper and lower case", id="mixed-case-bech32"
        ),
        pytest.param(
            "wallets.2.address",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "is not an address of Bitcoin regtest",
            id="mainnet-address",
        ),
        pytest.param("wallets.1.script", KeyError, "a P2WSH wallet needs its 'script'", id="missing-script"),
        pytest.param(
            "wallets.2.script", "51", "only P2SH and P2WSH Bitcoin wallets have a script", id="needless-script"
        ),
        pytest.param("wallets.0.kind", "warm", "kind must be 'cold' or 'hot'", id="kind"),
        pytest.param(
            "wallets.0.assets",
            ["ETH", "BTC"],
            "BTC is neither the native asset of ethereum nor a token",
            id="asset-not-on-chain",
        ),
        pytest.param("wallets.0.assets", ["ETH", "ETH"], "ETH is listed twice", id="asset-twice"),
        pytest.param("wallets.0.claimed", {"ETH": "1.5"}, "missing key 'USDT'", id="claim-missing-asset"),
        pytest.param(
            "wallets.0.claimed", {"ETH": "-1", "USDT": "1"}, "amount '-1' is not a plain decimal", id="negative-claim"
        ),
        pytest.param("wallets.0.chain", "solana", "'solana' is not one of the snapshot's chains", id="unknown-chain"),
        pytest.param("wallets.0.note", "x", "unknown key 'note'", id="unknown-key"),
        pytest.param(
            "chains.ethereum.block_hash", "AB" * 32, "block_hash must be 64 lowercase hex", id="uppercase-block-hash"
        ),
        pytest.param("chains.ethereum.block", -1, "s.json: invalid JSON: negative number -1", id="negative-block"),
        pytest.param(
            "chains.ethereum.block",
            True,
            "$.chains.ethereum.block: expected an integer, found a boolean",
            id="bool-block",
        ),
        pytest.param(
            "chains.ethereum.native_asset", "SOL", "'SOL' is not one of the snapshot's assets", id="unknown-native"
        ),
        pytest.param(
            "chains.bitcoin.network", "main", "network must be one of mainnet, testnet, signet, regtest", id="network"
        ),
        pytest.param("chains.ethereum.kind", "solana", "kind must be 'evm' or 'bitcoin'", id="chain-kind"),
        pytest.param("tokens.0.asset", "ETH", "ETH is the native asset of ethereum, not a token", id="token-is-native"),
        pytest.param(
            "tokens.0.chain", "bitcoin", "'bitcoin' is not an EVM chain of this snapshot", id="token-on-bitcoin"
        ),
        pytest.param("keyholders.0.keys", "02", "expected an array", id="keys-not-array"),
    ],
)
def test_malformed_sections_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse(mutated(path, value))
    assert str(error.value).startswith("s.json")


def test_same_token_twice_is_rejected() -> None:
    document = copy.deepcopy(BASE)
    document["tokens"].append(dict(document["tokens"][0]))
    with pytest.raises(InputError, match=re.escape(f"ethereum already has a token for USDT at {TOKEN}")):
        parse(document)


@pytest.mark.parametrize(
    ("raw", "chain_decimals", "asset_decimals", "units"),
    [(1, 18, 18, 1), (123, 6, 8, 12300), (1_999_999, 18, 12, 1), (10**12 - 1, 18, 6, 0), (5, 0, 0, 5)],
)
def test_unit_conversion_rounds_down(raw: int, chain_decimals: int, asset_decimals: int, units: int) -> None:
    assert to_asset_units(raw, chain_decimals, asset_decimals) == units


@pytest.mark.parametrize(
    ("reserves", "liabilities", "text"),
    [
        (1, 1, "100.00%"),
        (2, 3, "66.66%"),
        (10**40 + 1, 10**40, "100.00%"),
        (3, 0, "n/a (no liabilities)"),
        (0, 5, "0.00%"),
    ],
)
def test_reserve_ratio_is_exact_and_rounds_down(reserves: int, liabilities: int, text: str) -> None:
    assert reserve_ratio(reserves, liabilities) == text


def test_esplora_server_of_another_network_is_caught() -> None:
    chain = RegtestChain()
    for _ in range(3):
        chain.mine()
    declared = BitcoinChain("bitcoin", "testnet", "BTC", 2, bytes.fromhex(chain.blocks[2].hash))
    with EsploraServer(chain) as server:
        checks = EsploraSource.connect(declared, server.url).identity_checks()
    assert [(c.status.value, c.detail) for c in checks] == [
        ("FAIL", "the genesis block is another network's"),
        ("PASS", chain.blocks[2].hash),
    ]
    assert checks[0].found == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def test_esplora_balance_excludes_later_blocks_and_matches_the_chain() -> None:
    chain = RegtestChain()
    owner = key(7)
    chain.register(owner)
    for _ in range(110):
        chain.mine()
    address = p2wpkh_address(owner)
    for _ in range(27):  # 27 payments: two pages
        chain.mine([chain.pay(chain.miner, [(address, 10**8)])])
    pinned = chain.tip.height
    chain.mine([chain.pay(owner, [(p2wpkh_address(key(8)), 3 * 10**8)])])
    declared = BitcoinChain("bitcoin", "regtest", "BTC", pinned, bytes.fromhex(chain.blocks[pinned].hash))
    with EsploraServer(chain) as server:
        source = EsploraSource.connect(declared, server.url)
        assert source.balance(BalanceQuery(address)) == 27 * 10**8 == chain.balance(address, pinned)
        later = BitcoinChain("bitcoin", "regtest", "BTC", chain.tip.height, bytes.fromhex(chain.tip.hash))
        assert EsploraSource.connect(later, server.url).balance(BalanceQuery(address)) == chain.balance(
            address, chain.tip.height
        )
    assert chain.balance(address, chain.tip.height) == 24 * 10**8 - 1000  # 3 BTC and a fee left
