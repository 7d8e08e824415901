"""The inclusion proof a user holds, ``reserves-proof/1`` (FORMAT §6.2).

Parsing only checks the grammar; whether the proof *verifies* is ``reserves.verify``'s
job, so a proof with a wrong index or a short path still parses (and then fails there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.encoding import check_text, parse_hex32
from reserves.liabilities.snapshot import SnapshotCommitment, dump_json, parse_commitment, parse_sums, sums_to_json
from reserves.liabilities.tree import Node
from reserves.strict_json import JsonValue, load_json, parse_json

PROOF_FORMAT = "reserves-proof/1"
MAX_ID_BYTES = 256


@dataclass(frozen=True)
class AccountEntry:
    """The user's own data: what they recompute their leaf from."""

    id: str
    """The account identifier, 1 to 256 bytes of NFC UTF-8."""
    salt: bytes
    """32 bytes; ``HMAC-SHA256(secret, "salt" || lp(id))`` on the exchange's side."""
    index: int
    """The leaf slot."""
    balances: tuple[int, ...]
    """Per-asset balances, smallest units, in snapshot order."""


@dataclass(frozen=True)
class InclusionProof:
    """One account's path from its leaf to the root."""

    snapshot: SnapshotCommitment
    account: AccountEntry
    path: tuple[Node, ...]
    """Siblings bottom-up: ``path[k]`` is the sibling met at level ``k``."""

    def to_json(self) -> dict[str, Any]:
        assets = self.snapshot.context.assets
        return {
            "format": PROOF_FORMAT,
            "snapshot": self.snapshot.to_json(),
            "account": {
                "id": self.account.id,
                "salt": self.account.salt.hex(),
                "index": self.account.index,
                "balances": sums_to_json(assets, self.account.balances),
            },
            "path": [{"hash": n.hash.hex(), "sums": sums_to_json(assets, n.sums)} for n in self.path],
        }

    def to_text(self) -> str:
        return dump_json(self.to_json())


def check_account_id(value: str, *, where: str) -> str:
    return check_text(value, what="account id", min_bytes=1, max_bytes=MAX_ID_BYTES, where=where)


def parse_proof(document: JsonValue) -> InclusionProof:
    document.object(("format", "snapshot", "account", "path"))
    if document["format"].string() != PROOF_FORMAT:
        document["format"].fail(f"expected {PROOF_FORMAT!r}, found {document['format'].value!r}")
    snapshot = parse_commitment(
        document["snapshot"].object(("exchange", "snapshot_id", "cutoff", "height", "assets", "root"))
    )
    assets = snapshot.context.assets
    account = document["account"].object(("id", "salt", "index", "balances"))
    entry = AccountEntry(
        id=check_account_id(account["id"].string(), where=account["id"].where),
        salt=parse_hex32(account["salt"].string(), what="salt", where=account["salt"].where),
        index=account["index"].integer(),
        balances=parse_sums(account["balances"], assets),
    )
    path = []
    for item in document["path"].items():
        item.object(("hash", "sums"))
        node_hash = parse_hex32(item["hash"].string(), what="hash", where=item["hash"].where)
        path.append(Node(node_hash, parse_sums(item["sums"], assets)))
    if len(path) > 64:
        document["path"].fail(f"a path has at most 64 siblings, found {len(path)}")
    return InclusionProof(snapshot, entry, tuple(path))


def load_proof(path: Path) -> InclusionProof:
    return parse_proof(load_json(path))


def parse_proof_text(raw: bytes, *, source: str) -> InclusionProof:
    return parse_proof(parse_json(raw, source=source))
