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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserves.checks import Status, step_checks
from reserves.errors import InputError
from reserves.formats import FormatVerification, ProofFormat
from reserves.formats.okx import Balances, anchored, node_hash, parse_balances, parse_hash, sha256_text
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


def verify(document: Any, source: str, tree_path: Path | None, *, root: str | None = None) -> FormatVerification:
    if tree_path is None:
        raise InputError("an OKX v2 user file is checked against the full tree OKX published: none was given")
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
        leaves.append(
            TreeNode(
                parse_hash(item["hash"], where=f"{where}.hash"),
                parse_balances(item["balances"], where=f"{where}.balances"),
            )
        )
    levels = read_tree(tree_path)
    top = max(levels)
    checks = [_check(1, Status.PASS, f"{len(levels.get(1, []))} leaf lines, height {top}")]
    root_node = levels[top][0]
    result = FormatVerification(TITLE, checks, total.as_dict(), root_node.balances.as_dict())

    def failed(step: int, detail: str, expected: str | None = None, found: str | None = None) -> FormatVerification:
        checks.append(_check(step, Status.FAIL, detail, expected, found))
        return result

    # (2)
    step = 2
    computed = sha256_text(nonce + total.leaf_json())
    if computed != user_hash:
        return failed(step, "hash is not SHA-256(nonce || totalBalances)", computed, user_hash)
    checks.append(_check(step, Status.PASS, computed))

    # (3)
    step = 3
    for i, leaf in enumerate(leaves):
        expected = sha256_text(user_hash + leaf.balances.concatenated())
        if expected != leaf.hash:
            return failed(step, f"nodes[{i}] is not SHA-256(user hash || balances)", expected, leaf.hash)
    checks.append(_check(step, Status.PASS, f"{len(leaves)} leaves"))

    # (4)
    step = 4
    summed = leaves[0].balances
    for leaf in leaves[1:]:
        summed = summed + leaf.balances
    if summed.units != total.units:
        return failed(step, "the leaves' sum differs from totalBalances", ", ".join(total.text), ", ".join(summed.text))
    checks.append(_check(step, Status.PASS, ", ".join(summed.text)))

    # (5)
    step = 5
    in_tree = {(n.hash, n.balances.units) for n in levels.get(1, [])}
    missing = [leaf.hash for leaf in leaves if (leaf.hash, leaf.balances.units) not in in_tree]
    if missing:
        return failed(step, f"{len(missing)} of the user's leaves are not in the tree", "present", missing[0])
    checks.append(_check(step, Status.PASS, f"{len(leaves)} found at height 1"))

    # (6)
    step = 6
    if sorted(levels) != list(range(1, top + 1)) or len(levels[top]) != 1:
        return failed(step, "heights must run from 1 to the root, with one root", f"1..{top}", str(sorted(levels)))
    count = 0
    for height in range(1, top):
        nodes = _without_padding(levels[height])
        if nodes is None:
            return failed(step, f"height {height}: padding must copy the last hash with zero balances")
        parents = _without_padding(levels[height + 1]) or []
        if len(nodes) % 2:
            nodes = [*nodes, TreeNode(nodes[-1].hash, Balances.zero())]
        if len(parents) != len(nodes) // 2:
            return failed(step, f"height {height + 1}: wrong number of nodes", str(len(nodes) // 2), str(len(parents)))
        for i, parent in enumerate(parents):
            left, right = nodes[2 * i], nodes[2 * i + 1]
            sums = left.balances + right.balances
            expected = node_hash(left.hash, right.hash, sums, height + 1)
            if expected != parent.hash or sums.units != parent.balances.units:
                return failed(
                    step,
                    f"node {i} at height {height + 1} does not recompute from its children",
                    f"{expected} ({', '.join(sums.text)})",
                    f"{parent.hash} ({', '.join(parent.balances.text)})",
                )
            count += 1
    checks.append(
        _check(step, Status.PASS, f"{count} internal nodes; root totals {', '.join(root_node.balances.text)}")
    )

    # (7)
    final = anchored(_check, 7, root, root_node.hash, published_tree=True)
    checks.append(final)
    return FormatVerification(TITLE, checks, result.balances, result.totals, anchored=final.status is Status.PASS)


def _without_padding(nodes: list[TreeNode]) -> list[TreeNode] | None:
    """The real nodes of a level; ``None`` if its padding is malformed."""
    if len(nodes) > 1 and len(nodes) % 2 == 0 and nodes[-1].hash == nodes[-2].hash:
        if not nodes[-1].balances.is_zero:
            return None
        return nodes[:-1]
    return nodes
