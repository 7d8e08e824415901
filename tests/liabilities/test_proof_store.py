"""The proof store: every account's proof comes out, checked, without loading it whole."""

from __future__ import annotations

from pathlib import Path

from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.snapshot import load_snapshot
from reserves.verify import Anchor, verify_proof
from support import DEMO_LIABILITIES, FIVE_ACCOUNTS, SECRET, Published, cli, publish_csv


def test_every_demo_account_proof_verifies(tmp_path: Path) -> None:
    published = publish_csv(tmp_path, DEMO_LIABILITIES.read_text(), {"BTC": 8, "ETH": 18, "USDT": 6})
    store = ProofStore.open(published.directory)
    anchor = Anchor(snapshot=load_snapshot(published.snapshot_json))
    ids = [line.split(",")[0] for line in DEMO_LIABILITIES.read_text().splitlines()[1:] if '"' not in line]
    ids += ["doe, jane", 'quote "q" user']
    slots = set()
    for account_id in ids:
        proof = store.proof(account_id)
        assert verify_proof(proof, anchor).ok(strict=True), account_id
        slots.add(proof.account.index)
    assert slots == set(range(3000))


def test_proof_command_prints_the_proof(four: Published) -> None:
    result = cli("proof", four.directory, "dave")
    assert result.exit_code == 0
    assert result.stdout == ProofStore.open(four.directory).proof("dave").to_text()
    assert '"id": "dave"' in result.stdout


def test_unknown_account_is_a_clear_error(four: Published) -> None:
    result = cli("proof", four.directory, "nobody@example.com")
    assert result.exit_code == 2
    assert result.stderr == "reserves: invalid input: account 'nobody@example.com' is not in snapshot 'test-1'\n"


def test_not_a_snapshot_directory(tmp_path: Path) -> None:
    result = cli("proof", tmp_path / "missing", "alice")
    assert result.exit_code == 2
    assert (
        result.stderr == f"reserves: invalid input: {tmp_path / 'missing'} "
        "is not a snapshot directory (made by 'reserves publish')\n"
    )


def test_tampered_store_is_detected(four: Published) -> None:
    slot = ProofStore.open(four.directory).proof("bob").account.index
    level0 = four.directory / "private" / "store" / "level-00.bin"
    data = bytearray(level0.read_bytes())
    data[slot * 64 + 40] ^= 1  # bob's BTC balance in the stored leaf
    level0.write_bytes(bytes(data))
    result = cli("proof", four.directory, "bob")
    assert result.exit_code == 1
    assert f"the store's leaf in slot {slot} is not 'bob''s" in result.stderr


def test_store_of_another_snapshot_is_rejected(tmp_path: Path) -> None:
    first = publish_csv(tmp_path, "account,BTC,ETH\na,1,1\nb,2,2\n", name="a")
    second = publish_csv(tmp_path, "account,BTC,ETH\na,1,1\nb,3,2\n", name="b", secret=SECRET)
    (first.directory / "public" / "snapshot.json").write_bytes(
        (second.directory / "public" / "snapshot.json").read_bytes()
    )
    result = cli("proof", first.directory, "a")
    assert result.exit_code == 2
    assert "private/store/manifest.json $.root: does not match public/snapshot.json" in result.stderr


def test_corrupted_sibling_in_the_store_is_refused_not_handed_out(tmp_path: Path) -> None:
    """Reliability finding D12: a flipped byte in a sibling's record made 'proof' hand out a
    proof that then failed the user's verify; it is now refused as a corrupted store."""
    published = publish_csv(tmp_path, FIVE_ACCOUNTS)
    level = published.directory / "private" / "store" / "level-00.bin"
    data = bytearray(level.read_bytes())
    slot = ProofStore.open(published.directory).slot_of("alice")
    assert slot is not None
    record = 32 + 16 * 2  # hash and two u128 sums
    data[(slot ^ 1) * record] ^= 0x01  # the first hash byte of alice's sibling
    level.write_bytes(bytes(data))
    result = cli("proof", published.directory, "alice")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"reserves: check failed: the proof store is corrupted: the path of slot {slot} fails "
    )
