"""Proof formats other exchanges publish, beside the native ``reserves-proof/1``.

Each format is one module with a ``FORMAT`` descriptor: a name, a test that recognises a
document by its content, and a ``verify`` that returns a ``FormatVerification``. Adding a
third exchange's format is a new module listed in ``FORMATS``, not a change to the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reserves.checks import Check, Status, StepCheck, Verdict, proof_verdict


@dataclass(frozen=True)
class FormatVerification:
    """The outcome of checking one user's proof in some exchange's format."""

    format_name: str
    checks: list[Check]
    balances: dict[str, str] = field(default_factory=dict)
    """The user's balances as the proof states them (whole units)."""
    totals: dict[str, str] = field(default_factory=dict)
    """The exchange's totals at the root (whole units)."""
    anchored: bool = False

    def verdict(self, *, strict: bool = False) -> Verdict:
        return proof_verdict(self.checks, anchored=self.anchored, strict=strict)


@dataclass(frozen=True)
class ProofFormat:
    name: str
    """What ``--format`` takes, e.g. ``okx-v1``."""
    recognises: Callable[[Any], bool]
    """Does this parsed JSON document look like this format?"""


def self_and_path(document: Any) -> dict[str, Any] | None:
    """The ``self`` object of a document with exactly ``self`` and ``path`` (OKX v1, Bybit,
    Bitget, Bitunix: their ``self`` keys tell them apart); ``None`` for any other document."""
    if not isinstance(document, dict) or set(document) != {"self", "path"}:
        return None
    own = document["self"]
    return own if isinstance(own, dict) else None


def run_steps(
    format_name: str,
    steps: Iterator[Check],
    balances: dict[str, str],
    totals: dict[str, str],
    *,
    anchor_step: int | None = None,
) -> FormatVerification:
    """Run a format's steps until the first failure; anchored when the step comparing the
    root with the published one (``anchor_step``, by default the last) passed."""
    checks: list[Check] = []
    for check in steps:
        checks.append(check)
        if check.status is Status.FAIL:
            return FormatVerification(format_name, checks, balances, totals)
    step = checks[-1].step if anchor_step is None else anchor_step
    anchored = any(c.step == step and c.status is Status.PASS for c in checks)
    return FormatVerification(format_name, checks, balances, totals, anchored=anchored)


def anchored(
    check: StepCheck, step: int, supplied: str | None, computed: str, *, published_tree: bool = False
) -> Check:
    """A format's anchoring step: the root against the one the exchange publishes (or, for
    a format that publishes its whole tree, the root of that tree file)."""
    if supplied is None:
        if published_tree:
            return check(step, Status.PASS, f"the root of the published tree file: {computed}")
        return check(step, Status.SKIPPED, "not anchored: the root was compared with nothing published")
    if supplied != computed:
        return check(step, Status.FAIL, "the root differs from the one supplied", supplied, computed)
    return check(step, Status.PASS, "equals the root hash supplied")


def negative_amounts(where: list[str], step: int = 6) -> Check:
    """A finding beyond the exchanges' validators: negative amounts on a user's path mean
    debts net against what others are owed, so the published total may understate it."""
    if not where:
        return Check(
            step,
            "negative-amounts",
            "amounts on the path are not negative",
            Status.PASS,
            "no negative amount on the path",
        )
    detail = f"negative amounts ({', '.join(where[:5])}): the published total may understate what is owed"
    return Check(step, "negative-amounts", "amounts on the path are not negative", Status.WARN, detail)
