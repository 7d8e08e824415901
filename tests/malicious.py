"""Named malicious files (``fixtures/malicious/``), each built from the shared ``small``
vector by one function here: they document the attacks a user's verify must stop and
serve other implementations as test data. ``cases.json`` names each file's snapshot and
the outcome (exit code and message) every verifier should reach.

Run ``python tests/malicious.py`` to write them again; a test checks they are unchanged."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reserves.encoding import format_amount  # noqa: E402
from reserves.liabilities.proof import parse_proof_text  # noqa: E402
from reserves.liabilities.tree import account_commitment, leaf, parent  # noqa: E402

FOLDER = ROOT / "fixtures" / "malicious"
SMALL = ROOT / "fixtures" / "vectors" / "small"
PUBLISHED = "fixtures/vectors/small/snapshot.json"


def _proof(slot: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SMALL / "proofs" / f"slot-{slot:05d}.json").read_text())
    return document


def _forge_root(proof: dict[str, Any]) -> dict[str, Any]:
    """The proof with the root its own (forged) path climbs to, as a cheating exchange would publish."""
    parsed = parse_proof_text(json.dumps(proof).encode(), source="forged")
    ctx, account = parsed.snapshot.context.ctx, parsed.account
    node = leaf(ctx, account.index, account_commitment(ctx, account.id, account.salt), account.balances)
    for level, sibling in enumerate(parsed.path):
        position = account.index >> level
        left, right = (node, sibling) if position % 2 == 0 else (sibling, node)
        node = parent(ctx, level + 1, position >> 1, left, right)
    forged = copy.deepcopy(proof)
    assets = parsed.snapshot.context.assets
    sums = {a.symbol: format_amount(v, a.decimals) for a, v in zip(assets, node.sums, strict=True)}
    forged["snapshot"]["root"] = {"hash": node.hash.hex(), "sums": sums}
    return forged


def balance_raised() -> dict[str, Any]:
    """The exchange shows the user more than the tree holds for them (ATTACKS #1)."""
    proof = _proof(0)
    proof["account"]["balances"]["BTC"] = "1000000"
    return proof


def sibling_sum_lowered() -> dict[str, Any]:
    """A sibling's sums lowered to hide liabilities (ATTACKS #1, #3): the root no longer climbs."""
    proof = _proof(0)
    sums = proof["path"][1]["sums"]
    held = next(symbol for symbol, amount in sums.items() if amount != "0")
    sums[held] = "0"
    return proof


def negative_balance() -> dict[str, Any]:
    """A negative amount, to net liabilities away (ATTACKS #2): malformed."""
    proof = _proof(0)
    proof["account"]["balances"]["BTC"] = "-1"
    return proof


def path_one_sibling_short() -> dict[str, Any]:
    """A path shorter than the tree's height (ATTACKS #5)."""
    proof = _proof(0)
    proof["path"].pop()
    return proof


def duplicated_odd_node() -> dict[str, Any]:
    """The last account's sibling over empty slots is a copy of its own leaf instead of the
    padding node, and the root is forged to match (ATTACKS #6); caught by step 7."""
    proof = _proof(4)
    parsed = parse_proof_text(json.dumps(proof).encode(), source="small")
    ctx, account = parsed.snapshot.context.ctx, parsed.account
    own = leaf(ctx, account.index, account_commitment(ctx, account.id, account.salt), account.balances)
    sums = {a: proof["account"]["balances"][a] for a in proof["account"]["balances"]}
    proof["path"][0] = {"hash": own.hash.hex(), "sums": sums}
    return _forge_root(proof)


def snapshot_duplicated_odd_node() -> dict[str, Any]:
    """The snapshot a cheating exchange would publish with ``proof_duplicated_odd_node``."""
    snapshot: dict[str, Any] = json.loads((SMALL / "snapshot.json").read_text())
    snapshot["root"] = duplicated_odd_node()["snapshot"]["root"]
    return snapshot


def another_snapshot() -> dict[str, Any]:
    """A valid proof of another snapshot, handed over as this one's."""
    document: dict[str, Any] = json.loads((ROOT / "fixtures/vectors/single/proofs/slot-00000.json").read_text())
    return document


FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "proof_balance_raised.json": balance_raised,
    "proof_sibling_sum_lowered.json": sibling_sum_lowered,
    "proof_negative_balance.json": negative_balance,
    "proof_path_one_sibling_short.json": path_one_sibling_short,
    "proof_duplicated_odd_node.json": duplicated_odd_node,
    "snapshot_duplicated_odd_node.json": snapshot_duplicated_odd_node,
    "proof_of_another_snapshot.json": another_snapshot,
}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


if __name__ == "__main__":
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, build in FILES.items():
        (FOLDER / name).write_text(render(build()))
