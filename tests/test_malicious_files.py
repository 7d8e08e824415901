"""The named malicious files of fixtures/malicious/: each gets its outcome from the user's
verify, and each is what tests/malicious.py builds (so they can be trusted as data)."""

from __future__ import annotations

import pytest
from malicious import FILES, render

from support import MALICIOUS, MaliciousCase, cli, malicious_cases


@pytest.mark.parametrize("case", malicious_cases(), ids=lambda case: case.proof.stem)
def test_malicious_proof_gets_its_outcome(case: MaliciousCase) -> None:
    result = cli("verify", case.proof, "--snapshot", case.snapshot)
    assert result.exit_code == case.exit_code, result.stdout + result.stderr
    assert case.message in result.stdout + result.stderr


def test_every_file_is_listed_and_reproducible() -> None:
    assert sorted(p.name for p in MALICIOUS.glob("*.json") if p.name != "cases.json") == sorted(FILES)
    listed = {case.proof.name for case in malicious_cases()}
    assert listed == {name for name in FILES if name.startswith("proof_")}
    for name, build in FILES.items():
        assert (MALICIOUS / name).read_text() == render(build()), name
