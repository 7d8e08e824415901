"""The two engines of the v2 build give the same bytes: the compiled loops (``_private``, on
libsecp256k1's public API, a thread per core) and the plain-Python twin (``tree``'s
functions, for machines without a compiler). Every level, every order key, every root."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from reserves.liabilities.csv_file import parse_liabilities, read_liabilities
from reserves.liabilities.private_sums import building
from reserves.liabilities.private_sums.building import Identity, TreeSink, build_private_trees, rounded_up
from reserves.liabilities.private_sums.store import PrivateStore, StoreWriter
from support import ROOT

pytestmark = pytest.mark.skipif(building.compiled is None, reason="the compiled loops were not built")


class Recorder(TreeSink):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int, bytes]] = []

    def accounts(self, keys: bytes) -> None:
        self.calls.append(("accounts", -1, -1, keys))

    def holders(self, asset: int, order_keys: bytes) -> None:
        self.calls.append(("holders", asset, -1, order_keys))

    def level(self, asset: int, level: int, records: bytes) -> None:
        self.calls.append(("level", asset, level, records))


def liabilities_text(accounts: int, seed: int) -> str:
    rng = random.Random(seed)
    lines = ["account,BTC,ETH,DOGE"]
    for n in range(accounts):
        cells = []
        for _ in range(3):
            roll = rng.random()
            value = 0 if roll < 0.4 else rng.randrange(1, 256) if roll < 0.6 else rng.randrange(1, 2**52)
            cells.append(f"{value // 10**8}.{value % 10**8:08d}".rstrip("0").rstrip("."))
        lines.append(f"user-{n}," + ",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("accounts", "seed", "multiple"),
    [
        (1, 1, 1),
        (2, 2, 1),
        (3, 3, 1),
        (17, 4, 1),
        (64, 5, 1),
        (65, 6, 1),
        (300, 7, 1),
        (1, 8, 4),
        (65, 9, 7),
        (300, 10, 64),
    ],
)
def test_the_compiled_and_the_python_engine_write_the_same_bytes(
    accounts: int, seed: int, multiple: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = liabilities_text(accounts, seed).encode()
    liabilities = parse_liabilities(raw, {"BTC": 8, "ETH": 8, "DOGE": 8}, source="l.csv")
    identity, key, dummies = Identity("Twin", "t-1", 1_790_000_000), bytes([seed]) * 32, rounded_up(multiple)
    fast = Recorder()
    fast_commitment = build_private_trees(liabilities, identity, key, sink=fast, dummies=dummies)
    monkeypatch.setattr(building, "compiled", None)  # what a machine without a compiler runs
    slow = Recorder()
    slow_commitment = build_private_trees(liabilities, identity, key, sink=slow, dummies=dummies)
    assert all(shape.holders % multiple == 0 for shape in fast_commitment.context.shapes)
    assert fast_commitment == slow_commitment
    assert [c[:3] for c in fast.calls] == [c[:3] for c in slow.calls]
    for mine, theirs in zip(fast.calls, slow.calls, strict=True):
        assert mine[3] == theirs[3], mine[:3]


def test_small_values_take_one_table_entry_and_large_ones_eight(monkeypatch: pytest.MonkeyPatch) -> None:
    # values whose bytes are all non-zero, and values with a single non-zero byte, both match
    lines = ["account,BTC", "a,0.00000001", "b,0.00000255", "c,184467.44073709", "d,72057.59403792"]
    liabilities = parse_liabilities(("\n".join(lines) + "\n").encode(), {"BTC": 8}, source="l.csv")
    identity, key = Identity("Twin", "t-2", 0), b"\x05" * 32
    fast = build_private_trees(liabilities, identity, key)
    monkeypatch.setattr(building, "compiled", None)
    assert build_private_trees(liabilities, identity, key) == fast


def test_range_proofs_made_at_publish_are_the_ones_made_on_request(tmp_path: Path) -> None:
    folder = ROOT / "fixtures" / "vectors-v2" / "small"
    spec = json.loads((ROOT / "fixtures" / "vectors-v2" / "identities.json").read_text())["small"]
    liabilities = read_liabilities(folder / "liabilities.csv", dict(spec["assets"]))
    identity = Identity(spec["exchange"], spec["snapshot_id"], spec["cutoff"])
    key = bytes.fromhex((folder / "secret").read_text()[:64])
    snap = tmp_path / "snap"
    (snap / "public").mkdir(parents=True)
    shutil.copy(folder / "secret", tmp_path / "secret")
    (snap / "private").mkdir()
    shutil.copy(folder / "secret", snap / "private" / "secret")
    writer = StoreWriter(snap / "private" / "store", eager_level=0)  # every level made at publish
    commitment = build_private_trees(liabilities, identity, key, sink=writer)
    writer.finish(commitment, key)
    shutil.copy(folder / "snapshot.json", snap / "public" / "snapshot.json")
    store = snap / "private" / "store"
    made = {p.name: p.read_bytes() for p in sorted(store.glob("*-ranges-*.bin"))}
    levels = json.loads((store / "manifest.json").read_text())["levels"]
    below_roots = [f"{a}-ranges-{level:02d}.bin" for a, counts in enumerate(levels) for level in range(len(counts) - 1)]
    assert below_roots and all(made[name].count(0) < len(made[name]) // 8 for name in below_roots)
    for number, account_id in enumerate(liabilities.ids):
        proof = PrivateStore.open(snap).proof(account_id)
        assert proof.to_text() == (folder / "proofs" / f"{number}.json").read_text()
    assert {p.name: p.read_bytes() for p in sorted(store.glob("*-ranges-*.bin"))} == made  # nothing left to make


def test_embits_libsecp256k1_gives_the_same_bytes_as_coincurves(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = liabilities_text(40, 9).encode()
    liabilities = parse_liabilities(raw, {"BTC": 8, "ETH": 8, "DOGE": 8}, source="l.csv")
    identity, key = Identity("Twin", "t-3", 0), b"\x09" * 32
    with_coincurve = Recorder()
    build_private_trees(liabilities, identity, key, sink=with_coincurve)
    monkeypatch.setattr(building, "library_functions", building.embit_functions)
    with_embit = Recorder()
    build_private_trees(liabilities, identity, key, sink=with_embit)
    assert building.coincurve_functions() != building.embit_functions()
    assert with_coincurve.calls == with_embit.calls
