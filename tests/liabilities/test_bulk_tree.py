"""The bulk builder (reserves.liabilities.bulk_tree) agrees with the reference tree (reserves.liabilities.tree)
node for node, including padding, non-power-of-two sizes and the 2^128 bound."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reserves.liabilities import bulk_tree
from reserves.liabilities.tree import Node, SumOverflowError, build_levels, leaf

CTX = hashlib.sha256(b"test context").digest()
U128 = 1 << 128

amounts = st.one_of(st.integers(0, 10**12), st.integers(0, U128 // 64), st.sampled_from([0, 1, (1 << 64) - 1, 1 << 64]))


def make_leaves(balances: list[tuple[int, ...]]) -> list[Node]:
    return [leaf(CTX, i, hashlib.sha256(bytes([i % 256, i // 256])).digest(), b) for i, b in enumerate(balances)]


def bulk(leaves: list[Node], height: int, chunk_levels: int = bulk_tree.CHUNK_LEVELS) -> tuple[Node, list[list[Node]]]:
    """The bulk builder over the same leaves, and every level its sink received (pieces joined)."""
    accounts = b"".join(hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(len(leaves)))
    raw = b"".join(s.to_bytes(16, "big") for n in leaves for s in n.sums)
    amounts = np.frombuffer(raw, dtype=np.uint8).reshape(len(leaves), -1)
    asset_count = len(leaves[0].sums)
    seen: list[list[Node]] = [[] for _ in range(height + 1)]

    def sink(level: int, records: bulk_tree.Records) -> None:
        seen[level] += [bulk_tree.record_to_node(r, asset_count) for r in records]

    root = bulk_tree.build(
        CTX, height, bulk_tree.LeafInput.in_slot_order(accounts, amounts), sink, chunk_levels=chunk_levels
    )
    return root, seen


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3).flatmap(lambda assets: st.lists(st.tuples(*[amounts] * assets), min_size=1, max_size=40)),
    st.integers(0, 2),
    st.integers(1, 4),
)
def test_bulk_equals_reference(balances: list[tuple[int, ...]], extra_height: int, chunk_levels: int) -> None:
    """Whatever the chunk size (chunks of 2 to 16 slots here), every level is the reference's."""
    height = max(1, (len(balances) - 1).bit_length()) + extra_height
    leaves = make_leaves(balances)
    reference = build_levels(CTX, height, leaves)
    root, seen = bulk(leaves, height, chunk_levels)
    assert seen == reference
    assert root == reference[-1][0]
    assert root.sums == tuple(sum(col) for col in zip(*balances, strict=True))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 8, 9, 17, 31, 33])
@pytest.mark.parametrize("chunk_levels", [1, 2, 3, bulk_tree.CHUNK_LEVELS])
@pytest.mark.parametrize("extra_height", [0, 3])
def test_non_power_of_two_sizes(count: int, chunk_levels: int, extra_height: int) -> None:
    """Including trees taller than they need be: above the accounts, every level is one
    real node and its padding sibling."""
    leaves = make_leaves([(i, 2 * i) for i in range(count)])
    height = max(1, (count - 1).bit_length()) + extra_height
    assert bulk(leaves, height, chunk_levels)[1] == build_levels(CTX, height, leaves)


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
        # Chunks of 4 slots: the first overflows at level 2, the second, later, at level 1.
        pytest.param([(1 << 126,)] * 4 + [(1 << 127,), (1 << 127,), (0,), (0,)], (1, 2, 0), id="lower-in-later-chunk"),
    ],
)
@pytest.mark.parametrize("chunk_levels", [1, 2, bulk_tree.CHUNK_LEVELS])
def test_overflow_is_caught_by_both(
    balances: list[tuple[int, ...]], where: tuple[int, int, int], chunk_levels: int
) -> None:
    """Inside a chunk and above the chunks, and wherever several sums overflow: the
    reference's node (the lowest level's first), asset and value."""
    leaves = make_leaves(balances)
    height = max(1, (len(balances) - 1).bit_length())
    with pytest.raises(SumOverflowError) as reference:
        build_levels(CTX, height, leaves)
    with pytest.raises(SumOverflowError) as fast:
        bulk(leaves, height, chunk_levels)
    assert (reference.value.level, reference.value.index, reference.value.asset) == where
    assert (fast.value.level, fast.value.index, fast.value.asset, fast.value.value) == (
        *where,
        reference.value.value,
    )
    assert fast.value.value >= U128


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threads_build_exactly_what_one_thread_builds(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Chunks hashed on several threads reach the sink in index order, whatever finishes first."""
    monkeypatch.setattr(bulk_tree, "WORKERS", workers)
    leaves = make_leaves([(i, 3 * i) for i in range(101)])
    assert bulk(leaves, 7, chunk_levels=2)[1] == build_levels(CTX, 7, leaves)


def test_sink_receives_each_level_in_index_order() -> None:
    """Pieces of a level are consecutive ranges: chunk 0's, chunk 1's, … then the levels above the chunks."""
    order: list[tuple[int, int]] = []
    leaves = bulk_tree.LeafInput.in_slot_order(bytes(32 * 11), np.zeros((11, 16), dtype=np.uint8))
    bulk_tree.build(CTX, 4, leaves, lambda level, records: order.append((level, len(records))), chunk_levels=2)
    # 11 leaves in chunks of 4: the last chunk's fourth leaf slot is the padding node.
    assert order == [(0, 4), (1, 2), (0, 4), (1, 2), (0, 4), (1, 2), (2, 4), (3, 2), (4, 1)]


def test_in_ranges_covers_every_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_tree, "WORKERS", 2)
    seen: list[tuple[int, int]] = []
    bulk_tree.in_ranges(lambda start, stop: seen.append((start, stop)), 10, step=3)
    assert sorted(seen) == [(0, 3), (3, 6), (6, 9), (9, 10)]
