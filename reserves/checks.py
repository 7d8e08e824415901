"""Check results and the one verdict of a run.

Every check a command runs ends as a ``Check`` (PASS, FAIL, WARN or SKIPPED with a
reason), never as silence. Each check has a stable identity: the numbered ``step`` of
the procedure it belongs to (FORMAT §6.3 for a user, the audit's steps for an auditor)
and a short ``id``; code selects checks by these, never by their English text.

A run's ``Verdict`` is computed here, once, and every output reads it: the terminal
line, ``--json``, the HTML report and the exit code.

    FAIL          a check failed                                         (exit 1)
    INCOMPLETE    something that decides the verdict was not read        (exit 3)
    NOT_ANCHORED  a proof is consistent, but was compared with no
                  published root (only when asked for)                   (exit 0)
    PASS          every check that decides the verdict passed            (exit 0)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


class Status(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Check:
    """One check and its outcome."""

    step: int
    """The numbered step of the procedure this check belongs to; one number, one step."""
    id: str
    """A short stable slug naming what is checked, e.g. ``root-published``."""
    title: str
    """What was checked, in words, with its subject, e.g. ``ethereum: node is on chain id 1``."""
    status: Status
    detail: str = ""
    """Why: what was compared, or why the check was skipped."""
    expected: str | None = None
    """On failure, the value the check wanted (hex for hashes, whole units for amounts)."""
    found: str | None = None
    """On failure, the value it found."""

    @property
    def name(self) -> str:
        """The step number and title, as the terminal and the report show them."""
        return f"({self.step}) {self.title}"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "step": self.step,
            "id": self.id,
            "status": self.status.value,
            "title": self.title,
            "detail": self.detail,
        }
        if self.expected is not None or self.found is not None:
            document.update(expected=self.expected, found=self.found)
        return document


StepCheck = Callable[..., Check]
"""``check(step, status, detail="", expected=None, found=None, *, subject="")`` for one procedure's steps."""


def step_checks(steps: dict[int, tuple[str, str]]) -> StepCheck:
    """A maker of checks for a procedure whose steps are ``{number: (id, title)}``; a
    ``subject`` (an asset, a chain) is added to the title."""

    def check(
        step: int,
        status: Status,
        detail: str = "",
        expected: str | None = None,
        found: str | None = None,
        *,
        subject: str = "",
    ) -> Check:
        check_id, title = steps[step]
        return Check(step, check_id, f"{title}: {subject}" if subject else title, status, detail, expected, found)

    return check


def passed(checks: Iterable[Check], *, strict: bool = False) -> bool:
    """True if nothing failed (and, when ``strict``, nothing warned or was skipped)."""
    allowed = {Status.PASS} if strict else {Status.PASS, Status.WARN, Status.SKIPPED}
    return all(check.status in allowed for check in checks)


class Outcome(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCOMPLETE = "INCOMPLETE"
    NOT_ANCHORED = "NOT_ANCHORED"

    @property
    def exit_code(self) -> int:
        return {"PASS": 0, "FAIL": 1, "INCOMPLETE": 3, "NOT_ANCHORED": 0}[self.value]

    @property
    def headline(self) -> str:
        """How the terminal and the report spell it."""
        return "CONSISTENT, NOT ANCHORED" if self is Outcome.NOT_ANCHORED else self.value


@dataclass(frozen=True)
class Verdict:
    """The one outcome of a run, with the reason in words."""

    outcome: Outcome
    reason: str
    """One sentence: which checks failed, what was not read, or what passed."""
    warnings: int = 0
    """How many checks warned (they fail the run only with ``strict``)."""

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code

    def to_json(self) -> dict[str, Any]:
        return {"result": self.outcome.value, "reason": self.reason, "warnings": self.warnings}


def failed_reason(checks: Sequence[Check], *, strict: bool) -> str | None:
    """The failed checks in words, or ``None`` when none failed (warnings count with ``strict``)."""
    failing = {Status.FAIL, Status.WARN} if strict else {Status.FAIL}
    bad = [c for c in checks if c.status in failing]
    if not bad:
        return None
    first = bad[0]
    more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
    what = "warned (strict)" if first.status is Status.WARN else "failed"
    return f"{first.name} {what}{more}"


def verdict_of(checks: Sequence[Check], *, strict: bool, missing: str | None, passed_reason: str) -> Verdict:
    """FAIL when a check failed (or, with ``strict``, warned); else INCOMPLETE when
    ``missing`` names what was not read; else PASS for ``passed_reason``."""
    warnings = count_warnings(checks)
    failure = failed_reason(checks, strict=strict)
    if failure is not None:
        return Verdict(Outcome.FAIL, failure, warnings)
    if missing:
        return Verdict(Outcome.INCOMPLETE, missing, warnings)
    return Verdict(Outcome.PASS, passed_reason, warnings)


def count_warnings(checks: Iterable[Check]) -> int:
    return sum(1 for c in checks if c.status is Status.WARN)


def join_words(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def proof_verdict(checks: Sequence[Check], *, anchored: bool, strict: bool) -> Verdict:
    """A user's proof: FAIL if a step failed; NOT_ANCHORED if it is consistent but was
    compared with no published root; otherwise PASS. With ``strict``, warnings, skipped
    steps and a missing anchor fail."""
    warnings = count_warnings(checks)
    failure = failed_reason(checks, strict=strict)
    if failure is not None:
        return Verdict(Outcome.FAIL, failure, warnings)
    if not anchored:
        if strict:
            return Verdict(Outcome.FAIL, "the proof was not compared with a published root (strict)", warnings)
        return Verdict(
            Outcome.NOT_ANCHORED,
            "the proof is consistent with its own root, which was not compared with a published one",
            warnings,
        )
    skipped = [c for c in checks if c.status is Status.SKIPPED]
    if strict and skipped:
        return Verdict(Outcome.FAIL, f"{skipped[0].name} was skipped (strict): {skipped[0].detail}", warnings)
    return Verdict(Outcome.PASS, "your balances are included in the published root", warnings)
