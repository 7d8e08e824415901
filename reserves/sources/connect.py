"""From ``--rpc NAME=URL`` and ``--esplora NAME=URL`` to sources, and block pinning."""

from __future__ import annotations

from collections.abc import Mapping

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import BlockNotFound, Web3Exception

from reserves.errors import InputError, SourceError
from reserves.sources import BalanceSource, parse_endpoints
from reserves.sources.esplora import EsploraSource
from reserves.sources.evm import EvmSource
from reserves.sources.http import DEFAULT_TIMEOUT, get_bounded, retrying_session
from reserves.wallets import BitcoinChain, Chain, EvmChain

__all__ = ["connect_sources", "parse_endpoints", "pin_esplora_block", "pin_evm_block"]


def connect_sources(
    chains: Mapping[str, Chain], rpc: Mapping[str, str], esplora: Mapping[str, str], *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, BalanceSource]:
    sources: dict[str, BalanceSource] = {}
    for option, endpoints, kind in (("--rpc", rpc, EvmChain), ("--esplora", esplora, BitcoinChain)):
        for name, url in endpoints.items():
            chain = chains.get(name)
            if chain is None:
                known = ", ".join(chains) or "none"
                raise InputError(f"the snapshot has no chain {name!r} (its chains: {known})", where=option)
            if not isinstance(chain, kind):
                raise InputError(f"{name} is a {chain.kind} chain", where=option)
            if isinstance(chain, EvmChain):
                sources[name] = EvmSource.connect(chain, url, timeout=timeout)
            elif isinstance(chain, BitcoinChain):
                sources[name] = EsploraSource(chain, url, timeout=timeout)
    return sources


def pin_evm_block(url: str, height: int | None, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, bytes]:
    """The block ``height`` (default: the node's latest) and its hash."""
    web3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}, session=retrying_session(),
                             exception_retry_configuration=None))  # fmt: skip
    try:
        block = web3.eth.get_block("latest" if height is None else height)
    except BlockNotFound:
        raise InputError(f"{url} has no block {height}") from None
    except (Web3Exception, requests.RequestException, OSError, ValueError) as exc:
        raise SourceError(f"cannot read a block from {url}: {exc}") from None
    return int(block["number"]), bytes(block["hash"])


def pin_esplora_block(url: str, height: int | None, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, bytes]:
    session = retrying_session()
    base = url.rstrip("/")
    if height is None:
        response = get_bounded(session, f"{base}/blocks/tip/height", timeout=timeout, what="pin")
        if response.status_code != 200 or not response.text.strip().isdigit():
            raise SourceError(f"{base}/blocks/tip/height answered HTTP {response.status_code}")
        height = int(response.text.strip())
    response = get_bounded(session, f"{base}/block-height/{height}", timeout=timeout, what="pin")
    if response.status_code == 404:
        raise InputError(f"{url} has no block at height {height}")
    text = response.text.strip()
    if response.status_code != 200 or len(text) != 64:
        raise SourceError(f"{base}/block-height/{height} answered HTTP {response.status_code}: {text[:80]!r}")
    return height, bytes.fromhex(text)
