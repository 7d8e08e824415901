"""The verifier page (reserves.report.web_verifier), run in a real browser (Debian's
chromium, headless): on every shared vector and on generated valid, tampered and malformed
proofs its outcome and its steps equal the CLI's; screenshots show a PASS and a FAIL."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from exchange_builders import (
    bitget_proof,
    bybit_original_proof,
    coinex_proof,
    json_with_numbers,
    mexc_proof,
    zk_asset_list,
    zk_proof,
)

from reserves.report.web_verifier import page_html
from support import ROOT, cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VECTORS = ROOT / "fixtures" / "vectors"
MALICIOUS = ROOT / "fixtures" / "malicious"
OKX = ROOT / "fixtures" / "okx"
RESULT_OF_EXIT = {0: "PASS", 1: "FAIL", 2: "MALFORMED", 3: "CANNOT_CHECK"}


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
      const r = await window.reservesVerify(c.proof, c.snapshot, {root: c.root, credential: c.credential});
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
    if case.get("asset_list"):
        listing = tmp_path / f"{name}.assets.json"
        listing.write_text(case["snapshot"])
        more: list[str | Path] = ["--root", case["root"]] if case["root"] else ["--no-anchor"]
        result = cli("verify", proof, "--json", "--snapshot", listing, *more)
        return _outcome(result)
    if case["snapshot"] is not None:
        snapshot = tmp_path / f"{name}.snapshot.json"
        snapshot.write_text(case["snapshot"])
        anchor = ["--snapshot", snapshot]
    elif case["root"]:
        anchor = ["--root", case["root"]]
    if case.get("credential"):
        anchor += ["--credential", case["credential"]]
    if case["snapshot"] is not None and case["root"]:
        anchor += ["--root", case["root"]]
    return _outcome(cli("verify", proof, "--json", *anchor))


def _outcome(result: Any) -> dict[str, Any]:
    document = json.loads(result.stdout)
    if result.exit_code in (2, 3):
        return {"result": RESULT_OF_EXIT[result.exit_code], "steps": []}
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
        "wrong-format": lambda d: d.update(format="reserves-proof/3"),
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
    return cases | okx_cases() | exchange_cases() | swissborg_cases() | zk_cases()


def zk_cases() -> dict[str, dict[str, Any]]:
    """HTX's published example (MIT) with its asset list, and generated HTX and Gate files."""
    htx = (ROOT / "fixtures" / "formats" / "htx" / "user_config.json").read_text()
    listing = (ROOT / "fixtures" / "formats" / "htx" / "config.json").read_text()
    root = json.loads(htx)["Root"]
    base = {"asset_list": True, "credential": None}
    cases = {
        "htx/example": {"proof": htx, "snapshot": listing, "root": root, **base},
        "htx/alone": {"proof": htx, "snapshot": listing, "root": None, **base},
        "htx/other-root": {"proof": htx, "snapshot": listing, "root": "ab" * 32, **base},
        "htx/no-asset-list": {"proof": htx, "snapshot": None, "root": root, "credential": None},
    }
    generated = {
        "htx": (zk_proof("htx", {0: (32,), 3: (-5_000,)}, count=14), zk_asset_list("htx", {0: (40,), 3: (9_000,)}, 14)),
        "gate": (zk_proof("gate", {1: (29_774, 0), 799: (10, 3)}, count=800), zk_asset_list("gate", {1: (30_000, 0), 799: (10, 3)}, 800)),
        "gate-350": (zk_proof("gate", {0: (5, 1)}, count=350), zk_asset_list("gate", {0: (5, 1)}, 300)),
    }  # fmt: skip
    for name, (document, assets) in generated.items():
        text, assets_text = json.dumps(document), json.dumps(assets)
        key = "Root" if "Root" in document else "TreeRootHash"
        cases[f"{name}/valid"] = {"proof": text, "snapshot": assets_text, "root": document[key], **base}
        amounts = document.get("Assets") or document["AssetDetails"]
        tampered = copy.deepcopy(document)
        (tampered.get("Assets") or tampered["AssetDetails"])[0].update(Index=amounts[0]["Index"] + 1)
        cases[f"{name}/moved-balance"] = {
            "proof": json.dumps(tampered),
            "snapshot": assets_text,
            "root": document[key],
            **base,
        }
        low = copy.deepcopy(assets)
        low["CexAssetsInfo"][amounts[0]["Index"]].update(
            {k: 1 for k in ("TotalBalance", "TotalEquity") if k in low["CexAssetsInfo"][0]}
        )
        cases[f"{name}/total-below"] = {"proof": text, "snapshot": json.dumps(low), "root": document[key], **base}
        cases[f"{name}/bad-sibling"] = {
            "proof": text.replace(json.dumps(document.get("Proof", document.get("MerkleProofEncode"))[0]), '"AAAA"', 1),
            "snapshot": assets_text,
            "root": document[key],
            **base,
        }
    return cases


