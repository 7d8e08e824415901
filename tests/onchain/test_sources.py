"""Faulty and hostile chain sources (reliability findings D1, D4-D6, D9f, D10, D11, D26):
loopback servers that answer wrongly. A wrong, missing or malformed answer is never
counted and never crashes: it makes the source unreadable (``SourceError``, exit 3)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from reserves.context import Asset, SnapshotContext
from reserves.errors import SourceError
from reserves.liabilities.snapshot import SnapshotCommitment, SnapshotStatement
from reserves.liabilities.tree import Node
from reserves.onchain.reserve_audit import audit_reserves
from reserves.onchain.reserve_sections import BitcoinChain, EvmChain, ReserveSections, Wallet
from reserves.onchain.sources import BalanceQuery
from reserves.onchain.sources import esplora as esplora_module
from reserves.onchain.sources.connect import pin_evm_block
from reserves.onchain.sources.esplora import EsploraSource
from reserves.onchain.sources.evm import EvmSource
from reserves.onchain.sources.http import HttpEndpoint, TimeBudget
from reserves.onchain.sources.jsonrpc import JsonRpc
from reserves.testing.loopback import LoopbackServer, send_body

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
BALANCES = {A: 6 * 10**18, B: 5 * 10**17}
BLOCK_HASH = bytes(range(32))
CHAIN = EvmChain("ethereum", 1, "ETH", 7, BLOCK_HASH)

Reply = Callable[[Any], tuple[int, dict[str, str], bytes]]


def honest_result(request: dict[str, Any]) -> Any:
    method, params = request["method"], request["params"]
    if method == "eth_chainId":
        return "0x1"
    if method == "eth_getBlockByNumber":
        return {"number": "0x7", "hash": "0x" + BLOCK_HASH.hex()}
    if method == "eth_getCode":
        return "0x"  # accounts, not contracts
    return hex(BALANCES[params[0]])


def answer(document: Any) -> Any:
    if isinstance(document, list):
        return [{"jsonrpc": "2.0", "id": r["id"], "result": honest_result(r)} for r in document]
    return {"jsonrpc": "2.0", "id": document["id"], "result": honest_result(document)}


@contextmanager
def node(reply: Reply) -> Iterator[str]:
    """A loopback HTTP server whose every POST is answered by ``reply(parsed request)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, headers, body = reply(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
            self.end_headers()
            try:
                if headers.get("X-Drip"):
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.2)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    with LoopbackServer(Handler) as server:
        yield server.url


def json_reply(transform: Callable[[Any], Any]) -> Reply:
    return lambda request: (200, {"Content-Type": "application/json"}, json.dumps(transform(request)).encode())


def read_both(url: str, **endpoint: Any) -> list[int]:
    source = EvmSource.connect(CHAIN, url, retries=1, backoff=0.01, **endpoint)
    return source.balances([BalanceQuery(A), BalanceQuery(B)])


def test_honest_node_gives_each_wallet_its_own_balance() -> None:
    with node(json_reply(answer)) as url:
        assert read_both(url) == [BALANCES[A], BALANCES[B]]


def test_batch_answered_in_reverse_order_is_matched_by_id() -> None:
    with node(json_reply(lambda r: list(reversed(answer(r))))) as url:
        assert read_both(url) == [BALANCES[A], BALANCES[B]]


def duplicated(request: Any) -> Any:
    replies = answer(request)
    return [replies[0], dict(replies[0])]


def shifted(request: Any) -> Any:
    return [dict(r, id=r["id"] + 1000) for r in answer(request)]


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        pytest.param(duplicated, "two replies have id", id="duplicated-id-credits-nobody"),
        pytest.param(lambda r: answer(r)[:1], "answered 1 of 2 requests (none for eth_getBalance)", id="missing-reply"),
        pytest.param(shifted, "which no request had", id="unknown-ids"),
        pytest.param(lambda r: [dict(x, id=str(x["id"])) for x in answer(r)], "which no request had", id="string-ids"),
        pytest.param(lambda r: answer(r)[0], "answered a batch of 2 with an object", id="single-object"),
        pytest.param(lambda r: [dict(x, result="-0x10") for x in answer(r)], "is not a hex quantity", id="negative"),
        pytest.param(lambda r: [dict(x, result=None) for x in answer(r)], "is not a hex quantity", id="null"),
        pytest.param(lambda r: [dict(x, result=5) for x in answer(r)], "is not a hex quantity", id="integer"),
        pytest.param(lambda r: [dict(x, result="0x1" + "f" * 64) for x in answer(r)], "below 2^256", id="above-2^256"),
        pytest.param(lambda r: [dict(x, result={"a": 1}) for x in answer(r)], "is not a hex quantity", id="object"),
    ],
)
def test_malformed_batch_is_unreadable_never_counted(transform: Callable[[Any], Any], message: str) -> None:
    with node(json_reply(transform)) as url, pytest.raises(SourceError, match=re.escape(message)):
        read_both(url)


