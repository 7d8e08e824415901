"""Publish and audit on Dask: a real LocalCluster of worker processes (started once for
these tests), the CLI's --local-workers, and `dask scheduler` / `dask worker` processes
started from the command line, as an exchange would run them on its machines."""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import SchedulerPlugin
from evm_node import free_port
from test_cluster_build import HEADER, REQUEST, SECRET, rows, store_files, write

from reserves.errors import InputError
from reserves.liabilities.cluster.engine import Cluster, Sizes
from reserves.liabilities.cluster.on_dask import DaskRunner
from reserves.publishing import publish
from support import cli, flat

OPTIONS = ("--exchange", REQUEST.exchange, "--snapshot-id", REQUEST.snapshot_id)
OPTIONS += ("--cutoff", "2025-12-03T00:00:00Z", "--decimals", "BTC=8,ETH=18")


class TaskArguments(SchedulerPlugin):
    """Keeps every submitted task's pickled definition, as the scheduler holds it."""

    name = "task-arguments"

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def update_graph(self, scheduler: Any, *, tasks: list[Any], **kwargs: Any) -> None:
        self.seen += [pickle.dumps(scheduler.tasks[key].run_spec) for key in tasks if key in scheduler.tasks]


@pytest.fixture(scope="module")
def dask_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="1GiB",
        local_directory=str(tmp_path_factory.mktemp("dask")),
        silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    with cluster, Client(cluster) as client:
        yield client


@pytest.mark.parametrize(("accounts", "partition_bytes"), [(1, 64), (65_537, 1 << 20)])
def test_a_local_cluster_writes_the_single_machine_bytes(
    tmp_path: Path, dask_client: Client, accounts: int, partition_bytes: int
) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(accounts)))
    publish(liabilities, REQUEST, tmp_path / "one", secret=SECRET)
    cluster = Cluster(DaskRunner(dask_client), tmp_path / "shared", Sizes(1 << 20, partition_bytes))
    publish(liabilities, REQUEST, tmp_path / "dask", secret=SECRET, cluster=cluster)
    assert store_files(tmp_path / "dask") == store_files(tmp_path / "one")
    assert list((tmp_path / "shared").iterdir()) == []


def test_the_secret_is_never_in_a_task_s_arguments(tmp_path: Path, dask_client: Client) -> None:
    plugin = TaskArguments()
    dask_client.register_plugin(plugin)
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(500)))
    cluster = Cluster(DaskRunner(dask_client), tmp_path / "shared", Sizes(4096, 8192))
    publish(liabilities, REQUEST, tmp_path / "dask", secret=SECRET, cluster=cluster)
    seen = dask_client.cluster.scheduler.plugins[TaskArguments.name].seen  # type: ignore[union-attr]
    assert len(seen) > 20  # scans, blocks, sorts and builds
    assert not [task for task in seen if SECRET.key in task or SECRET.key.hex().encode() in task]
    assert any(b"user-" not in task and b"liabilities.csv" in task for task in seen)  # the file's path, not its rows


def test_a_worker_killed_mid_build_is_replaced_and_the_bytes_stay_the_same(tmp_path: Path) -> None:
    """A worker process that dies (here: made to exit while the tree is being hashed) is
    restarted by its nanny and its tasks run again; they rewrite the same bytes."""
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(140_000)))
    publish(liabilities, REQUEST, tmp_path / "one", secret=SECRET)
    killed: list[str] = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            local_directory=str(tmp_path / "scratch"),
            silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as local,
        Client(local) as client,
    ):

        def progress(label: str, done: int, total: int) -> None:
            if label in ("sorting accounts", "hashing the tree") and done == 1 and len(killed) < 2:
                worker = sorted(client.scheduler_info()["workers"])[0]
                os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)
                killed.append(worker)

        cluster = Cluster(DaskRunner(client), tmp_path / "shared", Sizes(1 << 20, 1 << 20))
        publish(liabilities, REQUEST, tmp_path / "dask", secret=SECRET, cluster=cluster, progress=progress)
        assert not set(killed) & set(client.scheduler_info()["workers"])  # both were replaced
    assert len(killed) == 2
    assert store_files(tmp_path / "dask") == store_files(tmp_path / "one")


def test_a_repeated_id_found_by_the_workers_has_the_single_machine_message(tmp_path: Path, dask_client: Client) -> None:
    lines = rows(400)
    lines[390] = "user-000007,1,1\n"
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(lines))
    cluster = Cluster(DaskRunner(dask_client), tmp_path / "shared", Sizes(2048, 4096))
    with pytest.raises(InputError) as error:
        publish(liabilities, REQUEST, tmp_path / "dask", secret=SECRET, cluster=cluster)
    assert str(error.value) == f"{liabilities}:392: account id 'user-000007' appears again (first on line 9)"
    assert not (tmp_path / "dask").exists()


