"""The HTML report: self-contained, and it renders in a real browser (Debian's chromium,
installed by ``make test``) with the verdict, the chart and the tables."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reserve_world import liabilities_csv, world

from reserves.report.html import BAR, CHART_CAP_PER_MILLE, LEFT, ChartRow
from support import cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    with world() as w:
        csv = liabilities_csv(directory, usdt="1200000")  # USDT short: 1,000,000 held
        assert (
            cli(
                "publish",
                csv,
                "--exchange",
                "Chain <Exchange>",
                "--snapshot-id",
                "2026-11-21",
                "--cutoff",
                "2026-11-21T00:00:00Z",
                "--decimals",
                "BTC=8,ETH=18,USDT=6",
                "--reserves",
                w.reserves_file(directory),
                "--rpc",
                f"ethereum={w.node.url}",
                "--esplora",
                f"bitcoin={w.esplora.url}",
                "--out",
                directory / "snap",
            ).exit_code
            == 0
        )
        assert cli("sign", directory / "snap/public/snapshot.json", "--keys", w.signing_keys(directory)).exit_code == 0
        result = cli(
            "audit",
            directory / "snap/public/snapshot.json",
            "--liabilities",
            csv,
            "--secret",
            directory / "snap/private/secret",
            "--rpc",
            f"ethereum={w.node.url}",
            "--esplora",
            f"bitcoin={w.esplora.url}",
            "--report",
            directory / "report.html",
        )
    assert result.exit_code == 1
    assert f"Report written to {directory / 'report.html'}" in result.stdout
    return directory / "report.html"


def test_report_is_self_contained_and_escaped(report: Path) -> None:
    html = report.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from a network
    assert "<script" not in html
    assert "Chain &lt;Exchange&gt;" in html and "Chain <Exchange>" not in html


def test_report_renders_in_chromium(report: Path, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "chromium is missing: 'make test' installs it (apt-get install chromium)"
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert re.search(r'<span class="verdict FAIL" id="verdict">FAIL</span>', dom)
    assert '<span id="reason">(11) reserves cover liabilities: USDT failed</span>' in dom
    assert dom.index('id="findings"') < dom.index('id="checks"')  # findings lead, the full list follows
    assert re.search(r"<dt>snapshot.json SHA-256</dt><dd class=\"mono\">[0-9a-f]{64}</dd>", dom)
    assert re.search(r"<dt>Audit run at</dt><dd>20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ</dd>", dom)
    assert re.search(
        r"<td>USDT</td><td class=\"num\">1200000</td><td class=\"num\">1000000</td><td class=\"num\">83.33%</td>", dom
    )
    assert dom.count('<rect x="10"') == 6  # a liabilities and a reserves bar per asset
    assert "bcrt1q" in dom and "eth-cold" in dom
    png = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,1800",
            f"--screenshot={png}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(data[16:20], "big") == 1280  # the page was laid out at the window's width
    assert len(data) > 50_000  # a rendered page, not a blank one


def test_chart_labels_fit_inside_the_chart(tmp_path: Path) -> None:
    """The chart is as wide as its longest label (8 px a character at 13 px): none clips,
    even with 18-decimal amounts and a clipped bar."""
    row = ChartRow(
        "ETH",
        "1" * 20 + "." + "1" * 18,
        "9" * 25 + "." + "9" * 18,
        "999999.99%",
        "PASS",
        BAR * CHART_CAP_PER_MILLE // 1000,
        clipped=True,
    )
    assert row.label_end == LEFT + row.reserve_width + 6 + 8 * len(row.reserves_label)
    assert row.label_end > LEFT + BAR * CHART_CAP_PER_MILLE // 1000 + 200  # wider than the old fixed chart


def test_report_chart_is_wide_enough_for_every_label(report: Path) -> None:
    html = report.read_text()
    width = int(re.search(r'<svg class="chart" id="chart" width="(\d+)"', html).group(1))  # type: ignore[union-attr]
    for x, label in re.findall(r'<text x="(\d+)" y="\d+">((?:liabilities|reserves) [^<]*)</text>', html):
        assert int(x) + 8 * len(label) <= width, (x, label, width)
