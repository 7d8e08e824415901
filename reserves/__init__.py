"""reserves: proof-of-reserves toolkit (FORMAT v1).

The public Python surface is ``__all__``: publish a snapshot, open its proof store, verify
a proof, audit a snapshot, and the results and errors they give (see ``docs/api.md``).
Names load on first use, so ``import reserves`` stays light (a user's ``verify`` starts
fast): the builder's numpy and pyarrow, and the audit's chain clients, load only when used.

The library never prints or exits: it returns results or raises an error of
``reserves.errors``. The ``reserves`` command lives in ``reserves.cli``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Anchor",
    "AuditReport",
    "Check",
    "InclusionProof",
    "InputError",
    "Outcome",
    "ProofStore",
    "ProofVerification",
    "ReservesError",
    "SnapshotRequest",
    "SnapshotSecret",
    "SnapshotStatement",
    "SourceError",
    "Status",
    "Verdict",
    "VerificationError",
    "__version__",
    "audit_snapshot",
    "connect_sources",
    "load_proof",
    "load_snapshot",
    "parse_proof_text",
    "publish",
    "verify_proof",
]

_HOMES = {
    "Anchor": "reserves.verify",
    "AuditReport": "reserves.audit",
    "Check": "reserves.checks",
    "InclusionProof": "reserves.liabilities.proof",
    "InputError": "reserves.errors",
    "Outcome": "reserves.checks",
    "ProofStore": "reserves.liabilities.proof_store",
    "ProofVerification": "reserves.verify",
    "ReservesError": "reserves.errors",
    "SnapshotRequest": "reserves.publishing",
    "SnapshotSecret": "reserves.liabilities.secret",
    "SnapshotStatement": "reserves.liabilities.snapshot",
    "SourceError": "reserves.errors",
    "Status": "reserves.checks",
    "Verdict": "reserves.checks",
    "VerificationError": "reserves.errors",
    "audit_snapshot": "reserves.audit",
    "connect_sources": "reserves.onchain.sources.connect",
    "load_proof": "reserves.liabilities.proof",
    "load_snapshot": "reserves.liabilities.snapshot",
    "parse_proof_text": "reserves.liabilities.proof",
    "publish": "reserves.publishing",
    "verify_proof": "reserves.verify",
}
"""Where each public name is defined."""

if TYPE_CHECKING:
    from reserves.audit import AuditReport, audit_snapshot
    from reserves.checks import Check, Outcome, Status, Verdict
    from reserves.errors import InputError, ReservesError, SourceError, VerificationError
    from reserves.liabilities.proof import InclusionProof, load_proof, parse_proof_text
    from reserves.liabilities.proof_store import ProofStore
    from reserves.liabilities.secret import SnapshotSecret
    from reserves.liabilities.snapshot import SnapshotStatement, load_snapshot
    from reserves.onchain.sources.connect import connect_sources
    from reserves.publishing import SnapshotRequest, publish
    from reserves.verify import Anchor, ProofVerification, verify_proof


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reserves' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
