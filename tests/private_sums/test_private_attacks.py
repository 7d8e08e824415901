"""Attacks on format v2 (issue 13's list), each named after the attack: a dishonest exchange
builds a proof that is consistent everywhere it can make it so, and the user's check must
fail at the step that stands in the way, with the reason it gives."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from reserves.checks import Status
from reserves.context import Asset
from reserves.liabilities.private_sums import curve
from reserves.liabilities.private_sums.checking import verify_private_proof
from reserves.liabilities.private_sums.files import (
    Holding,
    PrivateCommitment,
    PrivateProof,
    Sibling,
    parse_private_proof,
)
from reserves.liabilities.private_sums.tree import (
    AssetRoot,
    AssetShape,
    OpenNode,
    PrivateContext,
    PrivateSecrets,
    account_commitment,
    build_levels,
    leaf,
)
from reserves.strict_json import parse_json
from support import ROOT, cli, write_json

SMALL = ROOT / "fixtures" / "vectors-v2" / "small"
KEY = bytes(range(32))


def vector_proof(number: int) -> dict[str, Any]:
    return json.loads((SMALL / "proofs" / f"{number}.json").read_text())


def failing(proof: PrivateProof | dict[str, Any]) -> tuple[str, str]:
    """The first failed check's id and title, checked against the proof's own snapshot."""
    if isinstance(proof, dict):
        proof = parse_private_proof(parse_json(json.dumps(proof).encode(), source="proof.json"))
    result = verify_private_proof(proof, published=proof.snapshot)
    failed = [c for c in result.checks if c.status is Status.FAIL]
    assert failed, "the forged proof verified"
    return failed[0].id, failed[0].title


def forged_tree(
    values: list[int], *, value_generator: curve.Generator | None = None
) -> tuple[PrivateContext, list[list[OpenNode]], int]:
    """A one-asset tree over ``values`` (slot order) whose first slot is alice; a value above
    2^64 stands for a negative one (``n - v``). Returns the context, the levels and the total
    the exchange would publish (the sum modulo the group order)."""
    total = sum(values) % curve.ORDER
    context = PrivateContext(
        "Forger", "f-1", 1_790_000_000, (Asset("BTC", 8),), (AssetShape(len(values), total.bit_length()),)
    )
    generator = value_generator or context.generator(0)
    secrets = PrivateSecrets(KEY)
    names = ["alice", *(f"other-{i}" for i in range(1, len(values)))]
    leaves = [
        leaf(
            context,
            0,
            i,
            account_commitment(context.ctx, name, secrets.salt(name)),
            v,
            secrets.blinding(0, name),
            generator,
        )
        for i, (name, v) in enumerate(zip(names, values, strict=True))
    ]
    return context, build_levels(context, 0, leaves), total


def alice_proof(
    context: PrivateContext, levels: list[list[OpenNode]], total: int, proofs: dict[tuple[int, int], bytes]
) -> PrivateProof:
    """Alice's proof (slot 0) through ``levels``, with the range proofs the forger supplies."""
    top = levels[-1][0]
    commitment = PrivateCommitment(context, (AssetRoot(total, top.public, top.blinding),))
    path = []
    for level in range(len(levels) - 1):
        position = 1 >> level if level == 0 else 1
        node = levels[level][position]
        path.append(Sibling(node.public, proofs.get((level, position))))
    secrets = PrivateSecrets(KEY)
    own = levels[0][0]
    return PrivateProof(
        commitment, "alice", secrets.salt("alice"), (Holding(0, 0, own.value, own.blinding, tuple(path)),)
    )


def honest_range_proof(
    context: PrivateContext, level: int, index: int, node: OpenNode, *, bits: int | None = None, exp: int = 0
) -> bytes:
    generator = context.generator(0)
    native = curve._native_commitment(node.commitment)
    return bytes(
        curve.zkp().rangeproof_sign(
            PrivateSecrets(KEY).range_nonce(0, level, index),
            node.value,
            native,
            node.blinding.to_bytes(32, "big"),
            b"",
            context.range_extra(0, level, index),
            generator.native,
            min_value=0,
            exp=exp,
            min_bits=bits or context.shapes[0].range_bits,
        )
    )


def test_a_sibling_committing_to_minus_the_users_balance_fails_at_its_range_proof() -> None:
    # alice 5, a fake leaf of -5 beside her, bob 7: the published total 7 leaves alice out
    context, levels, total = forged_tree([5, curve.ORDER - 5, 7])
    assert total == 7
    fake, bob = levels[0][1], levels[1][1]
    # No range proof can be made for -5; the forger reuses a valid one made for another value.
    stand_in = curve.commit(fake.blinding, 3, context.generator(0))
    borrowed = curve.range_proof(
        3, fake.blinding, stand_in, context.generator(0), nonce=bytes(32), extra=context.range_extra(0, 0, 1), bits=3
    )
    proofs = {(0, 1): borrowed, (1, 1): honest_range_proof(context, 1, 1, bob)}
    proof = alice_proof(context, levels, total, proofs)
    # everything else is consistent: the climb reaches the root and the root opens to 7
    assert curve.commit(levels[-1][0].blinding, 7, context.generator(0)) == levels[-1][0].commitment
    assert failing(proof) == ("range-proofs", "every sibling's range proof shows a value in [0, 2^b) at its own node")
    result = verify_private_proof(proof, published=proof.snapshot)
    assert result.checks[4].detail == "BTC: range proof of sibling (0, 1) does not verify"


