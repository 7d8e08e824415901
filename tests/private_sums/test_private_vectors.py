"""FORMAT-2's worked vectors (fixtures/vectors-v2/): the plain reference makes them, and the
fast path (``reserves publish --private-sums``, ``reserves proof``) reproduces them byte for
byte; every proof verifies and the auditor's rebuild passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import private_reference
import pytest

from reserves.liabilities.csv_file import read_liabilities
from support import ROOT, cli

VECTORS_V2 = ROOT / "fixtures" / "vectors-v2"
IDENTITIES: dict[str, dict[str, Any]] = json.loads((VECTORS_V2 / "identities.json").read_text())
NAMES = sorted(IDENTITIES)


def publish_options(name: str) -> list[str]:
    spec = IDENTITIES[name]
    decimals = ",".join(f"{symbol}={places}" for symbol, places in spec["assets"])
    return [
        "--exchange", spec["exchange"], "--snapshot-id", spec["snapshot_id"],
        "--cutoff", spec["cutoff_text"], "--decimals", decimals, "--private-sums",
        "--round-holders", str(spec.get("round_holders", 1)),
    ]  # fmt: skip


def account_ids(name: str) -> list[str]:
    decimals = dict(IDENTITIES[name]["assets"])
    return read_liabilities(VECTORS_V2 / name / "liabilities.csv", decimals).ids


def test_the_vectors_cover_what_the_format_has_to_say() -> None:
    small = json.loads((VECTORS_V2 / "small" / "snapshot.json").read_text())
    shapes = {t["asset"]: (t["holders"], t["height"], t["root"] is None) for t in small["trees"]}
    assert shapes == {
        "BTC": (4, 2, False),
        "ETH": (4, 2, False),
        "USDT": (5, 3, False),  # padding at levels 0, 1 and 2
        "DOGE": (1, 0, False),  # one holder: the leaf is the root
        "XRP": (0, 0, True),  # nobody holds it: no tree
    }
    dave = json.loads((VECTORS_V2 / "small" / "proofs" / "3.json").read_text())
    assert dave["account"]["id"] == "dave@example.com" and dave["holdings"] == []
    rounded = json.loads((VECTORS_V2 / "rounded" / "intermediates.json").read_text())
    dummies = {t["asset"]: sum(slot.startswith("dummy:") for slot in t["slots"]) for t in rounded["trees"]}
    assert dummies == {"BTC": 0, "ETH": 0, "USDT": 3, "DOGE": 3, "XRP": 0}  # §5.5: every count rounded to 4
    edge = json.loads((VECTORS_V2 / "edge" / "snapshot.json").read_text())
    assert edge["trees"][0]["total"] == str(2**64 - 1) and edge["trees"][0]["range_bits"] == 64


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_makes_the_committed_vectors(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    folder.mkdir()
    for item in ("liabilities.csv", "secret"):
        shutil.copy(VECTORS_V2 / name / item, folder / item)
    private_reference.write_vectors(folder, IDENTITIES[name])
    written = sorted(p.relative_to(folder) for p in folder.rglob("*.json"))
    committed = sorted(p.relative_to(VECTORS_V2 / name) for p in (VECTORS_V2 / name).rglob("*.json"))
    assert written == committed
    for relative in written:
        assert (folder / relative).read_bytes() == (VECTORS_V2 / name / relative).read_bytes(), relative


@pytest.mark.parametrize("name", NAMES)
def test_publish_and_proof_reproduce_the_vectors_byte_for_byte(name: str, tmp_path: Path) -> None:
    folder, out = VECTORS_V2 / name, tmp_path / "snap"
    result = cli(
        "publish", folder / "liabilities.csv", *publish_options(name), "--secret", folder / "secret", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert (out / "public" / "snapshot.json").read_bytes() == (folder / "snapshot.json").read_bytes()
    for number, account_id in enumerate(account_ids(name)):
        proof = cli("proof", out, account_id)
        assert proof.exit_code == 0, proof.output
        assert proof.stdout == (folder / "proofs" / f"{number}.json").read_text(), account_id
    # the second request reads the range proofs the first one cached: the same bytes again
    again = cli("proof", out, account_ids(name)[0])
    assert again.stdout == (folder / "proofs" / "0.json").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_every_vector_proof_verifies_against_the_snapshot_and_its_root(name: str) -> None:
    folder = VECTORS_V2 / name
    root = json.loads((folder / "snapshot.json").read_text())["root"]
    for proof in sorted((folder / "proofs").glob("*.json")):
        by_snapshot = cli("verify", proof, "--snapshot", folder / "snapshot.json", "--json")
        assert by_snapshot.exit_code == 0, by_snapshot.output
        document = json.loads(by_snapshot.stdout)
        assert document["result"] == "PASS" and document["format"] == "reserves-proof/2"
        assert [c["status"] for c in document["checks"]] == ["PASS"] * 8
        assert cli("verify", proof, "--root", root).exit_code == 0
        alone = json.loads(cli("verify", proof, "--no-anchor", "--json").stdout)
        assert alone["result"] == "NOT_ANCHORED"


def test_a_user_sees_her_balances_and_the_totals_and_nothing_else() -> None:
    folder = VECTORS_V2 / "small"
    result = cli("verify", folder / "proofs" / "2.json", "--snapshot", folder / "snapshot.json", "--json")
    document = json.loads(result.stdout)
    assert document["balances"] == {"BTC": "0.1", "ETH": "1", "USDT": "5.5"}
    assert document["totals"] == {"BTC": "3.60000001", "ETH": "6.250000001", "USDT": "24", "DOGE": "420.69", "XRP": "0"}
    proof = json.loads((folder / "proofs" / "2.json").read_text())
    siblings = [s for h in proof["holdings"] for s in h["path"]]
    assert {frozenset(s) for s in siblings} <= {
        frozenset({"hash", "commitment", "range_proof"}),
        frozenset({"hash", "commitment"}),  # padding: defined by its position, known to all
    }


@pytest.mark.parametrize("name", NAMES)
def test_the_auditor_rebuilds_every_tree(name: str) -> None:
    folder = VECTORS_V2 / name
    result = cli(
        "audit", folder / "snapshot.json", "--liabilities", folder / "liabilities.csv",
        "--secret", folder / "secret", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["result"] == "PASS"
    assets = [symbol for symbol, _ in IDENTITIES[name]["assets"]]
    assert [c["id"] for c in document["checks"]] == ["holders"] * len(assets) + ["root-sum"] * len(assets) + [
        "tree-root"
    ] * len(assets) + ["root-hash"]
    assert document["snapshot"]["holders"] == {
        t["asset"]: t["holders"] for t in json.loads((folder / "snapshot.json").read_text())["trees"]
    }
