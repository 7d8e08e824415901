"""reserves: proof-of-reserves toolkit (FORMAT v1, and FORMAT-2: private sums).

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
    "Cluster",
    "DaskRunner",
    "InclusionProof",
    "InputError",
    "Outcome",
    "PrivateProof",
    "PrivateStatement",
    "PrivateStore",
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
    "load_private_proof",
    "load_proof",
    "load_snapshot",
    "load_statement",
    "parse_proof_text",
    "publish",
    "verify_private_proof",
    "verify_proof",
]

_HOMES = {
    "Anchor": "reserves.verify",
    "AuditReport": "reserves.audit",
    "Check": "reserves.checks",
    "Cluster": "reserves.liabilities.cluster.engine",
    "DaskRunner": "reserves.liabilities.cluster.on_dask",
    "InclusionProof": "reserves.liabilities.proof",
    "InputError": "reserves.errors",
    "Outcome": "reserves.checks",
    "PrivateProof": "reserves.liabilities.private_sums.files",
    "PrivateStatement": "reserves.liabilities.private_sums.files",
    "PrivateStore": "reserves.liabilities.private_sums.store",
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
    "load_private_proof": "reserves.liabilities.private_sums.files",
    "load_proof": "reserves.liabilities.proof",
    "load_snapshot": "reserves.liabilities.snapshot",
    "load_statement": "reserves.liabilities.published",
    "parse_proof_text": "reserves.liabilities.proof",
    "publish": "reserves.publishing",
    "verify_private_proof": "reserves.liabilities.private_sums.checking",
    "verify_proof": "reserves.verify",
}
"""Where each public name is defined."""

if TYPE_CHECKING:
    from reserves.audit import AuditReport, audit_snapshot
    from reserves.checks import Check, Outcome, Status, Verdict
    from reserves.errors import InputError, ReservesError, SourceError, VerificationError
    from reserves.liabilities.cluster.engine import Cluster
    from reserves.liabilities.cluster.on_dask import DaskRunner
    from reserves.liabilities.private_sums.checking import verify_private_proof
    from reserves.liabilities.private_sums.files import PrivateProof, PrivateStatement, load_private_proof
    from reserves.liabilities.private_sums.store import PrivateStore
    from reserves.liabilities.proof import InclusionProof, load_proof, parse_proof_text
    from reserves.liabilities.proof_store import ProofStore
    from reserves.liabilities.published import load_statement
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
