"""The driver of a staged build: it plans the blocks, hands each stage's tasks to a runner,
raises the input's first error as the single-machine reader words it, and climbs the chunk
tops to the root.

Nothing outside the job folder is written until the root is known; the folder (holding the
secret and every balance) is removed whatever happens.
"""

from __future__ import annotations

import csv
import hmac
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from reserves.context import Asset, SnapshotContext
from reserves.encoding import lp
from reserves.errors import InputError
from reserves.liabilities import bulk_tree
from reserves.liabilities.cluster.stages import (
    SECRET_NAME,
    Block,
    BlockRead,
    Built,
    Job,
    Layout,
    RowError,
    Scan,
    Sorted,
    build_partition,
    first_line_of,
    read_block,
    read_bytes,
    scan_range,
    sort_partition,
)
from reserves.liabilities.columnar import next_line_start
from reserves.liabilities.csv_file import (
    BYTE_ORDER_MARK,
    EMPTY_FILE,
    LONE_CARRIAGE_RETURN,
    NO_ACCOUNTS,
    explain_repeat,
    not_utf8,
    parse_header_line,
    record_on_line,
)
from reserves.liabilities.liability_tree import total_too_large
from reserves.liabilities.proof import check_account_id
from reserves.liabilities.proof_store import ORDER_KEYS_FILE, level_file
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.sparse import SPARSE_FROM_ASSETS
from reserves.liabilities.tree import Node, SumOverflowError
from reserves.progress import ProgressCallback, silent

T = TypeVar("T")
ContextFor = Callable[[tuple[Asset, ...], int], SnapshotContext]
"""The snapshot's context, given the file's assets and its number of accounts."""


class Runner(Protocol):
    """Runs one stage's tasks, wherever it runs them, and returns their results in order."""

    @property
    def worker_memory(self) -> int | None:
        """The smallest worker's memory limit in bytes, if there is one."""

    def run(
        self, label: str, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]], progress: ProgressCallback
    ) -> list[T]: ...


class InProcess:
    """Every task in this process, one after another: the stages without a cluster."""

    worker_memory: int | None = None

    def run(
        self, label: str, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]], progress: ProgressCallback
    ) -> list[T]:
        results = []
        progress(label, 0, len(arguments))
        for done, args in enumerate(arguments, 1):
            results.append(function(*args))
            progress(label, done, len(arguments))
        return results


@dataclass(frozen=True)
class Sizes:
    """How the work is cut: blocks of the file, and partitions of the accounts' records."""

    block_bytes: int = 64 << 20
    partition_bytes: int = 64 << 20

    @classmethod
    def for_memory(cls, worker_memory: int | None) -> Sizes:
        """A task holds several times its block or partition (the text, pyarrow's columns,
        the hashes and records, a sorted copy) over the worker's own ~0.2 GiB: a twentieth of
        its memory each keeps it under Dask's pause at 80 %."""
        if worker_memory is None:
            return cls()
        share = min(max(worker_memory // 20, 4 << 20), 256 << 20)
        return cls(share, share)


@dataclass(frozen=True)
class Cluster:
    """Where a staged build runs: a runner (in this process, or a Dask cluster), and a
    folder on storage the driver and every worker share (it briefly holds the secret and
    every balance, in a 0700 job folder removed after the build)."""

    runner: Runner = field(default_factory=InProcess)
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    sizes: Sizes | None = None


@dataclass(frozen=True)
class RebuiltTree:
    context: SnapshotContext
    accounts: int
    root: Node | None
    """``None`` when the accounts do not fit the context's height (nothing was built)."""
    repeated_commitments: int
    """Account commitments equal to another's (counted for audits; always 0 for a sound build)."""


def rebuild(
    liabilities: Path,
    decimals: Mapping[str, int],
    context_for: ContextFor,
    secret: SnapshotSecret,
    runner: Runner,
    work_dir: Path,
    *,
    order: tuple[str, ...] | None = None,
    store_to: Path | None = None,
    count_commitments: bool = False,
    sizes: Sizes | None = None,
    progress: ProgressCallback = silent,
) -> RebuiltTree:
    """Build the tree of ``liabilities`` in stages on ``runner``; with ``store_to``, write
    its proof store's level files and order keys there (the caller adds the manifest)."""
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="reserves-job-", dir=work_dir))
    except OSError as exc:
        raise InputError(f"cannot use the work folder {work_dir}: {exc.strerror}") from None
    try:
        descriptor = os.open(folder / SECRET_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secret.to_text())
        plan = _plan(liabilities, decimals, order, runner, sizes or Sizes.for_memory(runner.worker_memory), progress)
        context = context_for(plan.assets, plan.accounts)
        job = Job(
            source=str(liabilities.resolve()),
            name=str(liabilities),
            work=str(folder),
            header=plan.header,
            assets=plan.assets,
            ctx=context.ctx,
            partitions=plan.partitions,
            blocks=len(plan.blocks),
            store=store_to is not None,
            commitments=count_commitments,
        )
        tree = _build(job, plan, context, runner, progress)
        if store_to is not None and tree.root is not None:
            shutil.move(job.store_dir, store_to)
        return tree
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _build(job: Job, plan: _Plan, context: SnapshotContext, runner: Runner, progress: ProgressCallback) -> RebuiltTree:
    """Stages 1 to 4 (see the package docstring)."""
    reads = runner.run("reading liabilities", read_block, [(job, n, b) for n, b in enumerate(plan.blocks)], progress)
    clean = all(read.error is None for read in reads)
    runs = runner.run("sorting accounts", sort_partition, [(job, p, clean) for p in range(job.partitions)], progress)
    _raise_first_error(job, plan, reads, runs)
    for kind in ("buckets", "commitments"):
        shutil.rmtree(Path(job.work, kind), ignore_errors=True)
    counts = tuple(run.count for run in runs)
    accounts = sum(counts)
    if accounts != plan.accounts:
        raise RuntimeError(f"the scan counted {plan.accounts} accounts, the reader {accounts}")
    repeated = sum(run.repeated_commitments for run in runs)
    if accounts > context.capacity:
        return RebuiltTree(context, accounts, None, repeated)
    offsets = tuple(int(x) for x in np.cumsum((0, *counts[:-1])))
    layout = Layout(offsets, counts, accounts, context.height)
    if job.store:
        job.store_dir.mkdir()
        for name in [ORDER_KEYS_FILE, *(level_file(level) for level in range(layout.chunk_levels))]:
            (job.store_dir / name).touch()
    built = runner.run("hashing the tree", build_partition, [(job, p, layout) for p in range(job.partitions)], progress)
    try:
        root = _climb(job, layout, built)
    except SumOverflowError as overflow:
        raise total_too_large(context, overflow, job.name) from None
    return RebuiltTree(context, accounts, root, repeated)