def swissborg_cases() -> dict[str, dict[str, Any]]:
    """SwissBorg's published test data (MIT) with the credentials that open them."""
    folder = ROOT / "fixtures" / "formats" / "swissborg"
    credentials = {1: "20000f995b5305144c082ad3443bf4db", 2: "z2Ef6hx6QbRdixkL7c8rdBj", 3: "z2NRjxCKJiWPh3rfdQVyaTS"}
    cases: dict[str, dict[str, Any]] = {}
    for number, credential in credentials.items():
        user, roots = (
            (folder / f"userLiab_{number}.json").read_text(),
            (folder / f"auditRoots_{number}.json").read_text(),
        )
        cases[f"swissborg/{number}"] = {"proof": user, "snapshot": roots, "root": None, "credential": credential}
    user, roots = (folder / "userLiab_1.json").read_text(), (folder / "auditRoots_1.json").read_text()
    commitment = json.loads(roots)["audit"]["commitment"]["digest"]
    good = credentials[1]
    cases |= {
        "swissborg/wrong-credential": {"proof": user, "snapshot": roots, "root": None, "credential": "not-mine"},
        "swissborg/other-audit": {"proof": user, "snapshot": (folder / "auditRoots_2.json").read_text(), "root": None, "credential": good},
        "swissborg/no-credential": {"proof": user, "snapshot": roots, "root": None, "credential": None},
        "swissborg/no-roots": {"proof": user, "snapshot": None, "root": commitment, "credential": good},
        "swissborg/roots-and-root": {"proof": user, "snapshot": roots, "root": commitment, "credential": good},
        "swissborg/leaf-liability": {"proof": _edit(user, lambda d: d["liabilities"][0].update(liability="0.13")), "snapshot": roots, "root": None, "credential": good},
        "swissborg/commitment": {"proof": user, "snapshot": _edit(roots, lambda d: d["audit"]["commitment"].update(digest="ab" * 32)), "root": None, "credential": good},
        "swissborg/malformed": {"proof": _edit(user, lambda d: d["liabilities"][0].update(liability="-1")), "snapshot": roots, "root": None, "credential": good},
    }  # fmt: skip
    return cases


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


def _root(document: dict[str, Any]) -> str:
    if "pathList" in document:
        return str(document["pathList"][-1]["hash"])
    if "root" in document:
        return str(document["root"]["hash"])
    top = document["path"][-1]
    return str(top.get("merkelLeaf") or top.get("merkleLeaf") or top["hash"])


