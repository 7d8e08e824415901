"""An in-process EVM chain served as a JSON-RPC node on 127.0.0.1, for the demo.

The demo has no node to run (anvil comes from npm, for the tests), so web3's in-process
``EthereumTesterProvider`` chain is put behind a loopback HTTP server that answers the
calls the audit makes, in a real node's wire format. The audit then reads it exactly as
it reads a real node: over HTTP, through the same client. Never a real network.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError

from reserves.testing.loopback import LoopbackServer, send_body


class EvmLoopbackNode(LoopbackServer):
    """Serves ``web3``'s chain on 127.0.0.1 (a free port) in a thread; use as a context manager."""

    def __init__(self, web3: Web3) -> None:
        self.web3 = web3
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        try:
            with self.lock:
                reply["result"] = self._result(request["method"], request.get("params", []))
        except ContractLogicError as exc:
            reply["error"] = {"code": 3, "message": f"execution reverted: {exc}"}
        except (KeyError, ValueError) as exc:
            reply["error"] = {"code": -32602, "message": str(exc)}
        return reply

    def _result(self, method: str, params: list[Any]) -> Any:
        eth = self.web3.eth
        block: Any = "latest"
        if params and isinstance(params[-1], str) and params[-1] != "latest":
            block = int(params[-1], 16)
        if method == "eth_chainId":
            return hex(eth.chain_id)
        if method == "eth_blockNumber":
            return hex(eth.block_number)
        if method == "eth_getBlockByNumber":
            block = "latest" if params[0] == "latest" else int(params[0], 16)
            try:
                found = eth.get_block(block)
            except BlockNotFound:
                return None
            return {"number": hex(found["number"]), "hash": "0x" + bytes(found["hash"]).hex()}
        address = Web3.to_checksum_address(params[0]["to"] if method == "eth_call" else params[0])
        if method == "eth_getBalance":
            return hex(eth.get_balance(address, block))
        if method == "eth_getCode":
            return "0x" + bytes(eth.get_code(address, block)).hex()
        if method == "eth_call":
            return "0x" + bytes(eth.call({"to": address, "data": params[0]["data"]}, block)).hex()
        raise KeyError(f"method {method} is not served here")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                document = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if isinstance(document, list):
                    body = json.dumps([node.answer(item) for item in document])
                else:
                    body = json.dumps(node.answer(document))
                send_body(self, 200, body.encode(), "application/json")

            def log_message(self, *args: object) -> None:
                pass

        return Handler
