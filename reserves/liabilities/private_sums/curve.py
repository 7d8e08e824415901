"""The secp256k1 parts of format v2, from maintained libraries only (FORMAT-2 §2).

- Point arithmetic (``r·G``, ``v·H``, sums) and SEC1 encodings: ``coincurve`` (libsecp256k1).
- Generators ``H_a`` and Borromean range proofs: secp256k1-zkp, through the C binding embit
  bundles, imported from ``embit.util.ctypes_secp256k1`` directly. ``embit.util.secp256k1``
  would fall back silently to a pure-Python module without range proofs; here a missing
  library is an error that says so (``RangeProofsUnavailable``), never a weaker check.

We write no curve arithmetic of our own; the only arithmetic here is choosing the square
root ``y`` of a point whose ``x`` we already have (to move between SEC1 and secp256k1-zkp's
serialisations, which differ only in how they name ``y``).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import cast

from coincurve import PublicKey

from reserves.errors import CannotCheck

FIELD = 2**256 - 2**32 - 977
"""secp256k1's field prime ``p``."""
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""secp256k1's group order ``n``."""
MAX_RANGE_BITS = 64
"""Borromean range proofs cover values below ``2^64``."""


class RangeProofsUnavailable(CannotCheck):
    """secp256k1-zkp (embit's bundled C library) cannot be loaded here."""


@cache
def zkp() -> ModuleType:
    """embit's ctypes binding to libsecp256k1-zkp, or ``RangeProofsUnavailable``."""
    try:
        from embit.util import ctypes_secp256k1 as library  # noqa: PLC0415 - loaded on first use
    except ModuleNotFoundError:
        raise  # the CLI names the extra that installs embit
    except (OSError, RuntimeError, AttributeError) as exc:
        raise RangeProofsUnavailable(
            f"format v2 needs secp256k1-zkp's range proofs, and embit's bundled library did not load ({exc})"
        ) from None
    missing = [name for name in (*_ZKP_FUNCTIONS, "_secp") if not hasattr(library, name)]
    if missing:
        raise RangeProofsUnavailable(
            f"format v2 needs secp256k1-zkp's range proofs; embit's library lacks {', '.join(missing)}"
        )
    return cast(ModuleType, library)


_ZKP_FUNCTIONS = (
    "generator_generate",
    "generator_serialize",
    "pedersen_commit",
    "pedersen_commitment_parse",
    "rangeproof_sign",
    "rangeproof_verify",
    "rangeproof_rewind",
)


@dataclass(frozen=True)
class Generator:
    """An asset's value generator ``H_a``: a point with no known discrete log to ``G``."""

    sec1: bytes
    """33 bytes, SEC1 compressed (``02``/``03`` by the parity of ``y``)."""
    native: bytes
    """secp256k1-zkp's 64-byte in-memory form, for its range-proof calls."""

    @property
    def point(self) -> PublicKey:
        return PublicKey(self.sec1)


@cache
def generator(seed: bytes) -> Generator:
    """``secp256k1_generator_generate(seed)``, in SEC1 and in secp256k1-zkp's form."""
    library = zkp()
    native = library.generator_generate(seed)
    serialised = library.generator_serialize(native)  # 0x0a: y is a square mod p; 0x0b: it is not
    return Generator(_sec1(serialised[1:], square=serialised[0] == 0x0A), native)


