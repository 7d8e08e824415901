"""Publish on a Dask LocalCluster with a fixed memory cap per worker, beside the
single-machine publish of the same file measured in the same run:

    .venv/bin/python benchmarks/distributed_memory.py --accounts 10000000 --workers 2 --worker-memory 1GiB

It reports each worker's peak resident memory (sampled every 0.2 s through Dask), whether
any worker was restarted (Dask restarts a worker at 95 % of its limit), the driver's peak,
the wall time of both builds and whether the two stores are byte-identical. Run it at
growing ``--accounts`` with ``--skip-single`` to see memory per worker stay flat while the
cluster stays the same. Data is generated deterministically into --work (default
/tmp/reserves-bench) and reused. Nothing here asserts a time: the numbers are for the README.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from distributed import Client, LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_liabilities import write

from reserves.liabilities.cluster.engine import Cluster
from reserves.liabilities.cluster.on_dask import DaskRunner, parse_memory
from reserves.liabilities.secret import SnapshotSecret
from reserves.publishing import SnapshotRequest, publish

DECIMALS = [8, 18, 6, 9, 8, 6, 18, 8, 6, 12]


def worker_rss() -> int:
    return int(psutil.Process().memory_info().rss)


class Sampler:
    """Every worker's peak resident memory, and every worker address seen (a restart adds one)."""

    def __init__(self, client: Client) -> None:
        self.client, self.peaks, self.addresses = client, dict[str, int](), set[str]()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            try:
                found = self.client.run(worker_rss)
            except (OSError, TimeoutError):  # a worker going away mid-call
                continue
            for address, rss in found.items():
                self.addresses.add(address)
                self.peaks[address] = max(self.peaks.get(address, 0), rss)


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="1GiB")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reserves-bench"))
    parser.add_argument("--skip-single", action="store_true", help="only the cluster build")
    args = parser.parse_args()
    n, a = args.accounts, args.assets
    work = args.work / f"{n}x{a}"
    work.mkdir(parents=True, exist_ok=True)
    assets = [(f"A{i:02d}", DECIMALS[i % len(DECIMALS)]) for i in range(a)]
    csv = work / "liabilities.csv"
    if not csv.exists():
        partial = csv.with_name(csv.name + ".partial")
        write(partial, n, assets, seed=11, special=False)
        partial.rename(csv)
    secret = SnapshotSecret(bytes(range(32)))
    (work / "bench-secret").write_text(secret.to_text())
    request = SnapshotRequest("Bench", "b", 1_767_225_600, dict(assets))
    single, staged = work / "snap-single", work / "snap-dask"
    for folder in (single, staged):
        shutil.rmtree(folder, ignore_errors=True)

    single_seconds = None
    if not args.skip_single:
        decimals = ",".join(f"{s}={d}" for s, d in assets)
        command = [str(Path(sys.executable).parent / "reserves"), "publish", str(csv), "--exchange", "Bench"]
        command += ["--snapshot-id", "b", "--cutoff", "2026-01-01T00:00:00Z", "--decimals", decimals]
        command += ["--out", str(single), "--secret", str(work / "bench-secret")]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        single_seconds = time.perf_counter() - start
        single_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(f"single machine: {single_seconds:.1f} s, peak {single_peak / 2**30:.2f} GiB", flush=True)

    limit = parse_memory(args.worker_memory, where="--worker-memory")
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=limit,
        local_directory=str(work / "dask-scratch"),
        silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    with cluster, Client(cluster) as client, Sampler(client) as sampler:
        start = time.perf_counter()
        publish(csv, request, staged, secret=secret, cluster=Cluster(DaskRunner(client), work / "shared"))
        staged_seconds = time.perf_counter() - start
    driver_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peaks = ", ".join(f"{p / 2**30:.2f}" for p in sorted(sampler.peaks.values()))
    restarted = len(sampler.addresses) - args.workers
    print(f"cluster: {staged_seconds:.1f} s; worker peaks {peaks} GiB (cap {limit / 2**30:.2f}); ", end="")
    print(f"workers restarted: {restarted}; driver peak {driver_peak / 2**30:.2f} GiB", flush=True)
    if single_seconds is not None:
        same = digest(single / "private" / "store") == digest(staged / "private" / "store")
        same = same and (single / "public/snapshot.json").read_bytes() == (staged / "public/snapshot.json").read_bytes()
        ratio = staged_seconds / single_seconds
        print(f"byte-identical to the single-machine build: {same}; cluster / single: {ratio:.2f}x")


if __name__ == "__main__":
    main()
