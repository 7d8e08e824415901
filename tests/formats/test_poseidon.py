"""Poseidon over BN254 (reserves.formats.poseidon) against published vectors: the Poseidon
paper's permutation outputs (hadeshash test_vectors.txt, width 3 and 5) and the chained
long-input hashes of the fork the zk-Merkle exchanges use (design note §3 and §12)."""

from __future__ import annotations

import pytest

from reserves.formats.poseidon import FIELD, permute, poseidon


def test_permutation_of_width_3_is_the_papers_vector() -> None:
    assert [f"{v:064x}" for v in permute([0, 1, 2])] == [
        "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a",
        "0fca49b798923ab0239de1c9e7a4a9a2210312b6a2f616d18b5a87f9b628ae29",
        "0e7ae82e40091e63cbd4f16a6d16310b3729d4b6e138fcf54110e2867045a30c",
    ]


def test_permutation_of_width_5_gives_circomlibs_hash_in_state_0() -> None:
    assert f"{permute([0, 1, 2, 3, 4])[0]:064x}" == "299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        ((1, 2), "0fca49b798923ab0239de1c9e7a4a9a2210312b6a2f616d18b5a87f9b628ae29"),
        ((1, 2, 3, 4), "1148aaef609aa338b27dafd89bb98862d8bb2b429aceac47d86206154ffe053d"),
    ],
)
def test_hash_outputs_state_1(elements: tuple[int, ...], expected: str) -> None:
    assert f"{poseidon(*elements):064x}" == expected


@pytest.mark.parametrize(
    ("count", "head", "tail"),
    [
        pytest.param(24, "06c7676e", "108d", id="two-full-blocks"),
        pytest.param(30, "2ff47ab8", "05f1", id="two-blocks-and-six"),
    ],
)
def test_long_inputs_chain_twelve_at_a_time(count: int, head: str, tail: str) -> None:
    digest = f"{poseidon(*range(1, count + 1)):064x}"
    assert (digest[:8], digest[-4:]) == (head, tail)


def test_elements_outside_the_field_and_single_elements_are_refused() -> None:
    with pytest.raises(ValueError, match="two or more elements of the field"):
        poseidon(1, FIELD)
    with pytest.raises(ValueError, match="two or more elements of the field"):
        poseidon(1)
