"""The user's check of one inclusion proof: FORMAT §6.3, step by step.

    (1) parse strictly and recompute ``ctx``    -- done by ``reserves.liabilities.proof`` (exit 2)
    (2) ``0 <= index < 2^H`` and ``len(path) == H``
    (3) the leaf from the user's own id, salt, index and balances (never from the file)
    (4) climb the path, left or right by the bits of ``index``, every sum ``< 2^128``
    (5) the computed root's hash and sums equal the proof's root
    (6) the proof's snapshot identity (exchange, id, cut-off, assets), then its root and
        the rest of the snapshot object, equal the published ones
    (7) with the published ``snapshot.json`` (which states ``N``): the slot is one of the
        ``N`` filled ones and every sibling over empty slots is the defined padding node
        (ATTACKS.md #6: no duplicated odd node, no invented account beside yours)

Each step is a ``Check``; the first failure stops the climb and the steps after it are
reported as SKIPPED, so nothing that was not checked reads as a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reserves.checks import Check, Status, Verdict, passed, proof_verdict, step_checks
from reserves.encoding import format_amount
from reserves.liabilities.proof import InclusionProof
from reserves.liabilities.snapshot import SnapshotCommitment, SnapshotStatement
from reserves.liabilities.tree import Node, SumOverflowError, account_commitment, leaf, padding, parent

STEPS = {
    1: ("parse", "proof parses and the context is recomputed"),
    2: ("path-shape", "index is within 2^H and the path has H siblings"),
    3: ("leaf", "leaf recomputed from the account's own id, salt and balances"),
    4: ("climb", "path climbed with every sum below 2^128"),
    5: ("root-consistent", "computed root equals the proof's root"),
    6: ("root-published", "proof is for the published snapshot and its root"),
    7: ("padding-siblings", "slot is filled and siblings over empty slots are padding nodes"),
}
"""Step number -> (id, title): FORMAT §6.3's six steps and the padding check beyond it."""
LAST_STEP = max(STEPS)


step_check = step_checks(STEPS)


@dataclass(frozen=True)
class Anchor:
    """What the user compares the proof's root with (step 6)."""

    snapshot: SnapshotStatement | None = None
    """A ``snapshot.json`` fetched separately from the exchange."""
    root_hash: bytes | None = None
    """Or a root hash the user supplies."""


@dataclass(frozen=True)
class ProofVerification:
    """The outcome of ``verify_proof``."""

    proof: InclusionProof
    checks: list[Check]
    anchored: bool
    """True when step 6 compared the root with one published separately."""

    def ok(self, *, strict: bool = False) -> bool:
        return passed(self.checks, strict=strict)

    def verdict(self, *, strict: bool = False) -> Verdict:
        return proof_verdict(self.checks, anchored=self.anchored, strict=strict)


def verify_proof(proof: InclusionProof, anchor: Anchor) -> ProofVerification:
    """Steps (1) to (7) of the module docstring; the first failure ends the climb and the
    steps after it are SKIPPED."""
    checks = [step_check(1, Status.PASS, f"ctx {proof.snapshot.context.ctx.hex()}")]
    for check in _steps(proof, anchor):
        checks.append(check)
        if check.status is Status.FAIL:
            skipped = f"not reached: step {check.step} failed"
            checks += [step_check(step, Status.SKIPPED, skipped) for step in range(check.step + 1, LAST_STEP + 1)]
            return ProofVerification(proof, checks, anchored=False)
    return ProofVerification(proof, checks, anchored=_anchored(anchor))


def _steps(proof: InclusionProof, anchor: Anchor) -> Iterator[Check]:
    """(2) to (7), each yielded once checked; the caller stops at the first failure, so a
    step never runs on what an earlier one rejected."""
    yield _path_shape(proof)  # (2)
    node = _own_leaf(proof)  # (3)
    yield step_check(3, Status.PASS, f"leaf {node.hash.hex()}")
    check, root = _climb(proof, node)  # (4)
    yield check
    yield _root_consistent(proof, root)  # (5)
    yield _anchor_check(proof.snapshot, root, anchor)  # (6)
    yield _padding_check(proof, anchor)  # (7)


def _path_shape(proof: InclusionProof) -> Check:
    """(2) ``0 <= index < 2^H`` and ``len(path) == H``."""
    height, index = proof.snapshot.context.height, proof.account.index
    if not index < 1 << height:
        return step_check(2, Status.FAIL, "index out of range", f"< {1 << height}", str(index))
    if len(proof.path) != height:
        found = f"{len(proof.path)} siblings"
        return step_check(2, Status.FAIL, "path length differs from the height", f"{height} siblings", found)
    return step_check(2, Status.PASS, f"index {index} < 2^{height}, {height} siblings")


def _own_leaf(proof: InclusionProof) -> Node:
    """(3) The leaf from the account's own id, salt, index and balances, never from the file."""
    ctx, account = proof.snapshot.context.ctx, proof.account
    commitment = account_commitment(ctx, account.id, account.salt)
    return leaf(ctx, account.index, commitment, account.balances)


