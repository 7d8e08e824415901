"""Many assets on one machine: publish N accounts x A assets where each account holds only a
few, and report wall time, peak memory and the proof store's size against the CSV's.

    .venv/bin/python benchmarks/many_assets.py --accounts 1000000 --assets 200 --held 4

The file is generated deterministically into --work (default /tmp/reserves-bench) and
reused: every account holds ``--held`` assets drawn at random (8 decimals), the rest are
``0``. Also times one proof and its check, and the format v1 store's layout (files with
33 assets or more keep only nonzero sums). Nothing here asserts a time: the numbers are
for the README.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from reserves.encoding import format_amount


def generate(path: Path, accounts: int, assets: int, held: int) -> None:
    draw = random.Random(17)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="ascii") as handle:
        handle.write("account," + ",".join(f"C{a:03d}" for a in range(assets)) + "\n")
        for start in range(0, accounts, 100_000):
            lines = []
            for number in range(start, min(start + 100_000, accounts)):
                fields = ["0"] * assets
                for asset in draw.sample(range(assets), held):
                    fields[asset] = format_amount(draw.randrange(1, 10**12), 8)
                lines.append(f"user-{number:08d}@example.com," + ",".join(fields) + "\n")
            handle.writelines(lines)
    partial.rename(path)


def run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak resident memory (bytes) of the largest child so far."""
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--held", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench"))
    args = parser.parse_args()
    work = args.work / f"{args.accounts}x{args.assets}-held{args.held}"
    work.mkdir(parents=True, exist_ok=True)
    csv = work / "liabilities.csv"
    if not csv.exists():
        generate(csv, args.accounts, args.assets, args.held)
    snap = work / "snap"
    shutil.rmtree(snap, ignore_errors=True)
    reserves = str(Path(sys.executable).parent / "reserves")
    decimals = ",".join(f"C{a:03d}=8" for a in range(args.assets))
    publish = [reserves, "publish", str(csv), "--exchange", "Bench", "--snapshot-id", "wide"]
    publish += ["--cutoff", "2026-01-01T00:00:00Z", "--decimals", decimals, "--out", str(snap)]
    seconds, peak = run(publish)
    store = sum(p.stat().st_size for p in (snap / "private" / "store").iterdir())
    size = csv.stat().st_size
    print(f"{args.accounts} x {args.assets}, {args.held} held: CSV {size / 2**30:.2f} GiB")
    print(f"  publish: {seconds:.1f} s, peak {peak / 2**30:.2f} GiB")
    print(f"  store: {store / 2**30:.2f} GiB, {store / size:.2f}x the CSV")
    seconds, _ = run([reserves, "proof", str(snap), "user-00000042@example.com"])
    print(f"  one proof (wall, start-up included): {seconds:.2f} s")
    seconds, peak = run(
        [reserves, "audit", str(snap / "public" / "snapshot.json"), "--liabilities", str(csv),
         "--secret", str(snap / "private" / "secret"), "--liabilities-only"]
    )  # fmt: skip
    print(f"  audit: {seconds:.1f} s (peak of any child so far {peak / 2**30:.2f} GiB)")


if __name__ == "__main__":
    main()
