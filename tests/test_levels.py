"""The bulk builder (reserves.levels) agrees with the reference tree (reserves.tree)
node for node, including padding, non-power-of-two sizes and the 2^128 bound."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reserves import levels
from reserves.tree import Node, SumOverflowError, build_levels, leaf

CTX = hashlib.sha256(b"test context").digest()
U128 = 1 << 128

amounts = st.one_of(st.integers(0, 10**12), st.integers(0, U128 // 64), st.sampled_from([0, 1, (1 << 64) - 1, 1 << 64]))


def make_leaves(balances: list[tuple[int, ...]]) -> list[Node]:
    return [leaf(CTX, i, hashlib.sha256(bytes([i % 256, i // 256])).digest(), b) for i, b in enumerate(balances)]


def bulk(leaves: list[Node], height: int) -> tuple[Node, list[list[Node]]]:
    records = levels.leaf_records(
        CTX,
        [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(len(leaves))],
        [b"".join(s.to_bytes(16, "big") for s in n.sums) for n in leaves],
    )
    asset_count = len(leaves[0].sums)
    seen: list[list[Node]] = []
    root = levels.build(
        CTX, height, records, lambda _, recs: seen.append([levels.record_to_node(r, asset_count) for r in recs])
    )
    return root, seen


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3).flatmap(lambda assets: st.lists(st.tuples(*[amounts] * assets), min_size=1, max_size=40)),
    st.integers(0, 2),
)
def test_bulk_equals_reference(balances: list[tuple[int, ...]], extra_height: int) -> None:
    height = max(1, (len(balances) - 1).bit_length()) + extra_height
    leaves = make_leaves(balances)
    reference = build_levels(CTX, height, leaves)
    root, seen = bulk(leaves, height)
    assert seen == reference
    assert root == reference[-1][0]
    assert root.sums == tuple(sum(col) for col in zip(*balances, strict=True))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 8, 9, 31, 33])
def test_non_power_of_two_sizes(count: int) -> None:
    leaves = make_leaves([(i, 2 * i) for i in range(count)])
    height = max(1, (count - 1).bit_length())
    assert bulk(leaves, height)[1] == build_levels(CTX, height, leaves)


def test_carry_between_64_bit_halves_is_exact() -> None:
    leaves = make_leaves([((1 << 64) - 1,), (1,), ((1 << 64) - 1,), ((1 << 127),)])
    root, _ = bulk(leaves, 2)
    assert root.sums == ((1 << 65) - 1 + (1 << 127),)
    assert root == build_levels(CTX, 2, leaves)[-1][0]


@pytest.mark.parametrize(
    ("balances", "where"),
    [
        pytest.param([(U128 - 1,), (1,)], (1, 0, 0), id="leaf-pair"),
        pytest.param([(0, 1 << 127), (0, 0), (0, 1 << 127), (0, 0)], (2, 0, 1), id="level-2-second-asset"),
        pytest.param([(1,), (2,), (U128 - 2,), (0,)], (2, 0, 0), id="carry-into-overflow"),
    ],
)
def test_overflow_is_caught_by_both(balances: list[tuple[int, ...]], where: tuple[int, int, int]) -> None:
    leaves = make_leaves(balances)
    height = max(1, (len(balances) - 1).bit_length())
    with pytest.raises(SumOverflowError) as reference:
        build_levels(CTX, height, leaves)
    with pytest.raises(SumOverflowError) as fast:
        bulk(leaves, height)
    assert (reference.value.level, reference.value.index, reference.value.asset) == where
    assert (fast.value.level, fast.value.index, fast.value.asset, fast.value.value) == (
        *where,
        reference.value.value,
    )
    assert fast.value.value >= U128


def test_parallel_hashing_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked workers hash exactly what one process hashes, in the same order."""
    monkeypatch.setattr(levels, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(levels, "WORKERS", 2)
    leaves = make_leaves([(i, 3 * i) for i in range(37)])
    _, seen = bulk(leaves, 6)
    assert seen == build_levels(CTX, 6, leaves)
    state = hashlib.sha256(b"prefix")
    rows = np.arange(37 * 50, dtype=np.uint8).reshape(37, 50)
    assert levels._hash_rows(state, rows).tobytes() == levels.hash_rows_serial(state, rows)
