"""The auditor's rebuild against ATTACKS.md #1-#9 and #14: each test builds the
malicious snapshot or liabilities file and asserts the exit code and the message."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reserves.liabilities.csv_file import read_liabilities
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import load_snapshot
from reserves.liabilities.tree import Node, account_commitment, leaf, padding, parent
from support import FIVE_ACCOUNTS, FOUR_ACCOUNTS, SECRET, Published, cli, publish_csv, write_json

CHECK1 = "(1) account count equals the liabilities file's rows"
CHECK2 = "(2) slots and account commitments are unique"
CHECK3 = "(3) root sum equals the liabilities total"
CHECK4 = "(4) root hash equals the rebuilt root"


def audit(snapshot: Path, liabilities: Path, secret: Path, *options: str) -> Any:
    return cli("audit", snapshot, "--liabilities", liabilities, "--secret", secret, *options)


def edited_snapshot(published: Published, tmp_path: Path, **changes: Any) -> Path:
    document = json.loads(published.snapshot_json.read_text())
    for key, value in changes.items():
        if key == "root_hash":
            document["root"]["hash"] = value
        elif key == "root_sums":
            document["root"]["sums"].update(value)
        else:
            document[key] = value
    return write_json(tmp_path / "edited-snapshot.json", document)


def rebuilt_leaves(published: Published) -> list[Node]:
    statement = load_snapshot(published.snapshot_json)
    context = statement.context
    rows = read_liabilities(published.liabilities, {a.symbol: a.decimals for a in context.assets})
    balances = dict(zip(rows.ids, rows.balances, strict=True))
    ids = sorted(rows.ids, key=SECRET.order_key)
    return [
        leaf(context.ctx, s, account_commitment(context.ctx, i, SECRET.salt(i)), balances[i]) for s, i in enumerate(ids)
    ]


def test_honest_snapshot_passes(five: Published) -> None:
    result = audit(five.snapshot_json, five.liabilities, five.secret)
    assert result.exit_code == 0, result.stdout
    assert f"PASS    {CHECK1}\n        5 accounts" in result.stdout
    assert f"PASS    {CHECK3}: BTC\n        7.50000001" in result.stdout
    assert f"PASS    {CHECK4}\n        {five.statement.root.hash.hex()}" in result.stdout
    assert re.search(r"│ ETH\s+│\s+10.75 │\s+10.75 │ equal │", result.stdout)


def test_json_output(five: Published) -> None:
    result = audit(five.snapshot_json, five.liabilities, five.secret, "--json")
    document = json.loads(result.stdout)
    assert document["result"] == "PASS"
    assert document["liabilities"] == {
        "BTC": {"published": "7.50000001", "rebuilt": "7.50000001"},
        "ETH": {"published": "10.75", "rebuilt": "10.75"},
    }
    assert document["rows"] == 5
    assert [c["status"] for c in document["checks"]] == ["PASS"] * 5


def test_wrong_secret_fails_root(five: Published, tmp_path: Path) -> None:
    other = tmp_path / "other-secret"
    other.write_text(SnapshotSecret(bytes(range(1, 33))).to_text())
    result = audit(five.snapshot_json, five.liabilities, other)
    assert result.exit_code == 1
    assert f"FAIL    {CHECK4}" in result.stdout
    assert f"found:    {five.statement.root.hash.hex()}" in result.stdout


# ATTACKS.md #1: the published root claims less than its children add up to.
def test_max_attack_root_claims_less_than_the_liabilities(five: Published, tmp_path: Path) -> None:
    snapshot = edited_snapshot(five, tmp_path, root_sums={"BTC": "3.5"})
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 1
    assert f"FAIL    {CHECK3}: BTC\n        published total differs from the liabilities file\n" in result.stdout
    assert "expected: 7.50000001\n        found:    3.5" in result.stdout


def test_max_attack_parent_below_children_changes_root(five: Published, tmp_path: Path) -> None:
    leaves = rebuilt_leaves(five)
    ctx = five.statement.context.ctx
    left = parent(ctx, 1, 0, leaves[0], leaves[1])
    cheat = Node(left.hash, (0, left.sums[1]))  # the parent forgets its children's BTC
    right = parent(ctx, 2, 1, parent(ctx, 1, 2, leaves[4], padding(ctx, 0, 5, 2)), padding(ctx, 1, 3, 2))
    forged = parent(ctx, 3, 0, parent(ctx, 2, 0, cheat, parent(ctx, 1, 1, leaves[2], leaves[3])), right)
    snapshot = edited_snapshot(five, tmp_path, root_hash=forged.hash.hex(), root_sums={"BTC": "4.5"})
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 1
    assert f"FAIL    {CHECK3}: BTC" in result.stdout
    assert (
        f"FAIL    {CHECK4}\n        published root differs from the rebuilt one\n"
        f"        expected: {five.statement.root.hash.hex()}\n        found:    {forged.hash.hex()}"
    ) in result.stdout


# ATTACKS.md #2: a fake debit account.
def test_negative_balance_row_rejected_with_line(five: Published, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(FIVE_ACCOUNTS + "mallory,-7.5,0\n")
    result = audit(five.snapshot_json, bad, five.secret)
    assert result.exit_code == 2
    assert (
        result.stderr == f"reserves: invalid input: {bad}:7 column BTC: amount '-7.5' is not a plain decimal "
        "(digits, optionally '.' and digits; no sign, exponent, spaces or separators)\n"
    )


# ATTACKS.md #3: accounts left out of the published tree.
def test_omitted_users_fail_count_totals_and_root(tmp_path: Path) -> None:
    published = publish_csv(tmp_path, FOUR_ACCOUNTS, height=3)  # erin left out by the exchange
    full = tmp_path / "full.csv"
    full.write_text(FIVE_ACCOUNTS)
    result = audit(published.snapshot_json, full, published.secret)
    assert result.exit_code == 1
    assert (
        f"FAIL    {CHECK1}\n        snapshot.json 'accounts' differs from the file\n"
        "        expected: 5\n        found:    4" in result.stdout
    )
    assert "expected: 7.50000001\n        found:    3.50000001" in result.stdout
    assert f"FAIL    {CHECK4}" in result.stdout


def test_omitted_users_hidden_behind_a_matching_count(tmp_path: Path) -> None:
    published = publish_csv(tmp_path, FOUR_ACCOUNTS, height=3)
    full = tmp_path / "full.csv"
    full.write_text(FIVE_ACCOUNTS)
    snapshot = edited_snapshot(published, tmp_path, accounts=5)
    result = audit(snapshot, full, published.secret)
    assert result.exit_code == 1
    assert f"PASS    {CHECK1}" in result.stdout
    assert f"FAIL    {CHECK3}: BTC" in result.stdout
    assert f"FAIL    {CHECK4}" in result.stdout


# ATTACKS.md #4: one leaf for two users.
def test_shared_leaf_duplicate_id_rejected_with_both_lines(five: Published, tmp_path: Path) -> None:
    bad = tmp_path / "dup.csv"
    bad.write_text(FIVE_ACCOUNTS + "bob,2,3.25\n")
    result = audit(five.snapshot_json, bad, five.secret)
    assert result.exit_code == 2
    assert result.stderr == f"reserves: invalid input: {bad}:7: account id 'bob' appears again (first on line 3)\n"


def test_shared_leaf_merged_users_fail_root(tmp_path: Path) -> None:
    both = "account,BTC,ETH\nalice,1,1\nbob,1,1\ncarol,5,0\n"
    merged = publish_csv(tmp_path, "account,BTC,ETH\nalice,1,1\ncarol,5,0\n", height=2, name="merged")
    full = tmp_path / "both.csv"
    full.write_text(both)
    snapshot = edited_snapshot(merged, tmp_path, accounts=3)  # claims three accounts, has two leaves
    result = audit(snapshot, full, merged.secret)
    assert result.exit_code == 1
    assert (
        f"FAIL    {CHECK3}: BTC\n        published total differs from the liabilities file\n"
        "        expected: 7\n        found:    6" in result.stdout
    )
    assert f"FAIL    {CHECK4}" in result.stdout


# ATTACKS.md #5: an internal node published as the root of a shorter tree.
def test_internal_node_as_root_fails(five: Published, tmp_path: Path) -> None:
    leaves = rebuilt_leaves(five)
    ctx = five.statement.context.ctx
    subtree = parent(ctx, 2, 0, parent(ctx, 1, 0, leaves[0], leaves[1]), parent(ctx, 1, 1, leaves[2], leaves[3]))
    snapshot = edited_snapshot(five, tmp_path, root_hash=subtree.hash.hex())
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 1
    assert f"expected: {five.statement.root.hash.hex()}\n        found:    {subtree.hash.hex()}" in result.stdout


# ATTACKS.md #6: the odd last leaf paired with itself instead of the padding node.
def test_duplicated_odd_node_fails_totals_and_root(five: Published, tmp_path: Path) -> None:
    leaves = rebuilt_leaves(five)
    ctx = five.statement.context.ctx
    level1 = [
        parent(ctx, 1, 0, leaves[0], leaves[1]),
        parent(ctx, 1, 1, leaves[2], leaves[3]),
        parent(ctx, 1, 2, leaves[4], leaves[4]),
    ]
    level2 = [parent(ctx, 2, 0, level1[0], level1[1]), parent(ctx, 2, 1, level1[2], padding(ctx, 1, 3, 2))]
    root = parent(ctx, 3, 0, level2[0], level2[1])
    document = json.loads(five.snapshot_json.read_text())
    document["root"]["hash"] = root.hash.hex()
    snapshot = write_json(tmp_path / "dup.json", document)
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 1
    assert f"expected: {five.statement.root.hash.hex()}\n        found:    {root.hash.hex()}" in result.stdout


# ATTACKS.md #7: another height, so another tree, for the same accounts.
def test_other_height_is_another_root(five: Published, tmp_path: Path) -> None:
    taller = publish_csv(tmp_path, FIVE_ACCOUNTS, height=4, name="taller")
    result = audit(taller.snapshot_json, five.liabilities, five.secret)
    assert result.exit_code == 0  # the auditor rebuilds at the published height: consistent
    snapshot = edited_snapshot(five, tmp_path, height=4)  # but five's root under height 4: no
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 1
    assert f"FAIL    {CHECK4}" in result.stdout


def test_more_rows_than_slots_fails_count_and_skips_rebuild(tmp_path: Path) -> None:
    small = publish_csv(tmp_path, FOUR_ACCOUNTS)  # height 2: four slots
    full = tmp_path / "full.csv"
    full.write_text(FIVE_ACCOUNTS)
    result = audit(small.snapshot_json, full, small.secret, "--json")
    assert result.exit_code == 1
    statuses = [(f"({c['step']}) {c['title']}", c["status"]) for c in json.loads(result.stdout)["checks"]]
    assert statuses == [(CHECK1, "FAIL"), (CHECK2, "SKIPPED"), (CHECK3, "SKIPPED"), (CHECK4, "SKIPPED")]


# ATTACKS.md #8: totals that wrap.
def test_totals_beyond_2_pow_128_rejected(tmp_path: Path) -> None:
    big = str((1 << 127) + 1)
    published = publish_csv(tmp_path, "account,WEI\na,1\nb,1\n", {"WEI": 0})
    huge = tmp_path / "huge.csv"
    huge.write_text(f"account,WEI\na,{big}\nb,{big}\n")
    result = audit(published.snapshot_json, huge, published.secret)
    assert result.exit_code == 2
    assert result.stderr == (
        f"reserves: invalid input: {huge}: the total of WEI over the accounts under node (1, 0) "
        "is not below 2^128 smallest units\n"
    )


# ATTACKS.md #9: every row under the same grammar.
@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param("frank,1e8,0", ":7 column BTC: amount '1e8'", id="exponent"),
        pytest.param("frank,1_000,0", ":7 column BTC: amount '1_000'", id="underscore"),
        pytest.param('frank," 12",0', ":7 column BTC: amount ' 12'", id="space"),
        pytest.param("frank,0,NaN", ":7 column ETH: amount 'NaN'", id="nan"),
        pytest.param("frank,١,0", ":7 column BTC: amount '١'", id="non-ascii-digit"),
        pytest.param("Cafe\u0301,1,0", ":7: account id 'Cafe\\u0301' is not in Unicode NFC", id="non-nfc"),
    ],
)
def test_non_canonical_rows_rejected(five: Published, tmp_path: Path, row: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(FIVE_ACCOUNTS + row + "\n")
    result = audit(five.snapshot_json, bad, five.secret)
    assert result.exit_code == 2
    assert f"reserves: invalid input: {bad}{message}" in result.stderr


def test_columns_in_another_order_rejected(five: Published, tmp_path: Path) -> None:
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("account,ETH,BTC\nalice,0,1.5\n")
    result = audit(five.snapshot_json, swapped, five.secret)
    assert result.exit_code == 2
    assert "columns must be the snapshot's assets in its order: expected BTC,ETH, found ETH,BTC" in result.stderr


# ATTACKS.md #14: slots and commitments unique, derived from the secret.
def test_slots_and_commitments_are_unique(five: Published) -> None:
    result = audit(five.snapshot_json, five.liabilities, five.secret)
    assert f"PASS    {CHECK2}\n        5 distinct slots and commitments" in result.stdout


# Sources.
def test_missing_liabilities_file_is_a_usage_error(five: Published, tmp_path: Path) -> None:
    result = audit(five.snapshot_json, tmp_path / "nope.csv", five.secret)
    assert result.exit_code == 2
    assert (
        result.stderr == f"reserves: invalid input: cannot read liabilities file {tmp_path / 'nope.csv'}: "
        "No such file or directory\n"
    )


def test_malformed_snapshot_names_json_path(five: Published, tmp_path: Path) -> None:
    snapshot = edited_snapshot(five, tmp_path, root_sums={"ETH": "10.75000000000000000000"})
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 2
    assert f"{snapshot} $.root.sums.ETH: amount '10.75000000000000000000' has 20 fractional digits" in result.stderr


def test_non_nfc_exchange_in_snapshot_names_json_path(five: Published, tmp_path: Path) -> None:
    snapshot = edited_snapshot(five, tmp_path, exchange="Bo\u0308rse")
    result = audit(snapshot, five.liabilities, five.secret)
    assert result.exit_code == 2
    assert f"{snapshot} $.exchange: exchange 'Bo\\u0308rse' is not in Unicode NFC" in result.stderr
