"""publish: the snapshot directory, reproducibility, and nothing half-written on failure."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reserves.publishing import smallest_height
from support import DEMO_LIABILITIES, DEMO_OPTIONS, FIVE_ACCOUNTS, cli, flat


def run_publish(liabilities: Path, out: Path, *extra: str) -> object:
    return cli("publish", liabilities, *DEMO_OPTIONS, "--out", out, *extra)


def test_publish_writes_statement_secret_and_store(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    result = run_publish(DEMO_LIABILITIES, out)
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*")) == [
        "private/secret",
        "private/store",
        "public/snapshot.json",
    ]
    assert stat.S_IMODE((out / "private" / "secret").stat().st_mode) == 0o600
    statement = json.loads((out / "public" / "snapshot.json").read_text())
    assert statement["accounts"] == 3000
    assert statement["height"] == 12
    assert statement["assets"] == [
        {"symbol": "BTC", "decimals": 8},
        {"symbol": "ETH", "decimals": 18},
        {"symbol": "USDT", "decimals": 6},
    ]
    assert statement["root"]["sums"] == {
        "BTC": "44757.31479696",
        "ETH": "1376152.286594592194650147",
        "USDT": "1451294.872996",
    }
    # Not one file per account: 13 levels, the index and the manifest.
    assert len(list((out / "private" / "store").iterdir())) == 15


def test_same_liabilities_and_secret_give_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_publish(DEMO_LIABILITIES, first).exit_code == 0  # type: ignore[attr-defined]
    assert run_publish(DEMO_LIABILITIES, second, "--secret", str(first / "private" / "secret")).exit_code == 0  # type: ignore[attr-defined]
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_fresh_secret_each_time(tmp_path: Path) -> None:
    assert run_publish(DEMO_LIABILITIES, tmp_path / "a").exit_code == 0  # type: ignore[attr-defined]
    assert run_publish(DEMO_LIABILITIES, tmp_path / "b").exit_code == 0  # type: ignore[attr-defined]
    assert (tmp_path / "a" / "private" / "secret").read_text() != (tmp_path / "b" / "private" / "secret").read_text()


def test_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("account,BTC,ETH,USDT\nalice,1,2,3\nbob,1,-2,3\n")
    out = tmp_path / "out" / "snap"
    result = run_publish(bad, out)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert (
        result.stderr == f"reserves: invalid input: {bad}:3 column ETH: amount '-2' is not a plain decimal "
        "(digits, optionally '.' and digits; no sign, exponent, spaces or separators)\n"
    )  # type: ignore[attr-defined]
    assert not out.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_overflowing_totals_leave_nothing_behind(tmp_path: Path) -> None:
    csv = tmp_path / "huge.csv"
    csv.write_text(f"account,WEI\na,{(1 << 127) + 5}\nb,{1 << 127}\n")
    out = tmp_path / "snap"
    result = cli(
        "publish",
        csv,
        "--exchange",
        "X",
        "--snapshot-id",
        "1",
        "--cutoff",
        "2026-01-01T00:00:00Z",
        "--decimals",
        "WEI=0",
        "--out",
        out,
    )
    assert result.exit_code == 2
    assert "the total of WEI over the accounts under node (1, 0) is not below 2^128 smallest units" in result.stderr
    assert list(tmp_path.iterdir()) == [csv]


def test_existing_output_is_kept_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    assert run_publish(DEMO_LIABILITIES, out).exit_code == 0  # type: ignore[attr-defined]
    before = (out / "private" / "secret").read_bytes()
    again = run_publish(DEMO_LIABILITIES, out)
    assert again.exit_code == 2  # type: ignore[attr-defined]
    assert (
        again.stderr
        == f"reserves: invalid input: {out} already exists; choose another --out or pass --force to replace it\n"
    )  # type: ignore[attr-defined]
    assert (out / "private" / "secret").read_bytes() == before
    assert run_publish(DEMO_LIABILITIES, out, "--force").exit_code == 0  # type: ignore[attr-defined]
    assert (out / "private" / "secret").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


@pytest.mark.parametrize(("accounts", "height"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (1024, 10), (1025, 11)])
def test_default_height_is_the_smallest_that_fits(accounts: int, height: int) -> None:
    assert smallest_height(accounts) == height


def test_height_too_small_is_rejected(tmp_path: Path) -> None:
    csv = tmp_path / "five.csv"
    csv.write_text(FIVE_ACCOUNTS)
    result = cli(
        "publish",
        csv,
        "--exchange",
        "X",
        "--snapshot-id",
        "1",
        "--cutoff",
        "2026-01-01T00:00:00Z",
        "--decimals",
        "BTC=8,ETH=18",
        "--height",
        "2",
        "--out",
        tmp_path / "snap",
    )
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"reserves: invalid input: a tree of height 2 has 4 slots, fewer than the 5 accounts of {csv}\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--decimals",
            "BTC=8;ETH=18,USDT=6",
            "Invalid value for '--decimals': expected SYMBOL=DECIMALS[,SYMBOL=DECIMALS…], found 'BTC=8;ETH=18'",
        ),
        ("--decimals", "BTC=8,ETH=18,USDT=6,BTC=8", "Invalid value for '--decimals': BTC is given twice"),
        ("--decimals", "BTC=8,ETH=18", "asset USDT"),
        ("--decimals", "BTC=8,ETH=37,USDT=6", "Invalid value for '--decimals': decimals must be 0 to 36, found 37"),
        ("--decimals", "btc=8,ETH=18,USDT=6", "Invalid value for '--decimals': asset symbol 'btc' does not match"),
        ("--cutoff", "2026-11-21", "--cutoff: cutoff '2026-11-21' is not of the form YYYY-MM-DDTHH:MM:SSZ"),
        ("--exchange", "Bo\u0308rse", "exchange: exchange 'Bo\\u0308rse' is not in Unicode NFC"),
        ("--snapshot-id", "x" * 201, "snapshot_id: snapshot_id must be 1 to 200 bytes of UTF-8, found 201"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, option: str, value: str, message: str) -> None:
    options = dict(zip(DEMO_OPTIONS[::2], DEMO_OPTIONS[1::2], strict=True))
    options[option] = value
    args = [a for pair in options.items() for a in pair]
    result = cli("publish", DEMO_LIABILITIES, *args, "--out", tmp_path / "snap")
    assert result.exit_code == 2
    assert message in flat(result.stderr)
    assert not (tmp_path / "snap").exists()


def test_json_output_is_the_statement(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    result = run_publish(DEMO_LIABILITIES, out, "--json")
    document = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert (document["schema"], document["result"], document["out"]) == ("reserves/publish/1", "PUBLISHED", str(out))
    assert document["snapshot"] == json.loads((out / "public" / "snapshot.json").read_text())


def test_force_never_replaces_a_directory_that_is_not_a_snapshot(tmp_path: Path) -> None:
    """Reliability finding D16: --force deleted whatever directory --out named."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    result = run_publish(DEMO_LIABILITIES, out, "--force")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"reserves: invalid input: {out} is not a snapshot directory (public/snapshot.json and private/store/): "
        "it is never replaced\n"
    )
    assert (out / "thesis.txt").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_staging_left_by_a_killed_publish_is_removed_by_the_next(tmp_path: Path) -> None:
    """Reliability finding D15: a publish killed with SIGKILL left a staging directory
    holding the secret; the next publish to the same place removes it (its process is gone)."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    leftover = tmp_path / f".snap.{dead.stdout.strip()}.abcd1234.partial"
    leftover.mkdir()
    (leftover / "secret").write_text("11" * 32 + "\n")
    alive = tmp_path / f".snap.{os.getpid()}.efgh5678.partial"  # a publish still running: kept
    alive.mkdir()
    assert run_publish(DEMO_LIABILITIES, tmp_path / "snap").exit_code == 0  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "snap"]


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    """Reliability finding D18: under umask 000 snapshot.json and the store were world-writable.
    And what must not be published is readable by its owner only (private/ 0700, files 0600)."""
    old = os.umask(0)
    try:
        assert run_publish(DEMO_LIABILITIES, tmp_path / "snap").exit_code == 0  # type: ignore[attr-defined]
    finally:
        os.umask(old)
    out = tmp_path / "snap"
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert modes.pop(".") == 0o755
    assert (modes.pop("public"), modes.pop("public/snapshot.json")) == (0o755, 0o644)
    assert (modes.pop("private"), modes.pop("private/store")) == (0o700, 0o700)
    assert set(modes.values()) == {0o600}, modes  # the secret and every store file


def test_secret_given_as_the_liabilities_file_is_never_echoed(tmp_path: Path) -> None:
    """Reliability finding D17: the error quoted the whole first line, the secret."""
    out = tmp_path / "snap"
    assert run_publish(DEMO_LIABILITIES, out).exit_code == 0  # type: ignore[attr-defined]
    secret = (out / "private" / "secret").read_text().strip()
    result = run_publish(out / "private" / "secret", tmp_path / "other")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert secret[:16] not in result.stderr  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"reserves: invalid input: {out / 'private' / 'secret'}:1: the header must start with 'account', "
        "found a long hexadecimal string (is this the secret file? it is not shown)\n"
    )


def test_d23_a_secret_is_not_reused_for_another_snapshot_id(tmp_path: Path) -> None:
    """Reliability finding D23: the same secret for a new snapshot id kept every account's
    slot, so each user's proofs showed the same neighbour's exact balances every week."""
    first = tmp_path / "week-1"
    assert run_publish(DEMO_LIABILITIES, first).exit_code == 0  # type: ignore[attr-defined]
    options = [o if o != "2026-11-21" else "2026-11-28" for o in map(str, DEMO_OPTIONS)]
    result = cli(
        "publish", DEMO_LIABILITIES, *options, "--out", tmp_path / "week-2", "--secret", first / "private" / "secret"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"reserves: invalid input: this secret belongs to snapshot '2026-11-21' ({first / 'public' / 'snapshot.json'}); "
        "reusing it for '2026-11-28' would give every account the same slot and neighbour again"
    )
    assert not (tmp_path / "week-2").exists()
