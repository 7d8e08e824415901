"""What an audit was run on, so that its result can be tied to its inputs: when it ran,
the SHA-256 of ``snapshot.json`` and of the liabilities file, and the sources read
(their URLs redacted: they often carry API keys)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reserves.errors import InputError

if TYPE_CHECKING:
    from reserves.onchain.sources import BalanceSource

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class AuditInputs:
    ran_at: str
    """UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    snapshot_sha256: str
    liabilities_sha256: str
    sources: dict[str, str]
    """Chain name -> the source's redacted URL."""

    @classmethod
    def describe(cls, snapshot: Path, liabilities: Path, sources: Mapping[str, BalanceSource]) -> AuditInputs:
        return cls(
            ran_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            snapshot_sha256=file_sha256(snapshot),
            liabilities_sha256=file_sha256(liabilities),
            sources={name: source.description for name, source in sources.items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ran_at": self.ran_at,
            "snapshot_sha256": self.snapshot_sha256,
            "liabilities_sha256": self.liabilities_sha256,
            "sources": dict(self.sources),
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return digest.hexdigest()
