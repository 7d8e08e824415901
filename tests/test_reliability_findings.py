"""Named tests for defects of ``shared/design/reliability_findings.md`` fixed outside the
chain sources (those are in test_hostile_sources.py) and the verdict (test_json_contract.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support import ROOT, Published, cli, flat, write_json


def test_d4_deeply_nested_snapshot_is_malformed_not_a_crash(tmp_path: Path, four: Published) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"format":' + "[" * 100_000 + "]" * 100_000 + "}")
    for command in (
        ("audit", deep, "--liabilities", four.liabilities, "--secret", four.secret),
        ("custody", deep),
        ("messages", deep),
        ("verify", deep, "--no-anchor"),
    ):
        result = cli(*command)
        assert result.exit_code == 2, command
        assert result.stderr == f"reserves: invalid input: {deep}: invalid JSON: nested more than 64 levels deep\n"


def test_d9a_amount_of_5000_digits_is_malformed_not_a_crash(tmp_path: Path, four: Published) -> None:
    proof = four.proof("alice")
    proof["account"]["balances"]["BTC"] = "1" * 5000
    result = cli("verify", write_json(tmp_path / "p.json", proof), "--snapshot", four.snapshot_json)
    assert result.exit_code == 2
    assert "$.account.balances.BTC: amount of 5000 characters: no amount below 2^128 is that long" in result.stderr
    index = re.sub(r'"index": \d+', '"index": 1' + "0" * 5000, json.dumps(four.proof("alice")))
    (tmp_path / "i.json").write_text(index)
    result = cli("verify", tmp_path / "i.json", "--snapshot", four.snapshot_json)
    assert result.exit_code == 2
    assert "invalid JSON: a number of 5001 digits (at most 40)" in result.stderr


def test_d24_duplicate_wallet_labels_are_rejected(tmp_path: Path) -> None:
    reserves = json.loads((ROOT / "fixtures/examples/reserves.json").read_text())
    reserves["wallets"][1]["label"] = "eth-cold"
    result = cli(
        "publish",
        ROOT / "fixtures/demo/liabilities.csv",
        "--exchange",
        "X",
        "--snapshot-id",
        "s",
        "--cutoff",
        "2026-11-21T00:00:00Z",
        "--decimals",
        "BTC=8,ETH=18,USDT=6",
        "--reserves",
        write_json(tmp_path / "r.json", reserves),
        "--out",
        tmp_path / "snap",
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"reserves: invalid input: {tmp_path / 'r.json'} $.wallets[1].label: "
        "label 'eth-cold' is used by another wallet: labels are unique\n"
    )


def test_d8_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    reserves = json.loads((ROOT / "fixtures/examples/reserves.json").read_text())
    reserves["wallets"][1]["label"] = "hot [/] [bold green]PASS[/bold green]"
    exchange = "Evil \x1b[31mRED\x1b[0m \u202egnp.exe"
    out = tmp_path / "snap"
    result = cli(
        "publish",
        ROOT / "fixtures/demo/liabilities.csv",
        "--exchange",
        exchange,
        "--snapshot-id",
        "s",
        "--cutoff",
        "2026-11-21T00:00:00Z",
        "--decimals",
        "BTC=8,ETH=18,USDT=6",
        "--reserves",
        write_json(tmp_path / "r.json", reserves),
        "--out",
        out,
    )
    assert result.exit_code == 0, result.stderr
    messages = cli("messages", out / "public" / "snapshot.json")
    assert messages.exit_code == 0
    assert "\x1b" not in messages.stdout and "\u202e" not in messages.stdout
    assert "exchange: Evil \\x1b[31mRED\\x1b[0m \\u202egnp.exe" in messages.stdout
    assert "hot [/] [bold green]PASS[/bold green] (ethereum" in messages.stdout


def test_d20_an_oversized_proof_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"[" + b"0," * (17 * 1024 * 1024) + b"0]")
    result = cli("verify", huge, "--no-anchor")
    assert result.exit_code == 2
    assert result.stderr == f"reserves: invalid input: {huge}: larger than 33554432 bytes\n"


def test_d9e_unicode_digits_in_set_sizes_are_a_usage_error(four: Published) -> None:
    result = cli("custody", four.snapshot_json, "--set-sizes", "²")
    assert result.exit_code == 2
    assert "Invalid value for '--set-sizes': expected sizes from 1 to 8 separated by commas, found '²'" in flat(
        result.stderr
    )


def test_d9a_a_liabilities_amount_of_5000_digits_is_named_not_a_crash(tmp_path: Path) -> None:
    lines = (ROOT / "fixtures/demo/liabilities.csv").read_text().split("\n")
    lines[1] = lines[1].split(",")[0] + "," + "1" * 5000 + ",0,0"
    csv = tmp_path / "digits.csv"
    csv.write_text("\n".join(lines))
    result = cli(
        "publish",
        csv,
        "--exchange",
        "X",
        "--snapshot-id",
        "s",
        "--cutoff",
        "2026-11-21T00:00:00Z",
        "--decimals",
        "BTC=8,ETH=18,USDT=6",
        "--out",
        tmp_path / "o",
    )
    assert result.exit_code == 2
    assert f"{csv}:2 column BTC: amount of 5000 characters: no amount below 2^128 is that long" in result.stderr
