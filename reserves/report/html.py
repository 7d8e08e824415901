"""The shareable audit report: one self-contained HTML file (no network needed to open
it), rendered with Jinja2 from ``templates/report.html.j2``. The chart is inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from reserves import __version__
from reserves.atomic_file import write_text_atomically
from reserves.audit import AuditReport
from reserves.checks import Status, Verdict
from reserves.control.custody import holder_of
from reserves.encoding import format_amount
from reserves.onchain.reserve_audit import reserve_ratio
from reserves.report.inputs import AuditInputs

CHART_CAP_PER_MILLE = 2000
"""Reserve bars are drawn up to twice the liabilities; beyond that they are clipped and labelled."""
BAR = 360
"""Pixels of the liabilities bar (100 %)."""
CHAR_WIDTH = 8
"""A generous width of one character of the chart's 13 px labels, so that they never clip."""
LEFT = 10


@dataclass(frozen=True)
class ChartRow:
    symbol: str
    liabilities: str
    reserves: str
    ratio: str
    status: str
    reserve_width: int
    """Width of the reserves bar in pixels."""
    clipped: bool

    @property
    def liabilities_label(self) -> str:
        return f"liabilities {self.liabilities}"

    @property
    def reserves_label(self) -> str:
        return f"reserves {self.reserves} · {self.ratio}" + (" (bar clipped)" if self.clipped else "")

    @property
    def label_end(self) -> int:
        """The right edge of the row's longest label, in pixels."""
        return max(
            LEFT + 6 + CHAR_WIDTH * len(self.liabilities_label),
            LEFT + self.reserve_width + 6 + CHAR_WIDTH * len(self.reserves_label),
            CHAR_WIDTH * len(self.symbol),
        )


def chart_rows(report: AuditReport) -> list[ChartRow]:
    if report.reserves is None:
        return []
    rows = []
    for verdict in report.reserves.verdicts:
        decimals = verdict.asset.decimals
        if verdict.liabilities:
            exact = verdict.reserves * 1000 // verdict.liabilities
        else:
            exact = CHART_CAP_PER_MILLE + 1 if verdict.reserves else 0
        rows.append(
            ChartRow(
                symbol=verdict.asset.symbol,
                liabilities=format_amount(verdict.liabilities, decimals),
                reserves=format_amount(verdict.reserves, decimals),
                ratio=reserve_ratio(verdict.reserves, verdict.liabilities),
                status=verdict.status.value,
                reserve_width=BAR * min(exact, CHART_CAP_PER_MILLE) // 1000,
                clipped=exact > CHART_CAP_PER_MILLE,
            )
        )
    return rows


def render_html(report: AuditReport, verdict: Verdict, inputs: AuditInputs | None = None) -> str:
    """The report of ``report`` under its one ``verdict`` (the same the terminal and ``--json`` show)."""
    environment = Environment(
        loader=PackageLoader("reserves.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    statement = report.liabilities.statement
    chart = chart_rows(report)
    findings = [c for c in report.checks if c.status is not Status.PASS]
    ownership = {id(o.wallet): o for o in report.reserves.ownership} if report.reserves else {}
    return environment.get_template("report.html.j2").render(
        report=report,
        statement=statement,
        context=statement.context,
        verdict=verdict,
        findings=findings,
        inputs=inputs,
        chart=chart,
        chart_width=max([LEFT + BAR * CHART_CAP_PER_MILLE // 1000, *(row.label_end for row in chart)]) + 20,
        bar=BAR,
        left=LEFT,
        assets=statement.context.decimals,
        ownership_of=lambda wallet: ownership.get(id(wallet)),
        holders=holder_of(statement.reserves.keyholders),
        format_amount=format_amount,
        version=__version__,
    )


def write_report(path: Path, html: str) -> None:
    """Write ``html`` to ``path`` atomically."""
    write_text_atomically(path, html, what="report ")
