"""The public Python API: a small, explicit surface (``reserves.__all__``), loaded lazily,
and the examples of docs/api.md run as written."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import reserves
from support import ROOT


def test_all_is_sorted_and_every_name_resolves() -> None:
    names = [n for n in reserves.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in reserves.__all__:
        assert getattr(reserves, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'reserves' has no attribute 'nothing'"):
        reserves.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    probe = "import sys, reserves; print(sorted(m for m in ('numpy', 'pyarrow', 'web3', 'jinja2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_api_documentation_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    outcome = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert (outcome.failed, outcome.attempted > 15) == (0, True)
