"""CoinEx's Merkle proof (reserves.formats.coinex), on files of our own making (CoinEx's
example has no licence, so it is not copied here), valid and tampered, with exact outcomes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import coinex_proof

from support import assert_valid, cli, write_json
from support import first_failure as failed


def verify(tmp_path: Path, document: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    return cli("verify", write_json(tmp_path / "coinex.json", document), "--json", *options, *anchor)


@pytest.fixture
def generated() -> dict[str, Any]:
    return coinex_proof(
        {"BTC": "0.50", "USDT": "12.5"},
        [("right", {"ETH": "2", "USDT": "0.25"}), None, ("left", {"BTC": "1.000", "CET": "300"})],
    )


def test_generated_proof_verifies_with_sparse_coins_and_an_empty_level(
    tmp_path: Path, generated: dict[str, Any]
) -> None:
    result = verify(tmp_path, generated, "--root", generated["root"]["hash"])
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["format"], document["result"]) == ("CoinEx Merkle proof", "PASS")
    assert document["totals"] == {"BTC": "1.5", "CET": "300", "ETH": "2", "USDT": "12.75"}
    assert document["balances"] == {"BTC": "0.5", "USDT": "12.5"}
    assert_valid(document, "verify.schema.json")


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balances"].update(BTC="5"),
            2,
            "the computed root hash differs from the file's root",
            id="changed-balance",
        ),
        pytest.param(
            lambda d: d["path"][0].update(hash="ab" * 32),
            2,
            "the computed root hash differs from the file's root",
            id="changed-sibling-hash",
        ),
        pytest.param(
            lambda d: d["path"][0]["balances"].update(ETH="1"),
            2,
            "the computed root hash differs from the file's root",
            id="changed-sibling-sum",
        ),
        pytest.param(
            lambda d: d["root"]["balances"].update(BTC="9"),
            2,
            "the computed root balances differ",
            id="changed-root-total",
        ),
        pytest.param(
            lambda d: d["path"][0].update(pos="left"),
            2,
            "the computed root hash differs from the file's root",
            id="swapped-side",
        ),
    ],
)
def test_tampered_proof_fails(tmp_path: Path, generated: dict[str, Any], tamper: Any, step: int, detail: str) -> None:
    document = copy.deepcopy(generated)
    tamper(document)
    assert failed(verify(tmp_path, document)) == (step, detail)


def test_wrong_root_and_malformed_files(tmp_path: Path, generated: dict[str, Any]) -> None:
    assert failed(verify(tmp_path, generated, "--root", "cd" * 32)) == (3, "the root differs from the one supplied")
    generated["path"][1] = {"hash": "ab" * 32}
    malformed = verify(tmp_path, generated)
    assert malformed.exit_code == 2
    assert "$.path[1]: expected {} or balances, hash and pos (left or right)" in malformed.stderr


def test_negative_amounts_are_a_finding(tmp_path: Path) -> None:
    document = coinex_proof({"USDT": "10"}, [("right", {"USDT": "-4"})])
    result = verify(tmp_path, document, "--root", document["root"]["hash"], "--strict")
    assert result.exit_code == 1
    finding = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "negative-amounts")
    assert (finding["step"], finding["status"], finding["detail"]) == (
        4,
        "WARN",
        "negative amounts (path[0] USDT): the published total may understate what is owed",
    )
