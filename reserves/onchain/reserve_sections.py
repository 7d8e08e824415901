"""The reserve sections of ``snapshot.json``: chains, tokens, wallets, keyholders
(FORMAT §6.1, §6.4, §6.5), parsed strictly into frozen objects.

Addresses are kept as written (the ownership message quotes them exactly) and in their
canonical spelling (for de-duplication, ATTACKS.md #11). Which asset a wallet holds on
which chain is resolved here once: the chain's native asset, or a declared token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reserves.context import Asset
from reserves.encoding import check_text, format_amount, parse_amount, parse_hex32
from reserves.onchain.addresses import (
    BITCOIN_NETWORKS,
    bitcoin_script,
    canonical_bitcoin_address,
    canonical_evm_address,
)
from reserves.strict_json import JsonValue

_CHAIN_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
WALLET_KINDS = ("cold", "hot")


@dataclass(frozen=True)
class EvmChain:
    """An EVM chain, read through JSON-RPC."""

    name: str
    chain_id: int
    native_asset: str
    block: int
    """The pinned block number at which reserves are counted."""
    block_hash: bytes

    kind = "evm"

    @property
    def identity(self) -> tuple[str, str]:
        """What the chain is, whatever the file names it: two names with one identity are one chain."""
        return ("evm", str(self.chain_id))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "evm",
            "chain_id": self.chain_id,
            "native_asset": self.native_asset,
            "block": self.block,
            "block_hash": self.block_hash.hex(),
        }


@dataclass(frozen=True)
class BitcoinChain:
    """A Bitcoin network, read through an Esplora REST API."""

    name: str
    network: str
    """``mainnet``, ``testnet``, ``signet`` or ``regtest``."""
    native_asset: str
    block: int
    """The pinned block height."""
    block_hash: bytes

    kind = "bitcoin"

    @property
    def identity(self) -> tuple[str, str]:
        """What the chain is, whatever the file names it: two names with one identity are one chain."""
        return ("bitcoin", self.network)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "bitcoin",
            "network": self.network,
            "native_asset": self.native_asset,
            "block": self.block,
            "block_hash": self.block_hash.hex(),
        }


Chain = EvmChain | BitcoinChain


@dataclass(frozen=True)
class Token:
    """An ERC-20 contract counted as one of the snapshot's assets."""

    chain: str
    asset: str
    contract: str
    """EIP-55 checksummed."""
    decimals: int
    """The contract's own decimals (checked on-chain), which may differ from the asset's."""

    def to_json(self) -> dict[str, Any]:
        return {"chain": self.chain, "asset": self.asset, "contract": self.contract, "decimals": self.decimals}


@dataclass(frozen=True)
class Ownership:
    message: str
    signatures: tuple[str, ...]


@dataclass(frozen=True)
class Wallet:
    """An address holding reserves."""

    chain: str
    address: str
    """As written in ``snapshot.json`` (and in its ownership message)."""
    canonical: str
    """EIP-55, or lower-case bech32: the spelling duplicates are found by."""
    kind: str
    """``cold`` or ``hot``."""
    label: str
    assets: tuple[str, ...]
    claimed: dict[str, int] | None = None
    """What the exchange says the wallet holds, smallest units of each asset."""
    script: bytes | None = None
    """Redeem or witness script, for P2SH/P2WSH addresses."""
    ownership: Ownership | None = None

    def to_json(self, assets: dict[str, Asset]) -> dict[str, Any]:
        document: dict[str, Any] = {
            "chain": self.chain,
            "address": self.address,
            "kind": self.kind,
            "label": self.label,
            "assets": list(self.assets),
        }
        if self.claimed is not None:
            document["claimed"] = {s: format_amount(v, assets[s].decimals) for s, v in self.claimed.items()}
        if self.script is not None:
            document["script"] = self.script.hex()
        if self.ownership is not None:
            document["ownership"] = {"message": self.ownership.message, "signatures": list(self.ownership.signatures)}
        return document