def test_batch_refused_as_a_whole_is_read_one_request_at_a_time() -> None:
    def refuse_batches(request: Any) -> Any:
        if isinstance(request, list):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch too large"}}
        return answer(request)

    with node(json_reply(refuse_batches)) as url:
        assert read_both(url) == [BALANCES[A], BALANCES[B]]


def test_deeply_nested_reply_is_unreadable_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with node(lambda r: (200, {}, deep)) as url, pytest.raises(SourceError, match="nested more than 64 levels"):
        read_both(url)


def test_oversized_reply_is_refused() -> None:
    with node(json_reply(lambda r: {"pad": "x" * 5000})) as url, pytest.raises(SourceError, match="larger than 1000"):
        read_both(url, max_bytes=1000)


def test_compressed_reply_is_refused_no_decompression_bomb() -> None:
    gzip = (200, {"Content-Encoding": "gzip"}, b"\x1f\x8b")
    message = "sent a gzip-compressed reply although none was asked for"
    with node(lambda r: gzip) as url, pytest.raises(SourceError, match=message):
        read_both(url)


def test_redirect_to_another_host_is_not_followed() -> None:
    redirect = (307, {"Location": "http://127.0.0.2:1/"}, b"")
    message = "answered HTTP 307 (a redirect): redirects are not followed"
    with node(lambda r: redirect) as url, pytest.raises(SourceError, match=re.escape(message)):
        read_both(url)


def test_slow_drip_is_cut_off_by_the_deadline() -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x1"}).encode()
    started = time.monotonic()
    with node(lambda r: (200, {"X-Drip": "1"}, body)) as url, pytest.raises(SourceError, match="took longer than 2 s"):
        JsonRpc(HttpEndpoint(url, name="ethereum", timeout=0.5, retries=0)).call("eth_chainId", [])
    assert time.monotonic() - started < 10


def test_retry_after_is_capped_and_each_retry_is_announced() -> None:
    calls: list[int] = []
    notices: list[str] = []

    def busy_once(request: Any) -> tuple[int, dict[str, str], bytes]:
        calls.append(1)
        if len(calls) == 1:
            return 429, {"Retry-After": "3600"}, b"slow down"
        return 200, {}, json.dumps(answer(request)).encode()

    with node(busy_once) as url:
        endpoint = HttpEndpoint(url, name="ethereum", notice=notices.append, max_retry_after=0.2)
        started = time.monotonic()
        assert JsonRpc(endpoint).call("eth_chainId", []) == "0x1"
    assert time.monotonic() - started < 5
    assert notices == ["ethereum: retry 1/5 after HTTP 429"]


def test_malformed_block_hash_is_blamed_on_the_node() -> None:
    def short_hash(request: Any) -> Any:
        return (
            [dict(r, result={"number": "0x7", "hash": "0xabcd"}) for r in answer(request)]
            if isinstance(request, list)
            else dict(answer(request), result={"number": "0x7", "hash": "0xabcd"})
        )

    with node(json_reply(short_hash)) as url, pytest.raises(SourceError) as caught:
        pin_evm_block(url, 7, name="ethereum")
    assert str(caught.value) == (f"ethereum ({url}): malformed block: the block's hash is not a 32-byte hash: '0xabcd'")


# -- Esplora (D4, D9f, D10, D25) ------------------------------------------------------------------

GENESIS_REGTEST = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
PINNED = "ab" * 32
ADDRESS = "bcrt1qexampleexampleexampleexampleexample0"


def tx(txid: str, height: int | Any, value: Any, block_hash: str = PINNED, **changes: Any) -> dict[str, Any]:
    document = {
        "txid": txid * 64 if len(txid) == 1 else txid,
        "status": {"confirmed": True, "block_height": height, "block_hash": block_hash},
        "vin": [],
        "vout": [{"scriptpubkey_address": ADDRESS, "value": value}],
    }
    document.update(changes)
    return document