def test_a_range_proof_moved_to_another_node_fails() -> None:
    context, levels, total = forged_tree([5, 6, 7])
    sibling, bob = levels[0][1], levels[1][1]
    right = honest_range_proof(context, 0, 1, sibling)
    # the same commitment's proof, made for another node's position: bound to that node, not this one
    moved = curve.range_proof(
        sibling.value,
        sibling.blinding,
        sibling.commitment,
        context.generator(0),
        nonce=bytes(32),
        extra=context.range_extra(0, 1, 1),
        bits=5,
    )
    assert curve.verified_range(
        moved, sibling.commitment, context.generator(0), extra=context.range_extra(0, 1, 1)
    ) == (0, 31)
    honest = alice_proof(context, levels, total, {(0, 1): right, (1, 1): honest_range_proof(context, 1, 1, bob)})
    assert verify_private_proof(honest, published=honest.snapshot).verdict().outcome.value == "PASS"
    forged = alice_proof(context, levels, total, {(0, 1): moved, (1, 1): honest_range_proof(context, 1, 1, bob)})
    assert failing(forged)[0] == "range-proofs"
    # and swapping two siblings' proofs within a path
    swapped = alice_proof(context, levels, total, {(0, 1): honest_range_proof(context, 1, 1, bob), (1, 1): right})
    assert failing(swapped)[0] == "range-proofs"


def test_a_range_proof_for_a_wider_range_than_published_fails() -> None:
    context, levels, total = forged_tree([5, 10, 7])  # alice's sibling holds 10: provable with exponent 1
    sibling, bob = levels[0][1], levels[1][1]
    wider = honest_range_proof(context, 0, 1, sibling, exp=1)  # [0, 50]: the canonical length, another range
    assert len(wider) == curve.range_proof_length(context.shapes[0].range_bits)
    proof = alice_proof(context, levels, total, {(0, 1): wider, (1, 1): honest_range_proof(context, 1, 1, bob)})
    assert failing(proof)[0] == "range-proofs"
    checks = verify_private_proof(proof, published=proof.snapshot).checks
    assert (checks[4].detail, checks[4].expected, checks[4].found) == (
        "BTC: range proof of sibling (0, 1) shows another range",
        "[0, 31]",
        "[0, 310]",
    )


def test_a_range_proof_for_a_narrower_range_than_published_fails() -> None:
    context, levels, total = forged_tree([5, 6, 7])
    sibling, bob = levels[0][1], levels[1][1]
    narrower = honest_range_proof(context, 0, 1, sibling, bits=3)  # published bits: bitlen(18) = 5
    proof = alice_proof(context, levels, total, {(0, 1): narrower, (1, 1): honest_range_proof(context, 1, 1, bob)})
    assert failing(proof) == (
        "siblings",
        "padding siblings are the defined nodes; the others carry canonical range proofs",
    )
    check = verify_private_proof(proof, published=proof.snapshot).checks[2]
    assert (check.detail, check.expected, check.found) == (
        "BTC: sibling (0, 1) lacks a canonical range proof",
        "419 bytes",
        "259 bytes",
    )


def test_a_non_canonical_proof_length_fails(tmp_path: Path) -> None:
    document = vector_proof(0)
    proof = base64.b64decode(document["holdings"][0]["path"][0]["range_proof"])
    document["holdings"][0]["path"][0]["range_proof"] = base64.b64encode(proof + b"\0").decode()
    result = cli("verify", write_json(tmp_path / "p.json", document), "--snapshot", SMALL / "snapshot.json", "--json")
    assert result.exit_code == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"]
    assert [(c["id"], c["expected"], c["found"]) for c in failed] == [
        ("siblings", f"{len(proof)} bytes", f"{len(proof) + 1} bytes")
    ]


def test_a_range_proof_in_another_base64_spelling_is_malformed(tmp_path: Path) -> None:
    document = vector_proof(0)
    document["holdings"][0]["path"][0]["range_proof"] = (
        document["holdings"][0]["path"][0]["range_proof"].rstrip("=") + "\n"
    )
    result = cli("verify", write_json(tmp_path / "p.json", document), "--snapshot", SMALL / "snapshot.json")
    assert result.exit_code == 2
    assert "$.holdings[0].path[0].range_proof: expected standard base64" in result.stderr


