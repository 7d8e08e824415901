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
from typing import TYPE_CHECKING

from reserves.checks import Check, Status, Verdict, join_words, passed, step_checks, verdict_of
from reserves.errors import InputError
from reserves.liabilities.cluster.engine import RebuiltTree
from reserves.liabilities.csv_file import read_liabilities
from reserves.liabilities.liability_tree import build_liability_tree
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement
from reserves.liabilities.totals import AssetTotal, total_check
from reserves.onchain.reserve_audit import ReserveAudit, audit_reserves
from reserves.onchain.sources import BalanceSource
from reserves.progress import ProgressCallback, silent

if TYPE_CHECKING:
    from reserves.liabilities.cluster.engine import Cluster
    from reserves.liabilities.private_sums.files import PrivateStatement


@dataclass(frozen=True)
class LiabilitiesAudit:
    statement: SnapshotStatement | PrivateStatement
    rows: int
    totals: list[AssetTotal]
    checks: list[Check]

    def ok(self, *, strict: bool = False) -> bool:
        return passed(self.checks, strict=strict)


def audit_liabilities(
    statement: SnapshotStatement | PrivateStatement,
    liabilities_path: Path,
    secret: SnapshotSecret,
    *,
    cluster: Cluster | None = None,
    progress: ProgressCallback | None = None,
) -> LiabilitiesAudit:
    """Steps (1) to (4) of the module docstring (FORMAT-2 §8's for a v2 snapshot); with
    ``cluster``, the tree is rebuilt in stages by its runner (format v1)."""
    if not isinstance(statement, SnapshotStatement):
        if cluster is not None:
            raise InputError(
                "a format v2 snapshot (private sums) is audited on one machine: a cluster builds format v1"
            )
        return _audit_private_trees(statement, liabilities_path, secret, progress or silent)
    rebuilt = _rebuilt(statement, liabilities_path, secret, cluster, progress or silent)
    context, rows = statement.context, rebuilt.accounts
    checks = [_account_count(rows, statement.accounts)]  # (1)
    if rebuilt.root is None:
        skipped = f"not rebuilt: {rows} rows do not fit height {context.height}"
        checks += [_check(step, Status.SKIPPED, skipped) for step in (2, 3, 4)]
        return LiabilitiesAudit(statement, rows, [], checks)
    if rebuilt.repeated_commitments:  # (2)
        checks.append(_check(2, Status.FAIL, "repeated account commitments", "0", str(rebuilt.repeated_commitments)))
    else:
        checks.append(_check(2, Status.PASS, f"{rows} distinct slots and commitments"))
    totals = [
        AssetTotal(asset.symbol, asset.decimals, published, rebuilt)
        for asset, published, rebuilt in zip(context.assets, statement.root.sums, rebuilt.root.sums, strict=True)
    ]
    checks += [total_check(_check, 3, total) for total in totals]  # (3)
    checks.append(_root_hash(rebuilt.root.hash, statement.root.hash))  # (4)
    return LiabilitiesAudit(statement, rows, totals, checks)


def _rebuilt(
    statement: SnapshotStatement,
    liabilities_path: Path,
    secret: SnapshotSecret,
    cluster: Cluster | None,
    progress: ProgressCallback,
) -> RebuiltTree:
    """The tree rebuilt from the file and the secret, on one machine or in stages."""
    context = statement.context
    if cluster is not None:
        from reserves.liabilities.cluster.engine import rebuild  # noqa: PLC0415 - clusters only

        return rebuild(
            liabilities_path,
            context.decimals,
            lambda assets, accounts: context,
            secret,
            cluster.runner,
            cluster.work_dir,
            order=context.symbols,
            count_commitments=True,
            sizes=cluster.sizes,
            progress=progress,
        )
    liabilities = read_liabilities(liabilities_path, context.decimals, order=context.symbols, progress=progress)
    if len(liabilities) > context.capacity:
        return RebuiltTree(context, len(liabilities), None, 0)
    tree = build_liability_tree(context, liabilities, secret, progress=progress)
    return RebuiltTree(context, len(liabilities), tree.root, tree.duplicate_accounts)


def _audit_private_trees(
    statement: PrivateStatement, liabilities_path: Path, secret: SnapshotSecret, progress: ProgressCallback
) -> LiabilitiesAudit:
    """Format v2: every asset tree rebuilt from the file and the secret (``private_sums.auditing``)."""
    from reserves.liabilities.private_sums.auditing import audit_private_trees  # noqa: PLC0415 - v2 only

    context = statement.context
    liabilities = read_liabilities(liabilities_path, context.decimals, order=context.symbols, progress=progress)
    totals, checks = audit_private_trees(statement.commitment, liabilities, secret.key, progress=progress)
    return LiabilitiesAudit(statement, len(liabilities), totals, checks)


