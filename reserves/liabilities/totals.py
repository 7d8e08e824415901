"""An asset's published total beside the one rebuilt from the liabilities file: the check
both audits make (format v1's root sums, format v2's tree totals)."""

from __future__ import annotations

from dataclasses import dataclass

from reserves.checks import Check, Status, StepCheck
from reserves.encoding import format_amount


@dataclass(frozen=True)
class AssetTotal:
    symbol: str
    decimals: int
    published: int
    """The total in ``snapshot.json``, smallest units."""
    rebuilt: int
    """The total rebuilt from the liabilities file, smallest units."""


def total_check(check: StepCheck, step: int, total: AssetTotal) -> Check:
    """Step ``step`` of an audit: the asset's published total equals the liabilities' total."""
    rebuilt = format_amount(total.rebuilt, total.decimals)
    if total.published == total.rebuilt:
        return check(step, Status.PASS, rebuilt, subject=total.symbol)
    published = format_amount(total.published, total.decimals)
    detail = "published total differs from the liabilities file"
    return check(step, Status.FAIL, detail, rebuilt, published, subject=total.symbol)
