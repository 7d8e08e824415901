"""Types of the compiled ``reserves.liabilities._private`` (reserves/liabilities/_private.c)."""

from typing import Any

RECORD: int
POINT: int

def load(context: int, create: int, parse: int, serialize: int, combine: int, tweak_mul: int, /) -> None: ...
def generator_table(h_sec1: bytes, /) -> bytes: ...
def account_hashes(offsets: Any, data: Any, key: bytes, account_prefix: bytes, out: Any, /) -> None: ...
def order_keys(offsets: Any, data: Any, rows: Any, key: bytes, label: bytes, out: Any, /) -> None: ...
def leaves(
    offsets: Any,
    data: Any,
    slot_rows: Any,
    values: Any,
    accounts: Any,
    key: bytes,
    blind_label: bytes,
    leaf_prefix: bytes,
    asset: bytes,
    table: bytes,
    first_slot: int,
    records: Any,
    points: Any,
    /,
) -> int: ...
def parents(
    node_prefix: bytes,
    asset: bytes,
    level: int,
    first_index: int,
    children: Any,
    child_points: Any,
    records: Any,
    points: Any,
    /,
) -> int: ...
def points(records: bytes, /) -> bytes: ...
