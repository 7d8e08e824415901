"""The v2 commands as a user runs them: errors that say what to do, the 64-bit bound, a
missing range-proof library, the store's cache, the reserves side, the JSON schemas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reserves.liabilities.private_sums import curve
from support import ROOT, assert_valid, cli

SMALL = ROOT / "fixtures" / "vectors-v2" / "small"
EXAMPLES = ROOT / "fixtures" / "examples"
CSV = "account,BTC,ETH,USDT\nalice,1.5,0,10\nbob,0,2.25,0\ncarol,0.1,1,5.5\ndave,0,0,0\nerin,2,0.000000001,1\n"
OPTIONS = ("--exchange", "Test", "--snapshot-id", "t-1", "--cutoff", "2026-11-21T00:00:00Z")


def publish_v2(tmp_path: Path, csv: str = CSV, decimals: str = "BTC=8,ETH=9,USDT=6", *extra: str | Path) -> Path:
    (tmp_path / "l.csv").write_text(csv)
    out = tmp_path / "snap"
    result = cli(
        "publish", tmp_path / "l.csv", *OPTIONS, "--decimals", decimals, "--private-sums", "--out", out, *extra
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_total_beyond_64_bits_is_refused_naming_the_decimals_that_fit(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("account,ETH\nalice,10\nbob,9.000000000000000001\n")
    result = cli(
        "publish", tmp_path / "l.csv", *OPTIONS, "--decimals", "ETH=18", "--private-sums", "--out", tmp_path / "s"
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "reserves: invalid input: ETH: the total of its balances is not below 2^64 smallest units at 18 decimals, "
        "so format v2's range proofs cannot cover it; at 17 decimals (balances rounded up) it fits: declare ETH "
        "with 17 decimals\n"
    )
    assert not (tmp_path / "s").exists()
    assert list(tmp_path.glob(".s.*")) == []  # nothing half-written


def test_a_height_cannot_be_chosen_for_private_sums(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text(CSV)
    options = ("--decimals", "BTC=8,ETH=9,USDT=6", "--private-sums", "--height", "5", "--out", tmp_path / "s")
    result = cli("publish", tmp_path / "l.csv", *OPTIONS, *options)
    assert result.exit_code == 2
    assert "format v2 sizes each asset's tree to its holders: a height cannot be chosen" in result.stderr


def test_proof_of_an_unknown_account_is_refused(tmp_path: Path) -> None:
    out = publish_v2(tmp_path)
    result = cli("proof", out, "mallory")
    assert (result.exit_code, result.stderr) == (2, "reserves: invalid input: no account 'mallory' in this snapshot\n")
    dave = json.loads(cli("proof", out, "dave").stdout)  # an account that holds nothing has an empty proof
    assert dave["holdings"] == []


def test_a_corrupted_cached_range_proof_is_caught_before_a_proof_is_handed_out(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("11" * 32 + "\n")
    out = publish_v2(tmp_path, CSV, "BTC=8,ETH=9,USDT=6", "--secret", tmp_path / "secret")
    holders = ("alice", "bob", "carol", "erin")
    assert all(cli("proof", out, name).exit_code == 0 for name in holders)
    cached = sorted(p for p in (out / "private" / "store").glob("*-ranges-00.bin") if any(p.read_bytes()))
    assert cached, "the first proofs cache their range proofs"
    data = bytearray(cached[0].read_bytes())
    first = next(i for i, b in enumerate(data) if b)
    data[first + 100] ^= 0x01
    cached[0].write_bytes(bytes(data))
    results = [cli("proof", out, name) for name in holders]
    failed = [r for r in results if r.exit_code != 0]
    assert failed and {r.exit_code for r in failed} == {1}
    assert "check failed: the store gives a proof that does not verify" in failed[0].stderr


def test_a_v2_proof_against_a_v1_snapshot_is_malformed(tmp_path: Path) -> None:
    v1 = ROOT / "fixtures" / "vectors" / "small" / "snapshot.json"
    result = cli("verify", SMALL / "proofs" / "0.json", "--snapshot", v1)
    assert result.exit_code == 2
    assert "$.format: expected 'reserves-snapshot/2', found 'reserves-snapshot/1'" in result.stderr


def test_a_wrong_root_fails_and_a_misstated_root_is_malformed(tmp_path: Path) -> None:
    wrong = cli("verify", SMALL / "proofs" / "0.json", "--root", "ab" * 32, "--json")
    assert wrong.exit_code == 1
    last = json.loads(wrong.stdout)["checks"][-1]
    assert (last["id"], last["detail"]) == ("root-published", "snapshot root differs from the one supplied")
    document = json.loads((SMALL / "proofs" / "0.json").read_text())
    document["snapshot"]["root"] = "cd" * 32
    (tmp_path / "p.json").write_text(json.dumps(document))
    result = cli("verify", tmp_path / "p.json", "--no-anchor")
    assert result.exit_code == 2
    assert "$.snapshot.root: is not the hash of the trees' roots" in result.stderr


def test_without_the_range_proof_library_v2_cannot_be_checked_and_says_so(tmp_path: Path) -> None:
    # embit's bundled libsecp256k1-zkp missing (an unsupported platform): a stand-in embit whose
    # ctypes module fails to load the library the way the real one does
    fake = tmp_path / "site" / "embit" / "util"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "ctypes_secp256k1.py").write_text(
        "raise OSError('libsecp256k1_linux_x86_64.so: cannot open shared object file')\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    command = [sys.executable, "-m", "reserves", "verify", str(SMALL / "proofs" / "0.json"), "--snapshot"]
    result = subprocess.run(
        [*command, str(SMALL / "snapshot.json")], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "reserves: cannot check: format v2 needs secp256k1-zkp's range proofs, and embit's bundled library did "
        "not load (libsecp256k1_linux_x86_64.so: cannot open shared object file)"
    )


def test_the_reserves_side_works_on_a_v2_snapshot(tmp_path: Path) -> None:
    out = publish_v2(tmp_path, CSV, "BTC=8,ETH=9,USDT=6", "--reserves", EXAMPLES / "reserves.json")
    snapshot = out / "public" / "snapshot.json"
    root = json.loads(snapshot.read_text())["root"]
    messages = json.loads(cli("messages", snapshot, "--json").stdout)["messages"]
    assert [m["label"] for m in messages] == ["eth-cold", "eth-hot", "btc-hot"]
    assert f"root: {root}" in messages[0]["message"].split("\n")
    signed = cli("sign", snapshot, "--keys", EXAMPLES / "keys.json")
    assert signed.exit_code == 0, signed.output
    document = json.loads(snapshot.read_text())
    assert document["format"] == "reserves-snapshot/2" and document["wallets"][0]["ownership"]["signatures"]
    proof = tmp_path / "alice.json"
    proof.write_text(cli("proof", out, "alice").stdout)
    assert cli("verify", proof, "--snapshot", snapshot).exit_code == 0  # signatures do not touch the commitment
    audit = cli(
        "audit", snapshot, "--liabilities", tmp_path / "l.csv", "--secret", out / "private" / "secret", "--json"
    )
    document = json.loads(audit.stdout)
    assert audit.exit_code == 3  # no node given: the chains are not read, never a PASS
    assert document["result"] == "INCOMPLETE"
    assert [c["status"] for c in document["checks"] if c["step"] <= 4] == ["PASS"] * 10
    assert_valid(document, "audit.schema.json")


def test_every_v2_file_and_output_validates_against_its_schema(tmp_path: Path) -> None:
    out = publish_v2(tmp_path)
    assert_valid(json.loads((out / "public" / "snapshot.json").read_text()), "snapshot-v2.schema.json")
    for path in sorted((ROOT / "fixtures" / "vectors-v2").glob("*/proofs/*.json")):
        assert_valid(json.loads(path.read_text()), "proof-v2.schema.json")
    (tmp_path / "again.csv").write_text(CSV)
    published = cli(
        "publish", tmp_path / "again.csv", *OPTIONS, "--decimals", "BTC=8,ETH=9,USDT=6", "--private-sums",
        "--out", tmp_path / "again", "--json",
    )  # fmt: skip
    assert_valid(json.loads(published.stdout), "publish.schema.json")
    verified = cli("verify", SMALL / "proofs" / "1.json", "--snapshot", SMALL / "snapshot.json", "--json")
    assert_valid(json.loads(verified.stdout), "verify.schema.json")


@pytest.mark.parametrize("bits", [1, 2, 7, 8, 9, 16, 17, 33, 63, 64])
def test_the_canonical_range_proof_length_is_the_librarys(bits: int) -> None:
    generator = curve.generator(bytes([bits]) * 32)
    value = (1 << bits) - 1
    commitment = curve.commit(12345, value, generator)
    proof = curve.range_proof(value, 12345, commitment, generator, nonce=bytes(32), extra=b"x", bits=bits)
    assert len(proof) == curve.range_proof_length(bits)
    assert curve.verified_range(proof, commitment, generator, extra=b"x") == (0, (1 << bits) - 1)


def test_proofs_in_bulk_from_a_v2_store(tmp_path: Path) -> None:
    out = publish_v2(tmp_path)
    (tmp_path / "ids.txt").write_text("alice\ncarol\ndave\n")
    result = cli("proofs", out, "--ids", tmp_path / "ids.txt", "--jsonl", tmp_path / "proofs.jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "proofs.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["alice", "carol", "dave"]
    for line in lines:
        assert line["proof"] == json.loads(cli("proof", out, line["id"]).stdout)
    (tmp_path / "bad.txt").write_text("alice\nmallory\n")
    failed = cli("proofs", out, "--ids", tmp_path / "bad.txt", "--out", tmp_path / "folder")
    assert failed.exit_code == 2 and "no account 'mallory' in this snapshot" in failed.stderr
    assert not (tmp_path / "folder").exists()


def test_an_audit_of_a_file_whose_total_does_not_fit_fails_the_total_check(tmp_path: Path) -> None:
    out = publish_v2(tmp_path, "account,ETH\nalice,10\nbob,0\n", "ETH=18")
    (tmp_path / "bigger.csv").write_text("account,ETH\nalice,10\nbob,9\n")
    snapshot, secret = out / "public" / "snapshot.json", out / "private" / "secret"
    result = cli("audit", snapshot, "--liabilities", tmp_path / "bigger.csv", "--secret", secret, "--json")
    assert result.exit_code == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"]
    assert [(c["id"], c["detail"][:52]) for c in failed] == [
        ("root-sum", "the liabilities file does not fit format v2: ETH: th")
    ]