@contextmanager
def esplora(history: Any) -> Iterator[str]:
    """An Esplora server for one address whose history is ``history`` (bytes are sent as they are)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/block-height/0":
                body, kind = GENESIS_REGTEST.encode(), "text/plain"
            elif self.path == "/block-height/100":
                body, kind = PINNED.encode(), "text/plain"
            elif self.path == f"/address/{ADDRESS}/txs/chain":
                body = history if isinstance(history, bytes) else json.dumps(history).encode()
                kind = "application/json"
            else:
                body, kind = b"[]", "application/json"
            send_body(self, 200, body, kind)

        def log_message(self, *args: object) -> None:
            pass

    with LoopbackServer(Handler) as server:
        yield server.url


def esplora_balance(url: str) -> int:
    chain = BitcoinChain("bitcoin", "regtest", "BTC", 100, bytes.fromhex(PINNED))
    source = EsploraSource.connect(chain, url, retries=0)
    assert [c.status.value for c in source.identity_checks()] == ["PASS", "PASS"]
    return source.balance(BalanceQuery(ADDRESS))


def test_esplora_honest_history_is_counted_up_to_the_pinned_block() -> None:
    history = [tx("c", 101, 7), tx("b", 100, 5), tx("a", 99, 3)]
    with esplora(history) as url:
        assert esplora_balance(url) == 8  # the transaction at 101 came after the pinned block


@pytest.mark.parametrize(
    ("history", "message"),
    [
        pytest.param([tx("a", 99, -5)], "an output of " + "a" * 64 + " has no valid value", id="negative-value"),
        pytest.param([tx("a", 99, "5")], "has no valid value", id="string-value"),
        pytest.param([tx("a", 99, 21_000_000 * 10**8 + 1)], "has no valid value", id="above-21-million-btc"),
        pytest.param([tx("a", "abc", 5)], "has block height 'abc'", id="string-height"),
        pytest.param([tx("a", True, 5)], "has block height True", id="boolean-height"),
        pytest.param([tx("a", -999_800, 5)], "has block height -999800", id="negative-height"),
        pytest.param([tx("a", 100, 5, block_hash="cd" * 32)], "is at the pinned height in another block", id="fork"),
        pytest.param([tx("a", 99, 5, vin=["x"])], "an input of " + "a" * 64 + " is malformed", id="input-not-object"),
        pytest.param(
            [tx("a", 99, 5, vin=[{"prevout": {"scriptpubkey_address": ADDRESS, "value": -(10**20)}}])],
            "spends an invalid value",
            id="negative-spend",
        ),
        pytest.param([{k: v for k, v in tx("a", 99, 5).items() if k != "vin"}], "lacks its inputs", id="no-vin"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested more than 64 levels deep", id="deep-nesting"),
    ],
)
def test_esplora_impossible_history_is_unreadable_never_counted(history: Any, message: str) -> None:
    with esplora(history) as url, pytest.raises(SourceError, match=re.escape(message)):
        esplora_balance(url)


def test_a_run_s_time_budget_bounds_every_source_together() -> None:
    """Reliability finding D5: per-request deadlines alone let many slow sources add up."""
    budget = TimeBudget.of(1.0)
    started = time.monotonic()
    with node(lambda r: (503, {"Retry-After": "1"}, b"busy")) as url:
        endpoint = HttpEndpoint(url, name="ethereum", retries=50, backoff=0.1, budget=budget)
        with pytest.raises(SourceError, match="the run's time budget of 1 s is spent"):
            JsonRpc(endpoint).call("eth_chainId", [])
        second = HttpEndpoint(url, name="bitcoin", budget=budget)
        with pytest.raises(SourceError, match="the run's time budget of 1 s is spent"):
            second.get("/blocks/tip/height")
    assert time.monotonic() - started < 5


def test_an_implausible_balance_fails_and_is_not_counted(tmp_path: Path) -> None:
    """A balance of 2^255 wei is a valid uint256 but more than any liabilities total: FAIL."""
    huge = hex(1 << 255)

    def inflate(request: Any) -> Any:
        replies = answer(request)
        for reply in replies if isinstance(replies, list) else [replies]:
            if isinstance(reply.get("result"), str) and reply["result"] == hex(BALANCES[A]):
                reply["result"] = huge
        return replies

    statement = SnapshotStatement(
        SnapshotCommitment(SnapshotContext("X", "s", 0, 1, (Asset("ETH", 18),)), Node(bytes(32), (10**18,))),
        1,
        ReserveSections(
            {"ethereum": CHAIN},
            (),
            (Wallet("ethereum", A, A, "hot", "a", ("ETH",)), Wallet("ethereum", B, B, "hot", "b", ("ETH",))),
        ),
    )
    with node(json_reply(inflate)) as url:
        source = EvmSource.connect(CHAIN, url, retries=0)
        result = audit_reserves(statement, {"ETH": 10**18}, {"ethereum": source})
    check = next(c for c in result.checks if c.id == "balance-plausible")
    assert (check.status.value, check.title, check.found) == ("FAIL", "a: ETH balance is plausible", str(1 << 255))
    notes = [(r.wallet.label, r.found, r.counted, r.note.split(":")[0]) for r in result.readings]
    # b's balance is read and plausible; it does not count only because no ownership was signed here
    assert notes == [("a", 1 << 255, False, "not counted"), ("b", BALANCES[B], False, "not counted")]
    assert result.readings[0].note == "not counted: implausible balance"
    assert result.verdicts[0].reserves == 0


def test_esplora_that_pages_for_ever_is_refused_at_the_page_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reliability finding D25: fresh full pages for ever were read for half an hour."""
    monkeypatch.setattr(esplora_module, "MAX_PAGES", 4)
    pages = iter(range(1_000_000))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/block-height/"):
                body = (GENESIS_REGTEST if self.path.endswith("/0") else PINNED).encode()
            else:
                page = next(pages)
                body = json.dumps([tx(f"{page:032x}{n:032x}", 99, 1) for n in range(25)]).encode()
            send_body(self, 200, body, "application/json")

        def log_message(self, *args: object) -> None:
            pass

    with LoopbackServer(Handler) as server, pytest.raises(SourceError, match="longer than 4 pages"):
        esplora_balance(server.url)
