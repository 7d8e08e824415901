"""The verifier page: one self-contained HTML file a user saves and opens, which checks a
``reserves-proof/1`` proof in the browser (``web/verifier.js``, FORMAT §6.3) with no
network access (its Content-Security-Policy allows none) and no external file.

The page's source stays readable in ``web/``; this module only inlines the scripts into
the page (``page.html``, at ``/*VERIFIER*/``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from reserves.atomic_file import write_text_atomically
from reserves.formats import bybit, zkmerkle

PLACEHOLDER = "/*VERIFIER*/"
SCRIPTS = ("verifier.js", "formats.js", "java_formats.js", "zk.js")
"""The page's scripts, in order: the core and our format (with OKX v1), then other exchanges'."""


def page_html() -> str:
    """The assembled page."""
    folder = resources.files("reserves.report") / "web"
    page = (folder / "page.html").read_text(encoding="utf-8")
    scripts = [(folder / name).read_text(encoding="utf-8") for name in SCRIPTS]
    script = "\n".join([scripts[0], f"window.reservesConstants = {json.dumps(_shared_tables())};", *scripts[1:]])
    if "</script" in script.lower() or page.count(PLACEHOLDER) != 1:
        raise AssertionError("the verifier script cannot be inlined into the page")
    return page.replace(PLACEHOLDER, script)


def _shared_tables() -> dict[str, object]:
    """The formats' tables the page's scripts use, taken from the Python modules so that the
    two checks cannot drift apart: Bybit's asset lists, the zk-Merkle files' keys, amount
    bounds and two-digit assets, and Gate's asset counts."""
    zk = {
        name: {
            "keys": list(layout.keys),
            "amounts": list(layout.amounts),
            "low": str(layout.bounds[0]),
            "high": str(layout.bounds[1]),
            "twoDigit": sorted(zkmerkle.TWO_DIGIT[name]),
        }
        for name, layout in zkmerkle.LAYOUTS.items()
    }
    return {
        "bybitVersions": {name: list(order) for name, order in bybit.VERSIONS.items()},
        "zk": zk,
        "gateAssetCounts": list(zkmerkle.GATE_ASSET_COUNTS),
    }


def write_page(path: Path) -> None:
    """Write the page to ``path`` (whole or not at all)."""
    write_text_atomically(path, page_html(), what="verifier page ")
