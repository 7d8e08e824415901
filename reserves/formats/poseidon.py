"""Poseidon over the BN254 scalar field, as the zk-Merkle proofs of solvency (Binance's
zkmerkle-proof-of-solvency and its HTX and Gate forks) hash their leaves and nodes.

The instance is the hadeshash/circomlib one: S-box x^5, 8 full rounds, the partial rounds
of ``PARTIAL_ROUNDS`` for each width t, round constants and a Cauchy MDS matrix drawn from
the Grain LFSR seeded with (field, S-box, 254 bits, t, 8, partial rounds) exactly as the
Poseidon paper's reference script draws them. The constants are generated here, once per
width, rather than copied: the test vectors (the paper's permutation outputs, the fork's
long-input hashes and the exchanges' published leaves and roots) prove widths 3, 5, 7 and
13, and the MDS matrices of widths 4 to 9 agree with those the fork publishes.

How those exchanges hash more than two elements (bnb-chain's gnark-crypto fork): the state
is [0, x1, ..., xk] with width k+1; inputs of more than 12 elements are absorbed 12 at a
time into state[1..12] with width 13 (state[0] carries over), the rest with a narrower
width; the hash is state[1] after the last permutation.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

FIELD = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
"""The order of BN254's scalar field."""
FULL_ROUNDS = 8
PARTIAL_ROUNDS = {3: 57, 4: 56, 5: 60, 6: 60, 7: 63, 8: 64, 9: 63, 10: 60, 11: 66, 12: 60, 13: 65}
"""By width t: the round numbers of circomlib's instance."""
RATE = 12
"""Elements absorbed per permutation when chaining a long input."""
_BITS = 254


def _grain(width: int) -> Iterator[str]:
    """The Grain LFSR's output bits for this instance, as runs of "0" and "1", after the
    160 discarded and the self-shrinking step (of each pair, the second if the first is 1).

    The register b[n+80] = b[n+62] ^ b[n+51] ^ b[n+38] ^ b[n+23] ^ b[n+13] ^ b[n] is run
    18 bits at a time (its nearest tap is 18 places back) in an 80-bit window."""
    seed = f"01{0:04b}{_BITS:012b}{width:012b}{FULL_ROUNDS:010b}{PARTIAL_ROUNDS[width]:010b}" + "1" * 30
    window = int(seed[::-1], 2)  # bit i is b[n+i]
    skip = 160
    while True:
        run = []
        for _ in range(512):
            new = (
                (window >> 62) ^ (window >> 51) ^ (window >> 38) ^ (window >> 23) ^ (window >> 13) ^ window
            ) & 0x3FFFF
            window = (window >> 18) | (new << 62)
            run.append(f"{new:018b}"[::-1])
        bits = "".join(run)[skip:]  # 512 x 18 is even: pairs stay aligned from run to run
        skip = 0
        yield "".join(second for first, second in zip(bits[0::2], bits[1::2], strict=True) if first == "1")


def _numbers(runs: Iterator[str]) -> Iterator[int]:
    """254-bit big-endian numbers read from the bits."""
    pending = ""
    while True:
        while len(pending) < _BITS:
            pending += next(runs)
        yield int(pending[:_BITS], 2)
        pending = pending[_BITS:]


@functools.cache
def constants(width: int) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """The round constants and the MDS matrix of the width-``width`` permutation."""
    numbers = _numbers(_grain(width))
    count = (FULL_ROUNDS + PARTIAL_ROUNDS[width]) * width
    round_constants: list[int] = []
    while len(round_constants) < count:  # (1) rejection-sampled below the field order
        candidate = next(numbers)
        if candidate < FIELD:
            round_constants.append(candidate)
    drawn = [next(numbers) % FIELD for _ in range(2 * width)]  # (2) Cauchy matrix 1/(x_i + y_j)
    xs, ys = drawn[:width], drawn[width:]
    matrix = tuple(tuple(pow(x + y, FIELD - 2, FIELD) for y in ys) for x in xs)
    return tuple(round_constants), matrix


def permute(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation of a state of 2 to 13 field elements."""
    width = len(state)
    round_constants, matrix = constants(width)
    half, partial = FULL_ROUNDS // 2, PARTIAL_ROUNDS[width]
    current = list(state)
    for number in range(FULL_ROUNDS + partial):
        offset = number * width
        current = [(v + round_constants[offset + i]) % FIELD for i, v in enumerate(current)]
        if number < half or number >= half + partial:
            current = [pow(v, 5, FIELD) for v in current]
        else:
            current[0] = pow(current[0], 5, FIELD)
        current = [sum(m * v for m, v in zip(row, current, strict=True)) % FIELD for row in matrix]
    return current


def poseidon(*elements: int) -> int:
    """The hash of two or more field elements, chained past 12 as the exchanges chain it."""
    if len(elements) < 2 or any(not 0 <= e < FIELD for e in elements):
        raise ValueError("Poseidon hashes two or more elements of the field")
    state = [0] * (RATE + 1)
    start = 0
    if len(elements) > RATE:
        while start + RATE <= len(elements):
            state[1:] = elements[start : start + RATE]
            state = permute(state)
            start += RATE
    rest = elements[start:]
    if rest:
        state = permute([state[0], *rest])
    return state[1]
