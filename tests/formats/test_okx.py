"""OKX's published formats (issue: verify the proofs a real exchange's users hold today):
the example files as published, and generated files, valid and tampered."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from embit import networks
from embit.ec import PrivateKey as EmbitKey
from embit.script import multisig, p2wpkh, p2wsh
from eth_account import Account
from evm_node import anvil, send_ether
from okx_builder import (
    amount,
    balances,
    csv_text,
    json_text,
    nonce,
    okx_btc_sign,
    okx_evm_sign,
    v1_proof,
    v2_files,
)

from reserves.testing.regtest import EsploraServer, RegtestChain
from support import ROOT, assert_valid, cli

EXAMPLES = ROOT / "fixtures" / "okx"
"""OKX's published example files, vendored with their MIT licence."""
MAIN = networks.NETWORKS["main"]
USERS = [
    balances("1.5", "0", "10"),
    balances("0", "2.25", "0.00000001"),
    balances("0.1", "0", "0"),
    balances("3", "1", "2"),
    balances("0", "0", "7.5"),
]
NONCES = [nonce(i) for i in range(len(USERS))]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the published examples ------------------------------------------------------------------


def test_example_v1_proof_passes() -> None:
    result = cli("verify", EXAMPLES / "merkle_proof_file.json", "--json", "--no-anchor")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert (document["schema"], document["result"]) == ("reserves/verify/1", "NOT_ANCHORED")
    assert_valid(document, "verify.schema.json")
    assert document["format"] == "OKX Merkle v1 proof"
    assert document["balances"] == {"BTC": "1.000069", "ETH": "0.99908176", "USDT": "19398.33550812"}
    assert document["totals"] == {"BTC": "95088.55505656", "ETH": "939953.49090361", "USDT": "3137909428.88369702"}
    assert [c["status"] for c in document["checks"]] == ["PASS", "PASS", "PASS", "PASS", "SKIPPED"]
    human = cli("verify", EXAMPLES / "merkle_proof_file.json", "--no-anchor")
    assert "Format: OKX Merkle v1 proof (recognised by its content)" in human.stdout


def test_example_v2_user_file_and_full_tree_pass() -> None:
    root = "9e98ebde32ef22ded88a5fb2d5e53d76ed57cb9c6b2c966f250721defe6ab041"
    result = cli(
        "verify",
        EXAMPLES / "user_info_file.json",
        "--tree",
        EXAMPLES / "full-liabilities-merkle-tree.txt",
        "--root",
        root,
        "--json",
        "--strict",
    )
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["anchored"] is True
    detail = next(c["detail"] for c in document["checks"] if c["step"] == 6)
    assert detail == "23 internal nodes; root totals 0.00005, 0.1, 1.42045977"


@pytest.mark.parametrize(
    ("name", "summary"),
    [("test.csv", "9 address rows: 3 WARN, 6 SKIPPED"), ("okx_por_example.csv", "5 address rows: 3 WARN, 2 SKIPPED")],
)
def test_example_address_files(name: str, summary: str) -> None:
    result = cli("okx-addresses", EXAMPLES / name)
    assert result.exit_code == 0, result.stdout
    assert summary in result.stdout
    assert "PASS" not in result.stdout  # a constant message is never a full pass


def test_example_btc_multisig_row() -> None:
    document = json.loads(cli("okx-addresses", EXAMPLES / "test.csv", "--json").stdout)
    btc = next(r for r in document["rows"] if r["network"] == "BTC")
    assert btc["ownership"]["status"] == "WARN"
    assert btc["ownership"]["detail"].startswith("valid, but replayable: 2 of the script's 3 keys signed (threshold 2)")
    okc = next(r for r in document["rows"] if r["network"] == "OKC")
    assert okc["ownership"] == {
        "step": 1,
        "id": "signature",
        "title": okc["ownership"]["title"],
        "status": "SKIPPED",
        "detail": "network OKC is not supported by this verifier",
    }


# -- generated v1 proofs ----------------------------------------------------------------------


@pytest.fixture
def v1(tmp_path: Path) -> dict[str, Any]:
    return v1_proof(NONCES, USERS, 3)


def run_v1(tmp_path: Path, document: dict[str, Any], *options: str) -> Any:
    anchor = () if "--root" in options else ("--no-anchor",)
    return cli("verify", write(tmp_path, "proof.json", json_text(document)), "--json", *options, *anchor)


