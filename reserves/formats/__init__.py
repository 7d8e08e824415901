"""Proof formats other exchanges publish, beside the native ``reserves-proof/1``.

Each format is one module with a ``FORMAT`` descriptor: a name, a test that recognises a
document by its content, and a ``verify`` that returns a ``FormatVerification``. Adding a
third exchange's format is a new module listed in ``FORMATS``, not a change to the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reserves.checks import Check, Status, Verdict, proof_verdict


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


def run_steps(
    format_name: str, steps: Iterator[Check], balances: dict[str, str], totals: dict[str, str]
) -> FormatVerification:
    """Run a format's steps until the first failure; anchored when the last step (the root
    against the published one) passed."""
    checks: list[Check] = []
    for check in steps:
        checks.append(check)
        if check.status is Status.FAIL:
            return FormatVerification(format_name, checks, balances, totals)
    return FormatVerification(format_name, checks, balances, totals, anchored=checks[-1].status is Status.PASS)
