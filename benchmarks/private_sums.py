"""Format v2 (private sums) at scale: publish, audit, proof and verify at N accounts, A
assets and K assets held per account, beside baselines measured in the same run:

- format v1's publish and audit of the same file (``reserves publish`` without
  ``--private-sums``): what hiding the sums costs;
- the curve's floor: one ``r·G`` and one point sum per holding through coincurve (the
  least work any implementation of FORMAT-2 does per leaf), timed on a sample here.

    .venv/bin/python benchmarks/private_sums.py --accounts 1000000 --assets 20 --held 3

Balances fit FORMAT-2's 64-bit totals (8 decimals, up to 10^4 whole units each). Data is
generated deterministically into --work (default /tmp/reserves-bench-v2) and reused.
Nothing here asserts a time: the numbers are for the README.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from coincurve import PublicKey

from reserves.liabilities.private_sums.checking import verify_private_proof
from reserves.liabilities.private_sums.store import PrivateStore

BIN = Path(sys.executable).parent / "reserves"
OPTIONS = ["--exchange", "Bench", "--snapshot-id", "b-1", "--cutoff", "2026-11-21T00:00:00Z"]


def write_liabilities(path: Path, accounts: int, assets: int, held: int, seed: int) -> None:
    """``accounts`` rows, each holding ``held`` of ``assets`` assets (8 decimals, below 10^4 units)."""
    rng = random.Random(seed)
    zero = ["0"] * assets
    with path.open("w", encoding="ascii") as handle:
        handle.write("account," + ",".join(f"A{a:03d}" for a in range(assets)) + "\n")
        lines = []
        for n in range(accounts):
            row = list(zero)
            for a in rng.sample(range(assets), held):
                whole, fraction = rng.randrange(10**4), rng.randrange(1, 10**8)
                row[a] = f"{whole}.{fraction:08d}".rstrip("0")
            lines.append(f"user-{n:08d}@example.com," + ",".join(row) + "\n")
            if len(lines) == 100_000:
                handle.writelines(lines)
                lines = []
        handle.writelines(lines)


def run(args: list[str | Path]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) * 1024


def size(path: Path) -> int:
    """Bytes on disk (sparse range-proof caches count as what they hold)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def curve_floor(samples: int = 20_000) -> float:
    """Seconds per holding for ``r·G`` plus one point sum (coincurve), the least any build does."""
    rng = random.Random(1)
    secrets = [rng.randrange(1, 2**255).to_bytes(32, "big") for _ in range(samples)]
    other = PublicKey.from_secret(b"\x07" * 32)
    start = time.perf_counter()
    for secret in secrets:
        PublicKey.combine_keys([PublicKey.from_secret(secret), other])
    return (time.perf_counter() - start) / samples


def proofs(work: Path, snap: Path, accounts: int, count: int) -> dict[str, float]:
    """``proof`` and ``verify`` of ``count`` random accounts, per asset held: the work in this
    process (the store opened once, the first request for each account's lower-level range
    proofs: a cold cache), and one CLI run of each (Python start-up included)."""
    store = PrivateStore.open(snap)
    published = store.statement.commitment
    rng = random.Random(5)
    cold, warm, verify, sizes = [], [], [], []
    for n in rng.sample(range(accounts), count):
        account = f"user-{n:08d}@example.com"
        for timings in (cold, warm):
            start = time.perf_counter()
            proof = store.proof(account)
            timings.append((time.perf_counter() - start) / len(proof.holdings))
        start = time.perf_counter()
        assert verify_private_proof(proof, published=published).verdict().outcome.value == "PASS"
        verify.append((time.perf_counter() - start) / len(proof.holdings))
        sizes.append(len(proof.to_text()) / len(proof.holdings))
    path = work / "proof.json"
    start = time.perf_counter()
    with path.open("w") as out:
        subprocess.run([str(BIN), "proof", str(snap), "user-00000001@example.com"], check=True, stdout=out)
    proof_wall = time.perf_counter() - start
    start = time.perf_counter()
    snapshot = snap / "public" / "snapshot.json"
    subprocess.run([str(BIN), "verify", str(path), "--snapshot", str(snapshot)], check=True, stdout=subprocess.DEVNULL)
    return {
        "proof cold s/asset (work)": statistics.median(cold),
        "proof warm s/asset (work)": statistics.median(warm),
        "verify s/asset (work)": statistics.median(verify),
        "proof kB/asset": statistics.median(sizes) / 1000,
        "proof CLI wall s": proof_wall,
        "verify CLI wall s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--held", type=int, default=3)
    parser.add_argument("--proofs", type=int, default=5)
    parser.add_argument("--skip-v1", action="store_true", help="Leave out format v1's baseline.")
    parser.add_argument("--skip-audit", action="store_true", help="Leave out the audit.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench-v2"))
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    csv = work / f"liabilities-{args.accounts}x{args.assets}x{args.held}.csv"
    if not csv.exists():
        write_liabilities(csv, args.accounts, args.assets, args.held, seed=7)
    decimals = ",".join(f"A{a:03d}=8" for a in range(args.assets))
    holdings = args.accounts * args.held
    results: dict[str, object] = {"accounts": args.accounts, "assets": args.assets, "held": args.held}
    snap, secret = work / "snap-v2", work / "snap-v2" / "private" / "secret"
    seconds, peak = run(
        [BIN, "publish", csv, *OPTIONS, "--decimals", decimals, "--private-sums", "--out", snap, "--force"]
    )
    results |= {"publish s": seconds, "publish peak GiB": peak / 2**30, "publish us/holding": seconds / holdings * 1e6}
    results["store / csv"] = size(snap / "private" / "store") / csv.stat().st_size
    if not args.skip_audit:
        seconds, peak = run([BIN, "audit", snap / "public" / "snapshot.json", "--liabilities", csv, "--secret", secret])
        results |= {"audit s": seconds, "audit peak GiB": peak / 2**30}
    results |= proofs(work, snap, args.accounts, args.proofs)
    floor = curve_floor()
    results["curve floor us/holding"] = floor * 1e6
    results["publish / floor (2 cores)"] = results["publish us/holding"] / (floor * 1e6 / 2)  # type: ignore[operator]
    if not args.skip_v1:
        seconds, peak = run(
            [BIN, "publish", csv, *OPTIONS, "--decimals", decimals, "--out", work / "snap-v1", "--force"]
        )
        results |= {"v1 publish s": seconds, "v2 / v1 publish": results["publish s"] / seconds}  # type: ignore[operator]
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
