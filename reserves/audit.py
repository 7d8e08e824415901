"""The auditor's rebuild of the liabilities side (ATTACKS.md, auditor column).

From ``snapshot.json``, ``liabilities.csv`` and the secret, rebuild every salt, slot and
node, then compare with what was published:

    (1) the account count equals the rows of the liabilities file   (#3, #4)
    (2) slots and account commitments are unique                    (#4, #6, #14)
    (3) each asset's root sum equals the liabilities' total         (#1, #3)
    (4) the root hash equals the rebuilt root                       (#1, #5, #6, #7)

Rows that break the grammar (negative, signed or malformed amounts; duplicate ids) are
rejected while reading, with their line (#2, #9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reserves.encoding import format_amount
from reserves.liabilities import read_liabilities
from reserves.liability_tree import build_liability_tree
from reserves.progress import ProgressCallback
from reserves.reserve_audit import ReserveAudit, audit_reserves
from reserves.results import Check, Status, passed
from reserves.secret import SnapshotSecret
from reserves.snapshot import SnapshotStatement
from reserves.sources import BalanceSource


@dataclass(frozen=True)
class AssetTotal:
    symbol: str
    decimals: int
    published: int
    """The root's sum in ``snapshot.json``, smallest units."""
    rebuilt: int
    """The sum rebuilt from the liabilities file, smallest units."""


@dataclass(frozen=True)
class LiabilitiesAudit:
    statement: SnapshotStatement
    rows: int
    totals: list[AssetTotal]
    checks: list[Check]

    def ok(self, *, strict: bool = False) -> bool:
        return passed(self.checks, strict=strict)


def audit_liabilities(
    statement: SnapshotStatement,
    liabilities_path: Path,
    secret: SnapshotSecret,
    *,
    progress: ProgressCallback | None = None,
) -> LiabilitiesAudit:
    context = statement.context
    decimals = {asset.symbol: asset.decimals for asset in context.assets}
    liabilities = read_liabilities(liabilities_path, decimals, order=context.symbols, progress=progress)
    rows = len(liabilities)
    checks: list[Check] = []

    # (1)
    name = "(1) account count equals the liabilities file's rows"
    if rows == statement.accounts:
        checks.append(Check(name, Status.PASS, f"{rows} accounts"))
    else:
        checks.append(
            Check(
                name, Status.FAIL, "snapshot.json 'accounts' differs from the file", str(rows), str(statement.accounts)
            )
        )
    if rows > context.capacity:
        skipped = f"not rebuilt: {rows} rows do not fit height {context.height}"
        checks += [Check(n, Status.SKIPPED, skipped) for n in _REBUILD_CHECKS]
        return LiabilitiesAudit(statement, rows, [], checks)

    tree = build_liability_tree(context, liabilities, secret, progress=progress)

    # (2)
    name = _REBUILD_CHECKS[0]
    if tree.duplicate_accounts:
        checks.append(Check(name, Status.FAIL, "repeated account commitments", "0", str(tree.duplicate_accounts)))
    else:
        checks.append(Check(name, Status.PASS, f"{rows} distinct slots and commitments"))

    # (3)
    totals = []
    for asset, published, rebuilt in zip(context.assets, statement.root.sums, tree.root.sums, strict=True):
        totals.append(AssetTotal(asset.symbol, asset.decimals, published, rebuilt))
        name = f"{_REBUILD_CHECKS[1]}: {asset.symbol}"
        if published == rebuilt:
            checks.append(Check(name, Status.PASS, format_amount(rebuilt, asset.decimals)))
        else:
            checks.append(
                Check(
                    name,
                    Status.FAIL,
                    "published total differs from the liabilities file",
                    format_amount(rebuilt, asset.decimals),
                    format_amount(published, asset.decimals),
                )
            )

    # (4)
    name = _REBUILD_CHECKS[2]
    if tree.root.hash == statement.root.hash:
        checks.append(Check(name, Status.PASS, tree.root.hash.hex()))
    else:
        checks.append(
            Check(
                name,
                Status.FAIL,
                "published root differs from the rebuilt one",
                tree.root.hash.hex(),
                statement.root.hash.hex(),
            )
        )
    return LiabilitiesAudit(statement, rows, totals, checks)


_REBUILD_CHECKS = (
    "(2) slots and account commitments are unique",
    "(3) root sum equals the liabilities total",
    "(4) root hash equals the rebuilt root",
)


@dataclass(frozen=True)
class AuditReport:
    """The whole audit: the liabilities rebuild and, when the snapshot has wallets, the reserves."""

    liabilities: LiabilitiesAudit
    reserves: ReserveAudit | None

    @property
    def checks(self) -> list[Check]:
        return self.liabilities.checks + (self.reserves.checks if self.reserves else [])

    @property
    def unreadable(self) -> list[str]:
        return self.reserves.unreadable if self.reserves else []

    def failed(self) -> bool:
        return any(check.status is Status.FAIL for check in self.checks)

    def ok(self, *, strict: bool = False) -> bool:
        return passed(self.checks, strict=strict) and not self.unreadable


def audit_snapshot(
    statement: SnapshotStatement,
    liabilities_path: Path,
    secret: SnapshotSecret,
    sources: Mapping[str, BalanceSource],
    *,
    progress: ProgressCallback | None = None,
    custody_ks: Sequence[int] = (1, 2, 3),
    unreachable: Sequence[str] = (),
) -> AuditReport:
    """Rebuild the liabilities, then (if the snapshot lists wallets) read and compare reserves."""
    liabilities = audit_liabilities(statement, liabilities_path, secret, progress=progress)
    if not statement.reserves.wallets and not statement.reserves.chains:
        return AuditReport(liabilities, None)
    totals = {t.symbol: t.rebuilt for t in liabilities.totals} or {
        a.symbol: s for a, s in zip(statement.context.assets, statement.root.sums, strict=True)
    }
    reserves = audit_reserves(
        statement, totals, sources, progress=progress, custody_ks=custody_ks, unreachable=unreachable
    )
    return AuditReport(liabilities, reserves)
