"""From the liabilities to the v2 trees (FORMAT-2 §5): the publisher's and the auditor's build.

    (1) per asset, the holders (non-zero balances) and the total, which must be below 2^64;
        and the dummy holders asked for (FORMAT-2 §5.5), balance 0, ids past the file's rows
    (2) ``ctx2`` from the identity and every tree's shape
    (3) per asset, holders in order-key order, their leaves and every level above them,
        each level handed to the sink (the store) as records as soon as it is made
    (4) the published roots: hash, commitment, total and blinding of each tree

Step (3) runs on the compiled loops (``_private``, libsecp256k1 through its public API,
one thread per core) when they were built, else on ``tree``'s plain Python, which gives the
same bytes far more slowly. Balances stay in the liabilities file's flat arrays: an asset's
column is read as 64-bit integers, so hundreds of assets cost their holders, not their zeros.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt

from reserves.encoding import u16
from reserves.errors import InputError
from reserves.liabilities.csv_file import LiabilitiesFile
from reserves.liabilities.liability_tree import ascending
from reserves.liabilities.private_sums import curve
from reserves.liabilities.private_sums.files import PrivateCommitment
from reserves.liabilities.private_sums.tree import (
    ACCOUNT,
    DUMMY_ID_BYTES,
    LEAF,
    MAX_TOTAL,
    NODE,
    AccountId,
    AssetRoot,
    AssetShape,
    OpenNode,
    PrivateContext,
    PrivateSecrets,
    account_commitment,
    build_levels,
    dummy_id,
    leaf,
    padding,
)
from reserves.progress import ProgressCallback, silent

compiled: ModuleType | None
try:
    from reserves.liabilities import _private as compiled
except ImportError:  # built without a C compiler
    compiled = None

RECORD = 105
"""A node as the store holds it: hash (32) || C (33) || u64(v) || u256(r)."""
LARGE_HOLDINGS = 20_000
"""From this many holdings a build without the compiled loops says it is slow."""


@dataclass(frozen=True)
class Identity:
    """Who publishes which snapshot, as of when."""

    exchange: str
    snapshot_id: str
    cutoff: int


DummyCount = Callable[[int, int], int]
"""``(asset, holders) -> dummies``: how many dummy holders (FORMAT-2 §5.5) the tree of an
asset with that many holders gets."""


def no_dummies(asset: int, holders: int) -> int:
    return 0


def rounded_up(multiple: int) -> DummyCount:
    """Dummies that round every holder count up to a multiple of ``multiple`` (an asset nobody
    holds keeps no tree)."""
    if not 1 <= multiple <= MAX_ROUNDING:
        raise InputError(f"holder counts are rounded to a multiple of 1 to {MAX_ROUNDING:,}, not {multiple:,}")
    return lambda asset, holders: -holders % multiple


MAX_ROUNDING = 1_000_000
"""The largest multiple holder counts are rounded to: up to that many dummy leaves a tree."""


class TotalTooLarge(InputError):
    """An asset's total is not below 2^64 smallest units: v2's range proofs cannot cover it."""


class TreeSink:
    """Where the build hands what the store keeps; the auditor's build keeps nothing."""

    def accounts(self, keys: bytes) -> None:
        """Every account's store key (``account/2``), sorted."""

    def holders(self, asset: int, order_keys: bytes) -> None:
        """The asset's holders' order keys, in slot order."""

    def level(self, asset: int, level: int, records: bytes) -> None:
        """One whole level of the asset's tree, as records."""


def build_private_trees(
    liabilities: LiabilitiesFile,
    identity: Identity,
    key: bytes,
    *,
    sink: TreeSink | None = None,
    dummies: DummyCount = no_dummies,
    progress: ProgressCallback = silent,
) -> PrivateCommitment:
    """Steps (1) to (4) of the module docstring."""
    sink = sink or TreeSink()
    columns = [_column(liabilities, asset) for asset in range(len(liabilities.assets))]  # (1)
    ids = IdTable.of(
        liabilities, [dummies(asset, len(rows)) if len(rows) else 0 for asset, (rows, _, _) in enumerate(columns)]
    )
    shapes = tuple(
        AssetShape(len(rows) + extra, total.bit_length())
        for (rows, _, total), extra in zip(columns, ids.dummies, strict=True)
    )
    context = PrivateContext(identity.exchange, identity.snapshot_id, identity.cutoff, liabilities.assets, shapes)
    holdings = sum(shape.holders for shape in shapes)
    engine = _Compiled(ids, context, key) if compiled is not None else _Python(ids, context, key)
    if compiled is None and holdings >= LARGE_HOLDINGS:
        print(f"reserves: the compiled extension is not installed: {holdings} holdings run on plain Python, "
              "which is far slower", file=sys.stderr)  # fmt: skip
    sink.accounts(engine.account_keys())
    roots, done = [], 0
    progress("building trees", 0, holdings)
    for asset, (held, values, total) in enumerate(columns):  # (3)
        rows, balances = ids.with_dummies(asset, held, values)
        top = engine.tree(asset, rows, balances, sink) if len(rows) else None
        roots.append(AssetRoot(total, top.public if top else None, top.blinding if top else 0))
        done += len(rows)
        progress("building trees", done, holdings)
    return PrivateCommitment(context, tuple(roots))  # (4)


