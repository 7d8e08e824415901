"""The user's check of a ``reserves-proof/2`` file: FORMAT-2 §7, step by step.

    (1) parse strictly; ``ctx2`` and the snapshot root recomputed  -- ``files`` (exit 2)
    (2) each holding's index is below its tree's holders and its path has the tree's height
    (3) siblings over empty slots are the defined padding nodes; every other sibling carries
        a range proof of the canonical length for the tree's range bits
    (4) each leaf recomputed from the account's own id, salt, balance and blinding
    (5) every sibling's range proof, bound to its node, shows a value in ``[0, 2^b_a)``
    (6) each path climbs to its tree's published root (hash and commitment)
    (7) every tree's published total and blinding open its root commitment
    (8) the proof's snapshot is the published one: its ``snapshot.json``, or its root hash

Steps (5) to (7) together make the user's balance a part of the published total that no
negative or wrapped-around sibling can cancel: every sibling is in range, so the sum of
her balance and her siblings' values is the total as integers, not only modulo the order.
"""

from __future__ import annotations

from collections.abc import Iterator

from reserves.checks import Check, Status, step_checks
from reserves.encoding import format_amount
from reserves.formats import FormatVerification, run_steps
from reserves.liabilities.private_sums import PROOF_FORMAT, curve
from reserves.liabilities.private_sums.files import Holding, PrivateCommitment, PrivateProof
from reserves.liabilities.private_sums.tree import (
    Node,
    account_commitment,
    leaf,
    node_hash,
    padding,
)

STEPS = {
    1: ("parse", "proof parses; ctx2 and the snapshot root are recomputed"),
    2: ("path-shape", "each index is below its tree's holders and each path has the tree's height"),
    3: ("siblings", "padding siblings are the defined nodes; the others carry canonical range proofs"),
    4: ("leaf", "leaves recomputed from the account's own id, salt, balances and blindings"),
    5: ("range-proofs", "every sibling's range proof shows a value in [0, 2^b) at its own node"),
    6: ("climb", "each path climbs to its tree's published root"),
    7: ("root-opening", "every tree's published total and blinding open its root commitment"),
    8: ("root-published", "proof is for the published snapshot and its root"),
}
step_check = step_checks(STEPS)


def verify_private_proof(
    proof: PrivateProof, *, published: PrivateCommitment | None = None, root: bytes | None = None
) -> FormatVerification:
    """Steps (1) to (8); ``published`` is the ``snapshot.json`` the user fetched, ``root``
    a snapshot root hash published elsewhere (at most one of them)."""
    context = proof.snapshot.context
    balances = {
        context.assets[h.asset].symbol: format_amount(h.balance, context.assets[h.asset].decimals)
        for h in proof.holdings
    }
    totals = {
        a.symbol: format_amount(r.total, a.decimals) for a, r in zip(context.assets, proof.snapshot.roots, strict=True)
    }
    return run_steps(PROOF_FORMAT, _steps(proof, published, root), balances, totals)


def _steps(proof: PrivateProof, published: PrivateCommitment | None, root: bytes | None) -> Iterator[Check]:
    yield step_check(1, Status.PASS, f"ctx2 {proof.snapshot.context.ctx.hex()}, root {proof.snapshot.root.hex()}")
    yield _shape(proof)  # (2)
    yield _siblings(proof)  # (3)
    leaves = _leaves(proof)  # (4)
    yield step_check(4, Status.PASS, f"{len(leaves)} leaves" if leaves else "the account holds no asset")
    yield _ranges(proof)  # (5)
    yield _climb(proof, leaves)  # (6)
    yield _openings(proof.snapshot)  # (7)
    yield _anchor(proof.snapshot, published, root)  # (8)


def _shape(proof: PrivateProof) -> Check:
    """(2) ``0 <= index < N_a`` and ``len(path) == H_a`` for each holding."""
    context = proof.snapshot.context
    for holding in proof.holdings:
        shape, symbol = context.shapes[holding.asset], context.assets[holding.asset].symbol
        if not holding.index < shape.holders:
            return step_check(2, Status.FAIL, f"{symbol}: index out of range", f"< {shape.holders}", str(holding.index))
        if len(holding.path) != shape.height:
            found = f"{len(holding.path)} siblings"
            return step_check(
                2, Status.FAIL, f"{symbol}: path length differs from the height", f"{shape.height} siblings", found
            )
    return step_check(2, Status.PASS, f"{len(proof.holdings)} holdings")


def _siblings(proof: PrivateProof) -> Check:
    """(3) Padding where the slots are empty, exactly the defined node; elsewhere a range
    proof of the canonical length."""
    context = proof.snapshot.context
    for holding in proof.holdings:
        symbol, shape = context.assets[holding.asset].symbol, context.shapes[holding.asset]
        length = curve.range_proof_length(shape.range_bits)
        for level, sibling in enumerate(holding.path):
            position = (holding.index >> level) ^ 1
            where = f"{symbol}: sibling ({level}, {position})"
            if position << level >= shape.holders:
                expected = padding(context.ctx, holding.asset, level, position).public
                if sibling.node != expected or sibling.range_proof is not None:
                    return step_check(
                        3,
                        Status.FAIL,
                        f"{where} covers only empty slots but is not the padding node",
                        f"{expected.hash.hex()} without a range proof",
                        sibling.node.hash.hex(),
                    )
            elif sibling.range_proof is None or len(sibling.range_proof) != length:
                found = "none" if sibling.range_proof is None else f"{len(sibling.range_proof)} bytes"
                return step_check(3, Status.FAIL, f"{where} lacks a canonical range proof", f"{length} bytes", found)
    return step_check(3, Status.PASS, "padding siblings are the defined nodes; range proofs have canonical lengths")


