"""Bitget's and Bitunix's Merkle proofs (reserves.formats.bitget), on files of our own
making (their examples have no licence, so none is copied here), in each encoding, valid
and tampered, with exact outcomes; and the Java behaviours the hashes depend on."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import bitget_proof, json_with_numbers

from reserves.formats.bitget import hashmap_order
from reserves.formats.decimals import JavaDecimal
from support import assert_valid, cli
from support import first_failure as failed


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json_with_numbers(document))
    return path


def verify(tmp_path: Path, document: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    return cli("verify", write(tmp_path / "proof.json", document), "--json", *options, *anchor)


def root_of(document: dict[str, Any]) -> str:
    top = document["path"][-1]
    return str(top.get("merkelLeaf") or top["merkleLeaf"])


OWN = {"BTC": "0.5", "ETH": "0", "USDT": "12.25", "USDC": "0"}
SIBLINGS = [
    (1, {"BTC": "1", "ETH": "2.5", "USDT": "0", "USDC": "3"}),
    (2, {"BTC": "0.25", "ETH": "0", "USDT": "7", "USDC": "0"}),
]
CASES = {
    "bitget-2025": lambda: bitget_proof("bitget", OWN, SIBLINGS),
    "bitget-2026-file-order": lambda: bitget_proof(
        "bitget", {"USDT": "1.5", "BTC": "0", "ETH": "0.1"}, [(2, {"USDT": "2", "BTC": "0.2", "ETH": "0"})], file_order=True
    ),
    "bitget-2022-numbers": lambda: bitget_proof(
        "bitget",
        {"BTC": Decimal("0.0000122055400000"), "LTC": Decimal("1.000000000E-7"), "USDT": Decimal("3181.57")},
        [(0, {"BTC": Decimal("0"), "LTC": Decimal("0"), "USDT": Decimal("0")}), (1, {"BTC": Decimal("953.02"), "DOGE": Decimal("100.0000")})],
    ),
    "bitunix": lambda: bitget_proof(
        "bitunix",
        {"BTC": "0.00000000", "ETH": "0.00000000", "USDT": "208.800000"},
        [(1, {"BTC": "0.00000001", "ETH": "0.00000000", "USDT": "1.510393"}), (2, {"BTC": "0.02598023", "ETH": "0.1", "USDT": "4518.642460"})],
    ),
}  # fmt: skip


@pytest.fixture(params=sorted(CASES))
def generated(request: pytest.FixtureRequest) -> dict[str, Any]:
    return CASES[request.param]()


def test_generated_files_verify(tmp_path: Path, generated: dict[str, Any]) -> None:
    result = verify(tmp_path, generated, "--root", root_of(generated))
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["result"] == "PASS"
    assert document["format"] in ("Bitget Merkle proof", "Bitunix Merkle proof")
    assert_valid(document, "verify.schema.json")


def test_bitget_2022_numbers_totals_and_order(tmp_path: Path) -> None:
    document = CASES["bitget-2022-numbers"]()
    output = json.loads(verify(tmp_path, document, "--root", root_of(document)).stdout)
    assert output["balances"] == {"BTC": "0.00001220554", "LTC": "0.0000001", "USDT": "3181.57"}
    assert output["totals"] == {"BTC": "953.02001220554", "DOGE": "100", "LTC": "0.0000001", "USDT": "3181.57"}
    assert output["checks"][0]["detail"] == "2 siblings; amounts as numbers"
    assert output["checks"][1]["detail"].endswith("(HashMap key order)")


def test_file_order_is_recognised_from_the_leaf(tmp_path: Path) -> None:
    document = CASES["bitget-2026-file-order"]()
    output = json.loads(verify(tmp_path, document, "--root", root_of(document)).stdout)
    assert output["checks"][1]["detail"].endswith("(the file's key order)")


def _first_sibling(document: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in document["path"] if n.get("role", n.get("type")) in (1, 2))


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balances"].update(USDT="12.26"),
            2,
            "the leaf differs from the file's",
            id="changed-balance",
        ),
        pytest.param(
            lambda d: _first_sibling(d).update(
                {k: "0" * len(v) for k, v in _first_sibling(d).items() if k.endswith("Leaf")}
            ),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-hash",
        ),
        pytest.param(
            lambda d: _first_sibling(d)["balances"].update(BTC="9"),
            4,
            "the computed root hash differs from the file's root",
            id="changed-sibling-sum",
        ),
        pytest.param(
            lambda d: d["path"][-1]["balances"].update(BTC="99"),
            4,
            "the computed root balance of BTC differs",
            id="changed-root-total",
        ),
        pytest.param(lambda d: d["path"][0].update(level=7), 3, "path[0].level is not 3", id="wrong-level"),
        pytest.param(lambda d: d["path"][0].update(role=3), 3, "path[0].role 3 is not allowed there", id="root-inside"),
    ],
)
def test_tampered_bitget_fails(tmp_path: Path, tamper: Any, step: int, detail: str) -> None:
    document = CASES["bitget-2025"]()
    root = root_of(document)
    tamper(document)
    assert failed(verify(tmp_path, document, "--root", root)) == (step, detail)


def test_tampered_bitunix_sum_fails(tmp_path: Path) -> None:
    document = CASES["bitunix"]()
    root = root_of(document)
    document["path"][-1]["balances"]["USDT"] = "4728.952854"
    assert failed(verify(tmp_path, document, "--root", root)) == (4, "the computed root balance of USDT differs")


def test_padding_must_copy_the_node_and_hold_nothing(tmp_path: Path) -> None:
    document = CASES["bitget-2022-numbers"]()
    root = root_of(document)
    holding = copy.deepcopy(document)
    holding["path"][0]["balances"]["BTC"] = Decimal("1")
    assert failed(verify(tmp_path, holding, "--root", root)) == (3, "padding at path[0] holds a balance")
    moved = copy.deepcopy(document)
    moved["path"][0]["merkelLeaf"] = "0123456789abcdef"
    assert failed(verify(tmp_path, moved, "--root", root)) == (
        4,
        "padding at path[0] does not repeat the node it pairs with",
    )


def test_wrong_anchor_truncated_hash_and_malformed_files(tmp_path: Path) -> None:
    document = CASES["bitget-2025"]()
    assert failed(verify(tmp_path, document, "--root", "ab" * 8)) == (5, "the root differs from the one supplied")
    long_root = cli("verify", write(tmp_path / "p.json", document), "--root", "ab" * 32)
    assert long_root.exit_code == 2
    assert "root hash must be 16 hex characters" in long_root.stderr
    finding = next(
        c
        for c in json.loads(verify(tmp_path, document, "--root", root_of(document)).stdout)["checks"]
        if c["id"] == "truncated-hash"
    )
    assert (finding["step"], finding["status"]) == (6, "WARN")
    assert verify(tmp_path, document, "--root", root_of(document), "--strict").exit_code == 1
    text = (tmp_path / "proof.json").read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    truncated = cli("verify", tmp_path / "cut.json", "--root", "ab" * 8)
    assert truncated.exit_code == 2
    assert "invalid JSON" in truncated.stderr
    mixed = copy.deepcopy(document)
    mixed["self"]["balances"]["BTC"] = Decimal("0.5")
    result = verify(tmp_path, mixed, "--root", "ab" * 8)
    assert result.exit_code == 2
    assert "$.self.balances.ETH: amounts are all strings or all numbers in one file" in result.stdout


def test_negative_amounts_are_a_finding(tmp_path: Path) -> None:
    document = bitget_proof("bitget", {"BTC": "1", "USDC": "0"}, [(2, {"BTC": "0", "USDC": "-1536.70659782"})])
    result = verify(tmp_path, document, "--root", root_of(document))
    assert result.exit_code == 0, result.stdout
    finding = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "negative-amounts")
    assert (finding["status"], finding["detail"]) == (
        "WARN",
        "negative amounts (path[0] USDC, path[1] USDC): the published total may understate what is owed",
    )


def test_hashmap_order_is_javas() -> None:
    """The order in which a java.util.HashMap of 36 coins iterates (fastjson wrote a real
    2024 proof's root balances in this order)."""
    coins = ["MATIC", "CPO", "SHIB", "DOGE", "USDT", "NEAR", "AAVE", "UZX", "XRP", "LINK", "FLOKI", "TRX",
             "BONE", "CYBER", "OP", "ACH", "BCH", "KCB", "KAB", "1INCH", "BTC", "ARB", "SOL", "AVAX", "HVC",
             "UCB", "ETC", "TEST", "BNB", "ETE", "ETH", "LTC", "USDC", "BUSD", "ZIL", "ADA"]  # fmt: skip
    assert hashmap_order(coins) == coins
    ties = {"LINK", "FLOKI", "TRX", "BONE", "UCB", "ETC", "TEST"}  # same buckets: insertion order decides
    assert [c for c in hashmap_order(sorted(coins)) if c not in ties] == [c for c in coins if c not in ties]
    assert hashmap_order(["USDC", "USDT", "ETH", "BTC"]) == ["BTC", "ETH", "USDT", "USDC"]


@pytest.mark.parametrize(
    ("text", "to_string", "stripped"),
    [
        ("10.0000000000000000", "10.0000000000000000", "10"),
        ("1.000000000E-7", "1.000000000E-7", "0.0000001"),
        ("0.00000001", "1E-8", "0.00000001"),
        ("0.00000000", "0E-8", "0"),
        ("-1536.70659782", "-1536.70659782", "-1536.70659782"),
        ("123E+3", "1.23E+5", "123000"),
    ],
)
def test_java_decimal_spellings(text: str, to_string: str, stripped: str) -> None:
    value = JavaDecimal.parse(text, exponent=True, where="test")
    assert (str(value), value.stripped()) == (to_string, stripped)


def test_root_totals_compare_as_numbers_whatever_their_scale(tmp_path: Path) -> None:
    """Bitget compares the root's totals with ``compareTo``: 19.25 and 19.2500 are equal."""
    document = CASES["bitget-2025"]()
    totals = document["path"][-1]["balances"]
    assert totals["USDT"] == "19.25"
    totals["USDT"] = "19.2500"
    result = verify(tmp_path, document, "--root", root_of(document))
    assert result.exit_code == 0, result.stdout
    totals["USDT"] = "19.2501"
    assert failed(verify(tmp_path, document, "--root", root_of(document))) == (
        4,
        "the computed root balance of USDT differs",
    )


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balances"].update(USDT="208.800001"),
            2,
            "the leaf differs from the file's",
            id="balance",
        ),
        pytest.param(
            lambda d: d["path"][0].update(merkleLeaf="ab" * 32),
            4,
            "the computed root hash differs from the file's root",
            id="sibling-hash",
        ),
        pytest.param(
            lambda d: d["path"][1]["balances"].update(ETH="0.2"),
            4,
            "the computed root hash differs from the file's root",
            id="sibling-sum",
        ),
        pytest.param(lambda d: d["path"][0].update(type=0), 3, "path[0].type 0 is not allowed there", id="padding"),
    ],
)
def test_tampered_bitunix_fails(tmp_path: Path, tamper: Any, step: int, detail: str) -> None:
    document = CASES["bitunix"]()
    root = root_of(document)
    tamper(document)
    assert failed(verify(tmp_path, document, "--root", root)) == (step, detail)
    assert failed(verify(tmp_path, CASES["bitunix"](), "--root", "cd" * 32)) == (
        5,
        "the root differs from the one supplied",
    )