def _climb(job: Job, layout: Layout, built: list[Built]) -> Node:
    """Stage 4: the chunk tops to the root, writing the levels above the chunks."""
    overflows = [b.overflow for b in built if b.overflow is not None]
    if overflows:
        raise SumOverflowError(*min(overflows, key=lambda o: (o[0], o[1])))
    k, assets = layout.chunk_levels, len(job.assets)
    chunks = -(-layout.accounts >> k)
    numbers = [number for b in built for number, _ in b.tops]
    if sorted(numbers) != list(range(chunks)):
        raise RuntimeError(f"expected the tops of chunks 0 to {chunks - 1}, got {len(numbers)}")
    no_leaves = np.empty((0, 64), np.uint8), np.empty((0, 16 * assets), np.uint8), np.empty(0, np.int64)
    builder = bulk_tree.Builder(job.ctx, bulk_tree.LeafInput(*no_leaves), k)
    tops = builder.tops(chunks, layout.height)
    for b in built:
        for number, record in b.tops:
            tops[number] = np.frombuffer(record, dtype=np.uint8)

    def write(level: int, records: bulk_tree.Records) -> None:
        if job.store:
            (job.store_dir / level_file(level)).write_bytes(np.ascontiguousarray(records).data)

    return builder.root(tops, chunks, layout.height, write)


# -- stage 0: the plan --------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    header: bytes
    assets: tuple[Asset, ...]
    blocks: list[Block]
    accounts: int
    """Counted from line feeds: exact for a file without errors."""
    partitions: int


