"""The options that move ``publish`` and ``audit`` onto a Dask cluster, shared by both."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserves.errors import InputError

if TYPE_CHECKING:
    from reserves.liabilities.cluster.engine import Cluster

PANEL = "Past one machine (pip install 'reserves[dask]')"

SchedulerOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="Build on the Dask cluster of this scheduler (tcp://HOST:8786). Every worker must read the "
        "liabilities file at the same path, and share --work-dir.",
        rich_help_panel=PANEL,
    ),
]
WorkDirOption = Annotated[
    Path | None,
    typer.Option(
        help="A folder this machine and every worker share (NFS, a cluster file system) for the build's "
        "intermediate files: every balance and, while it runs, the secret; removed afterwards. "
        "Default with --local-workers: the temporary folder.",
        rich_help_panel=PANEL,
    ),
]
LocalWorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=256,
        help="Start this many Dask worker processes here for this run (one machine, bounded memory).",
        rich_help_panel=PANEL,
    ),
]
WorkerMemoryOption = Annotated[
    str | None,
    typer.Option(
        metavar="SIZE",
        help="Each local worker's memory limit, e.g. 1GiB (Dask pauses a worker at 80%, restarts it at 95%). "
        "Default: the machine's memory shared among the workers.",
        rich_help_panel=PANEL,
    ),
]


@contextmanager
def cluster_from_options(
    scheduler: str | None, work_dir: Path | None, local_workers: int | None, worker_memory: str | None
) -> Iterator[Cluster | None]:
    """The cluster the options ask for (``None``: the single-machine build), for the command's duration."""
    if scheduler is None and local_workers is None:
        for given, name in ((work_dir, "--work-dir"), (worker_memory, "--worker-memory")):
            if given is not None:
                raise InputError(f"{name} is for a cluster build: give --scheduler or --local-workers too")
        yield None
        return
    if scheduler is not None and local_workers is not None:
        raise InputError("give either --scheduler (a running cluster) or --local-workers (started here), not both")
    if scheduler is not None and work_dir is None:
        raise InputError("--scheduler needs --work-dir: a folder this machine and every worker share")
    if scheduler is not None and worker_memory is not None:
        raise InputError("--worker-memory sizes local workers: a running cluster's workers set their own")
    from reserves.liabilities.cluster.engine import Cluster
    from reserves.liabilities.cluster.on_dask import dask_runner, parse_memory

    memory = parse_memory(worker_memory, where="--worker-memory") if worker_memory is not None else None
    folder = work_dir or Path(tempfile.gettempdir())
    with dask_runner(scheduler=scheduler, local_workers=local_workers, worker_memory=memory, scratch=folder) as runner:
        yield Cluster(runner, folder)
