"""The fast path for ``liabilities.csv``: the same grammar as ``reserves.liabilities``,
checked a column at a time.

pyarrow reads the CSV (C++, both cores); validation is vectorised (a regular expression
per amount column, NFC, lengths and uniqueness of ids). Amounts become exact ``u128``
halves: pyarrow casts each column to ``decimal128(38, d)``, whose buffer is the
little-endian count of smallest units. A column with a value of 39 digits takes the byte
path instead: each digit's power of ten from its distance to the dot, summed per row in
two 19-digit ``uint64`` halves joined by exact 32-bit limb arithmetic, and Python
integers for the few rows wider than that.

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
    """Exact ``u128`` halves of one amount column, or ``None`` if any value breaks the grammar."""
    fraction = rf"(\.[0-9]{{1,{decimals}}})?" if decimals else ""
    if not pc.all(pc.match_substring_regex(column, rf"^(0|[1-9][0-9]*){fraction}$")).as_py():
        return None
    # decimal128(38, d) holds exactly the count of smallest units, little-endian: our u128.
    # pyarrow does not enforce the 38-digit precision when casting from text (2^128 wraps
    # to 0), so the cast is used only when every value provably fits: whole digits + d <= 38.
    dot = pc.find_substring(column, ".")
    whole_digits = pc.if_else(pc.less(dot, 0), pc.utf8_length(column), dot)
    exact = None
    if (pc.max(whole_digits).as_py() or 0) + decimals <= 38:
        try:
            exact = pc.cast(column, pa.decimal128(38, decimals))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            exact = None
    if exact is not None:
        words = [
            np.frombuffer(chunk.buffers()[1], dtype="<u8")[2 * chunk.offset : 2 * (chunk.offset + len(chunk))]
            for chunk in exact.chunks
        ]
        pairs = np.concatenate(words).reshape(-1, 2) if words else np.empty((0, 2), np.uint64)
        return pairs[:, 1].astype(np.uint64), pairs[:, 0].astype(np.uint64)
    parts = [_chunk_amounts(chunk, decimals) for chunk in column.chunks]
    if any(part is None for part in parts):
        return None
    high = np.concatenate([p[0] for p in parts if p is not None]) if parts else np.empty(0, np.uint64)
    low = np.concatenate([p[1] for p in parts if p is not None]) if parts else np.empty(0, np.uint64)
    return high, low


def _chunk_amounts(chunk: pa.Array, decimals: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """The same from the chunk's raw bytes: every digit weighs ``10^e`` with ``e`` from its
    distance to the dot, and the digits are summed per row in two 19-digit halves.
    The grammar was checked already: digits and at most one dot, no leading zeros."""
    count = len(chunk)
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + count + 1].astype(
        np.int64
    )
    data = (
        np.frombuffer(chunk.buffers()[2], dtype=np.uint8) if chunk.buffers()[2] is not None else np.empty(0, np.uint8)
    )
    start, stop = offsets[0], offsets[-1]
    chars = data[start:stop]
    lengths = np.diff(offsets)
    row_of = np.repeat(np.arange(count), lengths)
    position = np.arange(len(chars), dtype=np.int64)
    is_dot = chars == ord(".")
    dot_at = offsets[1:] - start  # no dot: the end of the field
    dot_at[row_of[is_dot]] = position[is_dot]
    distance = dot_at[row_of] - position  # 1 for the last whole digit, negative in the fraction
    exponent = np.where(distance > 0, decimals + distance - 1, decimals + distance)
    exponent[is_dot] = -1
    digit = (chars.astype(np.int64) - ord("0")).astype(np.uint64)
    wide = np.zeros(count, dtype=bool)
    wide[row_of[exponent >= 38]] = True
    powers = np.array([10**e for e in range(19)], dtype=np.uint64)
    in_low = (exponent >= 0) & (exponent < 19)
    in_high = (exponent >= 19) & (exponent < 38)
    low_terms = np.zeros(len(chars), dtype=np.uint64)
    low_terms[in_low] = digit[in_low] * powers[exponent[in_low]]
    high_terms = np.zeros(len(chars), dtype=np.uint64)
    high_terms[in_high] = digit[in_high] * powers[exponent[in_high] - 19]
    starts = offsets[:-1] - start  # every field has at least one character (the grammar)
    lower = np.add.reduceat(low_terms, starts) if count else np.empty(0, np.uint64)
    upper = np.add.reduceat(high_terms, starts) if count else np.empty(0, np.uint64)
    high, low = _times_ten_19_plus(upper, lower)
    for row in np.flatnonzero(wide).tolist():
        text = chunk[row].as_py()
        whole, _, fraction_text = text.partition(".")
        value = int(whole + fraction_text.ljust(decimals, "0"))
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
