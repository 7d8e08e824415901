"""The zk-Merkle family (reserves.formats.zkmerkle): HTX's published example (MIT), files
of our own making in HTX's and Gate's layouts (Gate's example is GPL: only its hashes are
kept here), valid and tampered, and Binance's files recognised but never passed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import zk_asset_list, zk_proof

from reserves.formats.zkmerkle import GATE, Proof, leaf
from support import ROOT, assert_valid, cli, write_json
from support import first_failure as failed

HTX = ROOT / "fixtures" / "formats" / "htx" / "user_config.json"
HTX_ASSETS = ROOT / "fixtures" / "formats" / "htx" / "config.json"
HTX_ROOT = "2d56687955260b6385c0b167a96d2540d9f6f4a1982e6e5c394aebcb6f33223a"


def verify(tmp_path: Path, kind: str, document: dict[str, Any], assets: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    proof = write_json(tmp_path / f"{kind}-user_config.json", document)
    listing = write_json(tmp_path / f"{kind}-assets.json", assets)
    return cli("verify", proof, "--snapshot", listing, "--json", *options, *anchor)


def test_htx_published_example_passes_with_its_asset_list_and_root() -> None:
    result = cli("verify", HTX, "--snapshot", HTX_ASSETS, "--root", HTX_ROOT, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["format"], document["result"]) == ("HTX zk-Merkle proof", "PASS")
    assert document["balances"] == {"btc": "0.00000032"}
    assert document["totals"]["btc"] == "0.00000163"
    assert [(c["step"], c["id"], c["status"]) for c in document["checks"]] == [
        (1, "parse", "PASS"),
        (2, "climb", "PASS"),
        (3, "root-published", "PASS"),
        (4, "totals-cover", "PASS"),
        (5, "negative-amounts", "PASS"),
        (5, "user-secret", "WARN"),
        (5, "sums-proven", "WARN"),
    ]
    assert document["checks"][1]["detail"] == (
        f"leaf 2a067ea186903717894dfb6e66713be605f78a1c64ddc8c2b4f8c4cdcfac2fed (168 assets), root {HTX_ROOT}"
    )
    assert_valid(document, "verify.schema.json")


def test_htx_example_against_another_root_or_without_its_asset_list() -> None:
    wrong = cli("verify", HTX, "--snapshot", HTX_ASSETS, "--root", "0x" + "AB" * 32, "--json")
    assert failed(wrong) == (3, "the root differs from the one supplied")
    missing = cli("verify", HTX, "--root", HTX_ROOT)
    assert missing.exit_code == 2
    assert missing.stderr.strip() == (
        "reserves: invalid input: a htx-zk user file is checked with the asset list the exchange publishes: "
        "pass --snapshot config.json (and --root HEX, the published root)"
    )
    unanchored = cli("verify", HTX, "--snapshot", HTX_ASSETS)
    assert unanchored.exit_code == 2
    assert "no anchor" in unanchored.stderr


@pytest.fixture(params=["htx", "gate"])
def generated(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], dict[str, Any]]:
    kind = request.param
    if kind == "htx":
        return kind, zk_proof(kind, {0: (32,), 3: (5_000,)}, count=14), zk_asset_list(kind, {0: (40,), 3: (9_000,)}, 14)
    document = zk_proof(kind, {1: (29_774, 0), 799: (10, 3)}, count=800)
    return kind, document, zk_asset_list(kind, {1: (30_000, 0), 799: (10, 3)}, 800)


def root_of(document: dict[str, Any]) -> str:
    return str(document.get("Root") or document["TreeRootHash"])


def test_generated_files_verify(tmp_path: Path, generated: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    kind, document, assets = generated
    result = verify(tmp_path, kind, document, assets, "--root", root_of(document))
    assert result.exit_code == 0, result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["result"] == "PASS"
    count = "14 assets" if kind == "htx" else "800 assets"
    assert f"({count}), root {root_of(document)}" in output["checks"][1]["detail"]


def _amounts(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document.get("Assets") or document["AssetDetails"])


@pytest.mark.parametrize(
    ("tamper", "step"),
    [
        pytest.param(
            lambda d: _amounts(d)[0].update({k: v + 1 for k, v in _amounts(d)[0].items() if k != "Index"}),
            2,
            id="changed-balance",
        ),
        pytest.param(
            lambda d: (d.get("Proof") or d["MerkleProofEncode"]).__setitem__(4, "AQ" + "A" * 41 + "="),
            2,
            id="changed-sibling",
        ),
        pytest.param(
            lambda d: d.update({k: d[k] + 1 for k in ("TotalEquity", "TotalAssetEquity") if k in d}),
            2,
            id="changed-total",
        ),
        pytest.param(
            lambda d: d.update({k: d[k] ^ 1 for k in ("AccountIndex", "Arrangement") if k in d}), 2, id="moved-index"
        ),
    ],
)
def test_tampered_files_fail_at_the_climb(
    tmp_path: Path, generated: tuple[str, dict[str, Any], dict[str, Any]], tamper: Any, step: int
) -> None:
    kind, document, assets = generated
    root = root_of(document)
    document = copy.deepcopy(document)
    tamper(document)
    suffix = "" if kind == "htx" else " (with 800 and 350 assets)"
    assert failed(verify(tmp_path, kind, document, assets, "--root", root)) == (
        step,
        f"the root computed from your leaf differs from the file's root{suffix}",
    )


def test_changed_root_in_the_file_fails(tmp_path: Path, generated: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    kind, document, assets = generated
    key = "Root" if kind == "htx" else "TreeRootHash"
    published = document[key]
    document[key] = "0" + document[key][1:] if document[key][0] != "0" else "1" + document[key][1:]
    assert failed(verify(tmp_path, kind, document, assets, "--root", published))[0] == 2


def test_balance_above_the_published_total_fails(tmp_path: Path) -> None:
    document = zk_proof("htx", {0: (32,)}, count=14)
    assets = zk_asset_list("htx", {0: (31,)}, 14)
    result = verify(tmp_path, "htx", document, assets, "--root", document["Root"])
    assert failed(result) == (4, "your a0 balance exceeds the exchange's published total")
    check = json.loads(result.stdout)["checks"][3]
    assert (check["expected"], check["found"]) == ("31", "32")


def test_negative_balance_is_a_finding_and_fails_strict(tmp_path: Path) -> None:
    document = zk_proof("htx", {2: (-700,)}, count=14)
    assets = zk_asset_list("htx", {2: (700,)}, 14)
    relaxed = verify(tmp_path, "htx", document, assets, "--root", document["Root"])
    assert relaxed.exit_code == 0, relaxed.stdout
    finding = next(c for c in json.loads(relaxed.stdout)["checks"] if c["id"] == "negative-amounts")
    assert (finding["status"], finding["detail"]) == (
        "WARN",
        "negative amounts (your a2 balance (the hash drops its sign)): the published total may understate what is owed",
    )
    assert verify(tmp_path, "htx", document, assets, "--root", document["Root"], "--strict").exit_code == 1


def test_gate_with_its_earlier_asset_count(tmp_path: Path) -> None:
    document = zk_proof("gate", {0: (5, 1)}, count=350)
    result = verify(
        tmp_path, "gate", document, zk_asset_list("gate", {0: (5, 1)}, 300), "--root", document["TreeRootHash"]
    )
    assert result.exit_code == 0, result.stdout
    assert "(350 assets)" in json.loads(result.stdout)["checks"][1]["detail"]


def test_gate_published_example_leaf() -> None:
    """The leaf of Gate's published example (gateio/proof-of-reserves, config/user_config.json,
    GPL-3.0, so only these few numbers and its hash are kept), which fixes the packing and N = 800."""
    identity = 0x151471E6F7B7E67511800B8E56F6B8E3DF52B0D8854F89D94193A0303682A985
    proof = Proof(GATE.name, 0, identity, 1737312900000000, 0, {110: (29774, 0)}, 0, ())
    assert f"{leaf(proof, 800):064x}" == "1d36d3bee715af47a84e71294057a24b38e17ad3a249d2f5859b18e864531cf5"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(lambda d: d["Proof"].pop(), "$.Proof: expected 28 sibling hashes, found 27", id="short-path"),
        pytest.param(
            lambda d: d["Proof"].__setitem__(0, "not base64!"),
            "$.Proof[0]: expected the standard base64 of 32 bytes naming an element of the BN254 field",
            id="bad-sibling",
        ),
        pytest.param(
            lambda d: d.update(Root="FF" * 32),
            "$.Root: expected 64 lowercase hex characters naming an element of the BN254 field",
            id="root-outside-the-field",
        ),
        pytest.param(
            lambda d: d["Assets"].append({"Index": 0, "Balance": 1}),
            "$.Assets[2].Index: asset 0 is listed twice",
            id="asset-twice",
        ),
        pytest.param(
            lambda d: d["Assets"].append({"Index": 20, "Balance": 1}),
            "asset 20 is not in the asset list",
            id="asset-outside-the-list",
        ),
        pytest.param(
            lambda d: d["Assets"][0].update(Balance=1.5),
            "invalid JSON: number 1.5 is not an integer",
            id="float-balance",
        ),
    ],
)
def test_malformed_files_are_exit_2(tmp_path: Path, tamper: Any, message: str) -> None:
    document = zk_proof("htx", {0: (32,), 3: (5_000,)}, count=14)
    tamper(document)
    result = verify(tmp_path, "htx", document, zk_asset_list("htx", {}, 14), "--root", "ab" * 32)
    assert result.exit_code == 2, result.stdout
    assert message in result.stdout


def test_truncated_file_is_exit_2(tmp_path: Path) -> None:
    text = json.dumps(zk_proof("htx", {0: (32,)}, count=14))
    proof = tmp_path / "user_config.json"
    proof.write_text(text[: len(text) // 2])
    result = cli("verify", proof, "--snapshot", HTX_ASSETS, "--root", "ab" * 32)
    assert result.exit_code == 2
    assert "invalid JSON" in result.stderr


def test_binance_user_file_is_recognised_but_cannot_be_checked(tmp_path: Path) -> None:
    document = zk_proof("htx", {}, count=14)
    document["TotalCollateral"] = 0
    document["Assets"] = [{"Index": 0, "Equity": 1, "Debt": 0, "Loan": 0, "Margin": 0, "PortfolioMargin": 0}]
    proof = write_json(tmp_path / "user_config.json", document)
    result = cli("verify", proof, "--root", "ab" * 32, "--json")
    assert result.exit_code == 3
    output = json.loads(result.stdout)
    assert (output["result"], output["exit_code"]) == ("ERROR", 3)
    assert output["error"] == (
        f"cannot check: {proof} is a Binance zk-Merkle user file, which this version recognises but cannot "
        "check: Binance's published example does not reproduce with the Poseidon hash implemented here"
    )
    assert_valid(output, "error.schema.json")
    assert "PASS" not in result.stdout
