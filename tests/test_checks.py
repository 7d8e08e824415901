"""Checks and the one verdict of a run (reserves.checks)."""

from __future__ import annotations

from reserves.checks import Check, Outcome, Status, Verdict, proof_verdict, step_checks, verdict_of

STEPS = {1: ("first", "the first thing"), 2: ("second", "the second thing")}
check = step_checks(STEPS)


def test_a_check_carries_its_step_id_and_title() -> None:
    made = check(2, Status.FAIL, "differs", "a", "b", subject="BTC")
    assert (made.step, made.id, made.title, made.name) == (
        2,
        "second",
        "the second thing: BTC",
        "(2) the second thing: BTC",
    )
    assert made.to_json() == {
        "step": 2,
        "id": "second",
        "status": "FAIL",
        "title": "the second thing: BTC",
        "detail": "differs",
        "expected": "a",
        "found": "b",
    }


def test_fail_wins_then_incomplete_then_pass() -> None:
    passing, warning = check(1, Status.PASS), check(2, Status.WARN, "odd")
    failing = Check(2, "second", "the second thing", Status.FAIL)
    assert (
        verdict_of([passing, failing], strict=False, missing="x not read", passed_reason="ok").outcome is Outcome.FAIL
    )
    assert verdict_of([passing], strict=False, missing="x not read", passed_reason="ok") == Verdict(
        Outcome.INCOMPLETE, "x not read", 0
    )
    assert verdict_of([passing, warning], strict=False, missing=None, passed_reason="ok") == Verdict(
        Outcome.PASS, "ok", 1
    )
    strict = verdict_of([passing, warning], strict=True, missing=None, passed_reason="ok")
    assert (strict.outcome, strict.reason) == (Outcome.FAIL, "(2) the second thing warned (strict)")


def test_exit_codes_mean_one_thing_each() -> None:
    codes = {outcome: outcome.exit_code for outcome in Outcome}
    assert codes == {Outcome.PASS: 0, Outcome.FAIL: 1, Outcome.INCOMPLETE: 3, Outcome.NOT_ANCHORED: 0}


def test_a_consistent_proof_without_anchor_is_never_a_pass() -> None:
    checks = [check(1, Status.PASS), Check(6, "root-published", "root", Status.SKIPPED, "not anchored")]
    verdict = proof_verdict(checks, anchored=False, strict=False)
    assert (verdict.outcome, verdict.outcome.headline) == (Outcome.NOT_ANCHORED, "CONSISTENT, NOT ANCHORED")
    assert proof_verdict(checks, anchored=False, strict=True).outcome is Outcome.FAIL