def _sec1(x: bytes, *, square: bool) -> bytes:
    """SEC1 for the point with this ``x`` whose ``y`` is (or is not) a square mod p."""
    root = pow((int.from_bytes(x, "big") ** 3 + 7) % FIELD, (FIELD + 1) // 4, FIELD)  # itself a square
    y = root if square else FIELD - root
    return bytes([2 + (y & 1)]) + x


def _is_square(y: int) -> bool:
    return pow(y, (FIELD - 1) // 2, FIELD) == 1


def commit(blinding: int, value: int, value_generator: Generator) -> bytes:
    """``blinding·G + value·H_a`` in SEC1; ``ValueError`` if that is the point at infinity."""
    terms = []
    if blinding % ORDER:
        terms.append(PublicKey.from_secret((blinding % ORDER).to_bytes(32, "big")))
    if value % ORDER:
        terms.append(value_generator.point.multiply((value % ORDER).to_bytes(32, "big")))
    if not terms:
        raise ValueError("a commitment to 0 with blinding 0 is the point at infinity")
    return terms[0].format() if len(terms) == 1 else PublicKey.combine_keys(terms).format()


def blinding_point(blinding: int) -> bytes:
    """``blinding·G`` in SEC1: a commitment to 0."""
    return PublicKey.from_secret((blinding % ORDER).to_bytes(32, "big")).format()


def add(left: bytes, right: bytes) -> bytes:
    """The sum of two SEC1 points, in SEC1; ``ValueError`` if it is the point at infinity."""
    return PublicKey.combine_keys([PublicKey(left), PublicKey(right)]).format()


def is_point(sec1: bytes) -> bool:
    """Whether these 33 bytes are a SEC1 compressed point on the curve."""
    if len(sec1) != 33 or sec1[0] not in (2, 3):
        return False
    try:
        PublicKey(sec1)
    except ValueError:
        return False
    return True


def _native_commitment(sec1: bytes) -> bytes:
    """secp256k1-zkp's 64-byte form of a SEC1 commitment (its own 33-byte serialisation
    names ``y`` by whether it is a square: ``08`` yes, ``09`` no)."""
    y = int.from_bytes(PublicKey(sec1).format(compressed=False)[33:], "big")
    return bytes(zkp().pedersen_commitment_parse(bytes([0x08 if _is_square(y) else 0x09]) + sec1[1:]))


def range_proof(
    value: int, blinding: int, commitment: bytes, value_generator: Generator, *, nonce: bytes, extra: bytes, bits: int
) -> bytes:
    """A Borromean proof that ``commitment`` (which is ``blinding·G + value·H_a``) holds a
    value in ``[0, 2^bits)``: minimum 0, exponent 0, mantissa ``bits``, no message. The C
    function is called directly (as embit's wrapper does, without its per-process lock), so
    that threads make proofs side by side."""
    library = zkp()._secp
    proof, length = ctypes.create_string_buffer(MAX_PROOF_BYTES), ctypes.c_uint64(MAX_PROOF_BYTES)
    ok = library.secp256k1_rangeproof_sign(
        library.ctx,
        proof,
        ctypes.byref(length),
        0,
        _native_commitment(commitment),
        (blinding % ORDER).to_bytes(32, "big"),
        nonce,
        0,
        bits,
        value,
        b"",
        0,
        extra,
        len(extra),
        value_generator.native,
    )
    if ok != 1:
        raise ValueError(f"secp256k1-zkp refused to prove {bits} bits for this commitment")
    return proof.raw[: length.value]


MAX_PROOF_BYTES = 5134
"""Room for the longest proof (64 bits: 5,126 bytes), as embit's wrapper allows."""


RangeRequest = tuple[int, int, bytes, "Generator", bytes, bytes, int]
"""``(value, blinding, commitment, generator, nonce, extra, bits)``: one range proof to make."""


def range_proofs(wanted: Sequence[RangeRequest]) -> list[bytes]:
    """``range_proof`` of each request, one thread per core (signing only reads the shared context)."""

    def made(item: RangeRequest) -> bytes:
        value, blinding, commitment, generator, nonce, extra, bits = item
        return range_proof(value, blinding, commitment, generator, nonce=nonce, extra=extra, bits=bits)

    if len(wanted) < 2:
        return [made(item) for item in wanted]
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(made, wanted))


def verified_range(
    proof: bytes, commitment: bytes, value_generator: Generator, *, extra: bytes
) -> tuple[int, int] | None:
    """The ``(min, max)`` a valid range proof for ``commitment`` shows, or ``None``."""
    try:
        native = _native_commitment(commitment)
    except ValueError:
        return None
    library = zkp()._secp  # the C function itself: embit's wrapper holds one lock per process
    low, high = ctypes.c_uint64(0), ctypes.c_uint64(0)
    ok = library.secp256k1_rangeproof_verify(
        library.ctx,
        ctypes.byref(low),
        ctypes.byref(high),
        native,
        proof,
        len(proof),
        extra,
        len(extra),
        value_generator.native,
    )
    return (low.value, high.value) if ok == 1 else None


RangeCheck = tuple[bytes, bytes, Generator, bytes]
"""``(proof, commitment, generator, extra)``: one range proof to verify."""


def verified_ranges(checks: Sequence[RangeCheck]) -> list[tuple[int, int] | None]:
    """``verified_range`` of each, one thread per core (the library releases the GIL and its
    verification only reads the shared context)."""
    if len(checks) < 2:
        return [verified_range(proof, c, g, extra=e) for proof, c, g, e in checks]
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda check: verified_range(check[0], check[1], check[2], extra=check[3]), checks))


def rewound(proof: bytes, nonce: bytes, commitment: bytes, value_generator: Generator, *, extra: bytes) -> int | None:
    """The value a range proof hides, recovered with its nonce; ``None`` if this nonce does not open it."""
    try:
        value, *_ = zkp().rangeproof_rewind(proof, nonce, _native_commitment(commitment), extra, value_generator.native)
    except (RuntimeError, ValueError):
        return None
    return int(value)


def range_proof_length(bits: int) -> int:
    """The canonical byte length of a range proof over ``[0, 2^bits)`` (FORMAT-2 §2.4):
    a flags byte, a mantissa byte, ``rings - 1`` ring public keys (32 bytes each plus one
    bit of ``y``, packed), the 32-byte challenge and 32 bytes per ring member."""
    rings = (bits + 1) // 2
    members = 4 * (bits // 2) + 2 * (bits % 2)
    return 2 + 32 * (rings - 1) + (rings - 1 + 7) // 8 + 32 + 32 * members