def _plan(
    path: Path,
    decimals: Mapping[str, int],
    order: tuple[str, ...] | None,
    runner: Runner,
    sizes: Sizes,
    progress: ProgressCallback,
) -> _Plan:
    """The whole-file checks and the header, as the single-machine reader makes them, and
    the blocks: cut at line feeds, or one block when a quoted field holds a line feed."""
    source = str(path)
    header, size = _header(path)
    body = len(header)
    ranges = _ranges(path, body, size, sizes.block_bytes)
    commas = header.count(b",")
    scans = runner.run(
        "checking liabilities", scan_range, [(str(path.resolve()), a, b, body, commas) for a, b in ranges], progress
    )
    _raise_file_error(path, ranges, scans)
    assets = parse_header_line(header.rstrip(b"\n").removesuffix(b"\r"), decimals, order=order, source=source)
    if len(assets) >= SPARSE_FROM_ASSETS:
        raise InputError(
            f"{len(assets)} assets: a cluster builds snapshots of up to {SPARSE_FROM_ASSETS - 1} assets "
            "(their store keeps every sum); more are built on one machine, which keeps only nonzero sums"
        )
    first_lines = [1 + sum(s.line_feeds for s in scans[:i]) for i in range(len(scans))]
    blocks = [Block(a, b, line, False) for (a, b), line in zip(ranges[1:], first_lines[1:], strict=True)]
    quoted_line_feeds = 0
    if not all(scan.stands_alone for scan in scans):
        blocks = [Block(body, size, 2, True)]
        quoted_line_feeds = scan_range(str(path.resolve()), body, size, body, commas).quoted_line_feeds
    trailing = size > body and read_bytes(str(path), size - 1, size) != b"\n"
    accounts = max(0, sum(s.line_feeds for s in scans) - 1 - quoted_line_feeds + trailing)
    width = 72 + 16 * len(assets)
    partitions = max(1, -(-accounts * width // sizes.partition_bytes))
    return _Plan(header, assets, blocks or [Block(body, body, 2, False)], accounts, partitions)


def _header(path: Path) -> tuple[bytes, int]:
    """The first line (its line feed included) and the file's size; an empty file or a
    byte-order mark is refused here, before anything else, as the reference reader does."""
    source = str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.readline()
    except OSError as exc:
        raise InputError(f"cannot read liabilities file {path}: {exc.strerror}") from None
    if not size:
        raise InputError(EMPTY_FILE, where=f"{source}:1")
    if header.startswith(b"\xef\xbb\xbf"):
        raise InputError(BYTE_ORDER_MARK, where=f"{source}:1")
    return header, size


def _ranges(path: Path, body: int, size: int, block_bytes: int) -> list[tuple[int, int]]:
    """``[0, body)`` (the header) and the rows cut into ranges of about ``block_bytes``,
    each ending just after a line feed (or at the end of the file)."""
    try:
        text = pa.memory_map(str(path)).read_buffer()
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read liabilities file {path}: {exc}") from None
    cuts = [0, body]
    while cuts[-1] < size:
        cuts.append(next_line_start(text, min(cuts[-1] + block_bytes, size) - 1))
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a] or [(0, 0)]


def _raise_file_error(path: Path, ranges: list[tuple[int, int]], scans: list[Scan]) -> None:
    """The reference's whole-file checks, in its order: the first byte that is not UTF-8,
    then the first carriage return without a line feed."""
    source = str(path)
    for attribute, message in (("bad_utf8", not_utf8), ("lone_return", lambda at: LONE_CARRIAGE_RETURN)):
        for number, ((start, _), scan) in enumerate(zip(ranges, scans, strict=True)):
            at = getattr(scan, attribute)
            if at is not None:
                line = 1 + sum(s.line_feeds for s in scans[:number]) + read_bytes(source, start, at).count(b"\n")
                raise InputError(message(at), where=f"{source}:{line}")


def _raise_first_error(job: Job, plan: _Plan, reads: list[BlockRead], runs: list[Sorted]) -> None:
    """The first row-level error in file order: a block's first bad record, or a record
    whose id repeats an earlier one's (a repeat wins a tie: the id is checked first)."""
    found: list[tuple[int, int, RowError | tuple[int, int]]] = [
        (read.error.line, 1, read.error) for read in reads if read.error is not None
    ]
    found += [(run.repeat[1], 0, run.repeat) for run in runs if run.repeat is not None]
    if not found:
        if not any(read.rows for read in reads):
            raise InputError(NO_ACCOUNTS, where=job.name)
        return
    _, _, first = min(found, key=lambda item: (item[0], item[1]))
    if isinstance(first, RowError):
        first = _repeated_before(job, plan, first) or first
    if isinstance(first, RowError):
        raise first.to_error()
    earlier, again = (_record(job, plan, line) for line in first)
    raise explain_repeat(earlier, again, job.assets, source=job.name, lines=first)


def _repeated_before(job: Job, plan: _Plan, error: RowError) -> tuple[int, int] | None:
    """For a block's bad record whose fields and id are sound (so the bad part is an
    amount), an earlier line with the same id in another block: the reference checks the
    id for repeats before the amounts, so it reports the repeat."""
    try:
        fields = _record(job, plan, error.line)
        if len(fields) != len(job.assets) + 1:
            return None
        account_id = check_account_id(fields[0], where=job.name)
    except (InputError, ValueError, csv.Error):
        return None
    key = hmac.digest(job.key(), b"order" + lp(account_id), "sha256")
    earlier = first_line_of(job, key, error.line)
    return None if earlier is None else (earlier, error.line)


def _record(job: Job, plan: _Plan, line: int) -> list[str]:
    """The fields of the record on ``line``, read again from its block."""
    block = max((b for b in plan.blocks if b.first_line <= line), key=lambda b: b.first_line)
    body = read_bytes(job.source, block.start, block.stop)
    return record_on_line(body, source=job.name, first_line=block.first_line, line=line)
