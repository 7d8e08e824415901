"""Properties over random snapshots: every proof verifies; any changed byte, sum, index
or path length fails; building twice gives the same root."""

from __future__ import annotations

import dataclasses
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reserves.audit import audit_liabilities
from reserves.liabilities.proof import InclusionProof
from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotCommitment, load_snapshot
from reserves.liabilities.tree import Node
from reserves.publishing import SnapshotRequest, publish
from reserves.verify import Anchor, verify_proof

U128 = 1 << 128
DECIMALS = {"BTC": 8, "WEI": 0}

account_ids = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: 0 < len(s.encode()) <= 256)
)
rows = st.lists(
    st.tuples(account_ids, st.integers(0, 10**15), st.integers(0, U128 // 64)),
    min_size=1,
    max_size=24,
    unique_by=lambda row: row[0],
)


def csv_text(table: list[tuple[str, int, int]]) -> str:
    lines = ["account,BTC,WEI"]
    for account_id, btc, wei in table:
        quoted = '"' + account_id.replace('"', '""') + '"'
        lines.append(f"{quoted},{btc // 10**8}.{btc % 10**8:08d},{wei}")
    return "\r\n".join(lines) + "\r\n"


def publish_random(directory: Path, table: list[tuple[str, int, int]], secret: SnapshotSecret, extra: int) -> Path:
    liabilities = directory / "liabilities.csv"
    liabilities.write_text(csv_text(table), encoding="utf-8", newline="")
    height = max(1, (len(table) - 1).bit_length()) + extra
    request = SnapshotRequest("Prop Exchange", "p-1", 1_800_000_000, DECIMALS, height)
    publish(liabilities, request, directory / "snap", secret=secret)
    return liabilities


secrets_ = st.binary(min_size=32, max_size=32).map(SnapshotSecret)


@settings(max_examples=40, deadline=None)
@given(rows, secrets_, st.integers(0, 2))
def test_every_proof_verifies_and_rebuild_gives_same_root(
    table: list[tuple[str, int, int]], secret: SnapshotSecret, extra: int
) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        liabilities = publish_random(directory, table, secret, extra)
        store = ProofStore.open(directory / "snap")
        anchor = Anchor(snapshot=store.statement)
        for account_id, btc, wei in table:
            proof = store.proof(account_id)
            assert proof.account.balances == (btc, wei)
            assert verify_proof(proof, anchor).ok(strict=True)
        audit = audit_liabilities(load_snapshot(directory / "snap" / "public" / "snapshot.json"), liabilities, secret)
        assert audit.ok(strict=True)
        assert audit.totals[0].rebuilt == sum(row[1] for row in table)


def flip(data: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(data)
    changed[position % len(data)] ^= mask
    return bytes(changed)


def mutate(proof: InclusionProof, kind: str, n: int, mask: int) -> InclusionProof:
    account, path = proof.account, list(proof.path)
    height = proof.snapshot.context.height
    level = n % len(path)
    asset = n % 2
    if kind == "salt":
        return dataclasses.replace(proof, account=dataclasses.replace(account, salt=flip(account.salt, n, mask)))
    if kind == "id":
        return dataclasses.replace(proof, account=dataclasses.replace(account, id=account.id + "x"))
    if kind == "balance":
        balances = list(account.balances)
        balances[asset] = balances[asset] + mask if balances[asset] + mask < U128 else balances[asset] - mask
        return dataclasses.replace(proof, account=dataclasses.replace(account, balances=tuple(balances)))
    if kind == "index":
        index = account.index ^ (1 + n % ((1 << height) - 1)) if height > 0 else account.index
        return dataclasses.replace(proof, account=dataclasses.replace(account, index=index))
    if kind == "sibling-hash":
        path[level] = Node(flip(path[level].hash, n, mask), path[level].sums)
    elif kind == "sibling-sum":
        sums = list(path[level].sums)
        sums[asset] = sums[asset] + mask if sums[asset] + mask < U128 else sums[asset] - mask
        path[level] = Node(path[level].hash, tuple(sums))
    elif kind == "path-shorter":
        path.pop()
    elif kind == "path-longer":
        path.append(path[-1])
    elif kind in ("root-hash", "root-sum"):
        root = proof.snapshot.root
        if kind == "root-hash":
            root = Node(flip(root.hash, n, mask), root.sums)
        else:
            root = Node(root.hash, (root.sums[0] + mask, root.sums[1]))
        return dataclasses.replace(proof, snapshot=SnapshotCommitment(proof.snapshot.context, root))
    return dataclasses.replace(proof, path=tuple(path))


KINDS = [
    "salt",
    "id",
    "balance",
    "index",
    "sibling-hash",
    "sibling-sum",
    "path-shorter",
    "path-longer",
    "root-hash",
    "root-sum",
]


@settings(max_examples=150, deadline=None)
@given(rows, secrets_, st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(1, 255), st.data())
def test_any_changed_field_fails(
    table: list[tuple[str, int, int]], secret: SnapshotSecret, kind: str, n: int, mask: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        publish_random(directory, table, secret, 0)
        store = ProofStore.open(directory / "snap")
        account_id = data.draw(st.sampled_from([row[0] for row in table]))
        proof = store.proof(account_id)
        changed = mutate(proof, kind, n, mask)
        assert changed != proof
        result = verify_proof(changed, Anchor(snapshot=store.statement))
        assert not result.ok(), (kind, [c.status for c in result.checks])
        assert not verify_proof(changed, Anchor()).ok()  # step 5 alone catches every change
