"""Reading many EVM balances at a pinned block: JSON-RPC batches against one request per
address, both measured in the same run against the same local anvil node.

    .venv/bin/python benchmarks/evm_batching.py --addresses 10000

Prints the time of each and their ratio. Needs node_modules/.bin/anvil (`make tools`).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

from eth_utils.address import to_checksum_address

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from evm_node import anvil, send_ether

from reserves.onchain.reserve_sections import EvmChain
from reserves.onchain.sources import BalanceQuery
from reserves.onchain.sources.evm import EvmSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    addresses = [to_checksum_address(hashlib.sha256(i.to_bytes(8, "big")).digest()[:20]) for i in range(args.addresses)]
    with anvil() as node:
        for address in addresses[:20]:
            send_ether(node.web3, address, 10**18)  # a few non-zero balances
        block = node.web3.eth.get_block("latest")
        chain = EvmChain("ethereum", 31337, "ETH", block["number"], bytes(block["hash"]))
        queries = [BalanceQuery(a) for a in addresses]
        timings = {}
        results = {}
        for label, size in (("batched", args.batch_size), ("one request per address", 1)):
            source = EvmSource.connect(chain, node.url, batch_size=size)
            start = time.perf_counter()
            results[label] = source.balances(queries)
            timings[label] = time.perf_counter() - start
    if results["batched"] != results["one request per address"]:
        raise SystemExit("the two methods disagree")
    print(f"{args.addresses} addresses from anvil at a pinned block")
    for label, seconds in timings.items():
        print(f"  {label:<26} {seconds:8.2f} s   {args.addresses / seconds:10.0f} addresses/s")
    ratio = timings["one request per address"] / timings["batched"]
    print(f"  batched (size {args.batch_size}) is {ratio:.1f}x faster than one request per address")


if __name__ == "__main__":
    main()
