"""Bitcoin balances from an Esplora REST API (as served by mempool.space and
blockstream.info), at the pinned height.

An address's current balance is not its balance at the pinned height, so the balance is
computed from the address's confirmed history (``/address/:a/txs/chain``, newest first,
25 a page, continued from the last txid seen): outputs paying the address minus inputs
spending them, over transactions confirmed at or below the pinned height. The network is
checked by its genesis block and the pinned height by its block hash.
"""

from __future__ import annotations

from typing import Any

from reserves.checks import Check, Status
from reserves.onchain.reserve_sections import BitcoinChain
from reserves.onchain.sources import DEFAULT_TIMEOUT, BalanceQuery, BalanceSource
from reserves.onchain.sources.http import HttpEndpoint, Notice
from reserves.strict_json import loads_bounded, reject_float

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
MAX_PAGES = 8_000
"""A bound on one address's history (200,000 transactions), so a server that pages for
ever is refused with a clear message instead of being read for hours."""
MAX_SATOSHIS = 21_000_000 * 100_000_000
"""No output, and no balance, can hold more than every bitcoin there will ever be."""


class EsploraSource(BalanceSource):
    """One Bitcoin network through one Esplora base URL."""

    chain: BitcoinChain

    def __init__(self, chain: BitcoinChain, http: HttpEndpoint, *, pinned_hash_known: bool = True) -> None:
        self.chain = chain
        self.http = http
        self.description = http.shown
        self.pinned_hash_known = pinned_hash_known
        """False where only a height is given (OKX's files): transactions at that height are
        then not checked against the pinned block's hash."""

    @classmethod
    def connect(
        cls,
        chain: BitcoinChain,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        notice: Notice | None = None,
        pinned_hash_known: bool = True,
        **endpoint: Any,
    ) -> EsploraSource:
        http = HttpEndpoint(url.rstrip("/"), name=chain.name, timeout=timeout, notice=notice, **endpoint)
        return cls(chain, http, pinned_hash_known=pinned_hash_known)

    def _get(self, path: str, *, allow_404: bool = False) -> bytes | None:
        reply = self.http.get(path)
        if reply.status == 404 and allow_404:
            return None
        if reply.status != 200:
            raise self.http.fail(f"{path} answered HTTP {reply.status}: {reply.text[:200]!r}")
        return reply.body

    def _block_hash(self, height: int) -> str | None:
        body = self._get(f"/block-height/{height}", allow_404=True)
        if body is None:
            return None
        text = body.decode("ascii", errors="replace").strip()
        if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
            raise self.http.fail(f"/block-height/{height} is not a block hash: {text[:80]!r}")
        return text

    def identity_checks(self) -> list[Check]:
        chain = self.chain
        genesis = self._block_hash(0)
        title = f"{chain.name}: server is on Bitcoin {chain.network}"
        expected = GENESIS[chain.network]
        checks = [
            Check(6, "network", title, Status.PASS, f"genesis {genesis}")
            if genesis in expected
            else Check(
                6,
                "network",
                title,
                Status.FAIL,
                "the genesis block is another network's",
                " or ".join(sorted(expected)),
                str(genesis),
            )
        ]
        title = f"{chain.name}: pinned block {chain.block} has the snapshot's hash"
        found = self._block_hash(chain.block)
        pinned = chain.block_hash.hex()
        if found is None:
            checks.append(
                Check(
                    6,
                    "pinned-block",
                    title,
                    Status.FAIL,
                    f"the server has no block at height {chain.block}",
                    pinned,
                    "no such block",
                )
            )
        elif found == pinned:
            checks.append(Check(6, "pinned-block", title, Status.PASS, found))
        else:
            checks.append(
                Check(6, "pinned-block", title, Status.FAIL, "the server's block at that height differs", pinned, found)
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
                raise self.http.fail(f"{path} did not return a list of transactions")
            for tx in page:
                txid, confirmed_at, block_hash = self._tx_identity(tx, path)
                if txid in seen:
                    raise self.http.fail(f"{path} repeats transaction {txid}: pagination is broken")
                seen.add(txid)
                if confirmed_at > height:
                    continue  # confirmed after the pinned block
                if confirmed_at == height and self.pinned_hash_known and block_hash != self.chain.block_hash.hex():
                    raise self.http.fail(f"{path}: transaction {txid} is at the pinned height in another block")
                paid, spending = self._amounts(tx, address, path)
                received += paid
                spent += spending
            if len(page) < PAGE_SIZE:
                break
            last = page[-1]["txid"]
        else:
            raise self.http.fail(f"the history of {address} is longer than {MAX_PAGES} pages")
        if spent > received:
            raise self.http.fail(f"the history of {address} spends more than it received")
        if received - spent > MAX_SATOSHIS:
            raise self.http.fail(f"the history of {address} gives a balance above 21 million BTC")
        return received - spent

    def _json(self, path: str) -> Any:
        body = self._get(path)
        try:
            return loads_bounded(body or b"", parse_float=reject_float)
        except ValueError as exc:
            raise self.http.fail(f"{path} is not valid JSON: {exc}") from None

    def _tx_identity(self, tx: Any, path: str) -> tuple[str, int, str | None]:
        """The transaction's id, confirmation height and block hash, strictly typed."""
        status = tx.get("status") if isinstance(tx, dict) else None
        if not isinstance(status, dict) or status.get("confirmed") is not True:
            raise self.http.fail(f"{path} lists a transaction that is not confirmed, or has no status")
        txid, height, block_hash = tx.get("txid"), status.get("block_height"), status.get("block_hash")
        if not isinstance(txid, str) or len(txid) != 64:
            raise self.http.fail(f"{path}: a transaction id is not 64 hex characters")
        if not isinstance(height, int) or isinstance(height, bool) or height < 0:
            raise self.http.fail(f"{path}: transaction {txid} has block height {height!r}")
        return txid, height, block_hash if isinstance(block_hash, str) else None

    def _amounts(self, tx: dict[str, Any], address: str, path: str) -> tuple[int, int]:
        """What ``tx`` pays to ``address`` and what it spends from it, in satoshis."""
        outputs, inputs = tx.get("vout"), tx.get("vin")
        if not isinstance(outputs, list) or not isinstance(inputs, list):
            raise self.http.fail(f"{path}: transaction {tx['txid']} lacks its inputs or outputs")
        paid = spent = 0
        for output in outputs:
            if not isinstance(output, dict) or not _satoshis(output.get("value")):
                raise self.http.fail(f"{path}: an output of {tx['txid']} has no valid value")
            if output.get("scriptpubkey_address") == address:
                paid += output["value"]
        for spend in inputs:
            prevout = spend.get("prevout") if isinstance(spend, dict) else False
            if prevout is False or (prevout is not None and not isinstance(prevout, dict)):
                raise self.http.fail(f"{path}: an input of {tx['txid']} is malformed")
            if prevout and prevout.get("scriptpubkey_address") == address:
                if not _satoshis(prevout.get("value")):
                    raise self.http.fail(f"{path}: an input of {tx['txid']} spends an invalid value")
                spent += prevout["value"]
        return paid, spent


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _satoshis(value: Any) -> bool:
    return _natural(value) and value <= MAX_SATOSHIS
