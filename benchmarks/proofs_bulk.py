"""Proofs in bulk: ``ProofStore.serving`` (every store file mapped once, as ``reserves
proofs`` and a proof server use it) against one ``ProofStore.proof`` call at a time (each
opening what it reads, as ``reserves proof`` does), both in the same run on the same
store, one thread; and ``reserves proofs --jsonl`` and ``--out`` end to end.

    .venv/bin/python benchmarks/proofs_bulk.py --accounts 1000000 --assets 20

Data and the published snapshot are made once into --work (default
/tmp/reserves-bench/<N>x<A>, shared with scale.py). Prints proofs a second and the ratio.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_liabilities import write

from reserves.liabilities.proof_store import ProofStore

DECIMALS = [8, 18, 6, 9, 8, 6, 18, 8, 6, 12]


def published(work: Path, n: int, a: int) -> Path:
    assets = [(f"A{i:02d}", DECIMALS[i % len(DECIMALS)]) for i in range(a)]
    csv, snap = work / "liabilities.csv", work / "snap"
    if not csv.exists():
        partial = csv.with_name(csv.name + ".partial")
        write(partial, n, assets, seed=11, special=False)
        partial.rename(csv)
    if not (snap / "public" / "snapshot.json").exists():
        subprocess.run(["rm", "-rf", str(snap)], check=True)
        decimals = ",".join(f"{s}={d}" for s, d in assets)
        subprocess.run(
            [str(Path(sys.executable).parent / "reserves"), "publish", str(csv), "--exchange", "Bench",
             "--snapshot-id", "b", "--cutoff", "2026-01-01T00:00:00Z", "--decimals", decimals, "--out", str(snap)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return snap


def rate(call: object, ids: list[str]) -> float:
    start = time.perf_counter()
    for account in ids:
        call(account)  # type: ignore[operator]
    return len(ids) / (time.perf_counter() - start)


def command_rate(snap: Path, ids: Path, option: str, target: Path, count: int) -> float:
    """Proofs a second through ``reserves proofs`` writing ``option target``, start-up included."""
    start = time.perf_counter()
    reserves = Path(sys.executable).parent / "reserves"
    subprocess.run(
        [str(a) for a in (reserves, "proofs", snap, "--ids", ids, option, target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--proofs", type=int, default=20000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench"))
    args = parser.parse_args()
    work = args.work / f"{args.accounts}x{args.assets}"
    work.mkdir(parents=True, exist_ok=True)
    snap = published(work, args.accounts, args.assets)
    sample = random.Random(3).sample(range(args.accounts), min(args.proofs, args.accounts))
    ids = [f"user-{i:06d}@example.com" for i in sample]
    store = ProofStore.open(snap)
    one_by_one = rate(lambda i: store.proof(i).to_text(), ids[:2000])
    with store.serving() as served:
        mapped = rate(lambda i: served.proof(i).to_text(), ids[:2000])
        start = time.perf_counter()
        for first in range(0, len(ids), 4096):
            served.jsonl(ids[first : first + 4096])
        bulk = len(ids) / (time.perf_counter() - start)
    (work / "ids.txt").write_text("".join(i + "\n" for i in ids))
    shutil.rmtree(work / "proofs", ignore_errors=True)
    command = command_rate(snap, work / "ids.txt", "--jsonl", work / "proofs.jsonl", len(ids))
    folder = command_rate(snap, work / "ids.txt", "--out", work / "proofs", len(ids))
    print(f"{args.accounts} x {args.assets}, {len(ids)} random accounts, one thread:")
    print(f"  one call at a time (each opening its files): {one_by_one:7.0f} proofs/s")
    print(f"  served store (files mapped once):            {mapped:7.0f} proofs/s ({mapped / one_by_one:.1f}x)")
    print(f"  served store, in bulk (jsonl, 4096 a batch): {bulk:7.0f} proofs/s ({bulk / one_by_one:.1f}x)")
    print(f"  reserves proofs --jsonl, start-up included:  {command:7.0f} proofs/s")
    print(f"  reserves proofs --out (a file each, indented): {folder:7.0f} proofs/s")


if __name__ == "__main__":
    main()
