"""Types of the compiled hot loops (reserves/liabilities/_bulk.c). Buffers are contiguous numpy
arrays or bytes; every function releases the GIL while it runs."""

from collections.abc import Sequence
from typing import Any

import numpy.typing as npt

Buffer = npt.NDArray[Any] | bytes

MAX_DECIMALS: int
"""encoding.MAX_DECIMALS, as the C code holds it."""
MAX_LP_BYTES: int
"""encoding.MAX_LP_BYTES, as the C code holds it."""
CSV_FIELD_LIMIT: int
"""The csv module's default field size limit, as the C code holds it."""

def parse_amounts(columns: Sequence[tuple[Buffer, Buffer]], decimals: Sequence[int], out: Buffer) -> int:
    """Amount texts, one ``(offsets, data)`` pair per asset, to ``u128`` big-endian rows of
    ``out`` (``16 * assets`` bytes a row); -1, or the row of the first bad value."""

def scan_text(data: Buffer | memoryview) -> tuple[int, int, int]:
    """How many line feeds, carriage returns not followed by a line feed, and double quotes ``data`` holds."""

def check_records(data: Buffer | memoryview, commas: int) -> tuple[int, int, int, int]:
    """The first malformed record as Python's strict csv module reads it: ``(record, offset,
    kind, line feeds inside quotes before it)``; kind 0 (none), 1 blank, 2 field count,
    3 quoting, 4 a field over the csv module's size limit."""

def line_start(data: Buffer | memoryview, line: int) -> int:
    """Where line ``line`` (from 0) starts, or -1 if there is no such line."""

def id_digests(offsets: Buffer, data: Buffer, out: Buffer) -> None:
    """A 64-bit digest (not cryptographic) of each row's bytes, into ``out`` (``uint64``)."""

def account_hashes(
    offsets: Buffer, data: Buffer, key: Buffer, account_prefix: Buffer, out: Buffer, start: int, stop: int
) -> None:
    """``order_key || account commitment`` (64 bytes) of id rows ``start … stop-1``, into ``out[row]``."""

def leaf_records(
    leaf_prefix: Buffer,
    hashes: Buffer,
    amounts: Buffer,
    slot_rows: Buffer,
    first_slot: int,
    out: Buffer,
    width: int,
    first_row: int = -1,
) -> None:
    """Leaf records of slots ``first_slot …``, one per record of ``out``; slot
    ``first_slot + i`` is row ``slot_rows[first_row + i]`` (``first_row`` defaults to
    ``first_slot``: a builder holding only a range of slots passes its own offset)."""

def parent_records(
    node_prefix: Buffer, level: int, first_index: int, children: Buffer, out: Buffer, record: int
) -> int:
    """Parent records over pairs of ``children``; -1, or ``parent * assets + asset`` of the first overflow."""

def nodes_json(
    records: Buffer, record: int, decimals: tuple[int, ...], names: tuple[bytes, ...], with_hash: bool, indent: int = -1
) -> list[str]:
    """Each record (hash || u128 sums) as a proof's JSON writes it: ``{"hash": "<hex>", "sums":
    {...}}`` (``with_hash``) or the sums object alone; ``names`` are the quoted keys with ``": "``;
    on one line (``indent`` -1) or laid out as ``json.dumps(indent=2)`` with the brace ``indent`` deep."""

def parents_at(node_prefix: Buffer, level: int, indexes: Buffer, children: Buffer, out: Buffer, record: int) -> int:
    """As ``parent_records`` for parents that need not be side by side: parent ``i`` is node
    ``(level, indexes[i])`` (``int64``) over ``children[2i]``, ``children[2i + 1]``."""
