"""A JSON-RPC 2.0 client that trusts nothing in a reply.

Every reply is matched to its request by ``id``: a batch answered in any order is put
back in order, and a missing, extra, repeated or unknown ``id`` is an error (never a
balance credited to the wrong wallet). Results are parsed by the strict readers below:
quantities are ``0x`` hex below 2^256, data is ``0x`` and whole bytes, hashes are 32
bytes. A node that refuses batches is asked one request at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reserves.errors import SourceError
from reserves.onchain.sources.http import HttpEndpoint
from reserves.strict_json import kind_of, loads_bounded, reject_float, shorten

_QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]{0,63})")
_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class RpcError:
    """A JSON-RPC error object in place of a result."""

    code: int
    message: str

    def __str__(self) -> str:
        return f"error {self.code}: {self.message}"


Call = tuple[str, list[Any]]
"""A method and its parameters."""


class JsonRpc:
    """One node's JSON-RPC endpoint."""

    def __init__(self, endpoint: HttpEndpoint) -> None:
        self.endpoint = endpoint
        self.batching = True
        self._next_id = 1

    def fail(self, doing: str) -> SourceError:
        return self.endpoint.fail(doing)

    def call(self, method: str, params: list[Any]) -> Any:
        """The result of one call; an error reply raises ``SourceError``."""
        reply = self.request([(method, params)])[0]
        if isinstance(reply, RpcError):
            raise self.fail(f"{method} failed: {reply}")
        return reply

    def request(self, calls: Sequence[Call]) -> list[Any | RpcError]:
        """Each call's result (or ``RpcError``), in the order of ``calls``."""
        if len(calls) > 1 and self.batching:
            replies = self._send(calls)
            if replies is not None:
                return replies
            self.batching = False  # the node refused the batch: one request at a time from now on
        results: list[Any | RpcError] = []
        for call in calls:
            single = self._send([call], batch=False)
            assert single is not None
            results += single
        return results

    def _send(self, calls: Sequence[Call], *, batch: bool = True) -> list[Any | RpcError] | None:
        ids = list(range(self._next_id, self._next_id + len(calls)))
        self._next_id += len(calls)
        messages = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls, strict=True)]
        document = messages if batch else messages[0]
        reply = self.endpoint.post_json(json.dumps(document).encode())
        if reply.status != 200:
            raise self.fail(f"answered HTTP {reply.status}: {reply.text[:200]!r}")
        try:
            parsed = loads_bounded(reply.body, parse_float=reject_float)
        except ValueError as exc:
            raise self.fail(f"the reply is not valid JSON: {exc}") from None
        if batch and isinstance(parsed, dict) and "error" in parsed and parsed.get("id") is None:
            return None  # a batch refused as a whole
        replies = parsed if batch else [parsed]
        if not isinstance(replies, list):
            raise self.fail(f"answered a batch of {len(calls)} with {kind_of(parsed)}")
        return self._match(ids, replies, [m for m, _ in calls])

    def _match(self, ids: list[int], replies: list[Any], methods: list[str]) -> list[Any | RpcError]:
        by_id: dict[int, Any | RpcError] = {}
        for reply in replies:
            if not isinstance(reply, dict):
                raise self.fail(f"a reply is {kind_of(reply)}, not an object")
            reply_id = reply.get("id")
            if isinstance(reply_id, bool) or not isinstance(reply_id, int) or reply_id not in ids:
                raise self.fail(f"a reply has id {_short(reply_id)}, which no request had")
            if reply_id in by_id:
                raise self.fail(f"two replies have id {reply_id}")
            by_id[reply_id] = self._result(reply)
        if len(by_id) != len(ids):
            missing = next(i for i in ids if i not in by_id)
            raise self.fail(f"answered {len(by_id)} of {len(ids)} requests (none for {methods[ids.index(missing)]})")
        return [by_id[i] for i in ids]

    def _result(self, reply: dict[str, Any]) -> Any | RpcError:
        has_result, error = "result" in reply, reply.get("error")
        if has_result == (error is not None):
            raise self.fail(f"reply {reply.get('id')} must hold exactly one of result and error")
        if error is None:
            return reply["result"]
        if not isinstance(error, dict) or isinstance(error.get("code"), bool) or not isinstance(error.get("code"), int):
            raise self.fail(f"reply {reply.get('id')} has a malformed error object")
        return RpcError(error["code"], str(error.get("message", ""))[:500])


def parse_quantity(value: Any, what: str) -> int:
    """A JSON-RPC quantity: ``0x`` and at most 64 hex digits (a uint256)."""
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise ValueError(f"{what} is not a hex quantity below 2^256: {_short(value)}")
    return int(value, 16)


def parse_data(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _DATA.fullmatch(value):
        raise ValueError(f"{what} is not 0x-prefixed hex data: {_short(value)}")
    return bytes.fromhex(value[2:])


def parse_hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise ValueError(f"{what} is not a 32-byte hash: {_short(value)}")
    return bytes.fromhex(value[2:])


def _short(value: Any) -> str:
    return shorten(repr(value), 80)
