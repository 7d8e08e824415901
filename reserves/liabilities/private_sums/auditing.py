"""The auditor's rebuild of a v2 snapshot (FORMAT-2 §8), from the liabilities file and the secret:

    (1) each asset's holders equal the non-zero cells of its column and the dummy holders
        (FORMAT-2 §5.5) that make up the published count, fewer than any rounding adds
    (2) each asset's published total equals the column's total
    (3) each tree's root (hash, commitment, blinding) equals the rebuilt one: every non-zero
        cell is a leaf of its asset's tree exactly once, and no zero cell is
    (4) the snapshot root equals the rebuilt one

The rebuild is the publisher's own (``building``): the same ids, balances and secret give
the same leaves, order, blindings and roots, so (3) holds exactly when the published trees
are the ones the file defines.
"""

from __future__ import annotations

from reserves.checks import Check, Status, step_checks
from reserves.context import Asset
from reserves.liabilities.csv_file import LiabilitiesFile
from reserves.liabilities.private_sums.building import MAX_ROUNDING, Identity, TotalTooLarge, build_private_trees
from reserves.liabilities.private_sums.files import PrivateCommitment
from reserves.liabilities.private_sums.tree import AssetRoot
from reserves.liabilities.totals import AssetTotal, total_check
from reserves.progress import ProgressCallback, silent

STEPS = {
    1: ("holders", "holders equal the non-zero cells of the liabilities file (and dummy holders)"),
    2: ("root-sum", "published total equals the liabilities total"),
    3: ("tree-root", "tree root equals the rebuilt one (each non-zero cell once, no zero cell)"),
    4: ("root-hash", "snapshot root equals the rebuilt one"),
}
_check = step_checks(STEPS)


def audit_private_trees(
    published: PrivateCommitment, liabilities: LiabilitiesFile, key: bytes, *, progress: ProgressCallback = silent
) -> tuple[list[AssetTotal], list[Check]]:
    """Steps (1) to (4); ``liabilities`` is read with the snapshot's decimals and asset order."""
    context = published.context
    identity = Identity(context.exchange, context.snapshot_id, context.cutoff)
    held: dict[int, int] = {}

    def dummies(asset: int, holders: int) -> int:
        """What the published count adds to the file's holders, if a rounding can add it."""
        held[asset] = holders
        extra = context.shapes[asset].holders - holders
        return extra if 0 <= extra < MAX_ROUNDING else 0

    try:
        rebuilt = build_private_trees(liabilities, identity, key, dummies=dummies, progress=progress)
    except TotalTooLarge as exc:  # the file's total cannot be the published one, which fits
        return [], [_check(2, Status.FAIL, f"the liabilities file does not fit format v2: {exc.message}")]
    totals = [
        AssetTotal(asset.symbol, asset.decimals, mine.total, theirs.total)
        for asset, mine, theirs in zip(context.assets, published.roots, rebuilt.roots, strict=True)
    ]
    checks = [
        _holders(position, asset, published, rebuilt, held.get(position, 0))
        for position, asset in enumerate(context.assets)
    ]
    checks += [total_check(_check, 2, total) for total in totals]
    checks += [
        _tree_root(asset, mine, theirs)
        for asset, mine, theirs in zip(context.assets, published.roots, rebuilt.roots, strict=True)
    ]
    if published.root == rebuilt.root:
        checks.append(_check(4, Status.PASS, rebuilt.root.hex()))
    else:
        detail = "published snapshot root differs from the rebuilt one"
        checks.append(_check(4, Status.FAIL, detail, rebuilt.root.hex(), published.root.hex()))
    return totals, checks


def _holders(
    position: int, asset: Asset, published: PrivateCommitment, rebuilt: PrivateCommitment, file_holders: int
) -> Check:
    """(1) The published holder count is the file's holders and the dummies rebuilt with them."""
    ours, theirs = published.context.shapes[position].holders, rebuilt.context.shapes[position].holders
    if ours == theirs:
        shown = f"{ours} holders" + (f" ({ours - file_holders} of them dummy holders)" if ours > file_holders else "")
        return _check(1, Status.PASS, shown, subject=asset.symbol)
    detail = f"published holder count differs from the file's non-zero cells and fewer than {MAX_ROUNDING:,} dummies"
    return _check(1, Status.FAIL, detail, str(theirs), str(ours), subject=asset.symbol)


def _tree_root(asset: Asset, published: AssetRoot, rebuilt: AssetRoot) -> Check:
    """(3) The tree's root node and blinding are the rebuilt ones."""
    if published.node == rebuilt.node and published.blinding == rebuilt.blinding:
        shown = rebuilt.node.hash.hex() if rebuilt.node else "no holders, no tree"
        return _check(3, Status.PASS, shown, subject=asset.symbol)
    expected = rebuilt.node.hash.hex() if rebuilt.node else "no tree"
    found = published.node.hash.hex() if published.node else "no tree"
    if published.node == rebuilt.node:
        detail, expected, found = "published root blinding differs from the rebuilt one", "rebuilt blinding", "another"
    else:
        detail = "published tree root differs from the rebuilt one"
    return _check(3, Status.FAIL, detail, expected, found, subject=asset.symbol)
