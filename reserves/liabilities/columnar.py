"""The fast path for ``liabilities.csv``: the same grammar as ``reserves.liabilities.csv_file``,
checked a column at a time.

pyarrow reads the CSV (C++, every core) into columns of raw bytes. The ids are checked in
bulk (UTF-8, NFC, 1 to 256 bytes, unique); every amount column goes through
``reserves.liabilities._bulk.parse_amounts``, which checks FORMAT §2's grammar and writes the exact
``u128`` big-endian value straight into the leaf-ready balances array (one thread per
core, columns side by side).

It never decides alone that a file is bad: on the first sign of trouble it returns
``None`` and the reference parser reads the file, so every error message (file, line,
column, value) is the reference's, and the two paths cannot disagree about what is valid.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from reserves.context import Asset
from reserves.liabilities import loops
from reserves.liabilities.bulk_tree import WORKERS
from reserves.liabilities.proof import MAX_ID_BYTES
from reserves.liabilities.sparse import SPARSE_FROM_ASSETS, SparseAmounts
from reserves.progress import ProgressCallback, SharedCount, silent

BLOCK_BYTES = 1 << 24

Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.uint8] | SparseAmounts]
"""Id offsets, id bytes and balances, as ``reserves.liabilities.csv_file.LiabilitiesFile`` holds them."""


def compiled_loops() -> ModuleType:
    """The compiled loops: this module is used only when they were built."""
    if loops.compiled is None:
        raise RuntimeError("the columnar reader needs the compiled extension")
    return loops.compiled


@dataclass(frozen=True)
class _Part:
    """A byte range of the file's rows, read by one thread into its own rows of the result."""

    start: int
    stop: int
    first_row: int
    rows: int
    """Exactly the rows in the range, or (when a record may span lines) an upper bound."""


def read(path: Path, assets: tuple[Asset, ...], progress: ProgressCallback = silent) -> Columns | None:
    """The file's columns, or ``None`` to defer to the reference parser.

    The caller has already checked the header against ``assets``. The file is memory-mapped
    and cut at line feeds into one part per core; each part is read by pyarrow a block at
    a time and its amounts parsed straight into their rows, so only the ids and the parsed
    balances are ever held whole. A file with a line feed inside a quoted field (so that a
    record may span lines) is read as one part.
    """
    try:
        text = pa.memory_map(str(path)).read_buffer()
    except (OSError, pa.ArrowException):
        return None
    return read_buffer(text, assets, progress)


def read_buffer(text: pa.Buffer, assets: tuple[Asset, ...], progress: ProgressCallback = silent) -> Columns | None:
    """``read`` of a file's bytes already in memory (its header line first)."""
    planned = _plan(text, len(assets) + 1)
    if planned is None:
        return None
    parts, multiline = planned
    amounts, results = _read_parts(text, parts, assets, multiline, progress)
    id_chunks: list[pa.Array] = []
    count = 0
    for part, result in zip(parts, results, strict=True):
        if result is None or result.bad_amount is not None or (result.rows != part.rows and not multiline):
            return None
        id_chunks += result.id_chunks
        count += result.rows
    if count == 0:
        return None
    ids = pa.chunked_array(id_chunks, pa.binary())
    offsets, data = _joined(ids)
    if _first_id_error(ids, offsets, data) is not None:
        return None
    if amounts is None:
        return offsets, data, SparseAmounts.joined([p for r in results if r is not None for p in r.sparse], len(assets))
    return offsets, data, amounts[:count]


@dataclass(frozen=True)
class FirstError:
    """Where the first error of a file ``read`` rejected is, in file order."""

    row: int
    """Its row (0 is the first row after the header)."""
    first_occurrence: int | None = None
    """For an id that appears again: the row where it first appeared."""


def first_error(path: Path, assets: tuple[Asset, ...]) -> FirstError | None:
    """For a file that ``read`` rejected, the row of its first row-level error, found in
    bulk so that the reference parser need only explain that one row; ``None`` when
    this cannot be told (file-level trouble, or a file whose quoted fields hold line
    feeds, where rows are not lines): the reference parser then reads the whole file.

    Every check here mirrors one of the reference's per-row checks, in its order of
    rows: a record the csv module refuses (quoting, size), a blank or misshapen line, an
    id that is too long, empty or not NFC, an id seen before, an amount that breaks the
    grammar.
    """
    try:
        text = pa.memory_map(str(path)).read_buffer()
    except (OSError, pa.ArrowException):
        return None
    body = _body(text)
    if body is None:
        return None
    # The first record Python's csv module would refuse or find misshapen, and whether
    # any record before it spans lines (then rows are not lines: the reference reads all).
    malformed, offset, _, quoted_line_feeds = compiled_loops().check_records(
        text.slice(body, text.size - body), len(assets)
    )
    if quoted_line_feeds:
        return None
    rows_text = text.slice(0, body + offset) if malformed >= 0 else text
    candidates = [malformed] if malformed >= 0 else []
    planned = _plan(rows_text, len(assets) + 1) if rows_text.size > body else None
    if planned is not None:
        parts, _ = planned
        _, results = _read_parts(rows_text, parts, assets, False, silent)
        id_chunks: list[pa.Array] = []
        for part, result in zip(parts, results, strict=True):  # rows read from the top without a gap
            if result is None or (result.bad_amount is None and result.rows != part.rows):
                return None
            id_chunks += result.id_chunks
            if result.bad_amount is not None:
                candidates.append(result.bad_amount)
                break
        ids = pa.chunked_array(id_chunks, pa.binary())
        id_error = _first_id_error(ids, *_joined(ids))
        # At the same row, the reference checks the id before the amounts.
        if id_error is not None and id_error.row <= min(candidates, default=id_error.row):
            return id_error
    return FirstError(min(candidates)) if candidates else None


