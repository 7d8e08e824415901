"""OKX Merkle v2: a user file (``user_info_file.json``) and the full liabilities tree
(``full-liabilities-merkle-tree.txt``, one ``hash,height,{balances}`` line a node).

    user hash = SHA-256(nonce || {"BTC":"…","ETH":"…","USDT":"…"} of totalBalances)
    leaf      = SHA-256(user hash || BTC || ETH || USDT), one per leaf of the user
    parent    = SHA-256(left || right || BTC || ETH || USDT || height), sums rounded down

The tree file lists levels from the root down and each level right to left. A level
with an odd number of nodes is padded on the right with a copy of its last node's hash
and zero balances (which is why that copy adds nothing). The exchange's validator only
finds the user's leaves; this one also recomputes every internal node from the leaves
and confirms the root's totals.

    (1) both files parse; balances are non-negative plain decimals   -- exit 2 otherwise
    (2) the user hash recomputes from the nonce and the total balances
    (3) every leaf of the user recomputes from the user hash and its balances
    (4) the user's leaves add up to the user's total
    (5) each of the user's leaves is in the tree, with its balances
    (6) every internal node of the tree recomputes from its children
    (7) the root is the published one (``--root``)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.checks import Check, Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat, anchored, run_steps
from reserves.formats.okx import Balances, node_hash, parse_balances, parse_hash, sha256_text
from reserves.strict_json import loads_bounded

STEPS = {
    1: ("parse", "both files parse; balances are non-negative plain decimals"),
    2: ("user-hash", "the user hash recomputes from the nonce and the total balances"),
    3: ("leaves", "every leaf of the user recomputes from the user hash"),
    4: ("leaves-sum", "the user's leaves add up to the user's total"),
    5: ("leaves-in-tree", "each of the user's leaves is in the tree with its balances"),
    6: ("tree-nodes", "every internal node of the tree recomputes from its children"),
    7: ("root-published", "the root is the published one"),
}
_check = step_checks(STEPS)
TITLE = "OKX Merkle v2 user file and full tree"
MAX_TREE_BYTES = 8 * 1024 * 1024 * 1024
MAX_LINE_BYTES = 4096
"""A tree line is a hash, a height and three amounts: well under 300 bytes."""


def _recognises(document: Any) -> bool:
    return isinstance(document, dict) and set(document) == {"hash", "nodes", "nonce", "totalBalances"}


FORMAT = ProofFormat("okx-v2", _recognises)


@dataclass(frozen=True)
class TreeNode:
    hash: str
    balances: Balances


def read_tree(path: Path) -> dict[int, list[TreeNode]]:
    """Levels by height, each in left-to-right order (the file lists them right to left)."""
    levels: dict[int, list[TreeNode]] = {}
    try:
        handle = path.open("rb")
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read tree file {path}: {exc.strerror}") from None
    if size > MAX_TREE_BYTES:
        raise InputError(f"larger than {MAX_TREE_BYTES} bytes", where=str(path))
    with handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            where = f"{path}:{number}"
            parts = _fields(raw, where)
            try:
                balances = loads_bounded(parts[2], parse_float=_no_float, parse_int=_no_float)
            except ValueError as exc:
                raise InputError(f"balances are not valid JSON: {exc}", where=where) from None
            node = TreeNode(parse_hash(parts[0], where=where), parse_balances(balances, where=where))
            levels.setdefault(int(parts[1]), []).append(node)
    if not levels:
        raise InputError("the tree file is empty", where=str(path))
    return {height: list(reversed(nodes)) for height, nodes in levels.items()}


def _fields(raw: bytes, where: str) -> list[str]:
    """``hash,height,{balances}`` of one line, strictly: UTF-8, ASCII digits, bounded length."""
    if len(raw) > MAX_LINE_BYTES:
        raise InputError(f"a line longer than {MAX_LINE_BYTES} bytes", where=where)
    try:
        text = raw.decode("utf-8").rstrip("\n").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start} of the line", where=where) from None
    parts = text.split(",", 2)
    height = parts[1] if len(parts) == 3 else ""
    if not (height.isascii() and height.isdigit()) or len(height) > 3 or height != str(int(height)):
        raise InputError("expected hash,height,{balances}", where=where)
    return parts


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} where a decimal string belongs")


@dataclass(frozen=True)
class UserFile:
    """An OKX v2 user file: the user's hash, nonce, total balances and leaves."""

    hash: str
    nonce: str
    total: Balances
    leaves: list[TreeNode]


def verify(document: Any, source: str, tree_path: Path | None, *, root: str | None = None) -> FormatVerification:
    """Steps (1) to (7) of ``STEPS`` over the user file and the full tree file OKX published."""
    if tree_path is None:
        raise InputError("an OKX v2 user file is checked against the full tree OKX published: none was given")
    user = parse_user_file(document, source)
    levels = read_tree(tree_path)
    totals = levels[max(levels)][0].balances.as_dict()
    return run_steps(TITLE, _steps(user, levels, root), user.total.as_dict(), totals)


