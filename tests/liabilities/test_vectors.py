"""The shared worked examples (fixtures/vectors/, copied from shared/vectors/) hold,
intermediate hashes included, for the reference tree, the bulk builder and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reserves.liabilities import bulk_tree
from reserves.liabilities.csv_file import read_liabilities
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import load_snapshot
from reserves.liabilities.tree import account_commitment, build_levels, leaf
from reserves.publishing import publish
from support import VECTOR_NAMES, cli, vector, vector_request


def intermediates(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((vector(name) / "intermediates.json").read_text())


def reference_leaves(name: str):  # type: ignore[no-untyped-def]
    statement = load_snapshot(vector(name) / "snapshot.json")
    context = statement.context
    secret = SnapshotSecret.load(vector(name) / "secret")
    liabilities = read_liabilities(
        vector(name) / "liabilities.csv", {a.symbol: a.decimals for a in context.assets}, order=context.symbols
    )
    balances = dict(zip(liabilities.ids, liabilities.balances, strict=True))
    order = sorted(liabilities.ids, key=secret.order_key)
    leaves = [
        leaf(context.ctx, slot, account_commitment(context.ctx, i, secret.salt(i)), balances[i])
        for slot, i in enumerate(order)
    ]
    return statement, secret, order, leaves


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_context_salt_account_and_leaf_hashes(name: str) -> None:
    expected = intermediates(name)
    statement, secret, order, leaves = reference_leaves(name)
    assert statement.context.ctx.hex() == expected["ctx"]
    assert order[0] == expected["slot0_account_id"]
    assert secret.salt(order[0]).hex() == expected["slot0_salt"]
    assert (
        account_commitment(statement.context.ctx, order[0], secret.salt(order[0])).hex()
        == expected["slot0_account_hash"]
    )
    assert leaves[0].hash.hex() == expected["slot0_leaf_hash"]


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_slot_order(name: str) -> None:
    _, _, order, _ = reference_leaves(name)
    assert order == intermediates(name)["slot_order"]


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_reference_tree_levels(name: str) -> None:
    statement, _, _, leaves = reference_leaves(name)
    built = build_levels(statement.context.ctx, statement.context.height, leaves)
    assert [[n.hash.hex() for n in level] for level in built] == intermediates(name)["levels"]
    assert built[-1][0] == statement.root


@pytest.mark.parametrize("chunk_levels", [1, 2, bulk_tree.CHUNK_LEVELS])
@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_bulk_builder_levels(name: str, chunk_levels: int) -> None:
    statement, _, _, leaves = reference_leaves(name)
    ctx = statement.context.ctx
    secret = SnapshotSecret.load(vector(name) / "secret")
    accounts = b"".join(account_commitment(ctx, i, secret.salt(i)) for i in intermediates(name)["slot_order"])
    raw = b"".join(s.to_bytes(16, "big") for n in leaves for s in n.sums)
    amounts = np.frombuffer(raw, dtype=np.uint8).reshape(len(leaves), -1)
    height = statement.context.height
    seen: list[list[str]] = [[] for _ in range(height + 1)]

    def sink(level: int, records: bulk_tree.Records) -> None:
        seen[level] += [r[:32].tobytes().hex() for r in records]

    root = bulk_tree.build(
        ctx, height, bulk_tree.LeafInput.in_slot_order(accounts, amounts), sink, chunk_levels=chunk_levels
    )
    assert seen == intermediates(name)["levels"]
    assert root == statement.root


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_publish_with_vector_secret_is_byte_identical(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    publish(
        vector(name) / "liabilities.csv", vector_request(name), out, secret=SnapshotSecret.load(vector(name) / "secret")
    )
    assert (out / "public" / "snapshot.json").read_bytes() == (vector(name) / "snapshot.json").read_bytes()
    for proof_file in sorted((vector(name) / "proofs").glob("slot-*.json")):
        account_id = json.loads(proof_file.read_text())["account"]["id"]
        result = cli("proof", out, account_id)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == proof_file.read_text()


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_every_vector_proof_verifies_anchored(name: str) -> None:
    for proof_file in sorted((vector(name) / "proofs").glob("slot-*.json")):
        result = cli("verify", proof_file, "--snapshot", vector(name) / "snapshot.json", "--strict")
        assert result.exit_code == 0, result.stdout
        assert "PASS: your balances are included in the published root" in result.stdout


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_vector_audit_passes(name: str) -> None:
    result = cli(
        "audit",
        vector(name) / "snapshot.json",
        "--liabilities",
        vector(name) / "liabilities.csv",
        "--secret",
        vector(name) / "secret",
        "--strict",
    )
    assert result.exit_code == 0, result.stdout
    assert "PASS: liabilities match the published snapshot, which lists no reserves" in result.stdout


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_publish_on_every_core_is_byte_identical(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of two slots on two threads: the same snapshot, byte for byte."""
    monkeypatch.setattr(bulk_tree, "CHUNK_LEVELS", 1)
    monkeypatch.setattr(bulk_tree, "WORKERS", 2)
    out = tmp_path / name
    publish(
        vector(name) / "liabilities.csv", vector_request(name), out, secret=SnapshotSecret.load(vector(name) / "secret")
    )
    assert (out / "public" / "snapshot.json").read_bytes() == (vector(name) / "snapshot.json").read_bytes()
