"""The stages on a Dask cluster (``pip install 'reserves[dask]'``): a scheduler already
running (``dask scheduler`` and ``dask worker`` processes, on one box or many), or a
``LocalCluster`` of worker processes started for one run.

Every task is submitted with retries: a worker that dies mid-task has its task run again
elsewhere, which rewrites the same bytes (tasks write whole files by renaming, or records
at fixed offsets). Dask's own logging is kept to errors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reserves import __version__
from reserves.errors import InputError, SourceError
from reserves.progress import ProgressCallback

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
RETRIES = 3
"""Times a task is run again after its worker died or it raised."""
CONNECT_SECONDS = 20


class DaskRunner:
    """Each stage's tasks as Dask futures, results gathered in order."""

    def __init__(self, client: Client) -> None:
        self.client = client
        limits = [w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()]
        self.worker_memory: int | None = min(limits) if limits and min(limits) > 0 else None
        self._run = uuid.uuid4().hex[:12]

    def run(
        self, label: str, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]], progress: ProgressCallback
    ) -> list[T]:
        from distributed import as_completed

        stage = "reserves-" + label.replace(" ", "-")
        futures = [
            self.client.submit(function, *args, key=f"{stage}-{number}-{self._run}", pure=False, retries=RETRIES)
            for number, args in enumerate(arguments)
        ]
        progress(label, 0, len(futures))
        for done, _ in enumerate(as_completed(futures), 1):
            progress(label, done, len(futures))
        results: list[T] = self.client.gather(futures)
        # Forgotten at once: a result lost with a worker later must not be computed again
        # after the driver has moved on (and, say, removed the files that task reads).
        self.client.cancel(futures)
        return results


def parse_memory(text: str, *, where: str) -> int:
    """A memory size as Dask spells it (``1GiB``, ``512MB``), in bytes."""
    from dask.utils import parse_bytes

    try:
        size = int(parse_bytes(text))
    except (ValueError, TypeError):
        size = 0
    if size < 64 << 20:
        raise InputError(f"expected a memory size of at least 64MiB such as 2GiB, found {text!r}", where=where)
    return size


@contextmanager
def dask_runner(
    *, scheduler: str | None = None, local_workers: int | None = None, worker_memory: int | None = None, scratch: Path
) -> Iterator[DaskRunner]:
    """A runner on the scheduler at ``scheduler``, or on ``local_workers`` worker processes
    of ``worker_memory`` bytes each, started here (their spill files under ``scratch``)."""
    from distributed import Client, LocalCluster  # without reserves[dask]: the CLI says to install it

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SourceError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            _check_versions(client)
            yield DaskRunner(client)
        return
    cluster = LocalCluster(
        n_workers=local_workers or 1,
        threads_per_worker=1,
        processes=True,
        memory_limit=worker_memory or "auto",
        local_directory=str(scratch),
        silence_logs=logging.ERROR,
        # No dashboard; the scheduler's small HTTP server (health, metrics) on a free loopback port.
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    with cluster, Client(cluster) as client:
        yield DaskRunner(client)


def _check_versions(client: Client) -> None:
    """Every worker runs the driver's versions of Python, of Dask's packages and of reserves."""
    try:
        client.get_versions(check=True)
    except ValueError as exc:
        raise InputError(f"the Dask cluster's versions differ from this machine's: {exc}") from None
    found: dict[str, str] = client.run(_reserves_version)
    others = sorted({version for version in found.values() if version != __version__})
    if others:
        raise InputError(
            f"the Dask cluster's workers run reserves {', '.join(others)}, this machine {__version__}: "
            "install the same version everywhere"
        )


def _reserves_version() -> str:
    return __version__
