"""The columnar fast path reads exactly what the reference parser reads, and defers to
it (so its error messages are the reference's) for anything else."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reserves import hashing
from reserves.context import Asset
from reserves.encoding import MAX_DECIMALS, MAX_LP_BYTES, U128_LIMIT, format_amount, parse_amount
from reserves.errors import InputError
from reserves.liabilities import _bulk, columnar, csv_file
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.tree import account_commitment

ASSETS = (Asset("BTC", 8), Asset("ETH", 18), Asset("WEI", 0), Asset("BIG", 36))
DECIMALS = {a.symbol: a.decimals for a in ASSETS}
HEADER = "account," + ",".join(DECIMALS)

ids = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: 0 < len(s.encode()) <= 256)
)
amounts = st.one_of(
    st.integers(0, 10**6),
    st.integers(0, U128_LIMIT - 1),
    st.sampled_from([0, 1, 10**19 - 1, 10**19, 2**64 - 1, 2**64, 10**38 - 1, 10**38, U128_LIMIT - 1]),
)


def quoted(text: str) -> str:
    """Quoted only where CSV needs it (as csv.writer's QUOTE_MINIMAL): most files have no quote at all."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def render(rows: list[tuple[str, list[int]]], line_end: str = "\n", trailing_zeros: bool = False) -> bytes:
    lines = [HEADER]
    for account, values in rows:
        cells = []
        for value, asset in zip(values, ASSETS, strict=True):
            text = format_amount(value, asset.decimals)
            if trailing_zeros and asset.decimals and "." in text and len(text.split(".")[1]) < asset.decimals:
                text += "0"
            cells.append(text)
        lines.append(",".join([quoted(account), *cells]))
    return (line_end.join(lines) + line_end).encode()


def both(raw: bytes) -> tuple[csv_file.LiabilitiesFile, csv_file.LiabilitiesFile | None]:
    """What the reference parser and the fast path make of the same bytes."""
    reference = csv_file.parse_liabilities(raw, DECIMALS, source="f.csv")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f.csv"
        path.write_bytes(raw)
        fast = columnar.read(path, ASSETS)
    if fast is None:
        return reference, None
    return reference, csv_file.LiabilitiesFile("f.csv", ASSETS, *fast)


def same(left: csv_file.LiabilitiesFile, right: csv_file.LiabilitiesFile) -> bool:
    return (
        np.array_equal(left.id_offsets, right.id_offsets)
        and np.array_equal(left.id_bytes, right.id_bytes)
        and np.array_equal(left.amounts, right.amounts)
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(ids, st.lists(amounts, min_size=4, max_size=4)), min_size=1, max_size=30, unique_by=lambda r: r[0]
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_fast_path_reads_what_the_reference_reads(
    rows: list[tuple[str, list[int]]], line_end: str, zeros: bool
) -> None:
    reference, fast = both(render(rows, line_end, zeros))
    assert fast is not None
    assert same(fast, reference)
    assert fast.ids == reference.ids == [account for account, _ in rows]
    assert fast.balances == reference.balances == [tuple(values) for _, values in rows]


def test_quoted_line_breaks_and_unquoted_files_both_read() -> None:
    quoted_break = (HEADER + '\n"two\nlines",1,2,3,4\nplain,5,6,7,8\n').encode()
    reference, fast = both(quoted_break)
    assert fast is not None and same(fast, reference)
    assert fast.ids == ["two\nlines", "plain"]
    reference, fast = both((HEADER + "\nplain,5,6,7,8\n").encode())
    assert fast is not None and same(fast, reference)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.-+eE _", max_size=45), st.sampled_from([0, 1, 8, 18, 36]))
def test_compiled_amount_grammar_is_the_reference_grammar(text: str, decimals: int) -> None:
    """One accepted spelling per value (ATTACKS #9): the compiled parser accepts exactly
    what ``encoding.parse_amount`` accepts, with the same value."""
    try:
        expected: int | None = parse_amount(text, decimals, where="x")
    except InputError:
        expected = None
    raw = text.encode()
    out = np.zeros((2, 32), dtype=np.uint8)
    # Row 0 is a valid "1" in both columns; row 1 is the text under test, in the second column.
    column = (np.array([0, 1, 1 + len(raw)], dtype=np.int64), b"1" + raw)
    bad = _bulk.parse_amounts([(np.array([0, 1, 2], dtype=np.int64), b"11"), column], [0, decimals], out)
    got = int.from_bytes(out[1, 16:].tobytes(), "big") if bad < 0 else None
    assert (bad, got) == ((-1, expected) if expected is not None else (1, None))
    assert int.from_bytes(out[0, 16:].tobytes(), "big") == 10**decimals


@pytest.mark.parametrize(
    ("text", "decimals", "value"),
    [
        ("340282366920938463463374607431768211455", 0, U128_LIMIT - 1),
        ("340282366920938463463374607431768211456", 0, None),
        ("340.282366920938463463374607431768211455", 36, U128_LIMIT - 1),
        ("340.282366920938463463374607431768211456", 36, None),
        ("341", 36, None),
        ("18446744073709551616", 0, 1 << 64),
        ("0.000000000000000001", 18, 1),
        ("1.", 8, None),
        (".5", 8, None),
        ("00", 0, None),
        ("0.0", 0, None),
    ],
)
def test_compiled_amount_bounds(text: str, decimals: int, value: int | None) -> None:
    raw = text.encode()
    out = np.zeros((1, 16), dtype=np.uint8)
    bad = _bulk.parse_amounts([(np.array([0, len(raw)], dtype=np.int64), raw)], [decimals], out)
    assert (bad, int.from_bytes(out.tobytes(), "big") if bad < 0 else None) == (
        (-1, value) if value is not None else (0, None)
    )


def test_compiled_account_hashes_are_the_reference() -> None:
    secret = SnapshotSecret(bytes(range(32)))
    ctx = hashlib.sha256(b"ctx").digest()
    ids = ["alice", "张伟", "x" * 256, "Café"]
    parsed = csv_file.from_rows("f.csv", (Asset("BTC", 8),), ids, [(0,)] * len(ids))
    out = np.empty((len(ids), 64), dtype=np.uint8)
    _bulk.account_hashes(parsed.id_offsets, parsed.id_bytes, secret.key, hashing.ACCOUNT.prefix + ctx, out, 0, len(ids))
    expected = [secret.order_key(i) + account_commitment(ctx, i, secret.salt(i)) for i in ids]
    assert [row.tobytes() for row in out] == expected


BAD_ROWS = [
    pytest.param("alice,-1,0,0,0", id="negative"),
    pytest.param("alice,1e8,0,0,0", id="exponent"),
    pytest.param("alice,0.123456789,0,0,0", id="too-precise"),
    pytest.param(f"alice,0,0,{U128_LIMIT},0", id="2^128"),
    pytest.param("alice,0,0,0,0.", id="last-column"),
    pytest.param("Cafe\u0301,0,0,0,0", id="non-nfc"),
    pytest.param(",0,0,0,0", id="empty-id"),
    pytest.param("x" * 257 + ",0,0,0,0", id="long-id"),
    pytest.param("alice,0,0,0", id="short-row"),
    pytest.param("alice,0,0,0,0,0", id="long-row"),
    pytest.param("", id="blank-line"),
    pytest.param("alice\r,0,0,0,0", id="lone-carriage-return"),
    pytest.param("bob,0,0,0,0", id="duplicate"),
    pytest.param("bob,-1,0,0,0", id="duplicate-and-bad-amount"),
    # Quoting Python's strict csv module refuses, though pyarrow reads "a"b as ab:
    pytest.param('"a"b,0,0,0,0', id="text-after-closing-quote"),
    pytest.param('alice,"1"2,0,0,0', id="amount-split-by-quotes"),
    pytest.param('"alice" ,0,0,0,0', id="space-after-closing-quote"),
    pytest.param("alice,0,0,0," + "9" * 131_073, id="field-over-csv-limit"),
    pytest.param("Cafe\u0301,-1,0,0,0", id="non-nfc-and-bad-amount"),
]


def big_file_with(row: str, where: int) -> bytes:
    """``bob`` on the first row, then 70,000 good rows with ``row`` as row ``where``
    (large enough for the fast path)."""
    rows = [f"pad{i},0,0,0,0" for i in range(70_000)]
    rows.insert(where, row)
    return (HEADER + "\nbob,1,1,1,1\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("row", BAD_ROWS)
def test_fast_path_defers_bad_rows_and_the_reference_names_them(tmp_path: Path, row: str) -> None:
    good = (HEADER + "\nbob,1,1,1,1\ncarol,0,0,0,0\n").encode()
    raw = (HEADER + "\nbob,1,1,1,1\n" + row + "\n").encode()
    assert both(good)[1] is not None
    with pytest.raises(InputError):
        both(raw)  # the reference rejects it ...
    small = tmp_path / "small.csv"
    small.write_bytes(raw)
    assert columnar.read(small, ASSETS) is None  # ... and the fast path defers


@pytest.mark.parametrize("where", [0, 40_000, 70_000])
@pytest.mark.parametrize("row", BAD_ROWS)
def test_a_large_file_s_first_error_is_found_in_bulk_with_the_reference_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: str, where: int
) -> None:
    """Without the reference parser reading the file: the same message, line and column."""
    raw = big_file_with(row, where)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError) as reference_error:
        csv_file.parse_liabilities(raw, DECIMALS, source=str(path))
    assert f":{where + 3}" in str(reference_error.value)
    monkeypatch.setattr(csv_file, "parse_liabilities", None)  # must not be needed
    with pytest.raises(InputError) as fast_error:
        csv_file.read_liabilities(path, DECIMALS)
    assert str(fast_error.value) == str(reference_error.value)


def test_the_first_of_two_errors_is_named() -> None:
    """A bad amount on an early row and a repeated id on a later one: the amount, as the reference says."""
    rows = [f"pad{i},0,0,0,0" for i in range(70_000)]
    rows[30_000] = "pad7,0,0,0,0"  # repeats row 7
    rows[20_000] = "pad20000,0,0,0,-5"
    raw = (HEADER + "\n" + "\n".join(rows) + "\n").encode()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "big.csv"
        path.write_bytes(raw)
        with pytest.raises(InputError) as error:
            csv_file.read_liabilities(path, DECIMALS)
    assert str(error.value).endswith(
        "big.csv:20002 column BIG: amount '-5' is not a plain decimal (digits, optionally '.' and digits; no sign, exponent, spaces or separators)"
    )


@pytest.mark.parametrize(
    ("row", "found"),
    [
        pytest.param('"quoted, id",-1,0,0,0', columnar.FirstError(60_001), id="quoted-comma"),
        pytest.param('"two\nlines",-1,0,0,0', None, id="quoted-line-feed"),
    ],
)
def test_quoted_large_files_with_an_error(tmp_path: Path, row: str, found: columnar.FirstError | None) -> None:
    """A comma inside quotes is no separator; a line feed inside quotes means rows are
    not lines, and the reference parser reads the file."""
    raw = big_file_with('"early, quoted",1,0,0,0', 10).replace(b"pad59999,", row.encode() + b"\npad59999,")
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    assert columnar.first_error(path, ASSETS) == found
    with pytest.raises(InputError) as reference_error:
        csv_file.parse_liabilities(raw, DECIMALS, source=str(path))
    with pytest.raises(InputError) as error:
        csv_file.read_liabilities(path, DECIMALS)
    assert str(error.value) == str(reference_error.value)
    assert "big.csv:60003 column BTC: amount '-1'" in str(error.value)


def test_a_large_file_with_quoted_commas_is_read_in_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "WORKERS", 3)
    rows = [(f"user {i}, Ltd" if i % 2 else f"user-{i}", [i, 0, 0, 0]) for i in range(3000)]
    raw = render(rows)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f.csv"
        path.write_bytes(raw)
        assert columnar._plan(pa.memory_map(str(path)).read_buffer(), 5)[1] is False  # type: ignore[index]
    reference, fast = both(raw)
    assert fast is not None and same(fast, reference)