def _joined(column: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """A binary column as one array of offsets (from 0) and the bytes they point into."""
    joined = pa.concat_arrays([chunk.cast(pa.large_binary()) for chunk in column.chunks])
    offsets, data = _offsets_and_data(joined)
    start, stop = (int(offsets[0]), int(offsets[-1])) if len(offsets) else (0, 0)
    return offsets - start, np.ascontiguousarray(data[start:stop])


def _first_id_error(
    column: pa.ChunkedArray, offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8]
) -> FirstError | None:
    """The first row whose id breaks the id rules (1 to 256 bytes, UTF-8, NFC) or repeats
    an earlier one; ``offsets`` and ``data`` are the column joined (``_joined``)."""
    if len(column) == 0:
        return None
    lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero((lengths < 1) | (lengths > MAX_ID_BYTES))
    first_bad = int(bad[0]) if len(bad) else len(column)
    try:
        text = column.cast(pa.string())
    except pa.ArrowInvalid:
        return FirstError(0)  # not UTF-8: a file-level error, which the reference reports first
    ascii_only = pc.string_is_ascii(text).to_numpy(zero_copy_only=False)
    others = np.flatnonzero(~ascii_only)
    if len(others):  # ASCII is always NFC: normalise only the rest
        subset = text.take(pa.array(others))
        same = pc.equal(pc.utf8_normalize(subset, form="NFC"), subset).to_numpy(zero_copy_only=False)
        not_nfc = others[~same]
        if len(not_nfc):
            first_bad = min(first_bad, int(not_nfc[0]))
    repeat = _first_repeat(offsets, data)
    if repeat is not None and repeat.row < first_bad:
        return repeat
    return FirstError(first_bad) if first_bad < len(column) else None


def _body(text: pa.Buffer) -> int | None:
    """Where the rows start (after the header line); ``None`` for a byte-order mark or a
    header line that does not end in the first MiB."""
    head: bytes = text.slice(0, min(text.size, 1 << 20)).to_pybytes()
    if head.startswith(b"\xef\xbb\xbf") or b"\n" not in head:
        return None
    header = head[: head.index(b"\n")]
    if b"\r" in header.removesuffix(b"\r"):
        return None  # a carriage return inside the header (``\r\r\n``): the reference names it
    return head.index(b"\n") + 1


