"""Replacing files atomically: the old version or the new one, never a leftover."""

from __future__ import annotations

from pathlib import Path

import pytest

from reserves.atomic_file import write_text_atomically
from reserves.errors import InputError


def test_replaces_the_file_with_mode_0644(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    write_text_atomically(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_failure_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "snapshot.json"
    target.mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(InputError, match=f"cannot write report {target}"):
        write_text_atomically(target, "{}", what="report ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.json"]