def _account_count(rows: int, accounts: int) -> Check:
    """(1) The account count equals the liabilities file's rows."""
    if rows == accounts:
        return _check(1, Status.PASS, f"{rows} accounts")
    return _check(1, Status.FAIL, "snapshot.json 'accounts' differs from the file", str(rows), str(accounts))


def _root_hash(rebuilt: bytes, published: bytes) -> Check:
    """(4) The root hash equals the rebuilt root."""
    if rebuilt == published:
        return _check(4, Status.PASS, rebuilt.hex())
    return _check(4, Status.FAIL, "published root differs from the rebuilt one", rebuilt.hex(), published.hex())


_STEPS = {
    1: ("account-count", "account count equals the liabilities file's rows"),
    2: ("unique-slots", "slots and account commitments are unique"),
    3: ("root-sum", "root sum equals the liabilities total"),
    4: ("root-hash", "root hash equals the rebuilt root"),
}


_check = step_checks(_STEPS)


@dataclass(frozen=True)
class AuditReport:
    """The whole audit: the liabilities rebuild and, when the snapshot has wallets, the reserves."""

    liabilities: LiabilitiesAudit
    reserves: ReserveAudit | None
    liabilities_only: bool = False
    """The auditor asked for the liabilities side alone: the reserves were not looked at."""

    @property
    def checks(self) -> list[Check]:
        return self.liabilities.checks + (self.reserves.checks if self.reserves else [])

    @property
    def unreadable(self) -> list[str]:
        return self.reserves.unreadable if self.reserves else []

    def verdict(self, *, strict: bool = False) -> Verdict:
        """FAIL when a check failed (or, with ``strict``, warned); INCOMPLETE when anything
        that decides the verdict was not read; PASS only when every such check passed."""
        if self.liabilities_only:
            reason = "liabilities match the published snapshot; reserves were not checked (liabilities only)"
        elif self.reserves is None:
            reason = "liabilities match the published snapshot, which lists no reserves"
        else:
            reason = "liabilities match the snapshot and every asset's reserves cover its liabilities"
        missing = incomplete_reason(self.checks, self.reserves)
        return verdict_of(self.checks, strict=strict, missing=missing, passed_reason=reason)


def incomplete_reason(checks: Sequence[Check], reserves: ReserveAudit | None) -> str | None:
    """What was not read, in words (``None`` when everything was): chains not read, assets
    with no verdict, ownership checks that could not run, any other skipped check."""
    parts = []
    unread = reserves.unread_chains if reserves is not None else {}
    parts += [f"{chain} not read ({why})" for chain, why in unread.items()]
    if reserves is not None:
        no_verdict = [v.asset.symbol for v in reserves.verdicts if v.status is Status.SKIPPED]
        if no_verdict:
            parts.append(f"{join_words(no_verdict)} {'has' if len(no_verdict) == 1 else 'have'} no verdict")
    explained = _EXPLAINED_BY_CHAINS if unread else frozenset({"reserves-cover"})
    skipped = [c for c in checks if c.status is Status.SKIPPED and c.id not in explained]
    if skipped:
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        parts.append(f"{skipped[0].name} not checked ({skipped[0].detail}){more}")
    return "; ".join(parts) or None


_EXPLAINED_BY_CHAINS = frozenset({"chain-identity", "ownership", "balances-read", "reserves-cover"})
"""Checks skipped because a chain was not read: the reason names the chain instead (and
an asset with no verdict is named as such)."""


def audit_snapshot(
    statement: SnapshotStatement | PrivateStatement,
    liabilities_path: Path,
    secret: SnapshotSecret,
    sources: Mapping[str, BalanceSource],
    *,
    progress: ProgressCallback | None = None,
    custody_ks: Sequence[int] = (1, 2, 3),
    unreachable: Sequence[str] = (),
    liabilities_only: bool = False,
    cluster: Cluster | None = None,
) -> AuditReport:
    """Rebuild the liabilities, then (if the snapshot lists wallets, and unless asked for the
    liabilities alone) read and compare reserves."""
    liabilities = audit_liabilities(statement, liabilities_path, secret, cluster=cluster, progress=progress)
    if liabilities_only or (not statement.reserves.wallets and not statement.reserves.chains):
        return AuditReport(liabilities, None, liabilities_only=liabilities_only)
    totals = {t.symbol: t.rebuilt for t in liabilities.totals} or statement.liability_totals()
    reserves = audit_reserves(
        statement, totals, sources, progress=progress, custody_ks=custody_ks, unreachable=unreachable
    )
    return AuditReport(liabilities, reserves)


def custody_verdict(checks: Sequence[Check], reserves: ReserveAudit, *, strict: bool = False) -> Verdict:
    """The custody command's outcome over its checks (ownership and custody): FAIL, then
    INCOMPLETE when a chain with wallets was not read, else PASS."""
    missing = "; ".join(f"{chain} not read ({why})" for chain, why in reserves.unread_chains.items())
    passed_reason = "every wallet's signers are known; custody flags are listed above"
    return verdict_of(checks, strict=strict, missing=missing, passed_reason=passed_reason)
