"""The auditor's and the publisher's input: ``liabilities.csv`` (FORMAT §6.6).

Every row is checked before anything is built: a malformed file is rejected whole, with
its line number and the offending value, never partly used. Negative, signed or
non-decimal amounts do not parse (ATTACKS.md #2, #9); a repeated account id is an error
naming both lines (ATTACKS.md #4).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from reserves.context import Asset
from reserves.encoding import check_symbol, parse_amount, u128
from reserves.errors import InputError
from reserves.liabilities import columnar, loops
from reserves.liabilities.proof import check_account_id
from reserves.liabilities.sparse import SparseAmounts, dense_rows
from reserves.progress import ProgressCallback, silent

_LONE_CR = re.compile(r"\r(?!\n)")
EMPTY_FILE = "empty file: expected a header 'account,<SYMBOL>,…'"
NO_ACCOUNTS = "no accounts: a snapshot has at least one"
BYTE_ORDER_MARK = "starts with a UTF-8 byte-order mark; write UTF-8 without one"
LONE_CARRIAGE_RETURN = "carriage return without line feed; use LF or CRLF line ends"
"""The whole-file errors, worded once for every reader (``reserves.liabilities.cluster`` too)."""


def not_utf8(byte: int) -> str:
    return f"not valid UTF-8 (byte {byte})"


COLUMNAR_MIN_BYTES = 1 << 20
"""Files at least this large take the columnar fast path (``reserves.liabilities.columnar``)."""


@dataclass(frozen=True)
class LiabilitiesFile:
    """The parsed liabilities: one account per row, balances in smallest units.

    Held as flat arrays, so millions of rows cost little more than their bytes and the
    tree is built from them in bulk: the ids as UTF-8 back to back with offsets, and the
    balances as ``u128`` big-endian, a row of ``16 * assets`` bytes per account (exactly
    the bytes a leaf commits to).
    """

    source: str
    """The file it was read from, for messages."""
    assets: tuple[Asset, ...]
    """The columns after ``account``, in file order (the snapshot's order)."""
    id_offsets: npt.NDArray[np.int64]
    """Shape ``(rows + 1,)``: row ``i``'s id is ``id_bytes[id_offsets[i]:id_offsets[i + 1]]``."""
    id_bytes: npt.NDArray[np.uint8]
    """The UTF-8 of every id, in file order; ids are unique, 1 to 256 bytes, NFC."""
    amounts: npt.NDArray[np.uint8] | SparseAmounts
    """Shape ``(rows, 16 * assets)``: each balance as ``u128`` big-endian; for files with
    many assets (``sparse.SPARSE_FROM_ASSETS``) read by the fast path, only the nonzero ones."""

    def __len__(self) -> int:
        return len(self.id_offsets) - 1

    @property
    def ids(self) -> list[str]:
        """Account ids in file order (for small files and tests)."""
        data, bounds = self.id_bytes.tobytes(), self.id_offsets.tolist()
        return [data[start:stop].decode("utf-8") for start, stop in itertools.pairwise(bounds)]

    @property
    def balances(self) -> list[tuple[int, ...]]:
        """Row-wise Python integers (for small files and tests)."""
        raw = dense_rows(self.amounts, np.arange(len(self))).tobytes()
        width = 16 * len(self.assets)
        return [
            tuple(int.from_bytes(raw[row + at : row + at + 16], "big") for at in range(0, width, 16))
            for row in range(0, len(raw), width)
        ]

    def column(self, asset: int) -> npt.NDArray[np.uint8]:
        """Every row's balance of asset number ``asset``: shape ``(rows, 16)``."""
        if isinstance(self.amounts, SparseAmounts):
            return self.amounts.column(asset)
        return self.amounts[:, 16 * asset : 16 * asset + 16]


def from_rows(source: str, assets: tuple[Asset, ...], ids: list[str], rows: list[tuple[int, ...]]) -> LiabilitiesFile:
    encoded = [account_id.encode("utf-8") for account_id in ids]
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    amounts = np.frombuffer(b"".join(u128(v) for row in rows for v in row), dtype=np.uint8)
    return LiabilitiesFile(
        source,
        assets,
        offsets,
        np.frombuffer(b"".join(encoded), dtype=np.uint8),
        amounts.reshape(len(rows), 16 * len(assets)),
    )


def read_liabilities(
    path: Path,
    decimals: Mapping[str, int],
    *,
    order: tuple[str, ...] | None = None,
    progress: ProgressCallback | None = None,
) -> LiabilitiesFile:
    """Parse ``path``; its header must name exactly the assets of ``decimals`` (and, when
    ``order`` is given, in that order). ``progress`` hears of rows read on the fast path."""
    fast = _read_columnar(path, decimals, order, progress or silent)
    if isinstance(fast, LiabilitiesFile):
        return fast
    if fast is not None:
        # A large file the fast path rejected: name its first error without reading it all in Python.
        _explain_first_error(path, *fast)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read liabilities file {path}: {exc.strerror}") from None
    return parse_liabilities(raw, decimals, order=order, source=str(path))


def _read_columnar(
    path: Path, decimals: Mapping[str, int], order: tuple[str, ...] | None, progress: ProgressCallback
) -> LiabilitiesFile | tuple[tuple[Asset, ...], columnar.FirstError] | None:
    """The columnar fast path; or, for a file it rejects, where its first error is when
    that can be found in bulk; or ``None`` when the reference parser must read the file
    (small files, and any file the fast path has a doubt about: the reference reports it)."""
    try:
        if path.stat().st_size < COLUMNAR_MIN_BYTES or loops.compiled is None:
            return None  # small, or no compiled loops: the reference parser reads it
        with path.open("rb") as handle:
            first_line = handle.readline(1 << 20).rstrip(b"\r\n")
    except OSError:
        return None  # the reference parser reports it
    try:
        header = next(csv.reader([first_line.decode("utf-8")]))
        assets = _parse_header(header, decimals, order, where=f"{path}:1")
    except (InputError, UnicodeDecodeError, csv.Error, StopIteration):
        return None
    result = columnar.read(path, assets, progress)
    if result is None:
        found = columnar.first_error(path, assets)
        return None if found is None else (assets, found)
    offsets, data, amounts = result
    return LiabilitiesFile(str(path), assets, offsets, data, amounts)


def parse_liabilities(
    raw: bytes,
    decimals: Mapping[str, int],
    *,
    order: tuple[str, ...] | None = None,
    source: str,
) -> LiabilitiesFile:
    text = _checked_text(raw, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = _numbered_rows(reader, source)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise InputError(EMPTY_FILE, where=f"{source}:1") from None
    assets = _parse_header(header, decimals, order, where=f"{source}:{header_line}")

    ids: list[str] = []
    balances: list[tuple[int, ...]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        account_id, amounts = _check_row(row, assets, first_line, where=f"{source}:{line}")
        first_line[account_id] = line
        ids.append(account_id)
        balances.append(amounts)
    if not ids:
        raise InputError(NO_ACCOUNTS, where=source)
    return from_rows(source, assets, ids, balances)


def parse_header_line(
    line: bytes, decimals: Mapping[str, int], *, order: tuple[str, ...] | None = None, source: str
) -> tuple[Asset, ...]:
    """The assets a file's first line names (without its line end), checked as
    ``parse_liabilities`` checks its header once the whole-file checks have passed."""
    rows = _numbered_rows(csv.reader([line.decode("utf-8")], strict=True), source)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise InputError(EMPTY_FILE, where=f"{source}:1") from None
    return _parse_header(header, decimals, order, where=f"{source}:{header_line}")


@dataclass(frozen=True)
class RowsRead:
    """What ``parse_rows`` read: the accounts before the first error, and that error."""

    liabilities: LiabilitiesFile
    lines: list[int]
    """The line each account's record starts on."""
    error: InputError | None
    error_line: int | None


def parse_rows(body: bytes, assets: tuple[Asset, ...], *, source: str, first_line: int) -> RowsRead:
    """A run of whole records of ``source`` (valid UTF-8, as the whole-file checks found)
    starting on line ``first_line``, checked as ``parse_liabilities`` checks rows; it stops
    at the first error. An empty run is no error here."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True)
    ids: list[str] = []
    balances: list[tuple[int, ...]] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    rows = _numbered_rows(reader, source, first_line)
    error: InputError | None = None
    error_line: int | None = None
    while True:
        line = reader.line_num + first_line  # where the next record starts, if it is not blank
        try:
            found = next(rows, None)
            if found is None:
                break
            line, row = found
            account_id, amounts = _check_row(row, assets, seen, where=f"{source}:{line}")
        except InputError as exc:
            error, error_line = exc, line
            break
        seen[account_id] = line
        ids.append(account_id)
        balances.append(amounts)
        lines.append(line)
    return RowsRead(from_rows(source, assets, ids, balances), lines, error, error_line)


def record_on_line(body: bytes, *, source: str, first_line: int, line: int) -> list[str]:
    """The fields of the record that starts on ``line``, in a run of whole records that
    starts on ``first_line`` (and reads without error up to it)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True)
    for found, row in _numbered_rows(reader, source, first_line):
        if found == line:
            return row
    raise ValueError(f"no record starts on line {line}")


def explain_repeat(
    first: list[str], again: list[str], assets: tuple[Asset, ...], *, source: str, lines: tuple[int, int]
) -> InputError:
    """The error ``parse_liabilities`` gives for record ``again`` (on ``lines[1]``) repeating
    the id of record ``first`` (on ``lines[0]``)."""
    try:
        _check_row(again, assets, {first[0]: lines[0]}, where=f"{source}:{lines[1]}")
    except InputError as exc:
        return exc
    raise ValueError("the two records do not share an id")


def _checked_text(raw: bytes, source: str) -> str:
    """The file as text, after the checks that concern the whole file: no byte-order
    mark, valid UTF-8, no carriage return without a line feed."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InputError(BYTE_ORDER_MARK, where=f"{source}:1")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(not_utf8(exc.start), where=f"{source}:{line}") from None
    lone_cr = _LONE_CR.search(text)
    if lone_cr:
        line = text.count("\n", 0, lone_cr.start()) + 1
        raise InputError(LONE_CARRIAGE_RETURN, where=f"{source}:{line}")
    return text


def _check_row(
    row: list[str], assets: tuple[Asset, ...], first_line: Mapping[str, int], *, where: str
) -> tuple[str, tuple[int, ...]]:
    """One record's id and balances, checked in this order: the number of fields, the
    id, whether the id appeared before (``first_line``: id to line), each amount."""
    width = len(assets) + 1
    if len(row) != width:
        raise InputError(f"expected {width} fields (account and {len(assets)} amounts), found {len(row)}", where=where)
    account_id = check_account_id(row[0], where=where)
    if account_id in first_line:
        raise InputError(
            f"account id {account_id!r} appears again (first on line {first_line[account_id]})", where=where
        )
    amounts = tuple(
        parse_amount(text, asset.decimals, where=f"{where} column {asset.symbol}")
        for text, asset in zip(row[1:], assets, strict=True)
    )
    return account_id, amounts


def _explain_first_error(path: Path, assets: tuple[Asset, ...], found: columnar.FirstError) -> None:
    """Raise the reference parser's error for a large file the fast path rejected, having
    found its first bad row in bulk: the whole-file checks run as in the reference, then
    only the rows named are read (row ``r`` is line ``r + 2``: no quoted field of the
    file holds a line feed). Returns, raising nothing, if that row turns out fine: the caller then
    lets the reference parser read the whole file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read liabilities file {path}: {exc.strerror}") from None
    _checked_text(raw, source)
    body = raw.index(b"\n") + 1

    def record(row: int) -> list[str] | None:
        """The fields of row ``row``: ``[]`` for a blank line, ``None`` if it cannot be told."""
        with memoryview(raw)[body:] as rows:
            start = loops.compiled.line_start(rows, row) if loops.compiled is not None else -1
        if start < 0:
            return None
        end = raw.find(b"\n", body + start)
        line = raw[body + start : end if end >= 0 else len(raw)].decode("utf-8").removesuffix("\r")
        try:
            return next(csv.reader([line], strict=True), [])
        except csv.Error as exc:  # as the reference words it
            raise InputError(f"malformed CSV in the record starting here: {exc}", where=f"{source}:{row + 2}") from None

    where = f"{source}:{found.row + 2}"
    row = record(found.row)
    if row is None:
        return
    if not row:
        raise InputError("blank line", where=where)
    first_line = {}
    if found.first_occurrence is not None:
        earlier = record(found.first_occurrence)
        if not earlier:
            return
        first_line[earlier[0]] = found.first_occurrence + 2
    _check_row(row, assets, first_line, where=where)


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def _numbered_rows(reader: _CsvReader, source: str, first_line: int = 1) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line of the record, fields)``, the reader's first line being line
    ``first_line`` of ``source``; blank lines are errors."""
    next_line = first_line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"malformed CSV in the record starting here: {exc}", where=f"{source}:{next_line}"
            ) from None
        if not row:
            raise InputError("blank line", where=f"{source}:{next_line}")
        yield next_line, row
        next_line = reader.line_num + first_line


def _parse_header(
    header: list[str], decimals: Mapping[str, int], order: tuple[str, ...] | None, *, where: str
) -> tuple[Asset, ...]:
    if not header or header[0] != "account":
        raise InputError(f"the header must start with 'account', found {_quoted_header(header)}", where=where)
    symbols = header[1:]
    if not symbols:
        raise InputError("the header names no asset after 'account'", where=where)
    for symbol in symbols:
        check_symbol(symbol, where=where)
    if len(set(symbols)) != len(symbols):
        raise InputError(f"an asset column appears twice in {symbols}", where=where)
    unknown = [s for s in symbols if s not in decimals]
    if unknown:
        raise InputError(f"no decimals known for asset {unknown[0]} (columns: {','.join(symbols)})", where=where)
    missing = [s for s in decimals if s not in symbols]
    if missing:
        raise InputError(f"asset {missing[0]} has no column (columns: {','.join(symbols)})", where=where)
    if order is not None and tuple(symbols) != order:
        raise InputError(
            f"columns must be the snapshot's assets in its order: expected {','.join(order)}, "
            f"found {','.join(symbols)}",
            where=where,
        )
    return tuple(Asset(s, decimals[s]) for s in symbols)


_SECRET_LIKE = re.compile(r"[0-9a-fA-F]{32,}")


def _quoted_header(header: list[str]) -> str:
    """The first header field as an error shows it: never a secret (a long run of hex, as
    when the secret file is given as the liabilities file) and never more than 40 characters."""
    if not header:
        return "nothing"
    first = header[0]
    if _SECRET_LIKE.search(first):
        return "a long hexadecimal string (is this the secret file? it is not shown)"
    return repr(first if len(first) <= 40 else first[:40] + "…")