def test_large_files_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_file, "parse_liabilities", None)  # the reference must not be called
    rows = [(f"user-{i}", [i, 10**20 + i, i, 0]) for i in range(40_000)]
    path = tmp_path / "big.csv"
    path.write_bytes(render(rows))
    reports: list[tuple[str, int, int]] = []
    parsed = csv_file.read_liabilities(path, DECIMALS, progress=lambda *report: reports.append(report))
    assert reports[0] == ("reading liabilities", 0, 40_000)
    assert reports[-1] == ("reading liabilities", 40_000, 40_000)
    assert [done for _, done, _ in reports] == sorted(done for _, done, _ in reports)
    assert parsed.ids[:2] == ["user-0", "user-1"]
    assert parsed.balances[7] == (7, 10**20 + 7, 7, 0)
    assert len(parsed) == 40_000
    assert parsed.balances[-1] == (39_999, 10**20 + 39_999, 39_999, 0)


@pytest.mark.parametrize(
    ("ids", "repeat"),
    [(["a", "b", "c", "ab"], None), (["a", "b", "a"], (2, 0)), (["x", "b", "c", "b", "x"], (3, 1))],
)
def test_repeated_ids_are_found_exactly_even_when_digests_collide(
    monkeypatch: pytest.MonkeyPatch, ids: list[str], repeat: tuple[int, int] | None
) -> None:
    """The first row whose id appeared before, and where it first appeared."""
    parsed = csv_file.from_rows("f.csv", (Asset("BTC", 8),), ids, [(0,)] * len(ids))
    found = columnar._first_repeat(parsed.id_offsets, parsed.id_bytes)
    assert ((found.row, found.first_occurrence) if found else None) == repeat

    class EveryDigestEqual:
        """Only the digest is replaced: the exact comparison of the ids must decide."""

        @staticmethod
        def id_digests(offsets: object, data: object, out: np.ndarray) -> None:  # type: ignore[type-arg]
            out[:] = 7

    monkeypatch.setattr(columnar, "compiled_loops", lambda: EveryDigestEqual)
    found = columnar._first_repeat(parsed.id_offsets, parsed.id_bytes)
    assert ((found.row, found.first_occurrence) if found else None) == repeat


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize(
    "ending", [pytest.param("\n", id="lf"), pytest.param("\r\n", id="crlf"), pytest.param("", id="no-final-newline")]
)
def test_every_split_into_parts_reads_every_row_once(
    monkeypatch: pytest.MonkeyPatch, workers: int, ending: str
) -> None:
    """The file is cut at line feeds into one part per core; rows land in their own places."""
    monkeypatch.setattr(columnar, "WORKERS", workers)
    rows = [(f"user-{i}", [i, 10**18 * i, i % 7, 10**36 + i]) for i in range(997)]
    raw = render(rows, line_end="\r\n" if ending == "\r\n" else "\n")
    if not ending:
        raw = raw[:-1]
    assert b'"' not in raw  # so every part is read on its own
    reference, fast = both(raw)
    assert fast is not None and same(fast, reference)
    assert len(fast) == 997 and fast.balances[996] == (996, 996 * 10**18, 996 % 7, 10**36 + 996)


