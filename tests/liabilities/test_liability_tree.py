"""Placing accounts in slots: the byte order of 32-byte order keys, found through their
first 8 bytes and exact on ties."""

from __future__ import annotations

import numpy as np

from reserves.liabilities.liability_tree import ascending, count_repeats


def keys_with_ties() -> np.ndarray:  # type: ignore[type-arg]
    keys = np.random.default_rng(7).integers(0, 256, size=(3000, 32), dtype=np.uint8)
    keys[10, :8] = keys[20, :8] = keys[30, :8]  # three keys share an 8-byte prefix
    keys[40, :8] = keys[41, :8]
    keys[41, 8:] = keys[40, 8:]  # and two are equal outright
    return keys


def test_slots_ascend_by_the_whole_key_even_when_prefixes_tie() -> None:
    keys = keys_with_ties()
    order = ascending(keys)
    assert [keys[row].tobytes() for row in order] == sorted(keys[row].tobytes() for row in range(len(keys)))


def test_repeated_keys_are_counted() -> None:
    keys = keys_with_ties()
    assert count_repeats(keys) == 1
    assert count_repeats(np.random.default_rng(8).integers(0, 256, size=(3000, 32), dtype=np.uint8)) == 0
