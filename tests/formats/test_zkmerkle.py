"""The zk-Merkle family (reserves.formats.zkmerkle): recognised, not yet checked, so never
a pass and never blamed on the exchange."""

from __future__ import annotations

import json

from support import ROOT, assert_valid, cli

HTX = ROOT / "fixtures" / "formats" / "htx" / "user_config.json"


def test_a_zk_user_file_is_recognised_but_cannot_be_checked() -> None:
    result = cli("verify", HTX, "--root", "ab" * 32, "--json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert (document["result"], document["exit_code"]) == ("ERROR", 3)
    assert document["error"] == (
        f"cannot check: {HTX} is a zk-Merkle user file (Binance, HTX or Gate: Poseidon over BN254), "
        "which this version recognises but cannot check yet"
    )
    assert_valid(document, "error.schema.json")
    assert "PASS" not in result.stdout
