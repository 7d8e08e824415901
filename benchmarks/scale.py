"""Scale benchmark: publish, audit, proof and verify at N accounts and A assets, printed
beside two baselines measured in the same run on the same machine:

- blockcerts-merkletools building a plain Merkle tree (no sums, no domain separation)
  over the same number of leaves;
- raw SHA-256 over as many bytes as our tree hashes (account commitments, leaves,
  internal nodes and the two HMACs per account): the floor for any implementation.

    .venv/bin/python benchmarks/scale.py --accounts 1000000 --assets 20

Data is generated deterministically (benchmarks/generate_liabilities.py) into --work
(default /tmp/reserves-bench) and reused when present. Nothing here asserts a time:
the numbers are for the README.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import blockcerts_merkletools

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_liabilities import write

from reserves.liabilities.proof_store import ProofStore

DECIMALS = [8, 18, 6, 9, 8, 6, 18, 8, 6, 12]
TARGETS = {
    "publish": "120 s, 8 GB (10M x 20)",
    "audit": "60 s (10M x 20)",
    "proof": "50 ms of work",
    "verify": "0.3 s wall",
}


def run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench"))
    args = parser.parse_args()
    n, a = args.accounts, args.assets
    work = args.work / f"{n}x{a}"
    work.mkdir(parents=True, exist_ok=True)
    assets = [(f"A{i:02d}", DECIMALS[i % len(DECIMALS)]) for i in range(a)]
    decimals = ",".join(f"{s}={d}" for s, d in assets)
    csv = work / "liabilities.csv"
    if not csv.exists():  # generated once per size, renamed into place only when complete
        partial = csv.with_name(csv.name + ".partial")
        write(partial, n, assets, seed=11, special=False)
        partial.rename(csv)
    script = str(Path(sys.executable).parent / "reserves")
    snap = work / "snap"
    if snap.exists():
        subprocess.run(["rm", "-rf", str(snap)], check=True)

    results: dict[str, str] = {}
    seconds, peak = run(
        [
            script,
            "publish",
            str(csv),
            "--exchange",
            "Bench",
            "--snapshot-id",
            "b",
            "--cutoff",
            "2026-01-01T00:00:00Z",
            "--decimals",
            decimals,
            "--out",
            str(snap),
        ]
    )
    results["publish"] = f"{seconds:8.1f} s, peak {peak / 2**30:.2f} GiB"
    print(f"publish: {results['publish'].strip()}", file=sys.stderr, flush=True)
    publish_seconds = seconds
    seconds, _ = run(
        [
            script,
            "audit",
            str(snap / "public" / "snapshot.json"),
            "--liabilities",
            str(csv),
            "--secret",
            str(snap / "private" / "secret"),
        ]
    )
    results["audit"] = f"{seconds:8.1f} s"
    print(f"audit: {results['audit'].strip()}", file=sys.stderr, flush=True)

    store = ProofStore.open(snap)
    ids = [f"user-{i:06d}@example.com" for i in random.Random(1).sample(range(n), min(50, n))]
    timings = []
    for account in ids:
        start = time.perf_counter()
        store.proof(account)
        timings.append(time.perf_counter() - start)
    results["proof"] = f"{statistics.median(timings) * 1000:8.2f} ms of work (median of {len(ids)})"

    proof_file = work / "proof.json"
    proof_file.write_text(store.proof(ids[0]).to_text())
    walls = [
        run([script, "verify", str(proof_file), "--snapshot", str(snap / "public" / "snapshot.json")])[0]
        for _ in range(5)
    ]
    results["verify"] = f"{statistics.median(walls):8.2f} s wall, start-up included (median of 5)"

    # Baselines, same run.
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).hexdigest() for i in range(n)]
    tree = blockcerts_merkletools.MerkleTools(hash_type="sha256")
    start = time.perf_counter()
    tree.add_leaf(leaves, do_hash=False)
    tree.make_tree()
    merkletools = time.perf_counter() - start
    record = 32 + 16 * a
    hashed = n * (2 * 64 + 100 + (8 + 32 + 16 * a) + 64) + n * (9 + 2 * record) + 128 * n  # HMACs, account, leaf, nodes
    block = os.urandom(1 << 20)
    state = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(hashed >> 20):
        state.update(block)
    floor = time.perf_counter() - start

    print(f"reserves scale benchmark: {n:,} accounts x {a} assets ({csv.stat().st_size / 2**20:.0f} MiB CSV)")
    for step, text in results.items():
        print(f"  {step:<8} {text:<60} target {TARGETS[step]}")
    print(
        f"  baseline blockcerts-merkletools, plain tree over {n:,} leaves: {merkletools:.1f} s "
        f"(publish / merkletools = {publish_seconds / merkletools:.1f}x)"
    )
    print(
        f"  floor    raw SHA-256 over the {hashed / 2**30:.2f} GiB our tree hashes: {floor:.1f} s "
        f"(publish / floor = {publish_seconds / floor:.1f}x)"
    )


if __name__ == "__main__":
    main()
