"""The command as a user runs it: the installed console script, exit codes, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import DEMO_LIABILITIES, DEMO_OPTIONS, Published, cli, write_json

SCRIPT = Path(sys.executable).parent / "reserves"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_issue_walkthrough_with_the_console_script(tmp_path: Path) -> None:
    """The exact sequence of the liabilities issue, in a fresh directory."""
    published = run(
        "publish",
        DEMO_LIABILITIES,
        *DEMO_OPTIONS,
        "--out",
        "out/snap",
        cwd=tmp_path,
    )
    assert published.returncode == 0, published.stderr
    assert "Published snapshot '2026-11-21' of 'Demo Exchange' to out/snap/" in published.stdout
    proof = run("proof", "out/snap", "user-000042@example.com", cwd=tmp_path)
    assert proof.returncode == 0, proof.stderr
    (tmp_path / "alice-proof.json").write_text(proof.stdout)
    anchored = run("verify", "alice-proof.json", "--snapshot", "out/snap/public/snapshot.json", cwd=tmp_path)
    assert anchored.returncode == 0, anchored.stdout
    assert "PASS: your balances are included in the published root" in anchored.stdout
    root = json.loads((tmp_path / "out/snap/public/snapshot.json").read_text())["root"]["hash"]
    by_root = run("verify", "alice-proof.json", "--root", root, cwd=tmp_path)
    assert by_root.returncode == 0
    audited = run(
        "audit",
        "out/snap/public/snapshot.json",
        "--liabilities",
        DEMO_LIABILITIES,
        "--secret",
        "out/snap/private/secret",
        cwd=tmp_path,
    )
    assert audited.returncode == 0, audited.stdout
    assert "PASS: liabilities match the published snapshot, which lists no reserves" in audited.stdout


def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reserves", "--version"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "reserves 0.1.0\n")


@pytest.mark.parametrize(
    ("command", "summary"),
    [
        ("publish", "Publish a snapshot of the liabilities (Merkle sum tree, proof store, secret)."),
        ("proof", "Print one account's inclusion proof (JSON) to hand to its user."),
        ("verify", "Check that your balances are counted in the root the exchange published."),
        ("audit", "Audit a snapshot: liabilities rebuilt, reserves read on-chain, asset by asset."),
        ("custody", "Which reserves freeze if keyholders become unreachable."),
        ("messages", "Print the message each wallet's signers must sign (FORMAT §6.4)."),
        ("sign", "Sign the wallets' ownership messages into snapshot.json (tests and demos)."),
        ("okx-addresses", "Check OKX's address-ownership CSV: each row's signature."),
        ("web-verifier", "Write the verifier page: one HTML file that checks a proof in any browser, offline."),
    ],
)
def test_help_explains_every_command(command: str, summary: str, tmp_path: Path) -> None:
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert f"Usage: reserves {command}" in text
    assert summary in text
    assert "Example: reserves " in text


def test_usage_error_exits_2() -> None:
    result = cli("verify")
    assert result.exit_code == 2
    assert "Missing argument 'PROOF_FILE'" in result.stderr or "Missing argument" in result.stdout + result.stderr


def test_unexpected_exception_is_exit_4_without_traceback(four: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("reserves.audit.audit_snapshot", broken)
    result = cli("audit", four.snapshot_json, "--liabilities", four.liabilities, "--secret", four.secret)
    assert result.exit_code == 4
    assert result.stderr == (
        "reserves: internal error (ZeroDivisionError: division by zero). This is a bug; please report it "
        "with the command you ran.\n"
    )


def test_malformed_secret_file(four: Published, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("AB" * 32 + "\n")
    result = cli("audit", four.snapshot_json, "--liabilities", four.liabilities, "--secret", secret)
    assert result.exit_code == 2
    assert result.stderr == (
        f"reserves: invalid input: {secret}: "
        "a secret is 64 lowercase hex characters (optionally one trailing newline)\n"
    )


def test_root_option_is_strict_hex(four: Published) -> None:
    proof = write_json(four.directory / "p.json", four.proof("bob"))
    for bad in ("AB" * 31 + "AG", "0x" + "ab" * 31, "ab" * 33, " " + "ab" * 32):
        result = cli("verify", proof, "--root", bad)
        assert result.exit_code == 2
        assert result.stderr.startswith(
            "reserves: invalid input: --root: root hash must be 64 lowercase hex characters"
        )


def test_verify_path_imports_nothing_heavy() -> None:
    """A user's verify must start fast: no chain clients, numpy, templates or pydantic."""
    code = (
        "import sys, reserves.cli; "
        "print(sorted(m for m in ('web3', 'eth_account', 'coincurve', 'numpy', 'jinja2', 'pydantic', 'embit') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
