"""The README's main command: `make demo` runs scripts/demo.py; it must tell the whole story."""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


def test_demo_runs_the_whole_story() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "PASS: your balances are included in the published root" in out
    assert "FAIL: (5) computed root equals the proof's root" in out
    assert "PASS: liabilities match the snapshot and every asset's reserves cover its liabilities" in out
    assert "FAIL: (11) reserves cover liabilities: USDT failed" in out
    assert "FAIL    (11) reserves cover liabilities: USDT" in out
    assert "reserves 1100000, liabilities 1451294.872996: under-reserved, 75.79%" in out
    for name in (
        "report.html",
        "report-short.html",
        "alice-proof.json",
        "snap/public/snapshot.json",
        "snap/private/secret",
    ):
        assert (ROOT / "out" / "demo" / name).is_file(), name
