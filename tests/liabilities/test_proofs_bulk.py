"""Proofs in bulk (``reserves proofs``, ``ProofStore.serving``): the same proofs as
``reserves proof`` prints, into one JSON Lines file or a new folder, all or nothing, and
from many threads at once."""

from __future__ import annotations

import hashlib
import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reserves.encoding import format_amount
from reserves.errors import VerificationError
from reserves.liabilities import loops
from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.publishing import publish
from support import cli, vector, vector_request


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("bulk") / "snap"
    publish(
        vector("small") / "liabilities.csv",
        vector_request("small"),
        out,
        secret=SnapshotSecret.load(vector("small") / "secret"),
    )
    proofs = {}
    for proof_file in sorted((vector("small") / "proofs").glob("slot-*.json")):
        proofs[json.loads(proof_file.read_text())["account"]["id"]] = proof_file.read_text()
    return out, proofs


def write_ids(path: Path, ids: list[str], ending: str = "\n") -> Path:
    path.write_text("".join(i + ending for i in ids), encoding="utf-8")
    return path


def test_jsonl_holds_every_proof_as_proof_prints_it(published: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, proofs = published
    ids = sorted(proofs)
    result = cli("proofs", out, "--ids", write_ids(tmp_path / "ids.txt", ids, "\r\n"), "--jsonl", tmp_path / "p.jsonl")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Wrote {len(ids)} proofs to {tmp_path / 'p.jsonl'} in ")
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ids
    assert all(line["proof"] == json.loads(proofs[line["id"]]) for line in lines)


def test_folder_holds_one_file_per_account(published: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, proofs = published
    folder = tmp_path / "proofs"
    result = cli("proofs", out, "--ids", write_ids(tmp_path / "ids.txt", sorted(proofs)), "--out", folder)
    assert result.exit_code == 0, result.stderr
    for account_id, text in proofs.items():
        assert (folder / f"{hashlib.sha256(account_id.encode()).hexdigest()}.json").read_text() == text
    assert len(list(folder.iterdir())) == len(proofs)


def test_errors_leave_nothing_behind(published: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, proofs = published
    ids = write_ids(tmp_path / "ids.txt", [*sorted(proofs), "nobody@example.com"])
    unknown = cli("proofs", out, "--ids", ids, "--jsonl", tmp_path / "p.jsonl")
    assert unknown.exit_code == 2
    assert unknown.stderr == "reserves: invalid input: account 'nobody@example.com' is not in snapshot '2026-11-21'\n"
    assert list(tmp_path.iterdir()) == [ids]
    blank = cli("proofs", out, "--ids", write_ids(tmp_path / "blank.txt", ["a", ""]), "--out", tmp_path / "o")
    assert blank.exit_code == 2
    assert f"{tmp_path / 'blank.txt'}:2: account id must be 1 to 256 bytes of UTF-8, found 0" in blank.stderr
    both = cli("proofs", out, "--ids", ids, "--jsonl", tmp_path / "p.jsonl", "--out", tmp_path / "o")
    assert (both.exit_code, both.stderr) == (
        2,
        "reserves: invalid input: give exactly one of a JSON Lines file or an output folder\n",
    )
    (tmp_path / "taken").mkdir()
    taken = cli(
        "proofs", out, "--ids", write_ids(tmp_path / "one.txt", sorted(proofs)[:1]), "--out", tmp_path / "taken"
    )
    assert (taken.exit_code, taken.stderr) == (
        2,
        f"reserves: invalid input: {tmp_path / 'taken'} exists: proofs are written into a new folder\n",
    )


def test_a_served_store_gives_the_same_proofs_from_many_threads(published: tuple[Path, dict[str, str]]) -> None:
    out, proofs = published
    ids = sorted(proofs) * 25
    with ProofStore.open(out).serving() as store, ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda i: store.proof(i).to_text(), ids))
    assert texts == [proofs[i] for i in ids]


def test_bulk_lines_are_json_dumps_of_each_proof(published: tuple[Path, dict[str, str]]) -> None:
    """``jsonl`` (the bulk path of ``reserves proofs --jsonl``) writes byte for byte what
    ``json.dumps`` of one proof at a time writes, for every account of the vectors (their
    ids hold Unicode, quotes and commas), in any order, repeated, from many threads."""
    out, proofs = published
    ids = sorted(proofs)
    ids = [*ids, *reversed(ids), ids[0]]
    with ProofStore.open(out).serving() as store, ThreadPoolExecutor(4) as pool:
        expected = [json.dumps({"id": i, "proof": store.proof(i).to_json()}) + "\n" for i in ids]
        assert store.jsonl(ids) == expected
        assert [line for lines in pool.map(store.jsonl, [ids[:3], ids[3:], ids]) for line in lines] == expected * 2
        assert store.jsonl([]) == []


def test_bulk_documents_are_each_proof_as_proof_prints_it(published: tuple[Path, dict[str, str]]) -> None:
    """``documents`` (the bulk path of ``reserves proofs --out``) writes byte for byte what
    ``reserves proof`` prints, for every account of the vectors, in any order, repeated."""
    out, proofs = published
    ids = sorted(proofs)
    ids = [*ids, *reversed(ids), ids[0]]
    with ProofStore.open(out).serving() as store:
        assert store.documents(ids) == [proofs[i] for i in ids]
        assert store.documents(ids) == [store.proof(i).to_text() for i in ids]
        assert store.documents([]) == []


def test_the_bulk_formatter_spells_amounts_as_format_amount() -> None:
    rng = random.Random(5)
    values = [0, 1, 10**36, 2**128 - 1, *(rng.randrange(2**128) for _ in range(300))]
    values += [rng.randrange(10 ** rng.randrange(1, 39)) for _ in range(300)]
    decimals = tuple(rng.randrange(37) for _ in values)
    record = bytes(range(32)) + b"".join(v.to_bytes(16, "big") for v in values)
    names = tuple(f'"A{n}": '.encode() for n in range(len(values)))
    spelled = ", ".join(
        f'"A{n}": "{format_amount(v, d)}"' for n, (v, d) in enumerate(zip(values, decimals, strict=True))
    )
    expected = f'{{"hash": "{bytes(range(32)).hex()}", "sums": {{{spelled}}}}}'
    node = json.loads(expected)
    for engine in (loops, loops.compiled):
        assert engine is not None
        assert engine.nodes_json(record * 2, len(record), decimals, names, True) == [expected, expected]
        assert engine.nodes_json(record, len(record), decimals, names, False) == [
            expected[expected.index("{", 1) :][:-1]
        ]
        for depth in (0, 4, 64):  # laid out as json.dumps(indent=2) does, the brace `depth` deep
            for with_hash, shown in ((True, node), (False, node["sums"])):
                indented = json.dumps(shown, indent=2).replace("\n", "\n" + " " * depth)
                assert engine.nodes_json(record, len(record), decimals, names, with_hash, depth) == [indented]


def test_bulk_proofs_refuse_a_corrupted_store_as_proof_does(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    publish(
        vector("small") / "liabilities.csv",
        vector_request("small"),
        out,
        secret=SnapshotSecret.load(vector("small") / "secret"),
    )
    store = ProofStore.open(out)
    ids = [json.loads(p.read_text())["account"]["id"] for p in sorted((vector("small") / "proofs").glob("slot-*.json"))]
    victim = ids[len(ids) // 2]
    slot = store.slot_of(victim)
    assert slot is not None
    level = out / "private" / "store" / "level-01.bin"
    data = bytearray(level.read_bytes())
    data[((slot >> 1) ^ 1) * store.record_size + 40] ^= 0x01  # a sum of the victim's level-1 sibling
    level.write_bytes(bytes(data))
    with store.serving() as served:
        with pytest.raises(VerificationError) as single:
            served.proof(victim)
        with pytest.raises(VerificationError) as bulk:
            served.jsonl(ids)
    assert str(bulk.value) == str(single.value)
    assert str(bulk.value).startswith(f"the proof store is corrupted: the path of slot {slot} fails ")
    result = cli("proofs", out, "--ids", write_ids(tmp_path / "ids.txt", ids), "--jsonl", tmp_path / "p.jsonl")
    assert result.exit_code == 1
    assert not (tmp_path / "p.jsonl").exists()
