"""The zk-Merkle family's user files (Binance, HTX, Gate: gnark Groth16 and Poseidon over
BN254, ``user_config.json``): recognised, not yet checked.

Their leaf and nodes are Poseidon hashes (BN254, circomlib constants, output state[1]);
this version has no Poseidon implementation, so such a file is named for what it is and
the outcome is "cannot check" (exit 3): never a pass, and never a failure of the exchange.
"""

from __future__ import annotations

from typing import Any

from reserves.errors import CannotCheck
from reserves.formats import FormatVerification, ProofFormat

FIELDS = {"AccountIndex", "AccountIdHash", "TotalEquity", "TotalDebt", "Assets", "Root", "Proof"}


def _recognises(document: Any) -> bool:
    return isinstance(document, dict) and set(document) >= FIELDS


FORMAT = ProofFormat("zk-merkle", _recognises)


def verify(document: Any, source: str, *, root: str | None = None) -> FormatVerification:
    raise CannotCheck(
        f"{source} is a zk-Merkle user file (Binance, HTX or Gate: Poseidon over BN254), which this version "
        "recognises but cannot check yet"
    )