def test_a_padding_node_that_is_not_the_defined_one_fails(tmp_path: Path) -> None:
    # USDT has 5 holders: the one in slot 4 meets padding at levels 0, 1 and 2
    document = next(
        vector_proof(n)
        for n in range(6)
        if any(h["asset"] == "USDT" and h["index"] == 4 for h in vector_proof(n)["holdings"])
    )
    usdt = next(h for h in document["holdings"] if h["asset"] == "USDT")
    pads = [k for k, s in enumerate(usdt["path"]) if "range_proof" not in s]
    assert pads, "the vector must put erin beside padding"
    other = next(s for s in usdt["path"] if "range_proof" in s)
    usdt["path"][pads[0]] = {"hash": other["hash"], "commitment": other["commitment"]}
    result = cli("verify", write_json(tmp_path / "p.json", document), "--snapshot", SMALL / "snapshot.json", "--json")
    assert result.exit_code == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"]
    assert [c["id"] for c in failed] == ["siblings"]
    assert "covers only empty slots but is not the padding node" in failed[0]["detail"]


def test_a_root_opening_off_by_one_unit_fails() -> None:
    proof = parse_private_proof(parse_json((SMALL / "proofs" / "0.json").read_bytes(), source="p"))
    roots = list(proof.snapshot.roots)
    roots[0] = dataclasses.replace(roots[0], total=roots[0].total + 1)  # same bit length: 360000002
    forged = dataclasses.replace(proof, snapshot=PrivateCommitment(proof.snapshot.context, tuple(roots)))
    assert failing(forged) == ("root-opening", "every tree's published total and blinding open its root commitment")
    check = verify_private_proof(forged, published=forged.snapshot).checks[6]
    assert check.detail == "BTC: total 3.60000002 and the blinding do not open the root"


def test_a_wrong_generator_fails() -> None:
    wrong = curve.generator(b"\x07" * 32)
    context, levels, total = forged_tree([5, 6, 7], value_generator=wrong)
    sibling, bob = levels[0][1], levels[1][1]

    def made_with_wrong_generator(level: int, index: int, node: OpenNode) -> bytes:
        nonce, extra = PrivateSecrets(KEY).range_nonce(0, level, index), context.range_extra(0, level, index)
        return curve.range_proof(node.value, node.blinding, node.commitment, wrong, nonce=nonce, extra=extra, bits=5)

    proofs = {(0, 1): made_with_wrong_generator(0, 1, sibling), (1, 1): made_with_wrong_generator(1, 1, bob)}
    proof = alice_proof(context, levels, total, proofs)
    assert failing(proof)[0] == "range-proofs"
    # with proofs that verify under the wrong generator, the user's own leaf (made with the right one) breaks the climb
    assert curve.verified_range(proofs[(0, 1)], sibling.commitment, wrong, extra=context.range_extra(0, 0, 1)) == (
        0,
        31,
    )


def _every_32_bytes(document: Any) -> set[bytes]:
    """Every 32-byte value a proof file holds, or can be derived from it directly."""
    found: set[bytes] = set()
    if isinstance(document, dict):
        for value in document.values():
            found |= _every_32_bytes(value)
    elif isinstance(document, list):
        for value in document:
            found |= _every_32_bytes(value)
    elif isinstance(document, str):
        if len(document) == 64:
            found.add(bytes.fromhex(document))
        elif len(document) == 66:
            found |= {bytes.fromhex(document)[1:], bytes.fromhex(document)[:32]}
    return found


@pytest.mark.parametrize("number", [0, 2, 4, 5])
def test_no_range_proof_nonce_can_be_recovered_from_the_users_file(number: int) -> None:
    document = vector_proof(number)
    proof = parse_private_proof(parse_json(json.dumps(document).encode(), source="p"))
    context = proof.snapshot.context
    candidates = _every_32_bytes(document) | {context.ctx, proof.salt} | {bytes(32)}
    candidates |= {h.blinding.to_bytes(32, "big") for h in proof.holdings}
    secret = bytes.fromhex((SMALL / "secret").read_text()[:64])
    tried = 0
    for holding in proof.holdings:
        generator = context.generator(holding.asset)
        for level, sibling in enumerate(holding.path):
            if sibling.range_proof is None:
                continue
            position = (holding.index >> level) ^ 1
            extra = context.range_extra(holding.asset, level, position)
            for candidate in candidates:
                assert (
                    curve.rewound(sibling.range_proof, candidate, sibling.node.commitment, generator, extra=extra)
                    is None
                )
            nonce = PrivateSecrets(secret).range_nonce(
                holding.asset, level, position
            )  # the exchange's, never in the file
            assert nonce not in candidates
            assert (
                curve.rewound(sibling.range_proof, nonce, sibling.node.commitment, generator, extra=extra) is not None
            )
            tried += 1
    assert tried > 0