@dataclass(frozen=True)
class Keyholder:
    name: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ReserveSections:
    """Everything ``snapshot.json`` says about reserves."""

    chains: dict[str, Chain] = field(default_factory=dict)
    tokens: tuple[Token, ...] = ()
    wallets: tuple[Wallet, ...] = ()
    keyholders: tuple[Keyholder, ...] = ()

    def to_json(self, assets: tuple[Asset, ...]) -> dict[str, Any]:
        by_symbol = {a.symbol: a for a in assets}
        return {
            "chains": {name: chain.to_json() for name, chain in self.chains.items()},
            "tokens": [t.to_json() for t in self.tokens],
            "wallets": [w.to_json(by_symbol) for w in self.wallets],
            "keyholders": [{"name": k.name, "keys": list(k.keys)} for k in self.keyholders],
        }

    def token(self, chain: str, asset: str) -> Token | None:
        return next((t for t in self.tokens if t.chain == chain and t.asset == asset), None)


def parse_reserve_sections(document: JsonValue, assets: tuple[Asset, ...]) -> ReserveSections:
    """Parse ``chains``, ``tokens``, ``wallets`` and ``keyholders`` of ``document``."""
    symbols = {a.symbol: a for a in assets}
    chains = _parse_chains(document["chains"], symbols)
    tokens = _parse_tokens(document["tokens"], chains, symbols)
    wallets = tuple(_parse_wallet(item, chains, tokens, symbols) for item in document["wallets"].items())
    labels: set[str] = set()
    for item, wallet in zip(document["wallets"].items(), wallets, strict=True):
        if wallet.label in labels:  # a label names one wallet: in the report, in custody and when signing
            item["label"].fail(f"label {wallet.label!r} is used by another wallet: labels are unique")
        labels.add(wallet.label)
    keyholders = _parse_keyholders(document["keyholders"])
    return ReserveSections(chains, tokens, wallets, keyholders)


def _symbol(value: JsonValue, symbols: dict[str, Asset]) -> str:
    symbol = value.string()
    if symbol not in symbols:
        value.fail(f"{symbol!r} is not one of the snapshot's assets ({', '.join(symbols)})")
    return symbol


def _parse_chains(value: JsonValue, symbols: dict[str, Asset]) -> dict[str, Chain]:
    if not isinstance(value.value, dict):
        value.fail("expected an object of chains by name")
    chains: dict[str, Chain] = {}
    for name in list(value.value):
        item = value[name]
        if not _CHAIN_NAME.fullmatch(name):
            item.fail(f"chain name {name!r} does not match [a-z0-9][a-z0-9._-]{{0,63}}")
        kind = item.object(("kind",), ("chain_id", "network", "native_asset", "block", "block_hash"))["kind"].string()
        if kind == "evm":
            item.object(("kind", "chain_id", "native_asset", "block", "block_hash"))
            chains[name] = EvmChain(
                name,
                item["chain_id"].integer(1),
                _symbol(item["native_asset"], symbols),
                item["block"].integer(),
                parse_hex32(item["block_hash"].string(), what="block_hash", where=item["block_hash"].where),
            )
        elif kind == "bitcoin":
            item.object(("kind", "network", "native_asset", "block", "block_hash"))
            network = item["network"].string()
            if network not in BITCOIN_NETWORKS:
                item["network"].fail(f"network must be one of {', '.join(BITCOIN_NETWORKS)}, found {network!r}")
            chains[name] = BitcoinChain(
                name,
                network,
                _symbol(item["native_asset"], symbols),
                item["block"].integer(),
                parse_hex32(item["block_hash"].string(), what="block_hash", where=item["block_hash"].where),
            )
        else:
            item["kind"].fail(f"kind must be 'evm' or 'bitcoin', found {kind!r}")
    return chains