def test_publish_and_audit_with_local_workers(tmp_path: Path) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(3000)))
    workers = ("--local-workers", "2", "--worker-memory", "1GiB")
    one = cli("publish", liabilities, *OPTIONS, "--out", tmp_path / "one")
    assert one.exit_code == 0, one.stderr
    secret = tmp_path / "one" / "private" / "secret"
    staged = cli("publish", liabilities, *OPTIONS, "--out", tmp_path / "dask", "--secret", secret, *workers, "--json")
    assert staged.exit_code == 0, staged.stderr
    assert json.loads(staged.stdout)["result"] == "PUBLISHED"
    assert store_files(tmp_path / "dask") == store_files(tmp_path / "one")

    snapshot = tmp_path / "dask" / "public" / "snapshot.json"
    audit = cli(
        "audit", snapshot, "--liabilities", liabilities, "--secret", secret, "--liabilities-only", *workers, "--json"
    )
    assert audit.exit_code == 0, audit.stderr
    assert [(c["step"], c["status"]) for c in json.loads(audit.stdout)["checks"]] == [
        (1, "PASS"),
        (2, "PASS"),
        (3, "PASS"),
        (3, "PASS"),
        (4, "PASS"),
    ]
    changed = write(tmp_path / "changed.csv", liabilities.read_text().replace("user-000100,", "user-000100,1"))
    audit = cli(
        "audit", snapshot, "--liabilities", changed, "--secret", secret, "--liabilities-only", *workers, "--json"
    )
    assert audit.exit_code == 1, audit.stderr
    statuses = [(c["step"], c["status"], c["title"][-5:]) for c in json.loads(audit.stdout)["checks"]]
    assert statuses == [
        (1, "PASS", " rows"),
        (2, "PASS", "nique"),
        (3, "FAIL", ": BTC"),
        (3, "PASS", ": ETH"),
        (4, "FAIL", " root"),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--work-dir", "x"),
            "invalid input: --work-dir is for a cluster build: give --scheduler or --local-workers too",
        ),
        (
            ("--scheduler", "tcp://127.0.0.1:1"),
            "invalid input: --scheduler needs --work-dir: a folder this machine and every worker share",
        ),
        (
            ("--scheduler", "tcp://127.0.0.1:1", "--local-workers", "2"),
            "invalid input: give either --scheduler (a running cluster) or --local-workers (started here), not both",
        ),
        (
            ("--local-workers", "1", "--worker-memory", "lots"),
            "invalid input: --worker-memory: expected a memory size of at least 64MiB such as 2GiB, found 'lots'",
        ),
    ],
)
def test_cluster_options_that_do_not_fit_together(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(3)))
    result = cli("publish", liabilities, *OPTIONS, "--out", tmp_path / "out", *options)
    assert result.exit_code == 2
    assert flat(result.stderr) == f"reserves: {message}"


def test_a_scheduler_and_workers_started_from_the_command_line(tmp_path: Path) -> None:
    port = free_port()
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask is not None
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"tcp://127.0.0.1:{port}"
    worker_options = ["--nworkers", "2", "--nthreads", "1", "--memory-limit", "1GiB", "--no-dashboard"]
    worker = subprocess.Popen(
        [dask, "worker", address, *worker_options, "--local-directory", str(tmp_path / "scratch")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_workers(address, 2)
        liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(2000)))
        one = cli("publish", liabilities, *OPTIONS, "--out", tmp_path / "one")
        assert one.exit_code == 0, one.stderr
        secret = tmp_path / "one" / "private" / "secret"
        on = ("--scheduler", address, "--work-dir", tmp_path / "shared")
        staged = cli("publish", liabilities, *OPTIONS, "--out", tmp_path / "dask", "--secret", secret, *on)
        assert staged.exit_code == 0, staged.stderr
        assert store_files(tmp_path / "dask") == store_files(tmp_path / "one")
        snapshot = tmp_path / "dask" / "public" / "snapshot.json"
        audit = cli("audit", snapshot, "--liabilities", liabilities, "--secret", secret, "--liabilities-only", *on)
        assert audit.exit_code == 0, audit.stderr
        assert list((tmp_path / "shared").iterdir()) == []
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


def _wait_for_workers(address: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout=5) as client:
                client.wait_for_workers(count, timeout=max(1, deadline - time.monotonic()))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
