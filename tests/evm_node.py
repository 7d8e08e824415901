"""A real local Ethereum node for tests: anvil (npm package @foundry-rs/anvil-linux-amd64,
installed by ``make``), started on 127.0.0.1 on a free port and stopped afterwards; and a
loopback proxy in front of it that can answer HTTP 429 before recovering."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from web3 import HTTPProvider, Web3

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
TOKEN_ARTIFACT = ROOT / "fixtures" / "contracts" / "DemoToken.json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Anvil:
    def __init__(self, *extra: str) -> None:
        if not ANVIL.exists():
            raise RuntimeError(f"{ANVIL} is missing: run 'make test' (it runs npm ci) first")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(ANVIL), "--host", "127.0.0.1", "--port", str(self.port), "--silent", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1)
                break
            except requests.RequestException:
                if self.process.poll() is not None:
                    raise RuntimeError(f"anvil exited: {self.process.stderr.read().decode()}") from None
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("anvil did not start within 20 s")
        self.web3 = Web3(HTTPProvider(self.url))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


@contextmanager
def anvil(*extra: str) -> Iterator[Anvil]:
    node = Anvil(*extra)
    try:
        yield node
    finally:
        node.stop()


def deploy_token(web3: Web3, symbol: str = "USDT", decimals: int = 6, supply: int = 10**15) -> str:
    artifact = json.loads(TOKEN_ARTIFACT.read_text())
    factory = web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    deployer = web3.eth.accounts[0]
    tx = factory.constructor(f"Test {symbol}", symbol, decimals, supply).transact({"from": deployer})
    return str(web3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


def transfer_token(web3: Web3, token: str, to: str, amount: int) -> None:
    artifact = json.loads(TOKEN_ARTIFACT.read_text())
    contract = web3.eth.contract(address=Web3.to_checksum_address(token), abi=artifact["abi"])
    tx = contract.functions.transfer(to, amount).transact({"from": web3.eth.accounts[0]})
    web3.eth.wait_for_transaction_receipt(tx)


def send_ether(web3: Web3, to: str, wei: int) -> None:
    tx = web3.eth.send_transaction({"from": web3.eth.accounts[0], "to": to, "value": wei})
    web3.eth.wait_for_transaction_receipt(tx)


class FlakyProxy:
    """Forwards JSON-RPC POSTs to ``upstream``; the first ``fail_next`` answer ``status``."""

    def __init__(self, upstream: str, fail_next: int = 0, status: int = 429) -> None:
        self.upstream = upstream
        self.fail_next = fail_next
        self.status = status
        self.posts = 0
        self.failed = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with proxy.lock:
                    proxy.posts += 1
                    failing = proxy.fail_next > 0
                    if failing:
                        proxy.fail_next -= 1
                        proxy.failed += 1
                if failing:
                    reply, status = b'{"error": "rate limited"}', proxy.status
                else:
                    answer = requests.post(
                        proxy.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=10
                    )
                    reply, status = answer.content, answer.status_code
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


SAFE_ARTIFACTS = ROOT / "node_modules" / "@safe-global" / "safe-contracts" / "build" / "artifacts" / "contracts"
ZERO_ADDRESS = "0x" + "00" * 20


def _artifact(relative: str) -> dict[str, Any]:
    return dict(json.loads((SAFE_ARTIFACTS / relative).read_text()))


def deploy_safe(web3: Web3, owners: list[str], threshold: int) -> str:
    """A real Safe (v1.4.1, from @safe-global/safe-contracts): singleton, proxy factory,
    and a proxy set up with ``owners`` and ``threshold``."""
    deployer = web3.eth.accounts[0]
    safe_artifact = _artifact("Safe.sol/Safe.json")
    factory_artifact = _artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json")
    singleton = web3.eth.contract(abi=safe_artifact["abi"], bytecode=safe_artifact["bytecode"])
    singleton_address = web3.eth.wait_for_transaction_receipt(singleton.constructor().transact({"from": deployer}))[
        "contractAddress"
    ]
    factory = web3.eth.contract(abi=factory_artifact["abi"], bytecode=factory_artifact["bytecode"])
    factory_address = web3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": deployer}))[
        "contractAddress"
    ]
    factory = web3.eth.contract(address=factory_address, abi=factory_artifact["abi"])
    setup = web3.eth.contract(abi=safe_artifact["abi"]).encode_abi(
        "setup", [owners, threshold, ZERO_ADDRESS, b"", ZERO_ADDRESS, ZERO_ADDRESS, 0, ZERO_ADDRESS]
    )
    create = factory.functions.createProxyWithNonce(singleton_address, setup, 42)
    proxy = create.call({"from": deployer})
    web3.eth.wait_for_transaction_receipt(create.transact({"from": deployer}))
    return str(Web3.to_checksum_address(proxy))
