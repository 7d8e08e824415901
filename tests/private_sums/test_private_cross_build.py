"""Every range proof made with embit's secp256k1-zkp build verifies under a second, newer
build of the library: the one wallycore (libwally) links into its extension and exports.
The generators ``H_a`` also come out the same from both builds.

The extension is opened with ctypes only, never imported: its SWIG module raises a
DeprecationWarning while Python shuts down, which the tests' warnings-as-errors turn into a
crash of the interpreter (wallycore 1.5.6 on Python 3.11)."""

from __future__ import annotations

import base64
import ctypes
import importlib.util
import json
from ctypes import POINTER, c_char_p, c_size_t, c_uint, c_uint64, c_void_p, create_string_buffer
from pathlib import Path

import pytest
from coincurve import PublicKey

from reserves.encoding import u16
from reserves.liabilities.private_sums import curve
from reserves.liabilities.private_sums.files import parse_private_proof
from reserves.liabilities.private_sums.tree import GENERATOR
from reserves.strict_json import parse_json
from support import ROOT, cli

VECTORS_V2 = ROOT / "fixtures" / "vectors-v2"
CONTEXT_NONE = 1


class WallyZkp:
    """secp256k1-zkp as wallycore's extension exports it, called through ctypes."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("_wallycore")
        assert spec is not None and spec.origin is not None, "wallycore is a dev dependency"
        library = ctypes.CDLL(spec.origin)
        library.secp256k1_context_create.argtypes = [c_uint]
        library.secp256k1_context_create.restype = c_void_p
        for name in ("generator_generate", "generator_serialize", "pedersen_commitment_parse"):
            getattr(library, f"secp256k1_{name}").argtypes = [c_void_p, c_char_p, c_char_p]
        library.secp256k1_rangeproof_verify.argtypes = [
            c_void_p, POINTER(c_uint64), POINTER(c_uint64), c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p,
        ]  # fmt: skip
        self.library = library
        self.context = library.secp256k1_context_create(CONTEXT_NONE)

    def generator(self, seed: bytes) -> bytes:
        native = create_string_buffer(64)
        assert self.library.secp256k1_generator_generate(self.context, native, seed) == 1
        return native.raw

    def serialised_generator(self, seed: bytes) -> bytes:
        out = create_string_buffer(33)
        assert self.library.secp256k1_generator_serialize(self.context, out, self.generator(seed)) == 1
        return out.raw

    def verify(self, proof: bytes, commitment_sec1: bytes, extra: bytes, seed: bytes) -> tuple[int, int] | None:
        y = int.from_bytes(_uncompressed(commitment_sec1)[33:], "big")
        prefix = 0x08 if pow(y, (curve.FIELD - 1) // 2, curve.FIELD) == 1 else 0x09
        commitment = create_string_buffer(64)
        parsed = bytes([prefix]) + commitment_sec1[1:]
        assert self.library.secp256k1_pedersen_commitment_parse(self.context, commitment, parsed) == 1
        low, high = c_uint64(), c_uint64()
        ok = self.library.secp256k1_rangeproof_verify(
            self.context, low, high, commitment, proof, len(proof), extra, len(extra), self.generator(seed)
        )
        return (low.value, high.value) if ok == 1 else None


def _uncompressed(sec1: bytes) -> bytes:
    return PublicKey(sec1).format(compressed=False)


@pytest.fixture(scope="module")
def wally() -> WallyZkp:
    return WallyZkp()


def test_both_builds_derive_the_same_generators(wally: WallyZkp) -> None:
    for seed in (bytes(32), b"\xff" * 32, GENERATOR.hash(b"x", u16(3))):
        assert wally.serialised_generator(seed) == curve.zkp().generator_serialize(curve.zkp().generator_generate(seed))


@pytest.mark.parametrize("name", ["small", "edge"])
def test_every_vector_range_proof_verifies_under_the_second_build(name: str, wally: WallyZkp) -> None:
    checked = 0
    for path in sorted((VECTORS_V2 / name / "proofs").glob("*.json")):
        proof = parse_private_proof(parse_json(path.read_bytes(), source=str(path)))
        context = proof.snapshot.context
        for holding in proof.holdings:
            seed = GENERATOR.hash(context.ctx, u16(holding.asset))
            bits = context.shapes[holding.asset].range_bits
            for level, sibling in enumerate(holding.path):
                if sibling.range_proof is None:
                    continue
                extra = context.range_extra(holding.asset, level, (holding.index >> level) ^ 1)
                assert wally.verify(sibling.range_proof, sibling.node.commitment, extra, seed) == (0, (1 << bits) - 1)
                # and the second build refuses it once bound to another node
                assert wally.verify(sibling.range_proof, sibling.node.commitment, bytes(32), seed) is None
                checked += 1
    assert checked > 0


def test_a_fresh_snapshots_proofs_verify_under_the_second_build(tmp_path: Path, wally: WallyZkp) -> None:
    csv = "account,BTC\n" + "".join(f"user-{i},{i + 1}.{i:08d}\n" for i in range(37))
    (tmp_path / "l.csv").write_text(csv)
    out = tmp_path / "snap"
    published = cli(
        "publish", tmp_path / "l.csv", "--exchange", "X", "--snapshot-id", "1", "--cutoff", "2026-01-01T00:00:00Z",
        "--decimals", "BTC=8", "--private-sums", "--out", out,
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    document = json.loads(cli("proof", out, "user-17").stdout)
    proof = parse_private_proof(parse_json(json.dumps(document).encode(), source="p"))
    context, holding = proof.snapshot.context, proof.holdings[0]
    seed = GENERATOR.hash(context.ctx, u16(0))
    for level, entry in enumerate(document["holdings"][0]["path"]):
        if "range_proof" in entry:
            extra = context.range_extra(0, level, (holding.index >> level) ^ 1)
            shown = wally.verify(
                base64.b64decode(entry["range_proof"]), bytes.fromhex(entry["commitment"]), extra, seed
            )
            assert shown == (0, (1 << context.shapes[0].range_bits) - 1)