def _parse_tokens(value: JsonValue, chains: dict[str, Chain], symbols: dict[str, Asset]) -> tuple[Token, ...]:
    tokens: list[Token] = []
    for item in value.items():
        item.object(("chain", "asset", "contract", "decimals"))
        chain_name = item["chain"].string()
        chain = chains.get(chain_name)
        if not isinstance(chain, EvmChain):
            item["chain"].fail(f"{chain_name!r} is not an EVM chain of this snapshot")
        asset = _symbol(item["asset"], symbols)
        if asset == chain.native_asset:
            item["asset"].fail(f"{asset} is the native asset of {chain_name}, not a token")
        contract = canonical_evm_address(item["contract"].string(), where=item["contract"].where)
        decimals = item["decimals"].integer(0, 255)
        for other in tokens:
            if other.chain == chain_name and (other.asset == asset or other.contract == contract):
                item.fail(f"{chain_name} already has a token for {other.asset} at {other.contract}")
        tokens.append(Token(chain_name, asset, contract, decimals))
    return tuple(tokens)


def _parse_wallet(
    item: JsonValue, chains: dict[str, Chain], tokens: tuple[Token, ...], symbols: dict[str, Asset]
) -> Wallet:
    item.object(("chain", "address", "kind", "label", "assets"), ("claimed", "script", "ownership"))
    chain_name = item["chain"].string()
    chain = chains.get(chain_name)
    if chain is None:
        item["chain"].fail(f"{chain_name!r} is not one of the snapshot's chains")
    address = item["address"].string()
    where = item["address"].where
    script = None
    if isinstance(chain, EvmChain):
        canonical = canonical_evm_address(address, where=where)
    else:
        canonical = canonical_bitcoin_address(address, chain.network, where=where)
        script_type = bitcoin_script(address, chain.network, where=where).script_type()
        if script_type in ("p2sh", "p2wsh"):
            if "script" not in item.value:
                item.fail(f"a {script_type.upper()} wallet needs its 'script'")
            text = item["script"].string()
            if not _HEX.fullmatch(text):
                item["script"].fail("script must be lowercase hex")
            script = bytes.fromhex(text)
    if script is None and "script" in item.value:
        item["script"].fail("only P2SH and P2WSH Bitcoin wallets have a script")
    kind = item["kind"].string()
    if kind not in WALLET_KINDS:
        item["kind"].fail(f"kind must be 'cold' or 'hot', found {kind!r}")
    label = check_text(item["label"].string(), what="label", min_bytes=1, max_bytes=200, where=item["label"].where)
    held: list[str] = []
    for asset_value in item["assets"].items():
        symbol = _symbol(asset_value, symbols)
        if symbol != chain.native_asset and not any(t.chain == chain_name and t.asset == symbol for t in tokens):
            asset_value.fail(f"{symbol} is neither the native asset of {chain_name} nor a token declared on it")
        if symbol in held:
            asset_value.fail(f"{symbol} is listed twice")
        held.append(symbol)
    if not held:
        item["assets"].fail("a wallet holds at least one asset")
    claimed = None
    if "claimed" in item.value:
        claims = item["claimed"].object(tuple(held))
        claimed = {s: parse_amount(claims[s].string(), symbols[s].decimals, where=claims[s].where) for s in held}
    ownership = None
    if "ownership" in item.value:
        proof = item["ownership"].object(("message", "signatures"))
        signatures = tuple(s.string() for s in proof["signatures"].items())
        ownership = Ownership(proof["message"].string(), signatures)
    return Wallet(chain_name, address, canonical, kind, label, tuple(held), claimed, script, ownership)


def _parse_keyholders(value: JsonValue) -> tuple[Keyholder, ...]:
    keyholders: list[Keyholder] = []
    for item in value.items():
        item.object(("name", "keys"))
        name = check_text(
            item["name"].string(), what="keyholder name", min_bytes=1, max_bytes=200, where=item["name"].where
        )
        if any(k.name == name for k in keyholders):
            item["name"].fail(f"keyholder {name!r} is listed twice")
        keys = tuple(k.string() for k in item["keys"].items())
        keyholders.append(Keyholder(name, keys))
    return tuple(keyholders)