def exchange_cases() -> dict[str, dict[str, Any]]:
    """MEXC's published example (MIT) and files of our own making in MEXC's, CoinEx's,
    Bitget's (2022 numbers, 2025 strings, 2026 file order) and Bitunix's formats: valid,
    against another root, alone, tampered and malformed."""
    mexc_example = (ROOT / "fixtures" / "formats" / "mexc" / "merkle_proof.json").read_text()
    documents = {
        "mexc": mexc_proof({"BTC": "1.5", "ETH": "0"}, [(2, {"BTC": "2.25", "USDT": "10"}), (0, {}), (1, {"ETH": "7.10", "USDC": "-3"})]),
        "coinex": coinex_proof({"BTC": "0.50", "USDT": "12.5"}, [("right", {"ETH": "2", "USDT": "-0.25"}), None, ("left", {"BTC": "1.000"})]),
        "bitget-2025": bitget_proof("bitget", {"BTC": "0.5", "ETH": "0", "USDT": "12.25", "USDC": "0"}, [(1, {"BTC": "1", "ETH": "2.5", "USDT": "0", "USDC": "3"}), (2, {"BTC": "0.25", "ETH": "0", "USDT": "7", "USDC": "-1"})]),
        "bitget-2026": bitget_proof("bitget", {"USDT": "1.5", "BTC": "0", "ETH": "0.1"}, [(2, {"USDT": "2", "BTC": "0.2", "ETH": "0"})], file_order=True),
        "bitget-2022": bitget_proof("bitget", {"BTC": Decimal("0.0000122055400000"), "LTC": Decimal("1.000000000E-7"), "USDT": Decimal("3181.57")}, [(0, {"BTC": Decimal("0"), "LTC": Decimal("0"), "USDT": Decimal("0")}), (1, {"BTC": Decimal("953.02"), "DOGE": Decimal("-100.0000")})]),
        "bybit-2022": bybit_original_proof({"BTC": "1.5", "ETH": "0", "USDT": "2.12345", "USDC": "0"}, [(2, {"BTC": "0.25", "ETH": "1", "USDT": "0", "USDC": "3.5"}), (1, {"BTC": "0", "ETH": "0", "USDT": "-7", "USDC": "0"})]),
        "bitunix": bitget_proof("bitunix", {"BTC": "0.00000000", "ETH": "0.00000000", "USDT": "208.800000"}, [(1, {"BTC": "0.00000001", "ETH": "0.00000000", "USDT": "1.510393"}), (2, {"BTC": "0.02598023", "ETH": "0.1", "USDT": "4518.642460"})]),
    }  # fmt: skip
    cases = {
        "mexc/example": {
            "proof": mexc_example,
            "snapshot": None,
            "root": json.loads(mexc_example)["pathList"][-1]["hash"],
        }
    }
    for name in ("mock_user_merkle_tree_path_40", "mock_user_merkle_tree_path_40_v2"):
        text = (ROOT / "fixtures" / "formats" / "bybit" / f"{name}.json").read_text()
        cases[f"bybit/{name}"] = {"proof": text, "snapshot": None, "root": json.loads(text)["path"][-1]["hash"]}
    unknown = bybit_original_proof(
        {"BTC": "1", "ETH": "0", "USDT": "2", "USDC": "0"}, [(2, {"BTC": "0", "ETH": "1", "USDT": "0", "USDC": "3"})]
    )
    for node in [unknown["self"], *unknown["path"]]:
        node["balance"]["DOGE"] = "0"
    cases["bybit/unknown-version"] = {"proof": json.dumps(unknown), "snapshot": None, "root": "ab" * 32}
    for name, document in documents.items():
        text, root = json_with_numbers(document), _root(document)
        cases[f"{name}/valid"] = {"proof": text, "snapshot": None, "root": root.upper()}
        cases[f"{name}/alone"] = {"proof": text, "snapshot": None, "root": None}
        cases[f"{name}/other-root"] = {"proof": text, "snapshot": None, "root": "ab" * (len(root) // 2)}
        cases[f"{name}/short-root"] = {"proof": text, "snapshot": None, "root": "ab"}
        cases[f"{name}/with-snapshot"] = {
            "proof": text,
            "snapshot": (VECTORS / "small" / "snapshot.json").read_text(),
            "root": None,
        }
        cases[f"{name}/truncated"] = {"proof": text[: len(text) // 2], "snapshot": None, "root": root}
        for position, old in enumerate(re.findall(r'"(-?[0-9]+\.[0-9]+|[1-9][0-9]*)"', text)[:3]):
            cases[f"{name}/amount-{position}"] = {
                "proof": text.replace(f'"{old}"', f'"{old}1"', 1),
                "snapshot": None,
                "root": root,
            }
        hashes = re.findall(r'"([0-9a-f]{16,64})"', text)
        cases[f"{name}/hash"] = {"proof": text.replace(hashes[0], hashes[0][::-1], 1), "snapshot": None, "root": root}
        cases[f"{name}/float"] = {
            "proof": re.sub(r"(: )([0-9]+)([,\n])", r"\1\2.0\3", text, count=1),
            "snapshot": None,
            "root": root,
        }
        cases[f"{name}/negative-int"] = {
            "proof": re.sub(r"(: )([0-9]+)([,\n])", r"\1-\2\3", text, count=1),
            "snapshot": None,
            "root": root,
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
        "CANNOT_CHECK": 1,
        "FAIL": 64,
        "MALFORMED": 67,
        "NOT_ANCHORED": 22,
        "PASS": 49,
    }


def test_vectors_pass_and_tampering_fails_at_the_cli_step(
    outcomes: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    assert outcomes["small/slot-00001"][0]["result"] == "PASS"
    assert outcomes["small/slot-00001/alone"][0]["result"] == "NOT_ANCHORED"
    assert outcomes["tampered/balance"][0]["steps"][4] == [5, "FAIL"]
    assert outcomes["malicious/proof_duplicated_odd_node.json"][0]["steps"][6] == [7, "FAIL"]
    assert outcomes["other-snapshot"][0]["steps"][5] == [6, "FAIL"]
    assert outcomes["mexc/example"][0]["result"] == "PASS"
    assert outcomes["bybit/mock_user_merkle_tree_path_40_v2"][0]["result"] == "PASS"
    assert outcomes["bybit/unknown-version"] == ({"result": "CANNOT_CHECK", "steps": []},) * 2
    assert outcomes["swissborg/3"][0]["result"] == "PASS"
    assert outcomes["htx/example"][0]["result"] == "PASS"
    assert outcomes["gate-350/total-below"][0]["steps"][-1] == [4, "FAIL"]
    assert outcomes["swissborg/wrong-credential"][0]["steps"][-1] == [4, "FAIL"]
    assert outcomes["bitget-2022/valid"][0]["steps"][-2:] == [[6, "WARN"], [6, "WARN"]]  # 64-bit hashes, a negative
    assert outcomes["coinex/hash"][0]["steps"][-1] == [2, "FAIL"]
    assert outcomes["bitunix/other-root"][0]["steps"][-1] == [5, "FAIL"]


def test_binance_zk_files_are_left_to_the_cli(tmp_path: Path) -> None:
    document = zk_proof("htx", {}, count=14)
    document["TotalCollateral"] = 0
    document["Assets"] = [{"Index": 0, "Equity": 1, "Debt": 0, "Loan": 0, "Margin": 0, "PortfolioMargin": 0}]
    outcomes = run_in_chromium(
        tmp_path, [{"proof": json.dumps(document), "snapshot": None, "root": "ab" * 32, "credential": None}]
    )
    assert outcomes == [{"result": "CANNOT_CHECK", "steps": []}]


def test_format_v2_proofs_are_left_to_the_cli(tmp_path: Path) -> None:
    folder = ROOT / "fixtures" / "vectors-v2" / "small"
    case = {"proof": (folder / "proofs" / "0.json").read_text(), "snapshot": (folder / "snapshot.json").read_text()}
    outcomes = run_in_chromium(tmp_path, [{**case, "root": None, "credential": None}])
    assert outcomes == [{"result": "CANNOT_CHECK", "steps": []}]


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