def _climb(proof: InclusionProof, node: Node) -> tuple[Check, Node]:
    """(4) Up the path, left or right by the bits of the index, every sum below 2^128."""
    context = proof.snapshot.context
    try:
        for level, sibling in enumerate(proof.path):
            position = proof.account.index >> level
            left, right = (node, sibling) if position % 2 == 0 else (sibling, node)
            node = parent(context.ctx, level + 1, position >> 1, left, right)
    except SumOverflowError as exc:
        symbol = context.assets[exc.asset].symbol
        detail = f"{symbol} sum overflows at node ({exc.level}, {exc.index})"
        return step_check(4, Status.FAIL, detail, "< 2^128", str(exc.value)), node
    return step_check(4, Status.PASS, f"{context.height} levels"), node


def _root_consistent(proof: InclusionProof, node: Node) -> Check:
    """(5) The computed root's hash and sums are the proof's root."""
    context, root = proof.snapshot.context, proof.snapshot.root
    if node.hash != root.hash:
        return step_check(5, Status.FAIL, "root hash differs", root.hash.hex(), node.hash.hex())
    if node.sums != root.sums:
        asset = next(a for a, (x, y) in enumerate(zip(root.sums, node.sums, strict=True)) if x != y)
        decimals = context.assets[asset].decimals
        return step_check(
            5,
            Status.FAIL,
            f"root sum of {context.assets[asset].symbol} differs",
            format_amount(root.sums[asset], decimals),
            format_amount(node.sums[asset], decimals),
        )
    return step_check(5, Status.PASS, f"root {node.hash.hex()}")


def _anchored(anchor: Anchor) -> bool:
    return anchor.snapshot is not None or anchor.root_hash is not None


def _anchor_check(embedded: SnapshotCommitment, root: Node, anchor: Anchor) -> Check:
    if anchor.snapshot is not None:
        published = anchor.snapshot.commitment
        different = _identity_difference(embedded, published)
        if different is not None:
            return step_check(6, Status.FAIL, different, describe_snapshot(published), describe_snapshot(embedded))
        if published.root.hash != root.hash:
            return step_check(
                6,
                Status.FAIL,
                "root hash differs from the published snapshot",
                published.root.hash.hex(),
                root.hash.hex(),
            )
        mine, theirs = embedded.to_json(), published.to_json()
        for key in theirs:
            if mine[key] != theirs[key]:
                return step_check(
                    6,
                    Status.FAIL,
                    f"proof's snapshot {key} differs from the published snapshot",
                    str(theirs[key]),
                    str(mine[key]),
                )
        return step_check(6, Status.PASS, "identity and root equal the published snapshot.json")
    if anchor.root_hash is not None:
        if anchor.root_hash != root.hash:
            return step_check(
                6, Status.FAIL, "root hash differs from the one supplied", anchor.root_hash.hex(), root.hash.hex()
            )
        return step_check(6, Status.PASS, "root hash equals the one supplied")
    return step_check(6, Status.SKIPPED, "not anchored: the root was compared with nothing published")


def describe_snapshot(commitment: SnapshotCommitment) -> str:
    """``snapshot 'a' of 'X'``, as messages name a snapshot."""
    return f"snapshot {commitment.context.snapshot_id!r} of {commitment.context.exchange!r}"


def _identity_difference(proof: SnapshotCommitment, published: SnapshotCommitment) -> str | None:
    """How the proof's snapshot identity differs from the published one, naming both; ``None`` if equal."""
    mine, theirs = proof.context, published.context
    if (mine.exchange, mine.snapshot_id) != (theirs.exchange, theirs.snapshot_id):
        return f"this proof is for {describe_snapshot(proof)}; the published snapshot is {describe_snapshot(published)}"
    if mine.cutoff_text != theirs.cutoff_text:
        return (
            f"this proof is for {describe_snapshot(proof)} with cut-off {mine.cutoff_text}; "
            f"the published one has cut-off {theirs.cutoff_text}"
        )
    if mine.assets != theirs.assets:
        listed = ", ".join(f"{a.symbol}/{a.decimals}" for a in mine.assets)
        published_list = ", ".join(f"{a.symbol}/{a.decimals}" for a in theirs.assets)
        return f"this proof lists assets {listed}; the published snapshot lists {published_list}"
    return None


def _padding_check(proof: InclusionProof, anchor: Anchor) -> Check:
    if anchor.snapshot is None:
        return step_check(7, Status.SKIPPED, "needs the published snapshot.json: it states the account count")
    accounts = anchor.snapshot.accounts
    context = proof.snapshot.context
    index = proof.account.index
    if index >= accounts:
        return step_check(
            7, Status.FAIL, f"slot {index} is beyond the snapshot's {accounts} accounts", f"< {accounts}", str(index)
        )
    for level, sibling in enumerate(proof.path):
        position = (index >> level) ^ 1
        if position << level < accounts:
            continue  # the sibling's subtree holds at least one account
        expected = padding(context.ctx, level, position, len(context.assets))
        if sibling != expected:
            return step_check(
                7,
                Status.FAIL,
                f"sibling ({level}, {position}) covers only empty slots but is not the padding node",
                f"{expected.hash.hex()} with zero sums",
                sibling.hash.hex(),
            )
    return step_check(7, Status.PASS, f"slot {index} of {accounts}; padding siblings are the defined nodes")
