"""Many assets: balances held sparsely (only the nonzero ones) and a proof store that keeps
only nonzero sums, while every hashed byte, proof and root stays what it was."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from reserves.errors import InputError
from reserves.liabilities import csv_file
from reserves.liabilities.bulk_tree import chunk_levels_for
from reserves.liabilities.cluster.engine import Cluster
from reserves.liabilities.csv_file import read_liabilities
from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.sparse import SparseAmounts
from reserves.publishing import SnapshotRequest, publish
from support import cli

ASSETS = 40
SYMBOLS = [f"T{i:02d}" for i in range(ASSETS)]
SECRET = SnapshotSecret(bytes(range(32)))
REQUEST = SnapshotRequest("Wide Exchange", "wide", 1_764_720_000, dict.fromkeys(SYMBOLS, 2))


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12,000 accounts holding 3 of 40 assets each (a few hold none, one holds all): over
    1 MiB, so the columnar reader reads it, and keeps its balances sparsely."""
    draw = random.Random(3)
    lines = ["account," + ",".join(SYMBOLS)]
    for number in range(12_000):
        fields = ["0"] * ASSETS
        held = range(ASSETS) if number == 5 else [] if number % 1000 == 7 else draw.sample(range(ASSETS), 3)
        for asset in held:
            fields[asset] = f"{draw.randint(0, 10**6)}.{draw.randint(1, 99):02d}"
        lines.append(f"user-{number},{','.join(fields)}")
    path = tmp_path_factory.mktemp("wide") / "liabilities.csv"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > csv_file.COLUMNAR_MIN_BYTES
    return path


def test_sparse_rows_are_the_dense_rows() -> None:
    rng = np.random.default_rng(1)
    dense = np.zeros((300, ASSETS, 16), dtype=np.uint8)
    held = rng.random((300, ASSETS)) < 0.1
    dense[held] = rng.integers(1, 256, (int(held.sum()), 16), dtype=np.uint8)
    dense = dense.reshape(300, 16 * ASSETS)
    pieces = [SparseAmounts.from_dense(dense[a:b], ASSETS) for a, b in [(0, 100), (100, 100), (100, 300)]]
    joined = SparseAmounts.joined(pieces, ASSETS)
    assert joined.shape == (300, 16 * ASSETS)
    rows = rng.integers(0, 300, 500)
    assert (joined.rows(rows) == dense[rows]).all()
    assert all((joined.column(a) == dense[:, 16 * a : 16 * a + 16]).all() for a in range(ASSETS))
    assert len(joined.assets) == int(held.sum())


def test_a_wide_file_is_read_sparsely_with_the_reference_balances(wide_file: Path) -> None:
    fast = read_liabilities(wide_file, REQUEST.decimals)
    assert isinstance(fast.amounts, SparseAmounts)
    assert len(fast.amounts.assets) == 3 * 11_987 + ASSETS
    reference = csv_file.parse_liabilities(wide_file.read_bytes(), REQUEST.decimals, source=str(wide_file))
    assert fast.balances == reference.balances
    assert fast.ids == reference.ids


def test_the_store_keeps_only_nonzero_sums_and_the_same_tree(
    wide_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(wide_file, REQUEST, tmp_path / "sparse", secret=SECRET)
    monkeypatch.setattr(csv_file, "COLUMNAR_MIN_BYTES", 1 << 40)  # the reference parser: dense balances
    publish(wide_file, REQUEST, tmp_path / "dense", secret=SECRET)
    files = sorted(p.name for p in (tmp_path / "sparse" / "private" / "store").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "dense" / "private" / "store").iterdir())
    for name in files:
        assert (tmp_path / "sparse/private/store" / name).read_bytes() == (
            tmp_path / "dense/private/store" / name
        ).read_bytes()
    manifest = json.loads((tmp_path / "sparse/private/store/manifest.json").read_text())
    assert manifest["format"] == "reserves-sparse-store/1"
    assert [name for name in files if name.startswith("sums-")] == [f"sums-{n:02d}.bin" for n in range(15)]
    stored = sum((tmp_path / "sparse/private/store" / name).stat().st_size for name in files)
    dense = sum(2 * 12_000 * (32 + 16 * ASSETS) for _ in [0])  # what whole records would take, roughly
    assert stored < dense / 3


def test_proofs_from_a_sparse_store_verify_and_match_in_bulk(wide_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    publish(wide_file, REQUEST, out, secret=SECRET)
    for account in ("user-0", "user-5", "user-7", "user-11999"):
        proof = cli("proof", out, account)
        assert proof.exit_code == 0, proof.stderr
        (tmp_path / "p.json").write_text(proof.stdout)
        verified = cli("verify", tmp_path / "p.json", "--snapshot", out / "public" / "snapshot.json")
        assert verified.exit_code == 0, verified.stdout
        balances = json.loads(proof.stdout)["account"]["balances"]
        assert len(balances) == ASSETS
        assert sum(value != "0" for value in balances.values()) == {"user-5": ASSETS, "user-7": 0}.get(account, 3)
    ids = [f"user-{n}" for n in range(0, 12_000, 37)]
    with ProofStore.open(out).serving() as store:
        assert store.jsonl(ids) == [json.dumps({"id": i, "proof": store.proof(i).to_json()}) + "\n" for i in ids]
        assert store.documents(ids) == [store.proof(i).to_text() for i in ids]


def test_a_corrupted_sum_in_a_sparse_store_is_refused(wide_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    publish(wide_file, REQUEST, out, secret=SECRET)
    sums = out / "private" / "store" / "sums-03.bin"
    data = bytearray(sums.read_bytes())
    data[len(data) // 2] ^= 0x10
    sums.write_bytes(bytes(data))
    ids = [f"user-{n}" for n in range(12_000)]
    result = cli("proofs", out, "--ids", _ids(tmp_path, ids), "--jsonl", tmp_path / "p.jsonl")
    assert result.exit_code == 1
    assert "reserves: check failed: the proof store is corrupted: the path of slot " in result.stderr
    assert not (tmp_path / "p.jsonl").exists()


def test_format_v2_reads_sparse_balances_as_dense_ones(
    wide_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = SnapshotRequest(
        REQUEST.exchange, REQUEST.snapshot_id, REQUEST.cutoff, REQUEST.decimals, private_sums=True
    )
    first = publish(wide_file, private, tmp_path / "sparse", secret=SECRET)
    monkeypatch.setattr(csv_file, "COLUMNAR_MIN_BYTES", 1 << 40)
    assert publish(wide_file, private, tmp_path / "dense", secret=SECRET).to_text() == first.to_text()


def test_a_cluster_refuses_many_assets(wide_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        publish(wide_file, REQUEST, tmp_path / "out", secret=SECRET, cluster=Cluster(work_dir=tmp_path))
    assert str(refused.value) == (
        "40 assets: a cluster builds snapshots of up to 32 assets (their store keeps every sum); "
        "more are built on one machine, which keeps only nonzero sums"
    )


def test_wide_records_make_smaller_chunks() -> None:
    assert [chunk_levels_for(assets) for assets in (3, 20, 32, 200, 1000)] == [16, 16, 15, 13, 11]


def _ids(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("".join(i + "\n" for i in ids))
    return path
