"""A zk-Merkle user check (HTX's published example: a 168-asset leaf and 28 Poseidon
siblings) against a SHA-256 path of the same depth, both measured in the same run.

    .venv/bin/python benchmarks/zk_path.py

Prints the time of each (the first zk run includes generating Poseidon's constants) and
their ratio.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from reserves.formats import zkmerkle

EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "formats" / "htx"


def main() -> None:
    document = json.loads((EXAMPLE / "user_config.json").read_text())
    started = time.perf_counter()
    first = zkmerkle.verify(document, "user_config.json", EXAMPLE / "config.json", name="htx-zk")
    cold = time.perf_counter() - started
    assert first.checks[1].status.name == "PASS"
    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        zkmerkle.verify(document, "user_config.json", EXAMPLE / "config.json", name="htx-zk")
    warm = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for _ in range(runs * 100):
        node = b"\0" * 32
        for level in range(28):
            node = hashlib.sha256(node + level.to_bytes(32, "big")).digest()
    sha = (time.perf_counter() - started) / (runs * 100)
    print(f"zk-Merkle check: first {cold * 1000:.0f} ms (with Poseidon's constants), then {warm * 1000:.1f} ms")
    print(f"28-level SHA-256 path: {sha * 1e6:.0f} µs; the zk check is {warm / sha:.0f}x that")


if __name__ == "__main__":
    main()
