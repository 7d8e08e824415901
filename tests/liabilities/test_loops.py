"""The pure-Python twins of the compiled loops (reserves.liabilities.loops): the same bytes
as the extension on the same buffers, and a publish without the extension byte-identical
to the vectors (what a machine without a C compiler runs)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from reserves.liabilities import _bulk, loops
from reserves.liabilities.secret import SnapshotSecret
from reserves.publishing import publish
from support import VECTOR_NAMES, cli, vector, vector_request


def test_twins_write_the_compiled_bytes() -> None:
    rng = random.Random(7)
    ids = [f"user-{i}-\u00e9".encode() * rng.randint(1, 3) for i in range(37)]
    offsets = np.array([0, *np.cumsum([len(i) for i in ids])], dtype=np.int64)
    data = np.frombuffer(b"".join(ids), dtype=np.uint8)
    key, prefix = bytes(range(32)), b"p" * 96
    hashes = {name: np.zeros((len(ids), 64), dtype=np.uint8) for name in ("c", "py")}
    _bulk.account_hashes(offsets, data, key, prefix, hashes["c"], 3, 30)
    loops.account_hashes(offsets, data, key, prefix, hashes["py"], 3, 30)
    assert hashes["c"].tobytes() == hashes["py"].tobytes()

    width, slots = 3 * 16, np.array(rng.sample(range(len(ids)), len(ids)), dtype=np.int64)
    raw = b"".join(rng.getrandbits(100).to_bytes(16, "big") for _ in range(len(ids) * 3))
    amounts = np.frombuffer(raw, dtype=np.uint8)
    leaves = {name: np.zeros(16 * (32 + width), dtype=np.uint8) for name in ("c", "py")}
    _bulk.leaf_records(b"l" * 96, hashes["c"], amounts, slots, 5, leaves["c"], width)
    loops.leaf_records(b"l" * 96, hashes["c"], amounts, slots, 5, leaves["py"], width)
    assert leaves["c"].tobytes() == leaves["py"].tobytes()

    # A builder holding only slots 5 … of slot_rows passes that range with its own offset.
    offset = {name: np.zeros(16 * (32 + width), dtype=np.uint8) for name in ("c", "py")}
    _bulk.leaf_records(b"l" * 96, hashes["c"], amounts, slots[5:], 5, offset["c"], width, 0)
    loops.leaf_records(b"l" * 96, hashes["c"], amounts, slots[5:], 5, offset["py"], width, 0)
    assert offset["c"].tobytes() == offset["py"].tobytes() == leaves["c"].tobytes()

    parents = {name: np.zeros(8 * (32 + width), dtype=np.uint8) for name in ("c", "py")}
    found = {"c": _bulk.parent_records(b"n" * 96, 3, 11, leaves["c"], parents["c"], 32 + width)}
    found["py"] = loops.parent_records(b"n" * 96, 3, 11, leaves["c"], parents["py"], 32 + width)
    assert found == {"c": -1, "py": -1}
    assert parents["c"].tobytes() == parents["py"].tobytes()


def test_twin_reports_the_first_overflow_as_the_compiled_loop_does() -> None:
    record = 32 + 2 * 16
    children = np.zeros(4 * record, dtype=np.uint8)
    children[2 * record + 32 + 16 : 2 * record + 64] = 0xFF  # parent 1, asset 1: (2^128 - 1) + 1
    children[3 * record + 63] = 1
    outs = [np.zeros(2 * record, dtype=np.uint8) for _ in range(2)]
    assert _bulk.parent_records(b"n", 1, 0, children, outs[0], record) == 3
    assert loops.parent_records(b"n", 1, 0, children, outs[1], record) == 3


def test_parents_at_any_index_are_parent_records_one_at_a_time() -> None:
    rng = random.Random(9)
    record = 32 + 3 * 16
    children = np.frombuffer(rng.randbytes(10 * record), dtype=np.uint8).copy()
    children.reshape(10, record)[:, 32::16] = 0  # top bytes of every sum zero: no overflow
    indexes = np.array([7, 0, 2**40, 3, 12], dtype=np.int64)
    expected = np.zeros((5, record), dtype=np.uint8)
    for i, index in enumerate(indexes.tolist()):
        assert (
            _bulk.parent_records(
                b"n" * 96, 4, index, children[2 * i * record : 2 * (i + 1) * record], expected[i], record
            )
            == -1
        )
    for engine in (_bulk, loops):
        out = np.zeros((5, record), dtype=np.uint8)
        assert engine.parents_at(b"n" * 96, 4, indexes, children, out, record) == -1
        assert out.tobytes() == expected.tobytes()
    children.reshape(10, record)[6, 32:48] = 0xFF  # parent 3 (children 6 and 7), asset 0
    children.reshape(10, record)[7, 47] |= 1
    for engine in (_bulk, loops):
        out = np.zeros((5, record), dtype=np.uint8)
        assert engine.parents_at(b"n" * 96, 4, indexes, children, out, record) == 3 * 3 + 0
    with pytest.raises(ValueError, match="a node index is never negative"):
        _bulk.parents_at(b"n", 1, np.array([-1], dtype=np.int64), children[: 2 * record], out[:1], record)


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_publish_without_the_extension_is_byte_identical(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loops, "compiled", None)
    out = tmp_path / name
    publish(
        vector(name) / "liabilities.csv", vector_request(name), out, secret=SnapshotSecret.load(vector(name) / "secret")
    )
    assert (out / "public" / "snapshot.json").read_bytes() == (vector(name) / "snapshot.json").read_bytes()
    proof_file = sorted((vector(name) / "proofs").glob("slot-*.json"))[-1]
    result = cli("proof", out, json.loads(proof_file.read_text())["account"]["id"])
    assert result.stdout == proof_file.read_text()


def test_a_large_run_without_the_extension_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(loops, "compiled", None)
    loops.notice_if_slow(99_999)
    assert capsys.readouterr().err == ""
    loops.notice_if_slow(100_000)
    assert capsys.readouterr().err == (
        "reserves: the compiled extension is not installed (no C compiler at install time): 100000 accounts run "
        "on the pure-Python loops, which are far slower\n"
    )
