"""The verifier page (reserves.report.web_verifier), run in a real browser (Debian's
chromium, headless): on every shared vector and on generated valid, tampered and malformed
proofs its outcome and its steps equal the CLI's; screenshots show a PASS and a FAIL."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reserves.report.web_verifier import page_html
from support import ROOT, cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VECTORS = ROOT / "fixtures" / "vectors"
MALICIOUS = ROOT / "fixtures" / "malicious"
OKX = ROOT / "fixtures" / "okx"
RESULT_OF_EXIT = {0: "PASS", 1: "FAIL", 2: "MALFORMED"}


def run_in_chromium(tmp_path: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case through ``window.reservesVerify`` in headless chromium."""
    assert Path(CHROMIUM).exists(), "chromium is missing: 'make test' installs it (apt-get install chromium)"
    runner = (
        "<pre id='results'>pending</pre><script>\nconst CASES = "
        + json.dumps(cases).replace("</", "<\\/")
        + """;
(async () => {
  const out = [];
  for (const c of CASES) {
    try {
      const r = await window.reservesVerify(c.proof, c.snapshot, {root: c.root});
      out.push({result: r.result, steps: r.steps.map((s) => [s.step, s.status])});
    } catch (error) { out.push({result: "CRASH " + error}); }
  }
  document.getElementById("results").textContent = JSON.stringify(out);
})();
</script>
</body>"""
    )
    page = tmp_path / "harness.html"
    page.write_text(page_html().replace("</body>", runner, 1))
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=60000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"<pre id=\"results\">(.*?)</pre>", dom, re.S)
    assert found is not None and found.group(1) != "pending", dom[-2000:]
    return list(json.loads(html.unescape(found.group(1))))


def cli_outcome(tmp_path: Path, name: str, case: dict[str, Any]) -> dict[str, Any]:
    """What ``reserves verify --json`` says of the same inputs."""
    proof = tmp_path / f"{name}.proof.json"
    proof.write_text(case["proof"])
    anchor: list[str | Path] = ["--no-anchor"]
    if case["snapshot"] is not None:
        snapshot = tmp_path / f"{name}.snapshot.json"
        snapshot.write_text(case["snapshot"])
        anchor = ["--snapshot", snapshot]
    elif case["root"]:
        anchor = ["--root", case["root"]]
    result = cli("verify", proof, "--json", *anchor)
    document = json.loads(result.stdout)
    if result.exit_code == 2:
        return {"result": "MALFORMED", "steps": []}
    outcome = document["result"] if document["result"] == "NOT_ANCHORED" else RESULT_OF_EXIT[result.exit_code]
    return {"result": outcome, "steps": [[c["step"], c["status"]] for c in document["checks"]]}


def vector_cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in VECTORS.iterdir() if p.is_dir()):
        snapshot = (folder / "snapshot.json").read_text()
        root = json.loads(snapshot)["root"]["hash"]
        for proof in sorted((folder / "proofs").glob("*.json")):
            text = proof.read_text()
            cases[f"{folder.name}/{proof.stem}"] = {"proof": text, "snapshot": snapshot, "root": None}
            cases[f"{folder.name}/{proof.stem}/root"] = {"proof": text, "snapshot": None, "root": root.upper()}
            cases[f"{folder.name}/{proof.stem}/alone"] = {"proof": text, "snapshot": None, "root": None}
    for name, expected in json.loads((MALICIOUS / "cases.json").read_text()).items():
        cases[f"malicious/{name}"] = {
            "proof": (MALICIOUS / name).read_text(),
            "snapshot": (ROOT / expected["snapshot"]).read_text(),
            "root": None,
        }
    return cases


def _edit(text: str, change: Any) -> str:
    document = json.loads(text)
    change(document)
    return json.dumps(document, indent=1)