def failed_step(result: Any) -> tuple[str, str]:
    assert result.exit_code == 1, result.stdout + result.stderr
    check = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    return f"({check['step']})", check["detail"]


def test_generated_v1_proof_passes_for_every_user(tmp_path: Path) -> None:
    for index in range(len(USERS)):
        result = run_v1(tmp_path, v1_proof(NONCES, USERS, index))
        assert result.exit_code == 0, (index, result.stdout)


@pytest.mark.parametrize(
    ("tamper", "step", "detail"),
    [
        pytest.param(
            lambda d: d["self"]["balances"].update(USDT="3"),
            "(2)",
            "self.hash is not SHA-256(nonce || balances)",
            id="changed-balance",
        ),
        pytest.param(
            lambda d: d["path"][1]["balances"].update(BTC="0"),
            "(4)",
            "the computed root hash differs from the file's root",
            id="changed-sibling-sum",
        ),
        pytest.param(
            lambda d: d["path"][1].update(type=3 - d["path"][1]["type"]),
            "(4)",
            "the computed root hash differs from the file's root",
            id="swapped-side",
        ),
        pytest.param(
            lambda d: d["self"].update(type=3 - d["self"]["type"]),
            "(3)",
            "path[0] must be the leaf's sibling, on the other side",
            id="swapped-own-side",
        ),
        pytest.param(lambda d: d["path"].pop(1), "(3)", "path[1]: heights must rise by one", id="missing-level"),
        pytest.param(
            lambda d: d["path"][-1].update(hash="ab" * 32),
            "(4)",
            "the computed root hash differs from the file's root",
            id="wrong-root",
        ),
        pytest.param(
            lambda d: d["path"][-1]["balances"].update(ETH="9"),
            "(4)",
            "the computed root balances differ",
            id="wrong-root-total",
        ),
        pytest.param(
            lambda d: d["path"][1].update(type=3),
            "(3)",
            "path[1]: the root must be the last element and only the last",
            id="root-not-last",
        ),
    ],
)
def test_tampered_v1_proof_fails(tmp_path: Path, v1: dict[str, Any], tamper: Any, step: str, detail: str) -> None:
    document = copy.deepcopy(v1)
    tamper(document)
    assert failed_step(run_v1(tmp_path, document)) == (step, detail)


def test_v1_padding_must_have_zero_balances(tmp_path: Path) -> None:
    document = v1_proof(NONCES, USERS, 4)  # the fifth of five: its sibling is padding
    assert document["path"][0]["type"] == 4
    document["path"][0]["balances"]["BTC"] = "1"
    assert failed_step(run_v1(tmp_path, document)) == ("(3)", "path[0]: a padding node has zero balances")


@pytest.mark.parametrize("value", ["-1", "1e3", " 1", "1.", "NaN"])
def test_v1_non_decimal_balance_is_malformed(tmp_path: Path, v1: dict[str, Any], value: str) -> None:
    v1["self"]["balances"]["BTC"] = value
    result = run_v1(tmp_path, v1)
    assert result.exit_code == 2
    assert (
        f"$.self.balances.BTC: amount {value!r} is not a plain decimal (digits, optionally '.' and digits; no sign"
        in result.stderr
    )


def test_v1_root_anchoring(tmp_path: Path, v1: dict[str, Any]) -> None:
    root = v1["path"][-1]["hash"]
    assert run_v1(tmp_path, v1, "--root", root, "--strict").exit_code == 0
    assert failed_step(run_v1(tmp_path, v1, "--root", "cd" * 32)) == ("(5)", "the root differs from the one supplied")
    assert run_v1(tmp_path, v1, "--strict").exit_code == 1  # not anchored


# -- generated v2 files -----------------------------------------------------------------------


@pytest.fixture
def v2(tmp_path: Path) -> tuple[list[dict[str, Any]], Path, str]:
    users = [(nonce(i), [b]) for i, b in enumerate(USERS[:3])]
    users.append((nonce(9), [balances("1", "0", "0"), balances("0.5", "2", "1")]))  # one user, two leaves
    files, tree, root = v2_files(users)
    return files, write(tmp_path, "tree.txt", tree), root


