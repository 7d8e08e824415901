"""The shareable audit report: one self-contained HTML file (no network needed to open
it), rendered with Jinja2 from ``templates/report.html.j2``. The chart is inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from reserves import __version__
from reserves.atomic_file import write_text_atomically
from reserves.audit import AuditReport
from reserves.custody import holder_of
from reserves.encoding import format_amount
from reserves.reserve_audit import reserve_ratio
from reserves.results import Status

CHART_CAP_PER_MILLE = 2000
"""Reserve bars are drawn up to twice the liabilities; beyond that they are clipped and labelled."""


@dataclass(frozen=True)
class ChartRow:
    symbol: str
    liabilities: str
    reserves: str
    ratio: str
    status: str
    reserve_per_mille: int
    """Width of the reserves bar in thousandths of the liabilities bar's width."""
    clipped: bool


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
                reserve_per_mille=min(exact, CHART_CAP_PER_MILLE),
                clipped=exact > CHART_CAP_PER_MILLE,
            )
        )
    return rows


def render_html(report: AuditReport, *, strict: bool = False) -> str:
    environment = Environment(
        loader=PackageLoader("reserves", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    statement = report.liabilities.statement
    assets = {a.symbol: a for a in statement.context.assets}
    if report.failed():
        verdict = "FAIL"
    elif report.unreadable:
        verdict = "INCOMPLETE"
    else:
        verdict = "PASS" if report.ok(strict=strict) else "FAIL"
    return environment.get_template("report.html.j2").render(
        report=report,
        statement=statement,
        context=statement.context,
        verdict=verdict,
        chart=chart_rows(report),
        chart_cap=CHART_CAP_PER_MILLE,
        assets=assets,
        ownership={o.wallet.label: o for o in report.reserves.ownership} if report.reserves else {},
        holders=holder_of(statement.reserves.keyholders),
        format_amount=format_amount,
        Status=Status,
        version=__version__,
    )


def write_report(path: Path, html: str) -> None:
    """Write ``html`` to ``path`` atomically."""
    write_text_atomically(path, html, what="report ")