@dataclass(frozen=True)
class IdTable:
    """The ids the trees are built over, as the flat arrays the compiled loops read (id ``i``
    is ``data[offsets[i]:offsets[i + 1]]``): the file's rows, then each asset's dummies."""

    liabilities: LiabilitiesFile
    offsets: npt.NDArray[np.int64]
    data: npt.NDArray[np.uint8]
    dummies: tuple[int, ...]
    """Per asset, how many dummy holders; theirs are the ids from ``first_dummy[asset]`` on."""
    first_dummy: tuple[int, ...]

    @classmethod
    def of(cls, liabilities: LiabilitiesFile, dummies: Sequence[int]) -> IdTable:
        if any(extra < 0 for extra in dummies):
            raise ValueError("a negative number of dummy holders")
        first = tuple(int(row) for row in np.cumsum([len(liabilities), *dummies])[:-1])
        names = b"".join(dummy_id(asset, j) for asset, count in enumerate(dummies) for j in range(count))
        if not names:
            return cls(liabilities, liabilities.id_offsets, liabilities.id_bytes, tuple(dummies), first)
        ends = DUMMY_ID_BYTES * np.arange(1, len(names) // DUMMY_ID_BYTES + 1, dtype=np.int64)
        offsets = np.concatenate([liabilities.id_offsets, liabilities.id_offsets[-1] + ends])
        data = np.concatenate([liabilities.id_bytes, np.frombuffer(names, np.uint8)])
        return cls(liabilities, offsets, data, tuple(dummies), first)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def accounts(self) -> int:
        """The file's rows: the first ids."""
        return len(self.liabilities)

    def names(self) -> list[AccountId]:
        """Every id: the file's as text, the dummies' as bytes."""
        dummies = [dummy_id(asset, j) for asset, count in enumerate(self.dummies) for j in range(count)]
        return [*self.liabilities.ids, *dummies]

    def with_dummies(
        self, asset: int, rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """The asset's holders' rows and balances followed by its dummies' (balance 0)."""
        count = self.dummies[asset]
        if not count:
            return rows, values
        first = self.first_dummy[asset]
        extra = np.arange(first, first + count, dtype=np.int64)
        return np.concatenate([rows, extra]), np.concatenate([values, np.zeros(count, dtype=np.uint64)])


def _column(liabilities: LiabilitiesFile, asset: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], int]:
    """(1) The holders' rows, their balances (native 64-bit) and the total, checked below 2^64."""
    cells = liabilities.column(asset)
    symbol, decimals = liabilities.assets[asset].symbol, liabilities.assets[asset].decimals
    if cells[:, :8].any():  # a balance of 2^64 or more: so is the total
        raise TotalTooLarge(too_large(symbol, decimals, _python_values(cells)))
    values = np.ascontiguousarray(cells[:, 8:]).view(">u8").ravel().astype(np.uint64)
    rows = np.flatnonzero(values).astype(np.int64)
    held = values[rows]
    total = int((held >> np.uint64(32)).sum(dtype=np.uint64)) << 32
    total += int((held & np.uint64(0xFFFFFFFF)).sum(dtype=np.uint64))
    if total >= MAX_TOTAL:
        raise TotalTooLarge(too_large(symbol, decimals, [int(v) for v in held]))
    return rows, held, total


def _python_values(cells: npt.NDArray[np.uint8]) -> list[int]:
    return [int.from_bytes(row.tobytes(), "big") for row in cells if row.any()]


def too_large(symbol: str, decimals: int, values: Sequence[int]) -> str:
    """Why an asset cannot be published in v2, and the most decimals that would fit."""
    message = f"{symbol}: the total of its balances is not below 2^64 smallest units at {decimals} decimals"
    for fewer in range(1, decimals + 1):
        unit = 10**fewer
        if sum(-(-value // unit) for value in values) < MAX_TOTAL:
            return (
                f"{message}, so format v2's range proofs cannot cover it; at {decimals - fewer} decimals "
                f"(balances rounded up) it fits: declare {symbol} with {decimals - fewer} decimals"
            )
    return f"{message} and does not fit in whole units either: format v2 cannot publish it"


class _Python:
    """Step (3) node by node with ``tree``'s functions: small files, and machines without a compiler."""

    def __init__(self, ids: IdTable, context: PrivateContext, key: bytes) -> None:
        self.ids, self.accounts, self.context, self.secrets = ids.names(), ids.accounts, context, PrivateSecrets(key)

    def account_keys(self) -> bytes:
        return b"".join(sorted(self.secrets.account_key(account_id) for account_id in self.ids[: self.accounts]))

    def tree(self, asset: int, rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64], sink: TreeSink) -> OpenNode:
        secrets, context = self.secrets, self.context
        holders = sorted(
            ((secrets.order_key(asset, self.ids[r]), self.ids[r], int(v)) for r, v in zip(rows, values, strict=True)),
            key=lambda holder: holder[0],
        )
        sink.holders(asset, b"".join(key for key, _, _ in holders))
        value_generator = context.generator(asset)
        leaves = [
            leaf(
                context,
                asset,
                index,
                account_commitment(context.ctx, account_id, secrets.salt(account_id)),
                value,
                secrets.blinding(asset, account_id),
                value_generator,
            )
            for index, (_, account_id, value) in enumerate(holders)
        ]
        levels = build_levels(context, asset, leaves)
        for level, nodes in enumerate(levels):
            sink.level(asset, level, b"".join(map(record, nodes)))
        return levels[-1][0]


class _Compiled:
    """Step (3) on ``_private``: the liabilities' flat arrays in, records out, a thread per core."""

    def __init__(self, ids: IdTable, context: PrivateContext, key: bytes) -> None:
        assert compiled is not None
        compiled.load(*library_functions())
        self.module, self.ids, self.context, self.key = compiled, ids, context, key
        self.threads = max(1, min(4, os.cpu_count() or 1))
        self.accounts = np.zeros((len(ids), 64), dtype=np.uint8)
        prefix, offsets = ACCOUNT.prefix + context.ctx, ids.offsets
        self._each_slice(
            len(ids),
            lambda a, b: self.module.account_hashes(offsets[a : b + 1], ids.data, key, prefix, self.accounts[a:b]),
        )

    def account_keys(self) -> bytes:
        return ascending_bytes(np.ascontiguousarray(self.accounts[: self.ids.accounts, 32:]))

    def tree(self, asset: int, rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64], sink: TreeSink) -> OpenNode:
        ids, module = self.ids, self.module
        keys = np.zeros((len(rows), 32), dtype=np.uint8)
        label = b"order/2" + u16(asset)
        self._each_slice(
            len(rows),
            lambda a, b: module.order_keys(ids.offsets, ids.data, rows[a:b], self.key, label, keys[a:b]),
        )
        order = ascending(keys)
        sink.holders(asset, np.ascontiguousarray(keys[order]).tobytes())
        records, points = self._leaves(asset, np.ascontiguousarray(rows[order]), np.ascontiguousarray(values[order]))
        sink.level(asset, 0, records)
        for level in range(1, self.context.shapes[asset].height + 1):
            records, points = self._parents(asset, level, records, points)
            sink.level(asset, level, records)
        return node_of(records)

    def _leaves(
        self, asset: int, slot_rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64]
    ) -> tuple[bytes, bytes]:
        ids, context = self.ids, self.context
        table = self.module.generator_table(context.generator(asset).sec1)
        prefix, label = LEAF.prefix + context.ctx, b"blind/2" + u16(asset)

        def run(start: int, stop: int, records: memoryview, points: memoryview) -> int:
            return int(
                self.module.leaves(
                    ids.offsets,
                    ids.data,
                    slot_rows[start:stop],
                    values[start:stop],
                    self.accounts,
                    self.key,
                    label,
                    prefix,
                    u16(asset),
                    table,
                    start,
                    records,
                    points,
                )
            )

        return self._split(len(slot_rows), run, "a leaf commitment is the point at infinity")

    def _parents(self, asset: int, level: int, records: bytes, points: bytes) -> tuple[bytes, bytes]:
        count = len(records) // RECORD
        if count % 2:
            pad = record(padding(self.context.ctx, asset, level - 1, count))
            records, points = records + pad, points + self.module.points(pad)
        prefix = NODE.prefix + self.context.ctx

        def run(start: int, stop: int, out: memoryview, out_points: memoryview) -> int:
            children = memoryview(records)[2 * start * RECORD : 2 * stop * RECORD]
            child_points = memoryview(points)[2 * start * 64 : 2 * stop * 64]
            return int(self.module.parents(prefix, u16(asset), level, start, children, child_points, out, out_points))

        return self._split((count + 1) // 2, run, "a node's commitment is the point at infinity")

    def _slices(self, count: int) -> list[tuple[int, int]]:
        """``count`` items cut into one ``(start, stop)`` slice per thread."""
        bounds = [count * part // self.threads for part in range(self.threads + 1)]
        return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]

    def _each_slice(self, count: int, run: Callable[[int, int], object]) -> None:
        """``run(start, stop)`` over ``count`` items, one slice per thread."""
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda pair: run(*pair), self._slices(count)))

    def _split(
        self, count: int, run: Callable[[int, int, memoryview, memoryview], int], failure: str
    ) -> tuple[bytes, bytes]:
        """``run`` over ``count`` outputs in one slice per thread, into one records and one points buffer."""
        records, points = bytearray(count * RECORD), bytearray(count * 64)
        slices = self._slices(count)
        out, out_points = memoryview(records), memoryview(points)
        with ThreadPoolExecutor(len(slices) or 1) as pool:
            results = list(
                pool.map(
                    lambda s: run(s[0], s[1], out[s[0] * RECORD : s[1] * RECORD], out_points[s[0] * 64 : s[1] * 64]),
                    slices,
                )
            )
        if any(result >= 0 for result in results):
            raise InputError(failure)  # probability about 2^-256 for honest inputs
        return bytes(records), bytes(points)


