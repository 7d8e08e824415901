"""SwissBorg's proof of liabilities (reserves.formats.swissborg): the published test data,
a wrong credential, and tampered files, with exact outcomes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from support import ROOT, assert_valid, cli, write_json

DATA = ROOT / "fixtures" / "formats" / "swissborg"
CASES = {
    1: ("20000f995b5305144c082ad3443bf4db", {"GBP": "1", "CHSB": "20022"}),
    2: ("z2Ef6hx6QbRdixkL7c8rdBj", {"USDC": "99.70291"}),
    3: (
        "z2NRjxCKJiWPh3rfdQVyaTS",
        {"USDC": "288.50251128818010359", "ETH": "1.700273775267302", "CHSB": "4844.269085"},
    ),
}


def verify(user: Path, roots: Path, credential: str, *options: str) -> Any:
    return cli("verify", user, "--snapshot", roots, "--credential", credential, "--json", *options)


@pytest.mark.parametrize("case", sorted(CASES))
def test_published_test_data_verifies_with_the_users_credential(case: int) -> None:
    credential, balances = CASES[case]
    result = verify(DATA / f"userLiab_{case}.json", DATA / f"auditRoots_{case}.json", credential)
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["format"], document["result"], document["anchored"]) == (
        "SwissBorg proof of liabilities",
        "PASS",
        True,
    )
    assert document["balances"] == balances
    assert credential not in result.stdout + result.stderr  # never printed
    assert_valid(document, "verify.schema.json")


def test_a_wrong_credential_fails_step_4() -> None:
    result = verify(DATA / "userLiab_1.json", DATA / "auditRoots_1.json", "not-my-credential")
    assert result.exit_code == 1
    failed = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    assert (failed["step"], failed["detail"]) == (
        4,
        "leaf 0 (GBP) does not climb to its partition's root (is the credential yours?)",
    )


def test_another_audits_roots_fail_step_3() -> None:
    result = verify(DATA / "userLiab_1.json", DATA / "auditRoots_2.json", CASES[1][0])
    failed = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    assert (result.exit_code, failed["step"]) == (1, 3)


def tampered(tmp_path: Path, name: str, change: Any) -> Path:
    document = json.loads((DATA / name).read_text())
    change(document)
    return write_json(tmp_path / name, copy.deepcopy(document))


@pytest.mark.parametrize(
    ("change", "step", "detail"),
    [
        pytest.param(
            lambda d: d["liabilities"][0].update(liability="0.13"),
            4,
            "leaf 0 (GBP) does not climb to its partition's root (is the credential yours?)",
            id="changed-balance",
        ),
        pytest.param(
            lambda d: d["liabilities"][0]["proof"]["witnesses"][0].update(liability="0.872"),
            4,
            "leaf 0 (GBP) does not climb to its partition's root (is the credential yours?)",
            id="changed-witness-sum",
        ),
        pytest.param(
            lambda d: d["liabilities"][0]["proof"]["witnesses"][0].update(digest="ab" * 32),
            4,
            "leaf 0 (GBP) does not climb to its partition's root (is the credential yours?)",
            id="changed-witness-hash",
        ),
    ],
)
def test_tampered_user_file_fails(tmp_path: Path, change: Any, step: int, detail: str) -> None:
    result = verify(tampered(tmp_path, "userLiab_1.json", change), DATA / "auditRoots_1.json", CASES[1][0])
    failed = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    assert (result.exit_code, failed["step"], failed["detail"]) == (1, step, detail)


def test_a_changed_partition_total_breaks_the_audit_commitment(tmp_path: Path) -> None:
    roots = tampered(
        tmp_path, "auditRoots_1.json", lambda d: d["audit"]["partitions"][0]["commitment"].update(liability="1")
    )
    result = verify(DATA / "userLiab_1.json", roots, CASES[1][0])
    failed = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    assert (result.exit_code, failed["step"], failed["detail"]) == (
        1,
        2,
        "the commitment does not recompute from the partitions",
    )


def test_an_audit_commitment_that_is_not_an_object_is_malformed(tmp_path: Path) -> None:
    roots = tampered(tmp_path, "auditRoots_1.json", lambda d: d["audit"].update(commitment="x"))
    result = verify(DATA / "userLiab_1.json", roots, CASES[1][0])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == (
        f"invalid input: {roots} $.audit.commitment.digest: expected 64 lowercase hex characters"
    )


def test_the_audit_roots_and_the_credential_are_required() -> None:
    no_roots = cli("verify", DATA / "userLiab_1.json", "--credential", CASES[1][0])
    assert no_roots.exit_code == 2
    assert "a swissborg user file is checked against the audit roots the exchange publishes" in no_roots.stderr
    no_credential = cli("verify", DATA / "userLiab_1.json", "--snapshot", DATA / "auditRoots_1.json")
    assert no_credential.exit_code == 2
    assert "a swissborg proof is checked with your credential: pass --credential" in no_credential.stderr


def test_the_credential_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESERVES_CREDENTIAL", CASES[2][0])
    result = cli("verify", DATA / "userLiab_2.json", "--snapshot", DATA / "auditRoots_2.json")
    assert result.exit_code == 0, result.stdout + result.stderr