def _leaves(proof: PrivateProof) -> list[Node]:
    """(4) Never from the file: ``C = r·G + v·H_a`` and the leaf hash over it."""
    context = proof.snapshot.context
    account = account_commitment(context.ctx, proof.account_id, proof.salt)
    return [
        leaf(context, h.asset, h.index, account, h.balance, h.blinding, context.generator(h.asset)).public
        for h in proof.holdings
    ]


def _ranges(proof: PrivateProof) -> Check:
    """(5) Each range proof verifies for its sibling's commitment, bound to that node's
    position (``extra``), and shows exactly ``[0, 2^b_a - 1]``; all are verified (one thread
    per core), the first failure in path order is reported."""
    context = proof.snapshot.context
    where, checks = [], []
    for holding in proof.holdings:
        value_generator = context.generator(holding.asset)
        for level, sibling in enumerate(holding.path):
            if sibling.range_proof is not None:
                position = (holding.index >> level) ^ 1
                extra = context.range_extra(holding.asset, level, position)
                where.append((holding.asset, level, position))
                checks.append((sibling.range_proof, sibling.node.commitment, value_generator, extra))
    for (asset, level, position), shown in zip(where, curve.verified_ranges(checks), strict=True):
        bits = context.shapes[asset].range_bits
        if shown != (0, (1 << bits) - 1):
            subject = f"{context.assets[asset].symbol}: range proof of sibling ({level}, {position})"
            detail, found = (
                (f"{subject} does not verify", "invalid proof")
                if shown is None
                else (f"{subject} shows another range", f"[{shown[0]}, {shown[1]}]")
            )
            return step_check(5, Status.FAIL, detail, f"[0, {(1 << bits) - 1}]", found)
    return step_check(5, Status.PASS, f"{len(checks)} range proofs")


def _climb(proof: PrivateProof, leaves: list[Node]) -> Check:
    """(6) Up each path by the bits of the index: ``C = C_L + C_R`` and the node hash."""
    context = proof.snapshot.context
    for holding, own_leaf in zip(proof.holdings, leaves, strict=True):
        symbol = context.assets[holding.asset].symbol
        top = climbed(context.ctx, holding, own_leaf)
        if isinstance(top, str):
            return step_check(6, Status.FAIL, f"{symbol}: {top}")
        published = proof.snapshot.roots[holding.asset].node
        if top != published:
            expected = published.hash.hex() if published else "no tree"
            return step_check(
                6, Status.FAIL, f"{symbol}: the path does not reach the tree's root", expected, top.hash.hex()
            )
    return step_check(6, Status.PASS, f"{len(leaves)} paths reach their roots")


def climbed(ctx: bytes, holding: Holding, node: Node) -> Node | str:
    """The node a holding's path reaches from ``node``, or why it reaches none."""
    for level, sibling in enumerate(holding.path):
        position = holding.index >> level
        left, right = (node, sibling.node) if position % 2 == 0 else (sibling.node, node)
        try:
            commitment = curve.add(left.commitment, right.commitment)
        except ValueError:
            return f"node ({level + 1}, {position >> 1}) is the point at infinity"
        node = Node(node_hash(ctx, holding.asset, level + 1, position >> 1, left, right), commitment)
    return node


def _openings(snapshot: PrivateCommitment) -> Check:
    """(7) ``R_a·G + T_a·H_a`` is each tree's root commitment: the total is what it commits to."""
    context = snapshot.context
    for asset, root in enumerate(snapshot.roots):
        if root.node is None:
            continue
        opened = curve.commit(root.blinding, root.total, context.generator(asset))
        if opened != root.node.commitment:
            symbol = context.assets[asset].symbol
            total = format_amount(root.total, context.assets[asset].decimals)
            return step_check(
                7,
                Status.FAIL,
                f"{symbol}: total {total} and the blinding do not open the root",
                root.node.commitment.hex(),
                opened.hex(),
            )
    return step_check(7, Status.PASS, f"{sum(r.node is not None for r in snapshot.roots)} roots opened")


def _anchor(embedded: PrivateCommitment, published: PrivateCommitment | None, root: bytes | None) -> Check:
    """(8) The snapshot the proof embeds is the published one, field by field."""
    if published is not None:
        mine, theirs = embedded.to_json(), published.to_json()
        for key in theirs:
            if mine[key] != theirs[key]:
                return step_check(
                    8,
                    Status.FAIL,
                    f"proof's snapshot {key} differs from the published snapshot",
                    str(theirs[key]),
                    str(mine[key]),
                )
        return step_check(8, Status.PASS, "the proof's snapshot equals the published snapshot.json")
    if root is not None:
        if root != embedded.root:
            return step_check(
                8, Status.FAIL, "snapshot root differs from the one supplied", root.hex(), embedded.root.hex()
            )
        return step_check(8, Status.PASS, "snapshot root equals the one supplied")
    return step_check(8, Status.SKIPPED, "not anchored: the root was compared with nothing published")