_FUNCTIONS = ("pubkey_create", "pubkey_parse", "pubkey_serialize", "pubkey_combine", "pubkey_tweak_mul")


def library_functions() -> tuple[int, ...]:
    """A secp256k1 context and the addresses of libsecp256k1's public-key functions, from
    coincurve's build (maintained, and about 1.4x faster here than embit's 2021 build) or,
    where coincurve is laid out otherwise, from embit's."""
    try:
        return coincurve_functions()
    except (ImportError, AttributeError):
        return embit_functions()


def coincurve_functions() -> tuple[int, ...]:
    from coincurve._libsecp256k1 import ffi, lib  # noqa: PLC0415 - the library behind coincurve
    from coincurve.context import GLOBAL_CONTEXT  # noqa: PLC0415

    addresses = [int(ffi.cast("uintptr_t", ffi.addressof(lib, f"secp256k1_ec_{f}"))) for f in _FUNCTIONS]
    return (int(ffi.cast("uintptr_t", GLOBAL_CONTEXT.ctx)), *addresses)


def embit_functions() -> tuple[int, ...]:
    curve.zkp()  # says clearly if it does not load
    from embit.util import ctypes_secp256k1  # noqa: PLC0415

    library = ctypes_secp256k1._secp
    addresses = [ctypes.cast(getattr(library, f"secp256k1_ec_{f}"), ctypes.c_void_p).value or 0 for f in _FUNCTIONS]
    return (int(library.ctx), *addresses)


def ascending_bytes(keys: npt.NDArray[np.uint8]) -> bytes:
    return np.ascontiguousarray(keys[ascending(keys)]).tobytes()


def record(node: OpenNode) -> bytes:
    return node.hash + node.commitment + node.value.to_bytes(8, "big") + node.blinding.to_bytes(32, "big")


def node_of(records: bytes, index: int = 0) -> OpenNode:
    at = records[index * RECORD : (index + 1) * RECORD]
    return OpenNode(at[:32], at[32:65], int.from_bytes(at[65:73]), int.from_bytes(at[73:105]))


def range_request(
    context: PrivateContext, secrets: PrivateSecrets, asset: int, level: int, index: int, node: OpenNode
) -> curve.RangeRequest:
    """What ``curve.range_proofs`` needs for the range proof a path carries for the node
    ``(level, index)`` (FORMAT-2 §5.4)."""
    return (
        node.value,
        node.blinding,
        node.commitment,
        context.generator(asset),
        secrets.range_nonce(asset, level, index),
        context.range_extra(asset, level, index),
        context.shapes[asset].range_bits,
    )
