"""URLs without their credentials (reserves.redaction)."""

from __future__ import annotations

import pytest

from reserves.redaction import Redactor, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://mainnet.infura.io/v3/0123456789abcdef", "https://mainnet.infura.io/…"),
        ("http://user:s3cret@127.0.0.1:8545", "http://127.0.0.1:8545/…"),
        ("https://node.example/?apikey=KEY123", "https://node.example/…"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("http://[::1]:3002/api", "http://[::1]:3002/…"),
    ],
)
def test_a_url_is_shown_as_scheme_host_and_port(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_secret_part_is_scrubbed_from_library_messages() -> None:
    redactor = Redactor.for_urls(["https://user:PASSWORD1@node.example/v3/PATHKEY9?apikey=QUERYKEY&x=1"])
    message = (
        "HTTPSConnectionPool(host='node.example'): Max retries exceeded with url: /v3/PATHKEY9?apikey=QUERYKEY&x=1 "
        "(auth user:PASSWORD1)"
    )
    scrubbed = redactor.scrub(message)
    for secret in ("PASSWORD1", "PATHKEY9", "QUERYKEY"):
        assert secret not in scrubbed
    assert "node.example" in scrubbed


def test_short_url_parts_are_left_alone() -> None:
    assert Redactor.for_urls(["http://127.0.0.1:8545/v3"]).scrub("ethereum: retry 1/5 after timeout") == (
        "ethereum: retry 1/5 after timeout"
    )
