"""EVM balances over JSON-RPC, at exactly the pinned block.

Native balances are ``eth_getBalance`` and ERC-20 balances ``eth_call`` of
``balanceOf``, both at the pinned block number, sent in JSON-RPC batches whose replies
are matched by id (``reserves.onchain.sources.jsonrpc``). Before any balance counts, the node's
chain id and the pinned block's hash are checked. A node that has the block but not its
state (not an archive node) is reported as such: a balance is never quietly read at
``latest`` instead. Replies are parsed strictly: a balance is a uint256 in hex, a token
balance exactly 32 bytes; anything else makes the source unreadable, never a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address

from reserves.checks import Check, Status
from reserves.errors import SourceError
from reserves.onchain.reserve_sections import EvmChain, Token
from reserves.onchain.sources import DEFAULT_TIMEOUT, BalanceQuery, BalanceSource, BatchProgress, ContractSigners
from reserves.onchain.sources.http import HttpEndpoint, Notice
from reserves.onchain.sources.jsonrpc import Call, JsonRpc, RpcError, parse_data, parse_hash, parse_quantity

BALANCE_OF = "70a08231"
"""``balanceOf(address)``"""
DECIMALS = "313ce567"
"""``decimals()``"""
GET_OWNERS = "a0e67e2b"
"""Safe's ``getOwners()``"""
GET_THRESHOLD = "e75235b8"
"""Safe's ``getThreshold()``"""
DEFAULT_BATCH_SIZE = 500


