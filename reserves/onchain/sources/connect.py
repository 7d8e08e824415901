"""From endpoints (given by the caller or in the environment) to
sources, and block pinning for ``publish``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from reserves.errors import InputError, SourceError
from reserves.onchain.reserve_sections import BitcoinChain, Chain, EvmChain
from reserves.onchain.sources import DEFAULT_TIMEOUT, BalanceSource, parse_endpoint
from reserves.onchain.sources.esplora import EsploraSource
from reserves.onchain.sources.evm import EvmSource
from reserves.onchain.sources.http import HttpEndpoint, Notice, TimeBudget
from reserves.onchain.sources.jsonrpc import JsonRpc, parse_hash, parse_quantity

__all__ = [
    "connect_sources",
    "environment_endpoints",
    "environment_variable",
    "pin_esplora_block",
    "pin_evm_block",
]

ENVIRONMENT_PREFIX = {"evm": "RESERVES_RPC_", "bitcoin": "RESERVES_ESPLORA_"}


def environment_variable(kind: str, chain: str) -> str:
    """``RESERVES_RPC_ETHEREUM`` for EVM chain ``ethereum``; ``.`` and ``-`` become ``_``."""
    return ENVIRONMENT_PREFIX[kind] + re.sub(r"[^A-Z0-9]", "_", chain.upper())


def environment_endpoints(
    chains: Mapping[str, Chain], given: Mapping[str, str], kind: str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``given`` plus, for each chain of ``kind`` not in it, the URL its environment variable holds."""
    environ = os.environ if environ is None else environ
    endpoints = dict(given)
    for name, chain in chains.items():
        variable = environment_variable(kind, name)
        if chain.kind == kind and name not in endpoints and environ.get(variable):
            try:
                endpoints[name] = parse_endpoint(f"{name}={environ[variable]}").url
            except InputError as exc:
                raise InputError(exc.message, where=variable) from None
    return endpoints


def connect_sources(
    chains: Mapping[str, Chain],
    rpc: Mapping[str, str],
    esplora: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    notice: Notice | None = None,
    budget: TimeBudget | None = None,
    where: tuple[str, str] = ("EVM endpoints", "Esplora endpoints"),
) -> dict[str, BalanceSource]:
    """A source for each endpoint; ``budget`` bounds the time of every request of them all;
    ``where`` names the two groups of endpoints in errors (as the caller knows them)."""
    sources: dict[str, BalanceSource] = {}
    for option, endpoints, kind in ((where[0], rpc, EvmChain), (where[1], esplora, BitcoinChain)):
        for name, url in endpoints.items():
            chain = chains.get(name)
            if chain is None:
                known = ", ".join(chains) or "none"
                raise InputError(f"the snapshot has no chain {name!r} (its chains: {known})", where=option)
            if not isinstance(chain, kind):
                raise InputError(f"{name} is a {chain.kind} chain", where=option)
            if isinstance(chain, EvmChain):
                sources[name] = EvmSource.connect(chain, url, timeout=timeout, notice=notice, budget=budget)
            elif isinstance(chain, BitcoinChain):
                sources[name] = EsploraSource.connect(chain, url, timeout=timeout, notice=notice, budget=budget)
    return sources


def pin_evm_block(
    url: str, height: int | None, *, name: str = "pin", timeout: float = DEFAULT_TIMEOUT, notice: Notice | None = None
) -> tuple[int, bytes]:
    """The block ``height`` (default: the node's latest) and its hash."""
    rpc = JsonRpc(HttpEndpoint(url, name=name, timeout=timeout, notice=notice))
    block = rpc.call("eth_getBlockByNumber", ["latest" if height is None else hex(height), False])
    if block is None:
        raise SourceError(f"{name} ({rpc.endpoint.shown}): the node has no block {height}")
    try:
        if not isinstance(block, dict):
            raise ValueError("the block is not an object")
        number = parse_quantity(block.get("number"), "the block's number")
        if height is not None and number != height:
            raise ValueError(f"asked for block {height}, the node answered block {number}")
        return number, parse_hash(block.get("hash"), "the block's hash")
    except ValueError as exc:
        raise rpc.fail(f"malformed block: {exc}") from None


def pin_esplora_block(
    url: str, height: int | None, *, name: str = "pin", timeout: float = DEFAULT_TIMEOUT, notice: Notice | None = None
) -> tuple[int, bytes]:
    http = HttpEndpoint(url.rstrip("/"), name=name, timeout=timeout, notice=notice)
    if height is None:
        reply = http.get("/blocks/tip/height")
        text = reply.text.strip()
        if reply.status != 200 or not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise http.fail(f"/blocks/tip/height answered HTTP {reply.status}: {text[:80]!r}")
        height = int(text)
    reply = http.get(f"/block-height/{height}")
    if reply.status == 404:
        raise http.fail(f"the server has no block at height {height}")
    text = reply.text.strip()
    if reply.status != 200 or len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise http.fail(f"/block-height/{height} answered HTTP {reply.status}: {text[:80]!r}")
    return height, bytes.fromhex(text)