def test_a_file_with_quotes_is_read_as_one_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "WORKERS", 4)
    rows = [(f"user-{i}", [i, 0, 0, 0]) for i in range(500)] + [('say "hi"\nbye', [1, 2, 3, 4])]
    reference, fast = both(render(rows))
    assert fast is not None and same(fast, reference)
    assert fast.ids[-1] == 'say "hi"\nbye'


def test_compiled_functions_refuse_inconsistent_buffers() -> None:
    """Sizes and offsets are checked before any row is touched: a caller's mistake is an
    exception, never a read outside a buffer."""
    out = np.zeros((2, 64), dtype=np.uint8)
    key, prefix = bytes(32), bytes(96)
    with pytest.raises(ValueError, match="offsets must not decrease"):
        _bulk.account_hashes(np.array([0, 3, 1], dtype=np.int64), b"abc", key, prefix, out, 0, 2)
    with pytest.raises(ValueError, match="offsets point outside the data"):
        _bulk.account_hashes(np.array([0, 3, 9], dtype=np.int64), b"abc", key, prefix, out, 0, 2)
    with pytest.raises(ValueError, match="row range out of bounds"):
        _bulk.account_hashes(np.array([0, 1, 2], dtype=np.int64), b"ab", key, prefix, out, 1, 3)
    with pytest.raises(ValueError, match="columns differ in length"):
        _bulk.parse_amounts(
            [(np.array([0, 1], dtype=np.int64), b"1"), (np.array([0, 1, 2], dtype=np.int64), b"12")],
            [0, 0],
            np.zeros((1, 32), dtype=np.uint8),
        )
    with pytest.raises(ValueError, match="out must hold 16 bytes per value"):
        _bulk.parse_amounts([(np.array([0, 1], dtype=np.int64), b"1")], [0], np.zeros((2, 16), dtype=np.uint8))


