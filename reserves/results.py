"""Check results: every check a command runs ends as one of these, never as silence."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Status(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Check:
    """One named check and its outcome."""

    name: str
    """What was checked, e.g. ``"(5) computed root equals the proof's root"``."""
    status: Status
    detail: str = ""
    """Why: what was compared, or why the check was skipped."""
    expected: str | None = None
    """On failure, the value the check wanted (hex for hashes, whole units for amounts)."""
    found: str | None = None
    """On failure, the value it found."""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"check": self.name, "status": self.status.value, "detail": self.detail}
        if self.expected is not None or self.found is not None:
            document.update(expected=self.expected, found=self.found)
        return document


def passed(checks: list[Check], *, strict: bool = False) -> bool:
    """True if nothing failed (and, when ``strict``, nothing warned or was skipped)."""
    allowed = {Status.PASS} if strict else {Status.PASS, Status.WARN, Status.SKIPPED}
    return all(check.status in allowed for check in checks)