class EvmSource(BalanceSource):
    """One EVM chain through one node's JSON-RPC endpoint."""

    chain: EvmChain

    def __init__(self, chain: EvmChain, rpc: JsonRpc, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.chain = chain
        self.rpc = rpc
        self.description = rpc.endpoint.shown
        self.batch_size = batch_size
        self._block = hex(chain.block)

    @classmethod
    def connect(
        cls,
        chain: EvmChain,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        notice: Notice | None = None,
        **endpoint: Any,
    ) -> EvmSource:
        """A source over HTTP JSON-RPC with the bounds and retries of ``HttpEndpoint``."""
        http = HttpEndpoint(url, name=chain.name, timeout=timeout, notice=notice, **endpoint)
        return cls(chain, JsonRpc(http), batch_size=batch_size)

    def _malformed(self, exc: ValueError) -> SourceError:
        return self.rpc.fail(f"malformed reply: {exc}")

    def identity_checks(self) -> list[Check]:
        chain = self.chain
        try:
            chain_id = parse_quantity(self.rpc.call("eth_chainId", []), "the chain id")
            block = self.rpc.call("eth_getBlockByNumber", [self._block, False])
            found = None if block is None else self._block_hash(block)
        except ValueError as exc:
            raise self._malformed(exc) from None
        title = f"{chain.name}: node is on chain id {chain.chain_id}"
        checks = [
            Check(6, "chain-id", title, Status.PASS, f"chain id {chain_id}")
            if chain_id == chain.chain_id
            else Check(
                6, "chain-id", title, Status.FAIL, "the node serves another chain", str(chain.chain_id), str(chain_id)
            )
        ]
        title = f"{chain.name}: pinned block {chain.block} has the snapshot's hash"
        expected = chain.block_hash.hex()
        if found is None:
            checks.append(
                Check(
                    6,
                    "pinned-block",
                    title,
                    Status.FAIL,
                    f"the node has no block {chain.block}",
                    expected,
                    "no such block",
                )
            )
        elif found == chain.block_hash:
            checks.append(Check(6, "pinned-block", title, Status.PASS, found.hex()))
        else:
            checks.append(
                Check(
                    6,
                    "pinned-block",
                    title,
                    Status.FAIL,
                    "the node's block at that height differs",
                    expected,
                    found.hex(),
                )
            )
        return checks

    def _block_hash(self, block: Any) -> bytes:
        if not isinstance(block, dict):
            raise ValueError(f"block {self.chain.block} is not an object")
        if parse_quantity(block.get("number"), "the block's number") != self.chain.block:
            raise ValueError(f"asked for block {self.chain.block}, the node answered block {block.get('number')!r}")
        return parse_hash(block.get("hash"), "the block's hash")

    def balance(self, query: BalanceQuery) -> int:
        return self.balances([query])[0]

    def balances(self, queries: Sequence[BalanceQuery], progress: BatchProgress | None = None) -> list[int]:
        results: list[int] = []
        for start in range(0, len(queries), self.batch_size):
            results += self._read(queries[start : start + self.batch_size])
            if progress is not None:
                progress(len(results))
        return results

    def _read(self, queries: Sequence[BalanceQuery]) -> list[int]:
        replies = self.rpc.request([self._balance_call(q) for q in queries])
        results = []
        for query, reply in zip(queries, replies, strict=True):
            if isinstance(reply, RpcError):
                raise self._state_error(reply, query.address)
            try:
                if query.token is None:
                    results.append(parse_quantity(reply, f"the balance of {query.address}"))
                    continue
                raw = parse_data(reply, f"balanceOf({query.address})")
            except ValueError as exc:
                raise self._malformed(exc) from None
            if len(raw) != 32:
                raise self.rpc.fail(
                    f"balanceOf({query.address}) on {query.token.contract} returned {len(raw)} bytes, not a "
                    f"uint256: is it an ERC-20 contract at block {self.chain.block}?"
                )
            results.append(int.from_bytes(raw, "big"))
        return results

    def _balance_call(self, query: BalanceQuery) -> Call:
        if query.token is None:
            return ("eth_getBalance", [query.address.lower(), self._block])
        data = f"0x{BALANCE_OF}{query.address.lower()[2:].rjust(64, '0')}"
        return self._eth_call(query.token.contract, data)

    def _eth_call(self, contract: str, data: str) -> Call:
        return ("eth_call", [{"to": contract.lower(), "data": data}, self._block])

    def _call_data(self, contract: str, selector: str) -> bytes | RpcError:
        """``eth_call`` of a function without arguments; an error reply (a revert) is returned."""
        reply = self.rpc.request([self._eth_call(contract, f"0x{selector}")])[0]
        if isinstance(reply, RpcError):
            if not _is_revert(reply):
                raise self._state_error(reply, contract)
            return reply
        try:
            return parse_data(reply, f"the reply of {contract}")
        except ValueError as exc:
            raise self._malformed(exc) from None

    def token_decimals(self, token: Token) -> int | None:
        raw = self._call_data(token.contract, DECIMALS)
        if isinstance(raw, RpcError) or len(raw) != 32 or int.from_bytes(raw, "big") > 255:
            return None
        return int.from_bytes(raw, "big")

    def contract_signers(self, address: str) -> ContractSigners | None:
        """A Safe's owners and threshold at the pinned block; ``None`` for an account without code."""
        checksummed = to_checksum_address(address)
        reply = self.rpc.request([("eth_getCode", [address.lower(), self._block])])[0]
        if isinstance(reply, RpcError):
            raise self._state_error(reply, address)
        try:
            code = parse_data(reply, f"the code of {checksummed}")
        except ValueError as exc:
            raise self._malformed(exc) from None
        if not code:
            return None
        not_safe = ContractSigners(
            (), 0, f"the contract at {checksummed} is not a Safe (getOwners/getThreshold failed)"
        )
        owners_data, threshold_data = self._call_data(address, GET_OWNERS), self._call_data(address, GET_THRESHOLD)
        if isinstance(owners_data, RpcError) or isinstance(threshold_data, RpcError):
            return not_safe
        try:
            (owners,) = abi_decode(["address[]"], owners_data)
            (threshold,) = abi_decode(["uint256"], threshold_data)
        except (DecodingError, ValueError, OverflowError):
            return not_safe
        return ContractSigners(tuple(to_checksum_address(o) for o in owners), int(threshold))

    def _state_error(self, error: RpcError, address: str) -> SourceError:
        """Tell 'no state at that block' (not an archive node) from other failures."""
        latest = self.rpc.request([("eth_getBalance", [address.lower(), "latest"])])[0]
        if isinstance(latest, RpcError):
            return self.rpc.fail(f"cannot read state at block {self.chain.block}: {error}")
        return self.rpc.fail(
            f"the node cannot serve state at the pinned block {self.chain.block} (it answers for 'latest'): "
            f"it is not an archive node, or has pruned that block. Use an archive node; balances are never "
            f"read at 'latest'. Node said: {error}"
        )


def _is_revert(error: RpcError) -> bool:
    text = error.message.lower()
    return error.code == 3 or "revert" in text or "execution" in text