def generated_cases() -> dict[str, dict[str, Any]]:
    """Tampered and malformed versions of a vector proof, and other snapshots."""
    small = VECTORS / "small"
    proof = (small / "proofs" / "slot-00001.json").read_text()
    snapshot = (small / "snapshot.json").read_text()
    other = (VECTORS / "single" / "snapshot.json").read_text()
    tampered = {
        "balance": lambda d: d["account"]["balances"].update(BTC="999"),
        "salt": lambda d: d["account"].update(salt="ab" * 32),
        "index": lambda d: d["account"].update(index=d["account"]["index"] ^ 1),
        "index-beyond": lambda d: d["account"].update(index=1 << 40),
        "sibling-hash": lambda d: d["path"][1].update(hash="cd" * 32),
        "sibling-sum": lambda d: d["path"][0]["sums"].update(BTC="0"),
        "root-sum": lambda d: d["snapshot"]["root"]["sums"].update(BTC="1"),
        "path-short": lambda d: d["path"].pop(),
        "account-id": lambda d: d["account"].update(id="mallory"),
    }
    malformed_edits = {
        "extra-key": lambda d: d["account"].update(extra="1"),
        "missing-key": lambda d: d["account"].pop("salt"),
        "upper-hex": lambda d: d["path"][0].update(hash="AB" * 32),
        "too-many-decimals": lambda d: d["account"]["balances"].update(BTC="0.000000001"),
        "amount-sign": lambda d: d["account"]["balances"].update(BTC="+1"),
        "not-nfc-id": lambda d: d["account"].update(id="Cafe\u0301"),
        "bad-cutoff": lambda d: d["snapshot"].update(cutoff="2026-02-30T00:00:00Z"),
        "height-zero": lambda d: d["snapshot"].update(height=0),
        "wrong-format": lambda d: d.update(format="reserves-proof/2"),
        "symbol": lambda d: d["snapshot"]["assets"][0].update(symbol="btc"),
    }
    cases = {
        f"tampered/{k}": {"proof": _edit(proof, v), "snapshot": snapshot, "root": None} for k, v in tampered.items()
    }
    cases |= {
        f"malformed/{k}": {"proof": _edit(proof, v), "snapshot": snapshot, "root": None}
        for k, v in malformed_edits.items()
    }
    raw = {
        "float": proof.replace('"index": 1', '"index": 1.0'),
        "negative-number": proof.replace('"index": 1', '"index": -1'),
        "duplicate-key": proof.replace('"index": 1', '"index": 1, "index": 1'),
        "truncated": proof[: len(proof) // 2],
        "bom": "\ufeff" + proof,
        "huge-integer": proof.replace('"index": 1', '"index": ' + "1" * 41),
        "trailing-data": proof + "{}",
        "array-top": "[" + proof + "]",
    }
    cases |= {f"malformed/{k}": {"proof": v, "snapshot": snapshot, "root": None} for k, v in raw.items()}
    cases["other-snapshot"] = {"proof": proof, "snapshot": other, "root": None}
    cases["other-root"] = {"proof": proof, "snapshot": None, "root": "0x" + "ee" * 32}
    cases["malformed/snapshot"] = {
        "proof": proof,
        "snapshot": snapshot.replace('"accounts"', '"accounts2"'),
        "root": None,
    }
    return cases | okx_cases()


def okx_cases() -> dict[str, dict[str, Any]]:
    """OKX's published v1 example (MIT), against its root, alone, tampered and malformed."""
    text = (OKX / "merkle_proof_file.json").read_text()
    root = json.loads(text)["path"][-1]["hash"]
    changes = {
        "balance": lambda d: d["self"]["balances"].update(BTC="2"),
        "sibling-hash": lambda d: d["path"][0].update(hash="ab" * 32),
        "sibling-sum": lambda d: d["path"][1]["balances"].update(ETH="1"),
        "root-total": lambda d: d["path"][-1]["balances"].update(USDT="1"),
        "height": lambda d: d["path"][1].update(height=7),
        "side": lambda d: d["path"][0].update(type=d["self"]["type"]),
        "padding": lambda d: d["path"][0].update(type=4),
    }
    malformed = {
        "unknown-key": lambda d: d["self"].update(extra=1),
        "nonce": lambda d: d["self"].update(nonce="XYZ"),
        "amount": lambda d: d["self"]["balances"].update(BTC="1e5"),
        "missing-asset": lambda d: d["self"]["balances"].pop("ETH"),
    }
    cases = {
        "okx/example": {"proof": text, "snapshot": None, "root": root},
        "okx/alone": {"proof": text, "snapshot": None, "root": None},
        "okx/other-root": {"proof": text, "snapshot": None, "root": "0x" + "ab" * 32},
        "okx/with-snapshot": {
            "proof": text,
            "snapshot": (VECTORS / "small" / "snapshot.json").read_text(),
            "root": None,
        },
        "okx/float": {"proof": text.replace('"height":1', '"height":1.0', 1), "snapshot": None, "root": root},
    }
    cases |= {
        f"okx/tampered/{k}": {"proof": _edit(text, v), "snapshot": None, "root": root} for k, v in changes.items()
    }
    cases |= {
        f"okx/malformed/{k}": {"proof": _edit(text, v), "snapshot": None, "root": root} for k, v in malformed.items()
    }
    return cases


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    tmp_path = tmp_path_factory.mktemp("web")
    cases = vector_cases() | generated_cases()
    browser = run_in_chromium(tmp_path, list(cases.values()))
    return {
        name: (found, cli_outcome(tmp_path, re.sub(r"\W", "_", name), case))
        for (name, case), found in zip(cases.items(), browser, strict=True)
    }


def test_page_equals_the_cli_on_every_case(outcomes: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    different = {name: pair for name, pair in outcomes.items() if pair[0] != pair[1]}
    assert different == {}
    results = [page["result"] for page, _ in outcomes.values()]
    assert {r: results.count(r) for r in sorted(set(results))} == {
        "FAIL": 24,
        "MALFORMED": 26,
        "NOT_ANCHORED": 14,
        "PASS": 27,
    }


def test_vectors_pass_and_tampering_fails_at_the_cli_step(
    outcomes: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    assert outcomes["small/slot-00001"][0]["result"] == "PASS"
    assert outcomes["small/slot-00001/alone"][0]["result"] == "NOT_ANCHORED"
    assert outcomes["tampered/balance"][0]["steps"][4] == [5, "FAIL"]
    assert outcomes["malicious/proof_duplicated_odd_node.json"][0]["steps"][6] == [7, "FAIL"]
    assert outcomes["other-snapshot"][0]["steps"][5] == [6, "FAIL"]


def test_other_exchanges_formats_are_left_to_the_cli(tmp_path: Path) -> None:
    bybit = (ROOT / "fixtures" / "formats" / "bybit" / "mock_user_merkle_tree_path_40.json").read_text()
    (outcome,) = run_in_chromium(tmp_path, [{"proof": bybit, "snapshot": None, "root": "ab" * 32}])
    assert outcome == {"result": "CANNOT_CHECK", "steps": []}


def test_page_is_one_offline_file(tmp_path: Path) -> None:
    result = cli("web-verifier", tmp_path / "check.html")
    assert result.exit_code == 0, result.stdout
    page = (tmp_path / "check.html").read_text()
    assert page == page_html()
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "http://" not in page and "https://" not in page


def _screenshot(tmp_path: Path, name: str, proof: str, snapshot: str) -> bytes:
    show = (
        "<script>window.reservesVerify(" + json.dumps(proof).replace("</", "<\\/") + ", "
        + json.dumps(snapshot).replace("</", "<\\/") + ").then(window.reservesShow);</script></body>"
    )  # fmt: skip
    page = tmp_path / f"{name}.html"
    page.write_text(page_html().replace("</body>", show, 1))
    png = tmp_path / f"{name}.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=20000",
         "--window-size=1100,1400", f"--screenshot={png}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return png.read_bytes()


def test_screenshots_show_a_pass_and_a_fail(tmp_path: Path) -> None:
    small = VECTORS / "small"
    proof = (small / "proofs" / "slot-00001.json").read_text()
    snapshot = (small / "snapshot.json").read_text()
    passing = _screenshot(tmp_path, "pass", proof, snapshot)
    failing = _screenshot(
        tmp_path, "fail", _edit(proof, lambda d: d["account"]["balances"].update(BTC="999")), snapshot
    )
    for png in (passing, failing):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert passing != failing