def run_v2(tmp_path: Path, user: dict[str, Any], tree: Path, *options: str) -> Any:
    return cli("verify", write(tmp_path, "user.json", json_text(user)), "--tree", tree, "--json", *options)


def test_generated_v2_files_pass(tmp_path: Path, v2: Any) -> None:
    files, tree, root = v2
    for user in files:
        result = run_v2(tmp_path, user, tree, "--root", root, "--strict")
        assert result.exit_code == 0, result.stdout
        assert_valid(json.loads(result.stdout), "verify.schema.json")


def test_v2_changed_leaf_balance_fails(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    user = copy.deepcopy(files[3])
    user["nodes"][0]["balances"]["BTC"] = "2"
    assert failed_step(run_v2(tmp_path, user, tree)) == ("(3)", "nodes[0] is not SHA-256(user hash || balances)")


def test_v2_changed_total_fails(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    user = copy.deepcopy(files[0])
    user["totalBalances"]["USDT"] = "11"
    assert failed_step(run_v2(tmp_path, user, tree)) == ("(2)", "hash is not SHA-256(nonce || totalBalances)")


def test_v2_internal_node_that_claims_less_fails(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    lines = tree.read_text().splitlines()
    height2 = max(i for i, line in enumerate(lines) if line.split(",")[1] == "2")  # the leftmost: a real node
    node_hash, height, _ = lines[height2].split(",", 2)
    lines[height2] = f'{node_hash},{height},{{"BTC":"0","ETH":"0","USDT":"0"}}'  # the max attack on the full tree
    tampered = write(tmp_path, "tampered.txt", "\n".join(lines) + "\n")
    step, detail = failed_step(run_v2(tmp_path, files[0], tampered))
    assert step == "(6)" and detail.endswith("does not recompute from its children")


def test_v2_leaf_missing_from_tree_fails(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    user = files[1]
    lines = [line for line in tree.read_text().splitlines() if not line.startswith(user["nodes"][0]["hash"])]
    tampered = write(tmp_path, "missing.txt", "\n".join(lines) + "\n")
    assert failed_step(run_v2(tmp_path, user, tampered)) == ("(5)", "1 of the user's leaves are not in the tree")


def test_v2_negative_amount_in_tree_is_malformed(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    text = tree.read_text().replace('"USDT":"10"', '"USDT":"-10"', 1)
    result = run_v2(tmp_path, files[0], write(tmp_path, "negative.txt", text))
    assert result.exit_code == 2
    assert "amount '-10' is not a plain decimal (digits, optionally '.' and digits; no sign" in result.stderr


def test_v2_wrong_root(tmp_path: Path, v2: Any) -> None:
    files, tree, _ = v2
    assert failed_step(run_v2(tmp_path, files[0], tree, "--root", "ef" * 32)) == (
        "(7)",
        "the root differs from the one supplied",
    )


def test_v2_needs_the_tree(tmp_path: Path, v2: Any) -> None:
    files, _, _ = v2
    unanchored = cli("verify", write(tmp_path, "user.json", json_text(files[0])))
    assert unanchored.exit_code == 2
    assert unanchored.stderr.startswith("reserves: invalid input: no anchor:")
    assert "or, for OKX v2, --tree FILE" in unanchored.stderr
    result = cli("verify", write(tmp_path, "user.json", json_text(files[0])), "--root", "ab" * 32)
    assert result.exit_code == 2
    assert (
        result.stderr
        == "reserves: invalid input: an OKX v2 user file is checked against the full tree: pass --tree FILE\n"
    )


def test_unknown_json_and_forced_format(tmp_path: Path, v1: dict[str, Any]) -> None:
    other = write(tmp_path, "other.json", '{"hello": "world"}')
    result = cli("verify", other)
    assert result.exit_code == 2
    assert "cannot tell its format" in result.stderr
    forced = cli("verify", write(tmp_path, "p.json", json_text(v1)), "--format", "okx-v1", "--no-anchor")
    assert "Format: OKX Merkle v1 proof (forced by --format)" in forced.stdout
    wrong = cli("verify", write(tmp_path, "p.json", json_text(v1)), "--format", "okx-v2", "--tree", other)
    assert wrong.exit_code == 2


# -- generated address files ---------------------------------------------------------------------

MESSAGE = "I am an OKX address"
EVM_KEY = b"\x51" * 32
BTC_KEYS = [EmbitKey(bytes([0x61 + i]) * 32) for i in range(4)]


def evm_row(
    address: str, signature: str, height: str = "100", value: str = "1", owners: tuple[str, str] = ("", "")
) -> list[str]:
    return ["ETH", "ETH", height, address, value, MESSAGE, signature, "", "", *owners]


def btc_multisig_row(signers: list[EmbitKey], script_keys: list[EmbitKey]) -> list[str]:
    script = multisig(2, [k.get_public_key() for k in script_keys])
    address = p2wsh(script).address(MAIN)
    signatures = [okx_btc_sign(MESSAGE, k.secret) for k in signers]
    return ["BTC", "BTC", "800000", address, "1", MESSAGE, *signatures, script.data.hex(), "", ""]


def address_results(tmp_path: Path, rows: list[list[str]], *options: str) -> Any:
    return cli("okx-addresses", write(tmp_path, "addresses.csv", csv_text(rows)), "--json", *options)


def statuses(result: Any) -> list[str]:
    return [r["ownership"]["status"] for r in json.loads(result.stdout)["rows"]]


def test_generated_address_rows(tmp_path: Path) -> None:
    address = Account.from_key(EVM_KEY).address
    single = BTC_KEYS[0]
    rows = [
        evm_row(address.lower(), okx_evm_sign(MESSAGE, EVM_KEY)),
        evm_row(address.lower(), okx_evm_sign(MESSAGE, b"\x52" * 32)),  # someone else's signature
        [
            "BTC",
            "BTC",
            "800000",
            p2wpkh(single.get_public_key()).address(MAIN),
            "1",
            MESSAGE,
            okx_btc_sign(MESSAGE, single.secret),
            "",
            "",
            "",
            "",
        ],
        btc_multisig_row(BTC_KEYS[:2], BTC_KEYS[:3]),
        btc_multisig_row([BTC_KEYS[0], BTC_KEYS[3]], BTC_KEYS[:3]),  # a signer outside the script
        ["SOL", "SOL", "1", "So1ana", "1", MESSAGE, "abc", "", "", "", ""],
    ]
    result = address_results(tmp_path, rows)
    assert result.exit_code == 1
    assert statuses(result) == ["WARN", "FAIL", "WARN", "WARN", "FAIL", "SKIPPED"]
    document = json.loads(result.stdout)
    assert (document["schema"], document["result"]) == ("reserves/okx-addresses/1", "FAIL")
    assert_valid(document, "okx-addresses.schema.json")
    details = [r["ownership"]["detail"] for r in document["rows"]]
    assert details[1].startswith("the signature recovers to 0x")
    assert details[4] == "1 distinct signers in the script; 2 required, 2 signatures given"


def test_multisig_script_must_hash_to_the_address(tmp_path: Path) -> None:
    row = btc_multisig_row(BTC_KEYS[:2], BTC_KEYS[:3])
    row[8] = multisig(2, [k.get_public_key() for k in BTC_KEYS[1:4]]).data.hex()
    result = address_results(tmp_path, [row])
    assert (
        json.loads(result.stdout)["rows"][0]["ownership"]["detail"] == "the redeem script does not hash to the address"
    )


def test_stated_amounts_against_anvil(tmp_path: Path) -> None:
    address = Account.from_key(EVM_KEY).address
    with anvil() as node:
        send_ether(node.web3, address, 3 * 10**18)
        height = str(node.web3.eth.block_number)
        send_ether(node.web3, address, 10**18)  # after the stated height: not counted
        signature = okx_evm_sign(MESSAGE, EVM_KEY)
        rows = [evm_row(address, signature, height, "3"), evm_row(address, signature, height, "4")]
        result = address_results(tmp_path, rows, "--rpc", f"ETH={node.url}")
    assert result.exit_code == 1
    checks = [r["balance"] for r in json.loads(result.stdout)["rows"]]
    assert checks[0]["status"] == "PASS"
    assert (checks[1]["status"], checks[1]["expected"], checks[1]["found"]) == ("FAIL", "4", "3")


def test_amounts_are_not_compared_without_a_source(tmp_path: Path) -> None:
    address = Account.from_key(EVM_KEY).address
    result = address_results(tmp_path, [evm_row(address, okx_evm_sign(MESSAGE, EVM_KEY))])
    assert json.loads(result.stdout)["rows"][0]["balance"] == {
        "step": 2,
        "id": "stated-balance",
        "title": "line 5: ETH balance at height 100",
        "status": "SKIPPED",
        "detail": "no source given for ETH",
    }
    assert amount(10**18) == "1"


def test_stated_btc_amounts_against_esplora(tmp_path: Path) -> None:
    """A real regtest chain whose server spells addresses as mainnet ones, as OKX's rows do."""
    chain = RegtestChain(address_network="main")
    for _ in range(105):
        chain.mine()
    owner = BTC_KEYS[0]
    address = p2wpkh(owner.get_public_key()).address(MAIN)
    chain.mine([chain.pay(chain.miner, [(address, 150_000_000)])])
    height = chain.tip.height
    chain.mine([chain.pay(chain.miner, [(address, 1)])])  # after the stated height
    signature = okx_btc_sign(MESSAGE, owner.secret)
    rows = [
        ["BTC", "BTC", str(height), address, amount, MESSAGE, signature, "", "", "", ""] for amount in ("1.5", "1.6")
    ]
    with EsploraServer(chain) as server:
        result = address_results(tmp_path, rows, "--esplora", f"BTC={server.url}")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [r["ownership"]["status"] for r in document["rows"]] == ["WARN", "WARN"]
    checks = [r["balance"] for r in document["rows"]]
    assert checks[0]["status"] == "PASS"
    assert (checks[1]["status"], checks[1]["expected"], checks[1]["found"]) == ("FAIL", "1.6", "1.5")


# -- reliability findings on OKX's files (D9c, D9d, D21, D22) ---------------------------------


def test_d22_sibling_balance_with_a_ninth_decimal_fails(tmp_path: Path, v1: dict[str, Any]) -> None:
    """OKX's sums are rounded to 8 places, so a 9th decimal of a sibling is covered by no hash."""
    document = copy.deepcopy(v1)
    document["path"][0]["balances"]["BTC"] = "0.000000001"
    assert failed_step(run_v1(tmp_path, document)) == (
        "(3)",
        "path[0]: OKX's sums have at most 8 decimals; more are covered by no hash",
    )


def test_d22_padding_relabelled_as_a_side_fails(tmp_path: Path) -> None:
    document = v1_proof(NONCES, USERS, 4)  # the fifth of five: its sibling is padding
    document["path"][0]["type"] = 2 if document["self"]["type"] == 1 else 1
    assert failed_step(run_v1(tmp_path, document)) == (
        "(4)",
        "path[0] copies the node it pairs with, as only padding (type 4) may",
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda b: b[:70] + b"\xff" + b[71:], "not valid UTF-8 at byte 70 of the line", id="invalid-utf8"),
        pytest.param(
            lambda b: b.replace(b",2,", b",\xc2\xb2,", 1), "expected hash,height,{balances}", id="unicode-digit"
        ),
        pytest.param(lambda b: b"a" * 5000 + b"\n" + b, "a line longer than 4096 bytes", id="long-line"),
        pytest.param(
            lambda b: b.replace(b'"BTC":"', b'"BTC":"' + b"1" * 3000, 1),
            "amount of 3003 characters: no amount below 2^128 is that long",
            id="amount-of-3000-digits",
        ),
    ],
)
def test_d9c_d21_malformed_tree_file_is_exit_2(tmp_path: Path, v2: Any, mutate: Any, message: str) -> None:
    files, tree, _ = v2
    bad = tmp_path / "bad-tree.txt"
    bad.write_bytes(mutate(tree.read_bytes()))
    result = cli("verify", write(tmp_path, "user.json", json_text(files[0])), "--tree", bad)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_d9d_malformed_address_files_are_exit_2(tmp_path: Path) -> None:
    address = Account.from_key(EVM_KEY).address
    long_cell = address_results(tmp_path, [evm_row(address, "x" * 140_000)])
    assert long_cell.exit_code == 2
    assert "addresses.csv:5: malformed CSV: field larger than field limit" in long_cell.stderr
    markup = cli("okx-addresses", write(tmp_path, "m.csv", csv_text([evm_row("[/]", okx_evm_sign(MESSAGE, EVM_KEY))])))
    assert markup.exit_code == 1
    assert "line 5: ETH on ETH [/]" in markup.stdout