@pytest.mark.parametrize("field", [pytest.param(0, id="in-an-id"), pytest.param(2, id="in-an-amount")])
def test_a_large_file_with_invalid_utf8_is_named_as_the_reference_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: int
) -> None:
    """Whole-file checks come first in the reference, wherever the row-level trouble is."""
    fields = [b"late", b"0", b"0", b"0", b"0"]
    fields[field] = b"\xff\xfe"
    raw = big_file_with("carol,-1,0,0,0", 20_000).replace(b"pad50000,0,0,0,0", b",".join(fields))
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError) as reference_error:
        csv_file.parse_liabilities(raw, DECIMALS, source=str(path))
    assert "not valid UTF-8" in str(reference_error.value)
    monkeypatch.setattr(csv_file, "parse_liabilities", None)  # must not be needed
    with pytest.raises(InputError) as error:
        csv_file.read_liabilities(path, DECIMALS)
    assert str(error.value) == str(reference_error.value)


def test_d14_two_bad_columns_in_one_block_name_the_first_row(tmp_path: Path) -> None:
    """Reliability finding D14: a block of rows was checked column by column, so a bad value
    in a later column of an earlier row lost to one in an earlier column of a later row."""
    rows = [f"pad{i},0,0,0,0" for i in range(70_000)]
    rows[100] = "pad100,0,0,1e5,0"  # the third asset column
    rows[200] = "pad200,-1,0,0,0"  # the first asset column, later in the same block of 256 rows
    raw = (HEADER + "\n" + "\n".join(rows) + "\n").encode()
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError) as reference_error:
        csv_file.parse_liabilities(raw, DECIMALS, source=str(path))
    with pytest.raises(InputError) as error:
        csv_file.read_liabilities(path, DECIMALS)
    assert str(error.value) == str(reference_error.value)
    assert "big.csv:102 column" in str(error.value)


