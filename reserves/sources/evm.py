"""EVM balances over JSON-RPC (web3.py), at exactly the pinned block.

Native balances are ``eth_getBalance`` and ERC-20 balances ``eth_call`` of
``balanceOf``, both with the pinned block number, batched into JSON-RPC batches. Before
any balance counts, the node's chain id and the pinned block's hash are checked. A node
that has the block but not its state (not an archive node) is reported as such: a
balance is never quietly read at ``latest`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from eth_abi.exceptions import DecodingError
from web3 import HTTPProvider, Web3
from web3.exceptions import BlockNotFound, Web3Exception, Web3RPCError, Web3TypeError

from reserves.errors import SourceError
from reserves.results import Check, Status
from reserves.sources import BalanceQuery, BalanceSource, BatchProgress, ContractSigners
from reserves.sources.http import DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT, describe_failure, retrying_session
from reserves.wallets import EvmChain, Token

ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view",
     "inputs": [], "outputs": [{"name": "", "type": "uint8"}]},
]  # fmt: skip
SAFE_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "getOwners", "stateMutability": "view",
     "inputs": [], "outputs": [{"name": "", "type": "address[]"}]},
    {"type": "function", "name": "getThreshold", "stateMutability": "view",
     "inputs": [], "outputs": [{"name": "", "type": "uint256"}]},
]  # fmt: skip
DEFAULT_BATCH_SIZE = 500


class EvmSource(BalanceSource):
    """One EVM chain through one web3 connection."""

    chain: EvmChain

    def __init__(self, chain: EvmChain, web3: Web3, *, description: str, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.chain = chain
        self.web3 = web3
        self.description = description
        self.batch_size = batch_size
        self._batching = True
        self._contracts: dict[str, Any] = {}

    @classmethod
    def connect(
        cls,
        chain: EvmChain,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> EvmSource:
        """A source over HTTP JSON-RPC with timeouts and retries on transient errors."""
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            session=retrying_session(retries, backoff),
            exception_retry_configuration=None,  # urllib3 retries, for batches too
        )
        return cls(chain, Web3(provider), description=url, batch_size=batch_size)

    def _fail(self, doing: str, exc: BaseException) -> SourceError:
        return SourceError(f"{self.chain.name} ({self.description}): {doing}: {describe_failure(exc)}")

    def identity_checks(self) -> list[Check]:
        chain = self.chain
        try:
            chain_id = self.web3.eth.chain_id
        except (Web3Exception, requests.RequestException, OSError, ValueError) as exc:
            raise self._fail("cannot read the chain id", exc) from None
        name = f"{chain.name}: node is on chain id {chain.chain_id}"
        checks = [
            Check(name, Status.PASS, f"chain id {chain_id}")
            if chain_id == chain.chain_id
            else Check(name, Status.FAIL, "the node serves another chain", str(chain.chain_id), str(chain_id))
        ]
        name = f"{chain.name}: pinned block {chain.block} has the snapshot's hash"
        try:
            block = self.web3.eth.get_block(chain.block)
        except BlockNotFound:
            tip = self.web3.eth.block_number
            checks.append(
                Check(
                    name,
                    Status.FAIL,
                    f"the node has no block {chain.block} (its tip is {tip})",
                    chain.block_hash.hex(),
                    "no such block",
                )
            )
            return checks
        except (Web3Exception, requests.RequestException, OSError, ValueError) as exc:
            raise self._fail(f"cannot read block {chain.block}", exc) from None
        found = bytes(block["hash"])
        if found == chain.block_hash:
            checks.append(Check(name, Status.PASS, found.hex()))
        else:
            checks.append(
                Check(name, Status.FAIL, "the node's block at that height differs", chain.block_hash.hex(), found.hex())
            )
        return checks

    def balance(self, query: BalanceQuery) -> int:
        return self.balances([query])[0]

    def balances(self, queries: Sequence[BalanceQuery], progress: BatchProgress | None = None) -> list[int]:
        results: list[int] = []
        for start in range(0, len(queries), self.batch_size):
            chunk = queries[start : start + self.batch_size]
            results += self._read(chunk)
            if progress is not None:
                progress(len(results))
        return results

    def _erc20(self, token: Token) -> Any:
        """The token's contract object, made once per token rather than once per query."""
        if token.contract not in self._contracts:
            address = Web3.to_checksum_address(token.contract)
            self._contracts[token.contract] = self.web3.eth.contract(address=address, abi=ERC20_ABI)
        return self._contracts[token.contract]

    def token_decimals(self, token: Token) -> int | None:
        contract = self._erc20(token)
        try:
            raw = self.web3.eth.call(
                {"to": contract.address, "data": contract.encode_abi("decimals", [])}, self.chain.block
            )
            return int(self.web3.codec.decode(["uint8"], raw)[0])
        except (DecodingError, Web3Exception) as exc:
            if isinstance(exc, Web3Exception) and not _is_revert(exc):
                raise self._explain_state_error(exc, token.contract) from None
            return None
        except (requests.RequestException, OSError) as exc:
            raise self._fail(f"cannot read decimals() of {token.contract}", exc) from None

    def contract_signers(self, address: str) -> ContractSigners | None:
        """A Safe's owners and threshold at the pinned block; ``None`` for an account without code."""
        checksummed = Web3.to_checksum_address(address)
        block = self.chain.block
        try:
            code = bytes(self.web3.eth.get_code(checksummed, block))
        except (Web3Exception, requests.RequestException, OSError, ValueError) as exc:
            raise self._explain_state_error(exc, address) from None
        if not code:
            return None
        safe = self.web3.eth.contract(address=checksummed, abi=SAFE_ABI)
        try:
            owners = safe.functions.getOwners().call(block_identifier=block)
            threshold = int(safe.functions.getThreshold().call(block_identifier=block))
        except (DecodingError, Web3Exception) as exc:
            if isinstance(exc, Web3Exception) and not _is_revert(exc) and "decode" not in str(exc).lower():
                raise self._explain_state_error(exc, address) from None
            return ContractSigners(
                (), 0, f"the contract at {checksummed} is not a Safe (getOwners/getThreshold failed)"
            )
        except (requests.RequestException, OSError) as exc:
            raise self._fail(f"cannot read the owners of {checksummed}", exc) from None
        return ContractSigners(tuple(Web3.to_checksum_address(o) for o in owners), threshold)

    def _request(self, query: BalanceQuery) -> Any:
        """The web3 call for one query (inside a batch context: the batched request)."""
        block = self.chain.block
        if query.token is None:
            return self.web3.eth.get_balance(Web3.to_checksum_address(query.address), block)
        contract = self._erc20(query.token)
        data = contract.encode_abi("balanceOf", [Web3.to_checksum_address(query.address)])
        return self.web3.eth.call({"to": contract.address, "data": data}, block)

    def _read(self, queries: Sequence[BalanceQuery]) -> list[int]:
        try:
            replies = self._batch(queries) if len(queries) > 1 and self._batching else None
            if replies is None:
                replies = [self._request(q) for q in queries]
        except (Web3Exception, requests.RequestException, OSError, ValueError) as exc:
            raise self._explain_state_error(exc, queries[0].address) from None
        results = []
        for query, reply in zip(queries, replies, strict=True):
            if query.token is None:
                results.append(int(reply))
                continue
            raw = bytes(reply)
            if len(raw) != 32:
                raise SourceError(
                    f"{self.chain.name}: balanceOf({query.address}) on {query.token.contract} returned "
                    f"{len(raw)} bytes, not a uint256: is it an ERC-20 contract at block {self.chain.block}?"
                )
            results.append(int.from_bytes(raw, "big"))
        return results

    def _batch(self, queries: Sequence[BalanceQuery]) -> list[Any] | None:
        """One JSON-RPC batch; ``None`` (and no more batches) where the provider has none."""
        if not hasattr(self.web3.provider, "make_batch_request"):
            self._batching = False
            return None
        try:
            with self.web3.batch_requests() as batch:
                for query in queries:
                    batch.add(self._request(query))
                return list(batch.execute())
        except Web3TypeError as exc:
            if "not supported" not in str(exc):
                raise
            self._batching = False
            return None

    def _explain_state_error(self, exc: BaseException, address: str) -> SourceError:
        """Tell 'no state at that block' (not an archive node) from other failures."""
        if isinstance(exc, Web3RPCError):
            try:
                self.web3.eth.get_balance(Web3.to_checksum_address(address), "latest")
            except (Web3Exception, requests.RequestException, OSError, ValueError):
                return self._fail(f"cannot read balances at block {self.chain.block}", exc)
            return SourceError(
                f"{self.chain.name} ({self.description}): the node cannot serve state at the pinned block "
                f"{self.chain.block} (it answers for 'latest'): it is not an archive node, or has pruned "
                f"that block. Use an archive node; balances are never read at 'latest'. Node said: {exc}"
            )
        return self._fail(f"cannot read balances at block {self.chain.block}", exc)


def _is_revert(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "revert" in text or "execution" in text
