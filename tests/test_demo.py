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
    # step 6: format v2 on the same book; the user's proof verifies, a raised balance does not
    story = out[out.index("== 6. The same book with private sums") :]
    assert "format v2 (private sums)" in story
    assert "Holder counts are rounded up to a multiple of 100 with dummy holders of balance 0 (BTC " in story
    assert "Format: reserves-proof/2 (recognised by its content)" in story
    assert story.count("PASS: your balances are included in the published root") == 1
    assert "FAIL: (6) each path climbs to its tree's published root failed" in story
    assert "PASS    (3) tree root equals the rebuilt one (each non-zero cell once, no zero cell): ETH" in story
    assert story.rstrip().endswith("report-v2.html in a browser.")
    assert "PASS: liabilities match the snapshot and every asset's reserves cover its liabilities (1 warning)" in story
    proof = (ROOT / "out" / "demo" / "alice-proof-v2.json").read_text()
    assert '"format": "reserves-proof/2"' in proof and '"sums"' not in proof
    for name in (
        "report-v2.html",
        "snap-v2/public/snapshot.json",
        "report.html",
        "report-short.html",
        "alice-proof.json",
        "snap/public/snapshot.json",
        "snap/private/secret",
    ):
        assert (ROOT / "out" / "demo" / name).is_file(), name