def test_d14_carriage_returns_inside_the_header_are_refused_at_any_size(tmp_path: Path) -> None:
    rows = [f"pad{i},0,0,0,0" for i in range(70_000)]
    raw = (HEADER + "\r\r\n" + "\n".join(rows) + "\n").encode()
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError) as reference_error:
        csv_file.parse_liabilities(raw, DECIMALS, source=str(path))
    with pytest.raises(InputError) as error:
        csv_file.read_liabilities(path, DECIMALS)
    assert str(error.value) == str(reference_error.value)
    assert str(error.value).endswith("big.csv:1: carriage return without line feed; use LF or CRLF line ends")


def test_constants_the_compiled_code_repeats_are_the_python_ones() -> None:
    assert _bulk.MAX_DECIMALS == MAX_DECIMALS
    assert _bulk.MAX_LP_BYTES == MAX_LP_BYTES
    assert csv.field_size_limit() == _bulk.CSV_FIELD_LIMIT


def strict_csv_verdict(text: str, commas: int) -> tuple[int, int]:
    """What Python's strict csv module (and the reference's row checks) make of ``text``:
    ``(record of the first bad record or -1, kind)`` with check_records' kinds."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    record = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return -1, 0
        except csv.Error:
            return record, 3
        if not row:
            return record, 1
        if len(row) != commas + 1:
            return record, 2
        record += 1


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab,"\n ', max_size=40), st.integers(min_value=0, max_value=2))
def test_check_records_reads_as_csv_reader_strict(text: str, commas: int) -> None:
    """The compiled record walk against Python's strict csv reader, on every spelling
    of quotes, separators and line ends hypothesis finds."""
    record, _, kind, _ = _bulk.check_records(text.encode(), commas)
    assert (record, kind) == strict_csv_verdict(text, commas), repr(text)