def _plan(text: pa.Buffer, fields: int) -> tuple[list[_Part], bool] | None:
    """The parts to read, and whether a record may span lines; ``None`` (defer) for what
    pyarrow does not check itself: a byte-order mark, a lone carriage return, and (in a
    file with quotes) quoting that Python's strict csv module would refuse (pyarrow reads
    ``"a"b`` as ``ab``; the reference parser rejects it)."""
    size, body = text.size, _body(text)
    if body is None:
        return None
    cuts = [body]
    for k in range(1, WORKERS):
        cuts.append(max(cuts[-1], next_line_start(text, body + (size - body) * k // WORKERS)))
    cuts.append(size)
    ranges = [(start, stop) for start, stop in itertools.pairwise(cuts) if stop > start]
    with ThreadPoolExecutor(WORKERS) as pool:
        # Parts end at line feeds, so a carriage return at a part's end is the file's last byte.
        counts = list(pool.map(lambda r: compiled_loops().scan_text(text.slice(r[0], r[1] - r[0])), ranges))
    if any(lone_returns for _, lone_returns, _ in counts):
        return None
    line_feeds = [feeds for feeds, _, _ in counts]
    if not ranges:
        return None
    if any(quotes for _, _, quotes in counts):
        _, _, malformed, quoted_line_feeds = compiled_loops().check_records(text.slice(body, size - body), fields - 1)
        if malformed:
            return None
        if quoted_line_feeds:
            # A record may span lines: one part, read by pyarrow looking for line feeds in values.
            return [_Part(body, size, 0, sum(line_feeds) + 1)], True
    parts, row = [], 0
    for (start, stop), feeds in zip(ranges, line_feeds, strict=True):
        rows = feeds + (stop == size and text.slice(size - 1, 1).to_pybytes() != b"\n")
        parts.append(_Part(start, stop, row, rows))
        row += rows
    return parts, False


def next_line_start(text: pa.Buffer, position: int) -> int:
    """The start of the first line that begins at or after ``position`` (or the end)."""
    size: int = text.size
    while position < size:
        window: bytes = text.slice(position, min(1 << 16, size - position)).to_pybytes()
        found = window.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(window)
    return size


def _read_parts(
    text: pa.Buffer, parts: list[_Part], assets: tuple[Asset, ...], multiline: bool, progress: ProgressCallback
) -> tuple[npt.NDArray[np.uint8] | None, list[_PartRead | None]]:
    """Every part read on its own thread: the balances array they fill (``None`` when the
    file has so many assets that each part keeps its nonzero balances itself), and what each read."""
    rows = parts[-1].first_row + parts[-1].rows
    sparse = len(assets) >= SPARSE_FROM_ASSETS
    amounts = None if sparse else np.empty((rows, 16 * len(assets)), dtype=np.uint8)
    rows_read = SharedCount(progress, "reading liabilities", rows)
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda part: _read_part(text, part, assets, amounts, multiline, rows_read), parts))
    return amounts, results


@dataclass(frozen=True)
class _PartRead:
    id_chunks: list[pa.Array]
    rows: int
    """Rows read; when ``bad_amount`` is set, up to and including its block."""
    bad_amount: int | None = None
    """The file row of the part's first amount that breaks the grammar; reading stopped there."""
    sparse: list[SparseAmounts] = field(default_factory=list)
    """Its rows' nonzero balances, a batch at a time (files with many assets)."""


def _read_part(
    text: pa.Buffer,
    part: _Part,
    assets: tuple[Asset, ...],
    amounts: npt.NDArray[np.uint8] | None,
    multiline: bool,
    rows_read: SharedCount,
) -> _PartRead | None:
    """A part's id chunks and row count, its amounts written into ``amounts`` (or, when
    that is ``None``, kept sparsely a batch at a time); ``None`` if pyarrow rejects it."""
    names = ["account", *(a.symbol for a in assets)]
    try:
        reader = pa_csv.open_csv(
            pa.BufferReader(text.slice(part.start, part.stop - part.start)),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=BLOCK_BYTES, use_threads=False),
            # Only when quoted fields hold line feeds must pyarrow look for them (serially).
            parse_options=pa_csv.ParseOptions(newlines_in_values=multiline, ignore_empty_lines=False),
            # Bytes, not text: amounts are checked by our grammar (ASCII), ids by ``_first_id_error``.
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.binary()), strings_can_be_null=False, check_utf8=False
            ),
        )
        id_chunks: list[pa.Array] = []
        sparse: list[SparseAmounts] = []
        count = 0
        for batch in reader:
            if count + batch.num_rows > part.rows:
                return None
            start = part.first_row + count
            rows = amounts[start : start + batch.num_rows] if amounts is not None else _scratch(batch, assets)
            columns = [_offsets_and_data(batch.column(position + 1)) for position in range(len(assets))]
            bad = compiled_loops().parse_amounts(columns, [a.decimals for a in assets], rows)
            id_chunks.append(batch.column(0))
            count += batch.num_rows
            rows_read.add(batch.num_rows)
            if bad >= 0:
                return _PartRead(id_chunks, count, part.first_row + count - batch.num_rows + bad)
            if amounts is None:
                sparse.append(SparseAmounts.from_dense(rows, len(assets)))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        return None
    return _PartRead(id_chunks, count, sparse=sparse)


def _scratch(batch: pa.RecordBatch, assets: tuple[Asset, ...]) -> npt.NDArray[np.uint8]:
    """A batch's dense balances, kept only until its nonzero ones are taken out."""
    return np.empty((batch.num_rows, 16 * len(assets)), dtype=np.uint8)


def _first_repeat(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8]) -> FirstError | None:
    """The first row whose id appeared on an earlier row, and that earlier row; ids that
    share a 64-bit digest are compared exactly."""
    digests = np.empty(len(offsets) - 1, dtype=np.uint64)
    compiled_loops().id_digests(offsets, data, digests)
    ordered = np.sort(digests)
    shared = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(shared):
        return None
    first_row: dict[bytes, int] = {}
    for row in np.flatnonzero(np.isin(digests, shared)).tolist():  # ascending rows
        account_id = data[offsets[row] : offsets[row + 1]].tobytes()
        if account_id in first_row:
            return FirstError(row, first_row[account_id])
        first_row[account_id] = row
    return None


def _offsets_and_data(chunk: pa.Array) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """A binary chunk's ``int64`` offsets (``len + 1``) and its data buffer, zero-copy where possible."""
    _, offsets_buffer, data_buffer = chunk.buffers()
    dtype = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=dtype)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    return offsets.astype(np.int64), data