def parse_user_file(document: Any, source: str) -> UserFile:
    if not _recognises(document):
        raise InputError("expected an object with hash, nodes, nonce and totalBalances", where=source)
    user_hash = parse_hash(document["hash"], where=f"{source} $.hash")
    nonce = parse_hash(document["nonce"], where=f"{source} $.nonce")
    total = parse_balances(document["totalBalances"], where=f"{source} $.totalBalances")
    if not isinstance(document["nodes"], list) or not document["nodes"]:
        raise InputError("expected a non-empty array", where=f"{source} $.nodes")
    leaves = []
    for i, item in enumerate(document["nodes"]):
        where = f"{source} $.nodes[{i}]"
        if not isinstance(item, dict) or set(item) != {"balances", "hash"}:
            raise InputError("expected an object with exactly balances and hash", where=where)
        hash_ = parse_hash(item["hash"], where=f"{where}.hash")
        leaves.append(TreeNode(hash_, parse_balances(item["balances"], where=f"{where}.balances")))
    return UserFile(user_hash, nonce, total, leaves)


def _steps(user: UserFile, levels: dict[int, list[TreeNode]], root: str | None) -> Iterator[Check]:
    top = max(levels)
    yield _check(1, Status.PASS, f"{len(levels.get(1, []))} leaf lines, height {top}")
    yield _user_hash(user)  # (2)
    yield _leaves(user)  # (3)
    yield _leaves_sum(user)  # (4)
    yield _leaves_in_tree(user, levels.get(1, []))  # (5)
    yield _tree_nodes(levels)  # (6)
    yield anchored(_check, 7, root, levels[top][0].hash, published_tree=True)  # (7)


def _user_hash(user: UserFile) -> Check:
    """(2) The user hash recomputes from the nonce and the total balances."""
    computed = sha256_text(user.nonce + user.total.leaf_json())
    if computed != user.hash:
        return _check(2, Status.FAIL, "hash is not SHA-256(nonce || totalBalances)", computed, user.hash)
    return _check(2, Status.PASS, computed)


def _leaves(user: UserFile) -> Check:
    """(3) Every leaf of the user recomputes from the user hash."""
    for i, leaf in enumerate(user.leaves):
        expected = sha256_text(user.hash + leaf.balances.concatenated())
        if expected != leaf.hash:
            return _check(3, Status.FAIL, f"nodes[{i}] is not SHA-256(user hash || balances)", expected, leaf.hash)
    return _check(3, Status.PASS, f"{len(user.leaves)} leaves")


def _leaves_sum(user: UserFile) -> Check:
    """(4) The user's leaves add up to the user's total."""
    summed = user.leaves[0].balances
    for leaf in user.leaves[1:]:
        summed = summed + leaf.balances
    if summed.units != user.total.units:
        expected, found = ", ".join(user.total.text), ", ".join(summed.text)
        return _check(4, Status.FAIL, "the leaves' sum differs from totalBalances", expected, found)
    return _check(4, Status.PASS, ", ".join(summed.text))


def _leaves_in_tree(user: UserFile, tree_leaves: list[TreeNode]) -> Check:
    """(5) Each of the user's leaves is in the tree with its balances."""
    in_tree = {(n.hash, n.balances.units) for n in tree_leaves}
    missing = [leaf.hash for leaf in user.leaves if (leaf.hash, leaf.balances.units) not in in_tree]
    if missing:
        detail = f"{len(missing)} of the user's leaves are not in the tree"
        return _check(5, Status.FAIL, detail, "present", missing[0])
    return _check(5, Status.PASS, f"{len(user.leaves)} found at height 1")


def _tree_nodes(levels: dict[int, list[TreeNode]]) -> Check:
    """(6) Every internal node of the tree recomputes from its children."""
    top = max(levels)
    if sorted(levels) != list(range(1, top + 1)) or len(levels[top]) != 1:
        detail = "heights must run from 1 to the root, with one root"
        return _check(6, Status.FAIL, detail, f"1..{top}", str(sorted(levels)))
    count = 0
    for height in range(1, top):
        problem = _level_problem(levels[height], levels[height + 1], height)
        if problem is not None:
            return _check(6, Status.FAIL, *problem)
        count += len(_without_padding(levels[height + 1]) or [])
    root_totals = ", ".join(levels[top][0].balances.text)
    return _check(6, Status.PASS, f"{count} internal nodes; root totals {root_totals}")


def _level_problem(
    level: list[TreeNode], above: list[TreeNode], height: int
) -> tuple[str, str | None, str | None] | None:
    """What is wrong with the parents of ``level`` (detail, expected, found), or ``None``."""
    nodes = _without_padding(level)
    if nodes is None:
        return f"height {height}: padding must copy the last hash with zero balances", None, None
    parents = _without_padding(above) or []
    if len(nodes) % 2:
        nodes = [*nodes, TreeNode(nodes[-1].hash, Balances.zero())]
    if len(parents) != len(nodes) // 2:
        return f"height {height + 1}: wrong number of nodes", str(len(nodes) // 2), str(len(parents))
    for i, parent in enumerate(parents):
        left, right = nodes[2 * i], nodes[2 * i + 1]
        sums = left.balances + right.balances
        expected = node_hash(left.hash, right.hash, sums, height + 1)
        if expected != parent.hash or sums.units != parent.balances.units:
            return (
                f"node {i} at height {height + 1} does not recompute from its children",
                f"{expected} ({', '.join(sums.text)})",
                f"{parent.hash} ({', '.join(parent.balances.text)})",
            )
    return None


def _without_padding(nodes: list[TreeNode]) -> list[TreeNode] | None:
    """The real nodes of a level; ``None`` if its padding is malformed."""
    if len(nodes) > 1 and len(nodes) % 2 == 0 and nodes[-1].hash == nodes[-2].hash:
        if not nodes[-1].balances.is_zero:
            return None
        return nodes[:-1]
    return nodes
