"""The fast path for ``liabilities.csv``: the same grammar as ``reserves.liabilities``,
checked a column at a time.

pyarrow reads the CSV (C++, both cores); validation is vectorised (a regular expression
per amount column, NFC, lengths and uniqueness of ids); amounts become exact ``u128``
halves with integer arithmetic: the digit string splits into two 19-digit parts, each a
``uint64``, and ``hi * 10^19 + lo`` is formed from 32-bit limbs. Values with more digits
than that fall back to Python integers, row by row.

It never decides alone that a file is bad: on the first sign of trouble it returns
``None`` and the reference parser reads the file, so every error message (file, line,
column, value) is the reference's, and the two paths cannot disagree about what is valid.
"""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from reserves.context import Asset
from reserves.encoding import U128_LIMIT

_LONE_CR = re.compile(rb"\r(?!\n)")
TEN_19 = 10**19


def read(
    raw: bytes, assets: tuple[Asset, ...]
) -> tuple[list[str], npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """Ids and the high and low halves of every amount, or ``None`` to defer to the reference.

    The caller has already checked the header against ``assets``.
    """
    if raw.startswith(b"\xef\xbb\xbf") or _LONE_CR.search(raw):
        return None
    names = ["account", *(a.symbol for a in assets)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(raw),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 25),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, check_utf8=True
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    count = table.num_rows
    if count == 0:
        return None
    ids = table.column(0)
    lengths = pc.binary_length(ids)
    if pc.min(lengths).as_py() < 1 or pc.max(lengths).as_py() > 256:
        return None
    if not pc.all(pc.equal(pc.utf8_normalize(ids, form="NFC"), ids)).as_py():
        return None
    if pc.count_distinct(ids).as_py() != count:
        return None
    high = np.empty((count, len(assets)), dtype=np.uint64)
    low = np.empty((count, len(assets)), dtype=np.uint64)
    # pyarrow's kernels release the GIL: the columns convert side by side on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        converted = list(pool.map(lambda p: _amounts(table.column(p + 1), assets[p].decimals), range(len(assets))))
    for position, halves in enumerate(converted):
        if halves is None:
            return None
        high[:, position], low[:, position] = halves
    return ids.to_pylist(), high, low


def _amounts(column: pa.ChunkedArray, decimals: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    fraction = rf"(\.[0-9]{{1,{decimals}}})?" if decimals else ""
    if not pc.all(pc.match_substring_regex(column, rf"^(0|[1-9][0-9]*){fraction}$")).as_py():
        return None
    # Whole-unit text -> the digits of the integer count of smallest units.
    digits = column
    if decimals:
        dotted = pc.replace_substring_regex(column, r"^([0-9]+)$", r"\1.")
        padded = pc.binary_join_element_wise(dotted, "0" * decimals, "")
        digits = pc.replace_substring_regex(padded, rf"^([0-9]+)\.([0-9]{{{decimals}}})[0-9]*$", r"\1\2")
    lengths = pc.utf8_length(digits).to_numpy()
    wide = np.flatnonzero(lengths > 38)  # beyond two 19-digit halves: exact Python integers
    narrow_digits = pc.if_else(pc.greater(pc.utf8_length(digits), 38), "0", digits)
    upper_text = pc.utf8_slice_codeunits(narrow_digits, 0, -19)
    upper = pc.cast(pc.if_else(pc.equal(upper_text, ""), "0", upper_text), pa.uint64()).to_numpy()
    lower = pc.cast(pc.utf8_slice_codeunits(narrow_digits, -19), pa.uint64()).to_numpy()
    high, low = _times_ten_19_plus(upper, lower)
    if len(wide):
        texts = digits.take(pa.array(wide)).to_pylist()
        for row, text in zip(wide.tolist(), texts, strict=True):
            value = int(text)
            if value >= U128_LIMIT:
                return None
            high[row], low[row] = value >> 64, value & ((1 << 64) - 1)
    return high, low


def _times_ten_19_plus(
    upper: npt.NDArray[np.uint64], lower: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``upper * 10^19 + lower`` as (high, low) 64-bit halves, exactly (``upper`` < 10^19)."""
    mask = np.uint64(0xFFFFFFFF)
    c1, c0 = np.uint64(TEN_19 >> 32), np.uint64(TEN_19 & 0xFFFFFFFF)
    u1, u0 = upper >> np.uint64(32), upper & mask
    # (u1*2^32 + u0) * (c1*2^32 + c0): four 32x32->64 partial products, carries by hand.
    p00, p01, p10, p11 = u0 * c0, u0 * c1, u1 * c0, u1 * c1
    middle = (p00 >> np.uint64(32)) + (p01 & mask) + (p10 & mask)
    low = (middle << np.uint64(32)) | (p00 & mask)
    high = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (middle >> np.uint64(32))
    summed = low + lower
    high = high + (summed < low).astype(np.uint64)
    return high, summed
