"""The verdict and the JSON contract (issue: no PASS without the evidence behind it).

The README's commands run as written with ``fixtures/examples/``; an audit that read no
reserves is INCOMPLETE in all four outputs; ``--liabilities-only`` says what it checked;
every ``--json`` output and every file the tool writes validates against its schema in
``docs/schemas/``; no API key in a source URL reaches any output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from support import DEMO_LIABILITIES, DEMO_OPTIONS, ROOT, assert_valid, cli

EXAMPLES = ROOT / "fixtures" / "examples"


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's publish and sign, as written, with the example inputs."""
    out = tmp_path_factory.mktemp("readme") / "snap"
    published = cli(
        "publish",
        DEMO_LIABILITIES,
        *DEMO_OPTIONS,
        "--reserves",
        EXAMPLES / "reserves.json",
        "--out",
        out,
        "--json",
    )
    assert published.exit_code == 0, published.stderr
    assert_valid(json.loads(published.stdout), "publish.schema.json")
    signed = cli("sign", out / "public" / "snapshot.json", "--keys", EXAMPLES / "keys.json")
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout == f"Signed ownership of eth-cold, eth-hot, btc-hot in {out / 'public' / 'snapshot.json'}\n"
    return out


def audit(snap: Path, *options: str | Path) -> Any:
    return cli(
        "audit",
        snap / "public" / "snapshot.json",
        "--liabilities",
        DEMO_LIABILITIES,
        "--secret",
        snap / "private" / "secret",
        *options,
    )


INCOMPLETE = (
    "ethereum not read (no source given); bitcoin not read (no source given); BTC, ETH and USDT have no verdict"
)


def test_audit_without_sources_is_incomplete_in_all_four_outputs(snap: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    human = audit(snap, "--report", report)
    assert human.exit_code == 3
    assert f"\nINCOMPLETE: {INCOMPLETE}\n" in human.stdout
    assert "PASS:" not in human.stdout
    document = json.loads(audit(snap, "--json").stdout)
    assert (document["result"], document["reason"]) == ("INCOMPLETE", INCOMPLETE)
    assert_valid(document, "audit.schema.json")
    html = report.read_text()
    assert '<span class="verdict INCOMPLETE" id="verdict">INCOMPLETE</span>' in html
    assert f'<span id="reason">{INCOMPLETE}</span>' in html
    assert "verdict PASS" not in html


def test_liabilities_only_says_what_it_checked(snap: Path) -> None:
    result = audit(snap, "--liabilities-only")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "\nPASS: liabilities match the published snapshot; reserves were not checked (liabilities only)\n"
    )
    document = json.loads(audit(snap, "--liabilities-only", "--json").stdout)
    assert (document["result"], document["scope"]) == ("PASS", "liabilities-only")
    assert "reserves" not in document
    assert_valid(document, "audit.schema.json")
    mixed = audit(snap, "--liabilities-only", "--rpc", "ethereum=http://127.0.0.1:1")
    assert mixed.exit_code == 2
    assert mixed.stderr == "reserves: invalid input: --liabilities-only reads no chain: leave out --rpc and --esplora\n"


def test_api_key_in_a_source_url_appears_in_no_output(snap: Path, tmp_path: Path) -> None:
    key = "S3CRETKEY9"
    url = f"http://user:{key}@127.0.0.1:9/v3/{key}?apikey={key}"
    report = tmp_path / "report.html"
    for options in (("--report", report), ("--json",)):
        result = audit(snap, "--rpc", f"ethereum={url}", "--timeout", "0.2", *options)
        assert result.exit_code == 3
        outputs = result.stdout + result.stderr
        assert key not in outputs and "user:" not in outputs
        assert "ethereum (http://127.0.0.1:9/…): gave up after 5 retries (connection error" in outputs
        assert "reserves: ethereum: retry 1/5 after connection error" in result.stderr
    assert key not in report.read_text()
    assert "http://127.0.0.1:9/…" in report.read_text()


def test_source_urls_come_from_the_environment(snap: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESERVES_RPC_ETHEREUM", "http://127.0.0.1:9/v3/ENVKEY123")
    document = json.loads(audit(snap, "--json", "--timeout", "0.2").stdout)
    assert document["unread_chains"] == {"ethereum": "its source failed", "bitcoin": "no source given"}
    assert document["inputs"]["sources"] == {"ethereum": "http://127.0.0.1:9/…"}
    assert "ENVKEY123" not in json.dumps(document)


def test_every_json_output_validates_against_its_schema(snap: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.json"
    proof.write_text(cli("proof", snap, "user-000042@example.com").stdout)
    assert_valid(json.loads(proof.read_text()), "proof.schema.json")
    assert_valid(json.loads((snap / "public" / "snapshot.json").read_text()), "snapshot.schema.json")
    assert_valid(json.loads((EXAMPLES / "reserves.json").read_text()), "reserves-input.schema.json")
    assert_valid(json.loads((EXAMPLES / "keys.json").read_text()), "keys-input.schema.json")
    outputs = {
        "verify.schema.json": [
            cli("verify", proof, "--snapshot", snap / "public" / "snapshot.json", "--json"),
            cli("verify", proof, "--no-anchor", "--json"),
            cli("verify", proof, "--root", "00" * 32, "--json"),
        ],
        "custody.schema.json": [cli("custody", snap / "public" / "snapshot.json", "--json")],
        "messages.schema.json": [cli("messages", snap / "public" / "snapshot.json", "--json")],
        "error.schema.json": [
            cli("verify", tmp_path / "missing.json", "--no-anchor", "--json"),
            cli(
                "audit",
                snap / "public" / "snapshot.json",
                "--liabilities",
                tmp_path / "nope.csv",
                "--secret",
                snap / "private" / "secret",
                "--json",
            ),
        ],
    }
    for schema, results in outputs.items():
        for result in results:
            document = json.loads(result.stdout)
            assert document["schema"].startswith("reserves/")
            assert "result" in document
            assert_valid(document, schema)
    assert [json.loads(r.stdout)["result"] for r in outputs["verify.schema.json"]] == ["PASS", "NOT_ANCHORED", "FAIL"]
    custody = json.loads(outputs["custody.schema.json"][0].stdout)
    assert (custody["result"], custody["reason"]) == (
        "INCOMPLETE",
        "ethereum not read (no source given); bitcoin not read (no source given)",
    )


def test_a_missing_local_file_is_a_usage_error(tmp_path: Path, snap: Path) -> None:
    missing = tmp_path / "nope.json"
    for command in (("verify", missing, "--no-anchor"), ("custody", missing), ("messages", missing)):
        result = cli(*command)
        assert result.exit_code == 2
        assert result.stderr == f"reserves: invalid input: cannot read {missing}: No such file or directory\n"


def test_help_documents_every_exit_code() -> None:
    for command in ("verify", "audit", "publish", "custody"):
        text = re.sub(r"\s+", " ", cli(command, "--help").stdout)
        assert "130 interrupted" in text and "3 a network source" in text, command
