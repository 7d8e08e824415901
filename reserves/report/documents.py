"""The ``--json`` documents: one shape for every command (``schema``, ``result``, ``reason``,
``warnings``, the command's own fields, then ``checks``), described by the JSON Schemas in
``docs/schemas/``. Built here, from library results; the CLI only prints them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reserves.checks import Check, Verdict
from reserves.encoding import format_amount

if TYPE_CHECKING:
    from reserves.audit import AuditReport
    from reserves.control.custody import CustodyReport
    from reserves.formats import FormatVerification
    from reserves.formats.okx_addresses import AddressReport
    from reserves.liabilities.private_sums.files import PrivateStatement
    from reserves.liabilities.published import PublishedSnapshot
    from reserves.liabilities.snapshot import SnapshotStatement
    from reserves.onchain.reserve_audit import ReserveAudit
    from reserves.report.inputs import AuditInputs
    from reserves.verify import ProofVerification

SCHEMA_VERSION = 1


def schema(kind: str) -> str:
    return f"reserves/{kind}/{SCHEMA_VERSION}"


def envelope(kind: str, result: Verdict | str, checks: Iterable[Check] = (), **body: Any) -> dict[str, Any]:
    """Every ``--json`` document: ``schema``, ``result`` (and ``reason``, ``warnings``) first,
    the command's own fields, then ``checks``."""
    head: dict[str, Any] = {"schema": schema(kind)}
    head.update(result.to_json() if isinstance(result, Verdict) else {"result": result, "reason": "", "warnings": 0})
    return {**head, **body, "checks": [check.to_json() for check in checks]}


def custody_document(custody: CustodyReport | None, statement: PublishedSnapshot) -> dict[str, Any] | None:
    if custody is None:
        return None
    decimals = statement.context.decimals
    document: dict[str, Any] = {
        "keyholders": list(custody.keyholders),
        "wallets": [
            {
                "label": w.wallet.label,
                "kind": w.wallet.kind,
                "threshold": w.policy.threshold,
                "keys": list(w.policy.keys),
            }
            for w in custody.wallets
        ],
        "worst_case": [
            {
                "asset": e.asset,
                "k": e.k,
                "frozen": format_amount(e.frozen, decimals[e.asset]),
                "share": e.share,
                "keyholder_sets": [list(group) for group in e.sets],
                "searched": e.searched,
            }
            for e in custody.exposures
        ],
        "flags": [{"kind": f.kind, "detail": f.detail} for f in custody.flags],
    }
    if custody.unreachable:
        document["unreachable"] = {
            "keyholders": list(custody.unreachable),
            "frozen_wallets": list(custody.frozen_wallets),
            "frozen": {a: format_amount(v, decimals[a]) for a, v in (custody.frozen_now or {}).items()},
        }
    return document


def _counts(statement: SnapshotStatement | PrivateStatement) -> dict[str, Any]:
    """What a snapshot says of its size: v1 its account count, v2 each asset's holders."""
    from reserves.liabilities.snapshot import SnapshotStatement  # noqa: PLC0415 - loaded by then

    if isinstance(statement, SnapshotStatement):
        return {"accounts": statement.accounts}
    shapes = zip(statement.context.assets, statement.context.shapes, strict=True)
    return {"holders": {asset.symbol: shape.holders for asset, shape in shapes}}


def audit_document(result: AuditReport, verdict: Verdict, inputs: AuditInputs) -> dict[str, Any]:
    statement = result.liabilities.statement
    context = statement.context
    body: dict[str, Any] = {
        "scope": "liabilities-only" if result.liabilities_only else "full",
        "inputs": inputs.to_json(),
        "snapshot": {
            "exchange": context.exchange,
            "snapshot_id": context.snapshot_id,
            "cutoff": context.cutoff_text,
            "root": statement.root.hash.hex(),
            **_counts(statement),
        },
        "rows": result.liabilities.rows,
        "liabilities": {
            t.symbol: {
                "published": format_amount(t.published, t.decimals),
                "rebuilt": format_amount(t.rebuilt, t.decimals),
            }
            for t in result.liabilities.totals
        },
    }
    if result.reserves is not None:
        body.update(_reserves_document(result.reserves, statement))
    return envelope("audit", verdict, result.checks, **body)


def _reserves_document(reserves: ReserveAudit, statement: PublishedSnapshot) -> dict[str, Any]:
    decimals = statement.context.decimals
    return {
        "reserves": {
            v.asset.symbol: {
                "liabilities": format_amount(v.liabilities, v.asset.decimals),
                "reserves": format_amount(v.reserves, v.asset.decimals),
                "ratio": v.ratio,
                "status": v.status.value,
            }
            for v in reserves.verdicts
        },
        "wallets": [
            {
                "chain": r.wallet.chain,
                "label": r.wallet.label,
                "kind": r.wallet.kind,
                "address": r.wallet.address,
                "asset": r.asset,
                "found": None if r.found is None else format_amount(r.found, decimals[r.asset]),
                "claimed": None
                if r.wallet.claimed is None
                else format_amount(r.wallet.claimed[r.asset], decimals[r.asset]),
                "counted": r.counted,
                "note": r.note,
            }
            for r in reserves.readings
        ],
        "ownership": [
            {"label": o.wallet.label, "status": o.status.value, "detail": o.detail, "signed_by": list(o.signed_by)}
            for o in reserves.ownership
        ],
        "custody": custody_document(reserves.custody, statement),
        "unread_chains": dict(reserves.unread_chains),
        "unreadable": reserves.unreadable,
    }


def _native_fields(result: ProofVerification) -> dict[str, Any]:
    proof = result.proof
    document = proof.snapshot.to_json()
    return {
        "anchored": result.anchored,
        "account": {
            "id": proof.account.id,
            "index": proof.account.index,
            "balances": proof.to_json()["account"]["balances"],
        },
        "snapshot": {k: document[k] for k in ("exchange", "snapshot_id", "cutoff", "height")},
        "totals": document["root"]["sums"],
    }


def verification_document(result: ProofVerification, verdict: Verdict) -> dict[str, Any]:
    """A native proof's ``verify`` document."""
    return envelope("verify", verdict, result.checks, format="reserves-proof/1", **_native_fields(result))


def format_document(result: FormatVerification, verdict: Verdict) -> dict[str, Any]:
    """Another exchange's proof's ``verify`` document."""
    return envelope(
        "verify",
        verdict,
        result.checks,
        format=result.format_name,
        anchored=result.anchored,
        balances=result.balances,
        totals=result.totals,
    )


def address_document(report: AddressReport, verdict: Verdict) -> dict[str, Any]:
    """The ``okx-addresses`` document: each row's signature and stated amount."""
    rows = [
        {
            "line": r.row.line,
            "coin": r.row.coin,
            "network": r.row.network,
            "address": r.row.address,
            "ownership": r.check.to_json(),
            "balance": r.balance.to_json() if r.balance else None,
        }
        for r in report.results
    ]
    return envelope(
        "okx-addresses",
        verdict,
        report.checks,
        file=report.source,
        rows=rows,
        counts={s.value: n for s, n in report.ownership_counts().items()},
        amount_counts={s.value: n for s, n in report.amount_counts().items()},
    )
