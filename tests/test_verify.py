"""The user's check (FORMAT §6.3) against ATTACKS.md #1-#9 and #14, through the CLI:
each test builds the malicious proof and asserts the exit code and the message."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reserves.encoding import format_amount
from reserves.liabilities.proof import parse_proof_text
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.tree import Node, account_commitment, leaf, padding, parent
from support import FIVE_ACCOUNTS, Published, cli, publish_csv, write_json

U128 = 1 << 128


def verify(tmp_path: Path, proof: dict[str, Any], *options: str | Path) -> Any:
    """``reserves verify``; checks of the file alone say so with ``--no-anchor``."""
    anchored = any(option in ("--snapshot", "--root") for option in options)
    return cli("verify", write_json(tmp_path / "proof.json", proof), *options, *(() if anchored else ("--no-anchor",)))


def climb(proof: dict[str, Any]) -> Node:
    """The root a forger would publish for this (possibly forged) proof."""
    parsed = parse_proof_text(json.dumps(proof).encode(), source="forged")
    ctx = parsed.snapshot.context.ctx
    node = leaf(
        ctx,
        parsed.account.index,
        account_commitment(ctx, parsed.account.id, parsed.account.salt),
        parsed.account.balances,
    )
    for level, sibling in enumerate(parsed.path):
        position = parsed.account.index >> level
        left, right = (node, sibling) if position % 2 == 0 else (sibling, node)
        node = parent(ctx, level + 1, position >> 1, left, right)
    return node


def with_root(proof: dict[str, Any], root: Node) -> dict[str, Any]:
    forged = copy.deepcopy(proof)
    forged["snapshot"]["root"]["hash"] = root.hash.hex()
    decimals = {a["symbol"]: a["decimals"] for a in proof["snapshot"]["assets"]}
    forged["snapshot"]["root"]["sums"] = {
        s: format_amount(v, decimals[s]) for s, v in zip(decimals, root.sums, strict=True)
    }
    return forged


def forged_snapshot(tmp_path: Path, published: Published, root: Node) -> Path:
    document = json.loads(published.snapshot_json.read_text())
    document["root"] = with_root({"snapshot": {"root": {}, "assets": document["assets"]}}, root)["snapshot"]["root"]
    return write_json(tmp_path / "forged-snapshot.json", document)


def assert_failed_step(result: Any, step_line: str, expected: str | None = None, found: str | None = None) -> None:
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"FAIL    {step_line}" in result.stdout
    assert f"FAIL: {step_line}" in result.stdout
    if expected is not None:
        assert f"expected: {expected}" in result.stdout
    if found is not None:
        assert f"found:    {found}" in result.stdout


STEP2 = "(2) index is within 2^H and the path has H siblings"
STEP4 = "(4) path climbed with every sum below 2^128"
STEP5 = "(5) computed root equals the proof's root"
STEP6 = "(6) proof is for the published snapshot and its root"
STEP6_PADDING = "(7) slot is filled and siblings over empty slots are padding nodes"


# -- passing and anchoring ---------------------------------------------------------------


def test_honest_proof_passes_anchored_to_snapshot(four: Published) -> None:
    result = cli("verify", write_json(four.directory / "p.json", four.proof("bob")), "--snapshot", four.snapshot_json)
    assert result.exit_code == 0, result.stdout
    assert "Account 'bob' in snapshot 'test-1' of 'Test Exchange'" in result.stdout
    assert re.search(r"│ BTC\s+│\s+2 │\s+3.50000001 │", result.stdout)
    assert result.stdout.endswith("\nPASS: your balances are included in the published root\n")


def test_honest_proof_passes_anchored_to_root_hash(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("bob"), "--root", four.statement.root.hash.hex())
    assert result.exit_code == 0
    assert f"PASS    {STEP6}\n        root hash equals the one supplied" in result.stdout
    assert "SKIPPED (7) slot is filled" in result.stdout


@pytest.mark.parametrize("spelling", ["0x{}", "{}", "0X{}"], ids=["0x", "plain", "0X"])
def test_root_option_accepts_0x_and_upper_case(four: Published, tmp_path: Path, spelling: str) -> None:
    root = four.statement.root.hash.hex()
    for digits in (root, root.upper()):
        result = verify(tmp_path, four.proof("bob"), "--root", spelling.format(digits))
        assert result.exit_code == 0, result.stderr
        assert "PASS: your balances are included in the published root" in result.stdout


def test_verify_without_anchor_is_a_usage_error(four: Published, tmp_path: Path) -> None:
    result = cli("verify", write_json(tmp_path / "proof.json", four.proof("bob")))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("reserves: invalid input: no anchor: a proof only means something against the root")
    assert "--snapshot FILE" in result.stderr and "--root HEX" in result.stderr and "--no-anchor" in result.stderr


def test_no_anchor_is_consistent_never_pass_and_fails_when_strict(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("bob"))
    assert result.exit_code == 0
    assert "SKIPPED (6) proof is for the published snapshot and its root" in result.stdout
    assert result.stdout.endswith(
        "\nCONSISTENT, NOT ANCHORED: the proof is consistent with its own root, "
        "which was not compared with a published one\n"
    )
    assert "PASS:" not in result.stdout
    document = json.loads(verify(tmp_path, four.proof("bob"), "--json").stdout)
    assert (document["schema"], document["result"], document["anchored"]) == (
        "reserves/verify/1",
        "NOT_ANCHORED",
        False,
    )
    strict = verify(tmp_path, four.proof("bob"), "--strict")
    assert strict.exit_code == 1
    assert strict.stdout.endswith("\nFAIL: the proof was not compared with a published root (strict)\n")


def test_no_anchor_with_an_anchor_is_a_usage_error(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("bob"), "--no-anchor", "--root", "00" * 32)
    assert result.exit_code == 2
    assert result.stderr == (
        "reserves: invalid input: --no-anchor checks the file alone: give it without --snapshot, --root or --tree\n"
    )


def test_json_output(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("dave"), "--snapshot", four.snapshot_json, "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["result"] == "PASS"
    assert document["anchored"] is True
    assert document["account"]["id"] == "dave"
    assert document["account"]["balances"] == {"BTC": "0.00000001", "ETH": "7"}
    assert document["totals"] == {"BTC": "3.50000001", "ETH": "10.25"}
    assert [c["status"] for c in document["checks"]] == ["PASS"] * 7


def test_snapshot_and_root_together_is_usage_error(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("bob"), "--snapshot", four.snapshot_json, "--root", "00" * 32)
    assert result.exit_code == 2
    assert result.stderr == "reserves: invalid input: give --snapshot or --root, not both\n"


# -- ATTACKS.md #1 max attack ---------------------------------------------------------------


def test_max_attack_sibling_sum_lowered_fails_root(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["path"][-1]["sums"]["BTC"] = "0"  # hide the other half's BTC from alice
    assert_failed_step(
        verify(tmp_path, proof, "--snapshot", four.snapshot_json), STEP5, expected=four.statement.root.hash.hex()
    )


def test_max_attack_consistent_fake_root_is_not_the_published_one(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["path"][-1]["sums"]["BTC"] = "0"
    forged = with_root(proof, climb(proof))  # the path now adds up, to a root of its own
    assert verify(tmp_path, forged).exit_code == 0  # which is why an unanchored pass means little
    assert_failed_step(
        verify(tmp_path, forged, "--snapshot", four.snapshot_json), STEP6, expected=four.statement.root.hash.hex()
    )


# -- ATTACKS.md #2 negative balances ---------------------------------------------------------


def test_negative_balance_in_proof_is_malformed(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["account"]["balances"]["ETH"] = "-3"
    result = verify(tmp_path, proof)
    assert result.exit_code == 2
    assert "$.account.balances.ETH: amount '-3' is not a plain decimal" in result.stderr


def test_negative_sibling_sum_is_malformed(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["path"][1]["sums"]["BTC"] = "-1.5"
    result = verify(tmp_path, proof)
    assert result.exit_code == 2
    assert "$.path[1].sums.BTC: amount '-1.5' is not a plain decimal" in result.stderr


def test_twos_complement_sibling_overflows(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")  # alice holds 1.5 BTC: a sibling of 2^128 - 1 units wraps
    proof["path"][0]["sums"]["BTC"] = format_amount(U128 - 1, 8)
    assert_failed_step(verify(tmp_path, proof), STEP4, expected="< 2^128", found=str(U128 - 1 + 150_000_000))


# -- ATTACKS.md #3 omitted users: the user sees their own balances ------------------------------


def test_output_shows_the_balances_in_the_tree(four: Published, tmp_path: Path) -> None:
    result = verify(tmp_path, four.proof("bob"), "--snapshot", four.snapshot_json, "--json")
    assert json.loads(result.stdout)["account"]["balances"] == {"BTC": "2", "ETH": "3.25"}


# -- ATTACKS.md #4 shared leaf ---------------------------------------------------------------


def test_shared_leaf_other_user_recomputes_own_commitment(tmp_path: Path) -> None:
    published = publish_csv(tmp_path, "account,BTC,ETH\nalice,1,1\nbob,1,1\ncarol,5,0\n")
    bob = published.proof("bob")
    shown = published.proof("alice")  # bob is shown alice's leaf and path, with his own id and salt
    shown["account"]["id"], shown["account"]["salt"] = "bob", bob["account"]["salt"]
    assert_failed_step(verify(tmp_path, shown, "--snapshot", published.snapshot_json), STEP5)


# -- ATTACKS.md #5 leaf/node confusion -----------------------------------------------------------


def test_leaf_hash_from_the_file_is_never_accepted(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["account"]["leaf"] = "00" * 32
    result = verify(tmp_path, proof)
    assert result.exit_code == 2
    assert "$.account: unknown key 'leaf'" in result.stderr


def test_internal_node_presented_as_leaf_fails(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    # Claim the level-1 node over alice and her sibling as one account at index >> 1.
    level1 = climb({**proof, "path": proof["path"][:1], "snapshot": {**proof["snapshot"], "height": 1}})
    forged = copy.deepcopy(proof)
    forged["account"]["index"] = proof["account"]["index"] >> 1
    forged["account"]["balances"] = with_root(proof, level1)["snapshot"]["root"]["sums"]
    forged["path"] = [*proof["path"][1:], {"hash": "00" * 32, "sums": {"BTC": "0", "ETH": "0"}}]
    assert_failed_step(verify(tmp_path, forged, "--snapshot", four.snapshot_json), STEP5)
    forged["path"] = proof["path"][1:]
    assert_failed_step(
        verify(tmp_path, forged, "--snapshot", four.snapshot_json), STEP2, expected="2 siblings", found="1 siblings"
    )


# -- ATTACKS.md #6 duplicated odd node ------------------------------------------------------------


def test_duplicated_odd_node_fails_padding_check(five: Published, tmp_path: Path) -> None:
    last = next(a for a in ("alice", "bob", "carol", "dave", "erin") if five.proof(a)["account"]["index"] == 4)
    proof = five.proof(last)
    ctx = five.statement.context.ctx
    parsed = parse_proof_text(json.dumps(proof).encode(), source="p")
    mine = leaf(ctx, 4, account_commitment(ctx, parsed.account.id, parsed.account.salt), parsed.account.balances)
    forged = copy.deepcopy(proof)
    forged["path"][0] = {"hash": mine.hash.hex(), "sums": proof["account"]["balances"]}  # paired with itself
    root = climb(forged)
    forged = with_root(forged, root)
    snapshot = forged_snapshot(tmp_path, five, root)  # a snapshot published with that root
    assert_failed_step(
        verify(tmp_path, forged, "--snapshot", snapshot),
        STEP6_PADDING,
        expected=f"{padding(ctx, 0, 5, 2).hash.hex()} with zero sums",
        found=mine.hash.hex(),
    )


def test_invented_account_in_an_empty_slot_fails_padding_check(five: Published, tmp_path: Path) -> None:
    proof = five.proof("alice")
    index = proof["account"]["index"]
    # The exchange gives alice a proof placing her in slot 6, beyond the 5 accounts it states.
    forged = copy.deepcopy(proof)
    forged["account"]["index"] = 6
    root = climb(forged)
    forged = with_root(forged, root)
    snapshot = forged_snapshot(tmp_path, five, root)
    assert index != 6
    assert_failed_step(verify(tmp_path, forged, "--snapshot", snapshot), STEP6_PADDING, expected="< 5", found="6")


# -- ATTACKS.md #7 wrong depth, position or root ------------------------------------------------------


@pytest.mark.parametrize("change", [-1, 1], ids=["one-sibling-short", "one-sibling-extra"])
def test_wrong_depth_fails(four: Published, tmp_path: Path, change: int) -> None:
    proof = four.proof("carol")
    proof["path"] = proof["path"][:-1] if change < 0 else [*proof["path"], proof["path"][-1]]
    assert_failed_step(verify(tmp_path, proof), STEP2, expected="2 siblings", found=f"{2 + change} siblings")


def test_index_beyond_tree_fails(four: Published, tmp_path: Path) -> None:
    proof = four.proof("carol")
    proof["account"]["index"] = 4
    assert_failed_step(verify(tmp_path, proof), STEP2, expected="< 4", found="4")


@pytest.mark.parametrize("bit", [0, 1])
def test_flipped_index_bit_fails(four: Published, tmp_path: Path, bit: int) -> None:
    proof = four.proof("carol")
    proof["account"]["index"] ^= 1 << bit
    assert_failed_step(verify(tmp_path, proof, "--snapshot", four.snapshot_json), STEP5)


def test_root_of_another_tree_is_not_the_published_one(four: Published, tmp_path: Path) -> None:
    other = publish_csv(tmp_path, "account,BTC,ETH\nalice,1.5,0\nbob,0,0\ncarol,0,0\ndave,0,0\n", name="other")
    result = verify(tmp_path, other.proof("alice"), "--snapshot", four.snapshot_json)
    assert_failed_step(result, STEP6, expected=four.statement.root.hash.hex(), found=other.statement.root.hash.hex())
    result = verify(tmp_path, other.proof("alice"), "--root", four.statement.root.hash.hex())
    assert_failed_step(result, STEP6, expected=four.statement.root.hash.hex(), found=other.statement.root.hash.hex())


def test_snapshot_identity_must_match_published(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    document = json.loads(four.snapshot_json.read_text())
    document["snapshot_id"] = "test-2"  # same root published under another snapshot id
    result = verify(tmp_path, proof, "--snapshot", write_json(tmp_path / "s.json", document))
    assert_failed_step(
        result, STEP6, expected="snapshot 'test-2' of 'Test Exchange'", found="snapshot 'test-1' of 'Test Exchange'"
    )
    assert (
        "this proof is for snapshot 'test-1' of 'Test Exchange'; "
        "the published snapshot is snapshot 'test-2' of 'Test Exchange'" in result.stdout
    )


def test_proof_of_another_exchange_names_both_identities(four: Published, tmp_path: Path) -> None:
    other = publish_csv(tmp_path, FIVE_ACCOUNTS, name="other", exchange="Other Exchange", snapshot_id="week-9")
    result = verify(tmp_path, four.proof("alice"), "--snapshot", other.snapshot_json)
    assert result.exit_code == 1
    assert (
        "this proof is for snapshot 'test-1' of 'Test Exchange'; "
        "the published snapshot is snapshot 'week-9' of 'Other Exchange'" in result.stdout
    )
    assert result.stdout.endswith("\nFAIL: (6) proof is for the published snapshot and its root failed\n")


# -- ATTACKS.md #8 overflow --------------------------------------------------------------------------


def test_amount_of_2_pow_130_is_malformed(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["path"][0]["sums"]["ETH"] = str(1 << 130)
    result = verify(tmp_path, proof)
    assert result.exit_code == 2
    assert f"$.path[0].sums.ETH: amount '{1 << 130}' is not below 2^128 smallest units" in result.stderr


def test_sibling_sums_that_wrap_at_the_root_level_fail(four: Published, tmp_path: Path) -> None:
    proof = four.proof("alice")
    proof["path"][1]["sums"]["BTC"] = format_amount(U128 - 100_000_000, 8)
    assert_failed_step(verify(tmp_path, proof), STEP4, expected="< 2^128")


# -- ATTACKS.md #9 non-canonical encodings -------------------------------------------------------------


def _mutations() -> list[Any]:
    def set_text(old: str, new: str) -> Any:
        return lambda text: text.replace(old, new, 1)

    return [
        pytest.param(set_text('"index": ', '"index": -'), "negative number", id="negative-index"),
        pytest.param(lambda t: re.sub(r'"index": (\d+)', r'"index": \1.0', t), "is not an integer", id="float-index"),
        pytest.param(
            lambda t: re.sub(r'"index": (\d+)', r'"index": true', t),
            "$.account.index: expected an integer",
            id="bool-index",
        ),
        pytest.param(
            lambda t: re.sub(r'"index": (\d+)', r'"index": "\1"', t),
            "$.account.index: expected an integer",
            id="string-index",
        ),
        pytest.param(
            lambda t: re.sub(r'"BTC": "1.5"', '"BTC": 1.5', t, count=1), "is not an integer", id="json-number-amount"
        ),
        pytest.param(
            lambda t: re.sub(r'"ETH": "0"', '"ETH": 0', t, count=1),
            "expected a string, found a number",
            id="json-int-amount",
        ),
        pytest.param(lambda t: re.sub(r'"BTC": "1.5"', '"BTC": "1.5e0"', t, count=1), "amount '1.5e0'", id="exponent"),
        pytest.param(lambda t: re.sub(r'"BTC": "1.5"', '"BTC": NaN', t, count=1), "NaN is not allowed", id="nan"),
        pytest.param(
            lambda t: re.sub(r'"salt": "([0-9a-f]+)"', lambda m: f'"salt": "{m.group(1).upper()}"', t),
            "$.account.salt: salt must be 64 lowercase hex",
            id="uppercase-hex",
        ),
        pytest.param(lambda t: re.sub(r'"salt": "', '"salt": "0x', t), "salt must be 64 lowercase hex", id="0x-hex"),
        pytest.param(lambda t: t.replace('"index":', '"id": "x", "index":'), "duplicate key 'id'", id="duplicate-key"),
        pytest.param(
            lambda t: t.replace('"balances": {', '"balances": {"SOL": "1", '), "unknown key 'SOL'", id="extra-asset"
        ),
        pytest.param(
            lambda t: re.sub(r'"balances": \{\s*"BTC": "1.5",', '"balances": {', t),
            "missing key 'BTC'",
            id="missing-asset",
        ),
        pytest.param(
            lambda t: t.replace('"id": "alice"', '"id": "alice\\u0301"'), "is not in Unicode NFC", id="non-nfc-id"
        ),
        pytest.param(
            lambda t: t.replace('"format": "reserves-proof/1"', '"format": "reserves-proof/3"'),
            "$.format: expected 'reserves-proof/1'",
            id="format-version",
        ),
        pytest.param(
            lambda t: t.replace('"format":', '"comment": "hi", "format":'), "$: unknown key 'comment'", id="unknown-key"
        ),
        pytest.param(lambda t: "\ufeff" + t, "starts with a byte-order mark", id="bom"),
        pytest.param(lambda t: "[" + t + "]", "the top level must be a JSON object", id="top-level-array"),
    ]


@pytest.mark.parametrize(("mutate", "message"), _mutations())
def test_non_canonical_proof_is_malformed(four: Published, tmp_path: Path, mutate: Any, message: str) -> None:
    text = json.dumps(four.proof("alice"), indent=2)
    assert cli("verify", write_json(tmp_path / "original.json", json.loads(text)), "--no-anchor").exit_code == 0
    changed = mutate(text)
    assert changed != text
    path = tmp_path / "proof.json"
    path.write_text(changed, encoding="utf-8")
    result = cli("verify", path, "--no-anchor")
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert result.stderr.startswith(f"reserves: invalid input: {path}")
    assert "Traceback" not in result.stderr + result.stdout


# -- ATTACKS.md #14 privacy ----------------------------------------------------------------------------


def test_salts_and_leaves_change_with_every_snapshot(tmp_path: Path) -> None:
    first = publish_csv(tmp_path, FIVE_ACCOUNTS, name="week1")
    second = publish_csv(tmp_path, FIVE_ACCOUNTS, name="week2", secret=SnapshotSecret(bytes(range(1, 33))))
    ids = ["alice", "bob", "carol", "dave", "erin"]
    salts1 = {first.proof(i)["account"]["salt"] for i in ids}
    salts2 = {second.proof(i)["account"]["salt"] for i in ids}
    assert len(salts1) == len(salts2) == 5  # unique within a snapshot
    assert not salts1 & salts2  # and never reused across snapshots
    assert first.statement.root.hash != second.statement.root.hash


def test_slots_are_shuffled_not_sorted(four: Published) -> None:
    slots = {i: four.proof(i)["account"]["index"] for i in ("alice", "bob", "carol", "dave")}
    assert sorted(slots.values()) == [0, 1, 2, 3]
    assert sorted(slots, key=slots.__getitem__) != ["alice", "bob", "carol", "dave"]
