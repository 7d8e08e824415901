"""Bitcoin balances from an Esplora REST API (as served by mempool.space and
blockstream.info), at the pinned height.

An address's current balance is not its balance at the pinned height, so the balance is
computed from the address's confirmed history (``/address/:a/txs/chain``, newest first,
25 a page, continued from the last txid seen): outputs paying the address minus inputs
spending them, over transactions confirmed at or below the pinned height. The network is
checked by its genesis block and the pinned height by its block hash.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from reserves.errors import SourceError
from reserves.results import Check, Status
from reserves.sources import BalanceQuery, BalanceSource
from reserves.sources.http import DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT, get_bounded, retrying_session
from reserves.wallets import BitcoinChain

GENESIS = {
    "mainnet": {"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
    "testnet": {
        "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",  # testnet3
        "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",  # testnet4
    },
    "signet": {"00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"},
    "regtest": {"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
}
PAGE_SIZE = 25
"""Esplora's confirmed transactions per page."""
MAX_PAGES = 40_000
"""A bound on one address's history (a million transactions)."""


class EsploraSource(BalanceSource):
    """One Bitcoin network through one Esplora base URL."""

    chain: BitcoinChain

    def __init__(
        self,
        chain: BitcoinChain,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
    ) -> None:
        self.chain = chain
        self.base_url = base_url.rstrip("/")
        self.description = self.base_url
        self.session = session or retrying_session(retries, backoff)
        self.timeout = timeout

    def _get(self, path: str, *, allow_404: bool = False) -> requests.Response | None:
        url = f"{self.base_url}{path}"
        response = get_bounded(self.session, url, timeout=self.timeout, what=self.chain.name)
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code != 200:
            raise SourceError(f"{self.chain.name}: {url} answered HTTP {response.status_code}: {response.text[:200]!r}")
        return response

    def _block_hash(self, height: int) -> str | None:
        response = self._get(f"/block-height/{height}", allow_404=True)
        if response is None:
            return None
        text = response.text.strip()
        if len(text) != 64 or text != text.lower() or any(c not in "0123456789abcdef" for c in text):
            raise SourceError(f"{self.chain.name}: /block-height/{height} is not a block hash: {text[:80]!r}")
        return text

    def identity_checks(self) -> list[Check]:
        chain = self.chain
        genesis = self._block_hash(0)
        name = f"{chain.name}: server is on Bitcoin {chain.network}"
        expected = GENESIS[chain.network]
        checks = [
            Check(name, Status.PASS, f"genesis {genesis}")
            if genesis in expected
            else Check(
                name, Status.FAIL, "the genesis block is another network's", " or ".join(sorted(expected)), str(genesis)
            )
        ]
        name = f"{chain.name}: pinned block {chain.block} has the snapshot's hash"
        found = self._block_hash(chain.block)
        if found is None:
            checks.append(
                Check(
                    name,
                    Status.FAIL,
                    f"the server has no block at height {chain.block}",
                    chain.block_hash.hex(),
                    "no such block",
                )
            )
        elif found == chain.block_hash.hex():
            checks.append(Check(name, Status.PASS, found))
        else:
            checks.append(
                Check(name, Status.FAIL, "the server's block at that height differs", chain.block_hash.hex(), found)
            )
        return checks

    def balance(self, query: BalanceQuery) -> int:
        """Confirmed balance of ``query.address`` at the pinned height, in satoshis."""
        address, height = query.address, self.chain.block
        received = spent = 0
        seen: set[str] = set()
        last: str | None = None
        for _ in range(MAX_PAGES):
            path = f"/address/{address}/txs/chain" + (f"/{last}" if last else "")
            page = self._json(path)
            if not isinstance(page, list):
                raise SourceError(f"{self.chain.name}: {path} did not return a list of transactions")
            for tx in page:
                txid, confirmed_at = self._tx_identity(tx, path)
                if txid in seen:
                    raise SourceError(f"{self.chain.name}: {path} repeats transaction {txid}: pagination is broken")
                seen.add(txid)
                if confirmed_at > height:
                    continue  # confirmed after the pinned block
                received += sum(o["value"] for o in tx["vout"] if o.get("scriptpubkey_address") == address)
                spent += sum(
                    i["prevout"]["value"]
                    for i in tx["vin"]
                    if i.get("prevout") and i["prevout"].get("scriptpubkey_address") == address
                )
            if len(page) < PAGE_SIZE:
                break
            last = page[-1]["txid"]
        else:
            raise SourceError(f"{self.chain.name}: the history of {address} is longer than {MAX_PAGES} pages")
        if spent > received:
            raise SourceError(f"{self.chain.name}: the history of {address} spends more than it received")
        return received - spent

    def _json(self, path: str) -> Any:
        response = self._get(path)
        assert response is not None
        try:
            return json.loads(response.content, parse_float=_reject_float)
        except ValueError as exc:
            raise SourceError(f"{self.chain.name}: {path} is not valid JSON: {exc}") from None

    def _tx_identity(self, tx: Any, path: str) -> tuple[str, int]:
        try:
            status = tx["status"]
            if not status["confirmed"]:
                raise SourceError(f"{self.chain.name}: {path} lists an unconfirmed transaction as confirmed")
            for output in tx["vout"]:
                if not isinstance(output["value"], int) or isinstance(output["value"], bool):
                    raise SourceError(f"{self.chain.name}: {path}: an output value is not an integer")
            return str(tx["txid"]), int(status["block_height"])
        except (KeyError, TypeError) as exc:
            raise SourceError(f"{self.chain.name}: {path}: a transaction lacks {exc}") from None


def _reject_float(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")
