"""The shape of the package, as the layout issue asks it to stay: functions that read as
their numbered steps (none over 60 lines), about a dozen modules at the top with the rest
in rooms by role, and a library that never speaks the CLI's language (no option names in
its messages: it returns reasons as data, and the CLI words them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from support import ROOT

PACKAGE = ROOT / "reserves"
MAX_FUNCTION_LINES = 60
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """Strings that stand alone as statements: docstrings of modules, classes, functions
    and attributes, which document the CLI too; never messages."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def test_no_function_is_longer_than_60_lines() -> None:
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_about_a_dozen_modules_at_the_top_and_rooms_by_role() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= 13, top
    rooms = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert rooms == ["cli", "control", "formats", "liabilities", "onchain", "report", "testing"]


def test_the_library_never_names_a_cli_option() -> None:
    found = []
    for path in _modules():
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text())
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in OPTION.findall(node.value)]
    assert found == []
