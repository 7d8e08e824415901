"""MEXC's Merkle proof (reserves.formats.mexc): the published example and files of our own
making, valid and tampered, with exact outcomes; and the findings MEXC's validator skips."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import mexc_proof

from support import ROOT, assert_valid, cli, write_json
from support import first_failure as failed

EXAMPLE = ROOT / "fixtures" / "formats" / "mexc" / "merkle_proof.json"
EXAMPLE_ROOT = "35d01ffef2beec3ff0166c03f3d9b0cc"


def verify(tmp_path: Path, document: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    return cli("verify", write_json(tmp_path / "mexc.json", document), "--json", *options, *anchor)


def test_published_example_verifies_against_its_root() -> None:
    result = cli("verify", EXAMPLE, "--root", EXAMPLE_ROOT, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["format"], document["result"], document["warnings"]) == ("MEXC Merkle proof", "PASS", 2)
    assert document["balances"] == {"ETH": "195462.73"}
    assert document["totals"] == {"BTC": "4386831.37", "ETH": "5001729.74", "USDT": "5099023.18", "USDC": "0"}
    assert [(c["step"], c["id"], c["status"]) for c in document["checks"]] == [
        (1, "parse", "PASS"),
        (2, "leaf", "PASS"),
        (3, "path-shape", "PASS"),
        (4, "climb", "PASS"),
        (5, "root-published", "PASS"),
        (6, "truncated-hash", "WARN"),
        (6, "user-secret", "WARN"),
        (6, "negative-amounts", "PASS"),
    ]
    assert_valid(document, "verify.schema.json")


def test_published_example_root_in_0x_upper_case_and_wrong_root() -> None:
    assert cli("verify", EXAMPLE, "--root", "0x" + EXAMPLE_ROOT.upper()).exit_code == 0
    wrong = cli("verify", EXAMPLE, "--root", "ab" * 16, "--json")
    assert (wrong.exit_code, json.loads(wrong.stdout)["checks"][-1]["detail"]) == (
        1,
        "the root differs from the one supplied",
    )
    too_long = cli("verify", EXAMPLE, "--root", "ab" * 32)
    assert too_long.exit_code == 2
    assert "--root: root hash must be 32 hex characters" in too_long.stderr


def test_findings_fail_with_strict() -> None:
    result = cli("verify", EXAMPLE, "--root", EXAMPLE_ROOT, "--strict")
    assert result.exit_code == 1
    assert result.stdout.endswith("\nFAIL: (6) hashes are full SHA-256 warned (strict) and 1 more (2 warnings)\n")


@pytest.fixture
def generated() -> dict[str, Any]:
    return mexc_proof(
        {"BTC": "1.5", "ETH": "0"},
        [(2, {"BTC": "2.25", "USDT": "10"}), (0, {}), (1, {"ETH": "7.10", "USDC": "3"})],
    )


def test_generated_proof_verifies(tmp_path: Path, generated: dict[str, Any]) -> None:
    result = verify(tmp_path, generated, "--root", generated["pathList"][-1]["hash"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["totals"] == {"BTC": "3.75", "ETH": "7.1", "USDC": "3", "USDT": "10"}


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balances"].update(BTC="2"),
            2,
            "self.hash is not SHA-256(proofId,accountId,balances)",
            id="changed-balance",
        ),
        pytest.param(
            lambda d: d["pathList"][0].update(hash="cd" * 16),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-hash",
        ),
        pytest.param(
            lambda d: d["pathList"][0]["balances"].update(BTC="1"),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-sum",
        ),
        pytest.param(
            lambda d: d["pathList"][-1]["balances"].update(BTC="3"),
            4,
            "the computed root balances differ",
            id="changed-root-total",
        ),
        pytest.param(
            lambda d: d["pathList"].reverse(),
            3,
            "levels must rise, each once",
            id="levels-out-of-order",
        ),
    ],
)
def test_tampered_proof_fails(tmp_path: Path, generated: dict[str, Any], tamper: Any, step: int, detail: str) -> None:
    document = copy.deepcopy(generated)
    tamper(document)
    assert failed(verify(tmp_path, document)) == (step, detail)


def test_truncated_file_is_malformed(tmp_path: Path) -> None:
    broken = tmp_path / "cut.json"
    broken.write_text(EXAMPLE.read_text()[:200])
    result = cli("verify", broken, "--root", EXAMPLE_ROOT)
    assert result.exit_code == 2
    assert "invalid JSON" in result.stderr


def test_negative_amounts_on_the_path_are_a_finding(tmp_path: Path) -> None:
    """As in Bitget's real proofs: a negative subtotal makes the published total understate."""
    document = mexc_proof({"BTC": "1.5"}, [(2, {"BTC": "-1.25"})])
    result = verify(tmp_path, document, "--root", document["pathList"][-1]["hash"])
    assert result.exit_code == 0
    findings = {c["id"]: c for c in json.loads(result.stdout)["checks"] if c["step"] == 6}
    assert findings["negative-amounts"]["status"] == "WARN"
    assert findings["negative-amounts"]["detail"] == (
        "negative amounts (pathList[0] BTC): the published total may understate what is owed"
    )
    assert verify(tmp_path, document, "--root", document["pathList"][-1]["hash"], "--strict").exit_code == 1
