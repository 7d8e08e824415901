"""Format v2's curve floor, in instructions: what one constant-time ``r·G`` and the compiled
build cost per holding, counted by valgrind's callgrind (the same count however busy or
fast the VM is), then turned into seconds at this machine's measured rate.

    .venv/bin/python benchmarks/curve_floor.py --accounts 3000 --holdings 30000000 --cores 2

1. Publish a small v2 snapshot (N accounts x 20 assets, 3 held each) under callgrind and read
   the instructions spent inside ``secp256k1_ec_pubkey_create`` (``r·G``: libsecp256k1's
   constant-time comb, coincurve's build), inside ``_private.c``'s ``leaves`` (``r·G``, ``v·H``
   and the leaf hash) and ``parents`` (a point sum and a node hash).
2. Time ``ec_pubkey_create`` natively, one thread per core, for a few seconds: the rate at
   which this machine runs that code.
3. Print the counts per holding and what they take, at that rate, for ``--holdings`` on
   ``--cores``: no FORMAT-2 build can publish or audit faster than the ``r·G`` line.

Needs valgrind (Debian's package). Nothing here asserts a time: the numbers are for the README.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

sys.path.insert(0, str(Path(__file__).resolve().parent))
from private_sums import BIN, OPTIONS, write_liabilities

FUNCTIONS = {"secp256k1_ec_pubkey_create": "r·G", "leaves": "leaf", "parents": "parent"}
ANNOTATED = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(\w+) \[")


def counted(work: Path, accounts: int, assets: int, held: int) -> dict[str, int]:
    """Inclusive instructions of each of FUNCTIONS while publishing a small v2 snapshot."""
    csv, snap, out = work / f"floor-{accounts}x{assets}x{held}.csv", work / "snap-floor", work / "callgrind.out"
    if not csv.exists():
        write_liabilities(csv, accounts, assets, held, seed=11)
    decimals = ",".join(f"A{a:03d}=8" for a in range(assets))
    publish = [BIN, "publish", csv, *OPTIONS, "--decimals", decimals, "--private-sums", "--out", snap, "--force"]
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    subprocess.run([str(a) for a in (*valgrind, *publish)], check=True, capture_output=True)
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(out)], check=True, capture_output=True, text=True
    ).stdout
    counts: dict[str, int] = {}
    for line in annotated.splitlines():
        match = ANNOTATED.match(line)
        if match and match[2] in FUNCTIONS:
            counts[match[2]] = counts.get(match[2], 0) + int(match[1].replace(",", ""))
    return counts


def creates_per_second(seconds: float, threads: int) -> float:
    """``ec_pubkey_create`` calls a second, ``threads`` threads side by side (cffi lets go of the GIL)."""
    done = [0] * threads

    def loop(slot: int) -> None:
        key, secret = ffi.new("secp256k1_pubkey *"), bytearray(range(1, 33))
        deadline, calls = time.perf_counter() + seconds, 0
        while time.perf_counter() < deadline:
            for _ in range(200):
                secret[31] = calls & 0xFF
                lib.secp256k1_ec_pubkey_create(GLOBAL_CONTEXT.ctx, key, bytes(secret))
                calls += 1
        done[slot] = calls

    workers = [threading.Thread(target=loop, args=(slot,)) for slot in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=3_000, help="accounts in the sample counted by callgrind")
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--held", type=int, default=3)
    parser.add_argument("--holdings", type=int, default=30_000_000, help="holdings to project the floor onto")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="of native r·G timing")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench-floor"))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("curve_floor: needs valgrind (apt-get install valgrind)")
    args.work.mkdir(parents=True, exist_ok=True)
    # 1. Instructions, counted.
    counts = counted(args.work, args.accounts, args.assets, args.held)
    per_holding = {FUNCTIONS[f]: n / (args.accounts * args.held) for f, n in counts.items()}
    # 2. This machine's rate in that code: r·G calls a second on every core.
    rate = creates_per_second(args.seconds, args.cores)
    # 3. The floor for --holdings: each holding's instructions at the rate r·G's run at.
    seconds_per_instruction = 1 / (rate * per_holding["r·G"])
    build = per_holding["leaf"] + per_holding["parent"]
    label = f"floor for {args.holdings:,} holdings on {args.cores} cores, s"
    results = {
        "instructions per holding": {name: round(n) for name, n in per_holding.items()},
        f"r·G per second on {args.cores} threads": round(rate),
        f"{label}: r·G alone": round(args.holdings * per_holding["r·G"] * seconds_per_instruction, 1),
        f"{label}: leaves and parents": round(args.holdings * build * seconds_per_instruction, 1),
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
