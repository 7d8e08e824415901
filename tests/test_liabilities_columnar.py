"""The columnar fast path reads exactly what the reference parser reads, and defers to
it (so its error messages are the reference's) for anything else."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reserves import liabilities, liabilities_columnar
from reserves.context import Asset
from reserves.encoding import U128_LIMIT, format_amount
from reserves.errors import InputError

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
    return '"' + text.replace('"', '""') + '"'


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


def both(raw: bytes) -> tuple[object, object]:
    reference = liabilities.parse_liabilities(raw, DECIMALS, source="f.csv")
    fast = liabilities_columnar.read(raw, ASSETS)
    return reference, fast


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
    fast_ids, high, low = fast
    assert fast_ids == reference.ids  # type: ignore[attr-defined]
    assert np.array_equal(high, reference.high) and np.array_equal(low, reference.low)  # type: ignore[attr-defined]
    assert high.dtype == low.dtype == np.uint64


def test_carries_between_the_19_digit_halves() -> None:
    values = [10**38 - 1, 2**64, 2**64 - 1, 10**19, 18446744073709551616 * 3 + 5]
    raw = render([(f"a{i}", [0, 0, v, 0]) for i, v in enumerate(values)])
    _, high, low = liabilities_columnar.read(raw, ASSETS)  # type: ignore[misc]
    assert [(int(h) << 64) | int(lo) for h, lo in zip(high[:, 2], low[:, 2], strict=True)] == values


@pytest.mark.parametrize(
    "row",
    [
        pytest.param("alice,-1,0,0,0", id="negative"),
        pytest.param("alice,1e8,0,0,0", id="exponent"),
        pytest.param("alice,0.123456789,0,0,0", id="too-precise"),
        pytest.param(f"alice,0,0,{U128_LIMIT},0", id="2^128"),
        pytest.param("Cafe\u0301,0,0,0,0", id="non-nfc"),
        pytest.param(",0,0,0,0", id="empty-id"),
        pytest.param("alice,0,0,0", id="short-row"),
        pytest.param("bob,0,0,0,0", id="duplicate"),
    ],
)
def test_fast_path_defers_bad_rows_and_the_reference_names_them(tmp_path: Path, row: str) -> None:
    raw = (HEADER + "\nbob,1,1,1,1\n" + row + "\n").encode()
    assert liabilities_columnar.read(raw, ASSETS) is None
    padded = raw + b"".join(f"pad{i},0,0,0,0\n".encode() for i in range(70_000))  # large enough for the fast path
    path = tmp_path / "big.csv"
    path.write_bytes(padded)
    assert len(padded) >= liabilities.COLUMNAR_MIN_BYTES
    with pytest.raises(InputError) as fast_error:
        liabilities.read_liabilities(path, DECIMALS)
    with pytest.raises(InputError) as reference_error:
        liabilities.parse_liabilities(padded, DECIMALS, source=str(path))
    assert str(fast_error.value) == str(reference_error.value)
    assert re.search(r":3\b", str(fast_error.value))  # line 3 named


def test_large_files_take_the_fast_path(tmp_path: Path) -> None:
    rows = [(f"user-{i}", [i, 10**20 + i, i, 0]) for i in range(40_000)]
    path = tmp_path / "big.csv"
    path.write_bytes(render(rows))
    parsed = liabilities.read_liabilities(path, DECIMALS)
    assert parsed.ids[:2] == ["user-0", "user-1"]
    assert parsed.balances[7] == (7, 10**20 + 7, 7, 0)
    assert parsed.totals() == (sum(range(40_000)), 40_000 * 10**20 + sum(range(40_000)), sum(range(40_000)), 0)
