"""Property tests: for any small liabilities file, the fast path (``publish`` with private
sums, the store's proofs) equals the plain reference byte for byte, every proof verifies,
and changing any one balance changes that asset's root and nothing else's."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import private_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reserves.liabilities.private_sums.checking import verify_private_proof
from reserves.liabilities.private_sums.store import PrivateStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.publishing import SnapshotRequest, publish

ASSETS = [("BTC", 8), ("ETH", 9)]
balances = st.integers(0, 10**12) | st.just(0)
rows = st.lists(st.tuples(balances, balances), min_size=1, max_size=9)


def csv_text(values: list[tuple[int, int]]) -> str:
    lines = ["account,BTC,ETH"]
    lines += [
        f"user-{i},{private_reference.amount(b, 8)},{private_reference.amount(e, 9)}" for i, (b, e) in enumerate(values)
    ]
    return "\n".join(lines) + "\n"


def published(
    folder: Path, values: list[tuple[int, int]], key: bytes, multiple: int = 1
) -> tuple[PrivateStore, private_reference.Snapshot]:
    (folder / "l.csv").write_text(csv_text(values))
    request = SnapshotRequest("Prop", "p-1", 1_790_000_000, dict(ASSETS), private_sums=True, holders_multiple=multiple)
    publish(folder / "l.csv", request, folder / "snap", secret=SnapshotSecret(key))
    reference = private_reference.Snapshot(
        "Prop", "p-1", 1_790_000_000, "2026-09-21T14:13:20Z", ASSETS,
        [f"user-{i}" for i in range(len(values))], [list(v) for v in values], key, multiple,
    )  # fmt: skip
    return PrivateStore.open(folder / "snap"), reference


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=rows, key=st.binary(min_size=32, max_size=32), multiple=st.sampled_from([1, 1, 2, 3, 8]))
def test_the_fast_path_equals_the_reference(values: list[tuple[int, int]], key: bytes, multiple: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store, reference = published(Path(folder), values, key, multiple)
        snapshot = json.loads((Path(folder) / "snap" / "public" / "snapshot.json").read_text())
        assert {
            k: snapshot[k] for k in private_reference.snapshot_object(reference)
        } == private_reference.snapshot_object(reference)
        for i in range(len(values)):
            proof = store.proof(f"user-{i}")
            assert proof.to_text() == private_reference.dump(private_reference.proof_object(reference, f"user-{i}"))
            assert verify_private_proof(proof, published=store.statement.commitment).verdict().outcome.value == "PASS"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.tuples(st.integers(1, 10**9), st.integers(1, 10**9)), min_size=1, max_size=6), data=st.data())
def test_one_changed_balance_changes_its_asset_root_only(values: list[tuple[int, int]], data: st.DataObject) -> None:
    row = data.draw(st.integers(0, len(values) - 1))
    changed = [(b + 1, e) if i == row else (b, e) for i, (b, e) in enumerate(values)]
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first, _ = published(Path(one), values, bytes(32))
        second, _ = published(Path(two), changed, bytes(32))
        before, after = first.statement.commitment.roots, second.statement.commitment.roots
        assert before[0].total + 1 == after[0].total and before[0].node != after[0].node
        if before[0].total.bit_length() == after[0].total.bit_length():
            assert before[1] == after[1]  # ctx2 unchanged, so ETH's tree is the same
        assert first.statement.commitment.root != second.statement.commitment.root
