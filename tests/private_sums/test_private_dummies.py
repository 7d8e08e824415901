"""Dummy holders (FORMAT-2 §5.5): ``publish --private-sums --round-holders K`` rounds every
holder count up to a multiple of K with zero-balance leaves; users verify as before, the
auditor rebuilds the dummies from the secret and refuses any other leaf in their place."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from reserves.liabilities.csv_file import parse_liabilities
from reserves.liabilities.private_sums.auditing import audit_private_trees
from reserves.liabilities.private_sums.building import IdTable
from reserves.liabilities.private_sums.files import PrivateCommitment, parse_statement
from reserves.liabilities.secret import SnapshotSecret
from reserves.strict_json import load_json
from support import cli

CSV = "account,BTC,ETH,USDT\nalice,1.5,0,10\nbob,0,2.25,0\ncarol,0.1,1,5.5\ndave,0,0,0\nerin,2,0.000000001,1\n"
OPTIONS = ("--exchange", "Test", "--snapshot-id", "t-1", "--cutoff", "2026-11-21T00:00:00Z")
DECIMALS = ("--decimals", "BTC=8,ETH=9,USDT=6")


def publish(tmp_path: Path, csv: str, *extra: str) -> Path:
    (tmp_path / "l.csv").write_text(csv)
    out = tmp_path / "snap"
    result = cli("publish", tmp_path / "l.csv", *OPTIONS, *DECIMALS, "--private-sums", "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return out


def audit(out: Path, csv: Path) -> dict[str, object]:
    snapshot, secret = out / "public" / "snapshot.json", out / "private" / "secret"
    result = cli("audit", snapshot, "--liabilities", csv, "--secret", secret, "--json")
    document: dict[str, object] = json.loads(result.stdout)
    document["exit_code"] = result.exit_code
    return document


def test_rounded_holder_counts_hide_the_exact_count_and_every_proof_still_verifies(tmp_path: Path) -> None:
    out = publish(tmp_path, CSV, "--round-holders", "4")
    trees = json.loads((out / "public" / "snapshot.json").read_text())["trees"]
    assert [(t["asset"], t["holders"], t["height"], t["total"]) for t in trees] == [
        ("BTC", 4, 2, "3.6"),  # alice, carol, erin and one dummy holder
        ("ETH", 4, 2, "3.250000001"),  # bob, carol, erin and one
        ("USDT", 4, 2, "16.5"),  # alice, carol, erin and one
    ]
    for account in ("alice", "bob", "carol", "erin"):
        proof = tmp_path / f"{account}.json"
        proof.write_text(cli("proof", out, account).stdout)
        verdict = cli("verify", proof, "--snapshot", out / "public" / "snapshot.json", "--json")
        assert (verdict.exit_code, json.loads(verdict.stdout)["result"]) == (0, "PASS"), account
    document = audit(out, tmp_path / "l.csv")
    assert (document["exit_code"], document["result"]) == (0, "PASS")
    holders = [c for c in document["checks"] if c["id"] == "holders"]  # type: ignore[attr-defined]
    assert [(c["title"].rsplit(": ", 1)[1], c["detail"]) for c in holders] == [
        ("BTC", "4 holders (1 of them dummy holders)"),
        ("ETH", "4 holders (1 of them dummy holders)"),
        ("USDT", "4 holders (1 of them dummy holders)"),
    ]


def test_a_count_already_a_multiple_and_an_asset_nobody_holds_get_no_dummies(tmp_path: Path) -> None:
    out = publish(tmp_path, "account,BTC,ETH,USDT\na,1,1,0\nb,1,0,0\n", "--round-holders", "2")
    trees = json.loads((out / "public" / "snapshot.json").read_text())["trees"]
    assert [(t["asset"], t["holders"], t["root"] is None) for t in trees] == [
        ("BTC", 2, False),
        ("ETH", 2, False),  # one holder and one dummy
        ("USDT", 0, True),  # nobody holds it: still no tree
    ]


def test_a_holder_left_out_and_covered_by_a_dummy_fails_the_audit(tmp_path: Path) -> None:
    # the exchange publishes without alice's BTC: rounding to 4 keeps the count at 4
    out = publish(tmp_path, CSV.replace("alice,1.5,0,10", "alice,0,0,10"), "--round-holders", "4")
    (tmp_path / "true.csv").write_text(CSV)
    document = audit(out, tmp_path / "true.csv")
    assert document["exit_code"] == 1
    checks: list[dict[str, str]] = document["checks"]  # type: ignore[assignment]
    failed = [(c["id"], c["title"].rsplit(": ", 1)[-1]) for c in checks if c["status"] == "FAIL"]
    assert failed == [
        ("root-sum", "BTC"),
        *[("tree-root", symbol) for symbol in ("BTC", "ETH", "USDT")],  # BTC's total is in ctx2: every tree changes
        ("root-hash", "snapshot root equals the rebuilt one"),
    ]


def test_an_audit_refuses_more_dummy_holders_than_any_rounding_adds(tmp_path: Path) -> None:
    out = publish(tmp_path, CSV, "--round-holders", "4")
    statement = parse_statement(load_json(out / "public" / "snapshot.json"))
    context = statement.context
    shapes = (replace(context.shapes[0], holders=1_000_003), *context.shapes[1:])
    inflated = PrivateCommitment(replace(context, shapes=shapes), statement.commitment.roots)
    liabilities = parse_liabilities(CSV.encode(), context.decimals, source="l.csv")
    key = SnapshotSecret.load(out / "private" / "secret").key
    _, checks = audit_private_trees(inflated, liabilities, key)
    holders = [c for c in checks if c.id == "holders"]
    assert [(c.title.rsplit(": ", 1)[1], c.status.value, c.detail, c.expected, c.found) for c in holders] == [
        (
            "BTC",
            "FAIL",
            "published holder count differs from the file's non-zero cells and fewer than 1,000,000 dummies",
            "3",
            "1000003",
        ),
        ("ETH", "PASS", "4 holders (1 of them dummy holders)", None, None),
        ("USDT", "PASS", "4 holders (1 of them dummy holders)", None, None),
    ]


def test_round_holders_outside_format_v2_or_out_of_range_is_refused(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text(CSV)
    base = ("publish", tmp_path / "l.csv", *OPTIONS, *DECIMALS, "--out", tmp_path / "s")
    v1 = cli(*base, "--round-holders", "4")
    assert (v1.exit_code, v1.stderr) == (
        2,
        "reserves: invalid input: holder counts are rounded up with dummy holders in format v2 (private sums) only\n",
    )
    for value in ("0", "1000001"):
        result = cli(*base, "--private-sums", "--round-holders", value)
        assert (result.exit_code, result.stderr) == (
            2,
            f"reserves: invalid input: holder counts are rounded to a multiple of 1 to 1,000,000, not {int(value):,}\n",
        )
    assert not (tmp_path / "s").exists()


def test_dummy_holders_that_carry_a_balance_fail_the_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    honest = IdTable.with_dummies

    def weighted(
        self: IdTable, asset: int, rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        all_rows, balances = honest(self, asset, rows, values)
        balances = balances.copy()
        balances[len(rows) :] = 1  # one smallest unit on each dummy holder
        return all_rows, balances

    monkeypatch.setattr(IdTable, "with_dummies", weighted)
    out = publish(tmp_path, CSV, "--round-holders", "4")
    monkeypatch.setattr(IdTable, "with_dummies", honest)
    document = audit(out, tmp_path / "l.csv")
    assert document["exit_code"] == 1
    checks: list[dict[str, str]] = document["checks"]  # type: ignore[assignment]
    failed = [(c["id"], c["title"].rsplit(": ", 1)[-1]) for c in checks if c["status"] == "FAIL"]
    assert [c for c in failed if c[0] == "holders"] == []  # the counts are right; the leaves are not
    assert [c for c in failed if c[0] == "tree-root"] == [("tree-root", s) for s in ("BTC", "ETH", "USDT")]
