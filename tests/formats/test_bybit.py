"""Bybit's Merkle proof (reserves.formats.bybit): the published examples of two asset-list
versions and files of our own making, valid and tampered, with exact outcomes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import bybit_original_proof

from support import ROOT, assert_valid, cli, write_json
from support import first_failure as failed

EXAMPLES = ROOT / "fixtures" / "formats" / "bybit"
ROOTS = {
    "mock_user_merkle_tree_path_40.json": (
        "asset40",
        "8837e3a902aa996279fdc3d70e38e46cd18232dfb614c515a25ba34778eb1765",
    ),
    "mock_user_merkle_tree_path_40_v2.json": (
        "asset40v2",
        "8a9e4bb937aac2d92559791fa711ffa6a38c4861564b87ad8f1f42f5d0ac6c93",
    ),
}


def verify(tmp_path: Path, document: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    return cli("verify", write_json(tmp_path / "bybit.json", document), "--json", *options, *anchor)


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_published_examples_verify_against_their_roots(name: str) -> None:
    version, root = ROOTS[name]
    result = cli("verify", EXAMPLES / name, "--root", root, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["format"], document["result"], document["warnings"]) == (
        f"Bybit Merkle proof ({version})",
        "PASS",
        1,
    )
    assert [(c["step"], c["status"]) for c in document["checks"]] == [
        (1, "PASS"),
        (2, "PASS"),
        (3, "PASS"),
        (4, "PASS"),
        (5, "PASS"),
        (6, "WARN"),
        (6, "PASS"),
    ]
    assert_valid(document, "verify.schema.json")


@pytest.fixture
def example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / "mock_user_merkle_tree_path_40.json").read_text())
    return document


def swap_two_assets(document: dict[str, Any]) -> None:
    """Move the user's DOT balance to EOS and back, keeping the concatenation of the values
    in the file's order: hashing in the file's order would not notice."""
    balance = document["self"]["balance"]
    keys = list(balance)
    a, b = keys.index("DOT"), keys.index("EOS")
    keys[a], keys[b] = keys[b], keys[a]
    values = list(balance.values())
    document["self"]["balance"] = dict(zip(keys, values, strict=True))


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balance"].update(BTC="1.00000000"),
            2,
            "self.hash is not SHA-256(userHash || balances)",
            id="changed-balance",
        ),
        pytest.param(
            swap_two_assets, 2, "self.hash is not SHA-256(userHash || balances)", id="values-moved-between-assets"
        ),
        pytest.param(
            lambda d: d["path"][1].update(hash="ab" * 32),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-hash",
        ),
        pytest.param(
            lambda d: d["path"][0]["balance"].update(BTC="0.00000001"),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-sum",
        ),
        pytest.param(lambda d: d["path"][1].update(height=5), 3, "path[1]: heights must rise by one", id="height"),
        pytest.param(
            lambda d: d["path"][0].update(type=3), 3, "path[0]: the root is last and only last", id="early-root"
        ),
    ],
)
def test_tampered_example_fails(tmp_path: Path, example: dict[str, Any], tamper: Any, step: int, detail: str) -> None:
    document = copy.deepcopy(example)
    tamper(document)
    assert failed(verify(tmp_path, document)) == (step, detail)


def test_root_total_must_be_written_as_computed(tmp_path: Path, example: dict[str, Any]) -> None:
    example["path"][-1]["balance"]["BTC"] = example["path"][-1]["balance"]["BTC"] + "0"  # 9 places
    step, detail = failed(verify(tmp_path, example))
    assert (step, detail) == (4, "the computed root balance of BTC differs (Bybit compares them as written)")


def test_wrong_root_fails_step_5(tmp_path: Path, example: dict[str, Any]) -> None:
    assert failed(verify(tmp_path, example, "--root", "cd" * 32)) == (5, "the root differs from the one supplied")


def test_an_asset_list_of_unknown_order_is_recognised_but_not_checked(tmp_path: Path, example: dict[str, Any]) -> None:
    for node in [example["self"], *example["path"]]:
        node["balance"]["NEWCOIN"] = "0.00000000"
    result = verify(tmp_path, example)
    assert result.exit_code == 3
    assert "a Bybit proof of an asset list whose order is not known here (41 assets)" in result.stderr


def test_original_four_coin_format_and_negative_amounts(tmp_path: Path) -> None:
    document = bybit_original_proof(
        {"BTC": "0.5", "ETH": "1", "USDT": "10.12345", "USDC": "0"},
        [
            (2, {"BTC": "1.123456789", "ETH": "0", "USDT": "5", "USDC": "-3.5"}),
            (1, {"BTC": "0", "ETH": "2", "USDT": "0", "USDC": "1"}),
        ],
    )
    result = verify(tmp_path, document, "--root", document["path"][-1]["hash"])
    assert result.exit_code == 0, result.stdout
    parsed = json.loads(result.stdout)
    assert parsed["format"] == "Bybit Merkle proof (original)"
    assert parsed["totals"] == {"BTC": "1.62345678", "ETH": "3.00000000", "USDT": "15.1234", "USDC": "-2.5000"}
    finding = next(c for c in parsed["checks"] if c["id"] == "negative-amounts")
    assert (finding["status"], finding["detail"]) == (
        "WARN",
        "negative amounts (path[0] USDC, path[2] USDC): the published total may understate what is owed",
    )
