"""The hot loops of publish and audit: the compiled ``_bulk`` (reserves/liabilities/_bulk.c)
when it was built, else the pure-Python twins below, which take the same buffers and write
the same bytes (the tests run both), only far slower.

A machine without a C compiler still installs and runs everything: ``pip install .``
skips the extension, and a large publish or audit says once that it runs on these loops.
Only the loops the tree and bulk proofs need have twins; without the extension the liabilities
file is read by the reference parser (``csv_file``), so the others are never called.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from types import ModuleType
from typing import Any

from reserves.encoding import format_amount

compiled: ModuleType | None
try:
    from reserves.liabilities import _bulk as compiled
except ImportError:  # built without a C compiler
    compiled = None

LARGE_ACCOUNTS = 100_000
"""From this many accounts a publish or audit without the extension says it is slow."""


def _bytes(buffer: Any) -> memoryview:
    return memoryview(buffer).cast("B")


def account_hashes(offsets: Any, data: Any, key: bytes, account_prefix: bytes, out: Any, start: int, stop: int) -> None:
    """``order_key || account commitment`` (64 bytes) of id rows ``start … stop-1``, into ``out[row]``."""
    at, text, target = memoryview(offsets).cast("B").cast("q"), _bytes(data), _bytes(out)
    for row in range(start, stop):
        ident = bytes(text[at[row] : at[row + 1]])
        lp_id = len(ident).to_bytes(2, "big") + ident
        salt = hmac.digest(key, b"salt" + lp_id, "sha256")
        target[row * 64 : row * 64 + 32] = hmac.digest(key, b"order" + lp_id, "sha256")
        target[row * 64 + 32 : row * 64 + 64] = hashlib.sha256(account_prefix + lp_id + salt).digest()


def leaf_records(
    leaf_prefix: bytes,
    hashes: Any,
    amounts: Any,
    slot_rows: Any,
    first_slot: int,
    out: Any,
    width: int,
    first_row: int = -1,
) -> None:
    """Leaf records (hash || balances) of slots ``first_slot …``, one per record of ``out``;
    slot ``first_slot + i`` is file row ``slot_rows[first_row + i]`` (``first_row``
    defaults to ``first_slot``)."""
    accounts, balances, target = _bytes(hashes), _bytes(amounts), _bytes(out)
    rows, record = memoryview(slot_rows).cast("B").cast("q"), 32 + width
    start = first_slot if first_row < 0 else first_row
    for i in range(len(target) // record):
        row, slot = rows[start + i], first_slot + i
        held = bytes(balances[row * width : (row + 1) * width])
        account = bytes(accounts[row * 64 + 32 : row * 64 + 64])
        target[i * record : i * record + 32] = hashlib.sha256(
            leaf_prefix + slot.to_bytes(8, "big") + account + held
        ).digest()
        target[i * record + 32 : (i + 1) * record] = held


def parent_records(node_prefix: bytes, level: int, first_index: int, children: Any, out: Any, record: int) -> int:
    """Parent records over pairs of ``children``; -1, or ``parent * assets + asset`` of the first overflow."""
    below, target, assets = _bytes(children), _bytes(out), (record - 32) // 16
    for i in range(len(target) // record):
        pair = bytes(below[2 * i * record : (2 * i + 2) * record])
        sums = []
        for a in range(assets):
            total = int.from_bytes(pair[32 + 16 * a : 48 + 16 * a], "big")
            total += int.from_bytes(pair[record + 32 + 16 * a : record + 48 + 16 * a], "big")
            if total >= 1 << 128:
                return i * assets + a
            sums.append(total.to_bytes(16, "big"))
        header = bytes([level]) + (first_index + i).to_bytes(8, "big")
        target[i * record : i * record + 32] = hashlib.sha256(node_prefix + header + pair).digest()
        target[i * record + 32 : (i + 1) * record] = b"".join(sums)
    return -1


def parents_at(node_prefix: bytes, level: int, indexes: Any, children: Any, out: Any, record: int) -> int:
    """Parent ``i`` is node ``(level, indexes[i])`` over the pair ``children[2i : 2i + 2]``;
    -1, or ``parent * assets + asset`` of the first overflow."""
    at, pairs, target = memoryview(indexes).cast("B").cast("q"), _bytes(children), _bytes(out)
    assets = (record - 32) // 16
    for i, index in enumerate(at):
        pair = pairs[2 * i * record : 2 * (i + 1) * record]
        found = parent_records(node_prefix, level, index, pair, target[i * record : (i + 1) * record], record)
        if found >= 0:
            return i * assets + found
    return -1


def nodes_json(
    records: Any, record: int, decimals: tuple[int, ...], names: tuple[bytes, ...], with_hash: bool, indent: int = -1
) -> list[str]:
    """Each record as the proof's JSON writes it: ``{"hash": …, "sums": {…}}`` or the sums
    alone; on one line (``indent`` -1) or as ``json.dumps(indent=2)`` with the brace ``indent`` deep."""
    raw, texts = _bytes(records), []
    depth = indent + 2 if with_hash else indent  # the sums object's brace
    between, inside = (", ", "") if indent < 0 else (",\n" + " " * (depth + 2), "\n" + " " * (depth + 2))
    for at in range(0, len(raw), record):
        node = bytes(raw[at : at + record])
        sums = between.join(
            f'{name.decode()}"{format_amount(int.from_bytes(node[32 + 16 * a : 48 + 16 * a], "big"), places)}"'
            for a, (name, places) in enumerate(zip(names, decimals, strict=True))
        )
        close = "" if indent < 0 else "\n" + " " * depth
        sums = f"{{{inside}{sums}{close}}}"
        if not with_hash:
            texts.append(sums)
        elif indent < 0:
            texts.append(f'{{"hash": "{node[:32].hex()}", "sums": {sums}}}')
        else:
            pad = " " * (indent + 2)
            texts.append(f'{{\n{pad}"hash": "{node[:32].hex()}",\n{pad}"sums": {sums}\n{" " * indent}}}')
    return texts


def hot_loops() -> ModuleType:
    """The module whose ``account_hashes``, ``leaf_records`` and ``parent_records`` to call."""
    return compiled if compiled is not None else sys.modules[__name__]


def notice_if_slow(accounts: int) -> None:
    """One line on stderr when a large run has no compiled loops."""
    if compiled is None and accounts >= LARGE_ACCOUNTS:
        print(
            f"reserves: the compiled extension is not installed (no C compiler at install time): {accounts} "
            "accounts run on the pure-Python loops, which are far slower",
            file=sys.stderr,
        )
