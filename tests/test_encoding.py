"""FORMAT §1-§2: one spelling per value (ATTACKS.md #9), amounts as exact integers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reserves.encoding import U128_LIMIT, format_amount, lp, parse_amount, parse_cutoff, parse_hex32
from reserves.errors import InputError


@pytest.mark.parametrize(
    ("text", "decimals", "value"),
    [
        ("0", 8, 0),
        ("1", 8, 100_000_000),
        ("1.5", 8, 150_000_000),
        ("0.00000001", 8, 1),
        ("1.50", 8, 150_000_000),  # trailing zeros within d digits are read
        ("12", 0, 12),
        ("340282366920938463463374607431768211455", 0, U128_LIMIT - 1),
        ("0.000000000000000001", 18, 1),
    ],
)
def test_amounts_that_parse(text: str, decimals: int, value: int) -> None:
    assert parse_amount(text, decimals, where="t") == value


@pytest.mark.parametrize(
    ("text", "decimals", "message"),
    [
        pytest.param("-1", 8, "is not a plain decimal", id="negative"),
        pytest.param("+1", 8, "is not a plain decimal", id="plus-sign"),
        pytest.param("1e8", 8, "is not a plain decimal", id="exponent"),
        pytest.param("1_000", 8, "is not a plain decimal", id="underscore"),
        pytest.param(" 12", 8, "is not a plain decimal", id="leading-space"),
        pytest.param("12 ", 8, "is not a plain decimal", id="trailing-space"),
        pytest.param("١٢", 8, "is not a plain decimal", id="arabic-indic-digits"),
        pytest.param("１２", 8, "is not a plain decimal", id="fullwidth-digits"),
        pytest.param("NaN", 8, "is not a plain decimal", id="nan"),
        pytest.param("Infinity", 8, "is not a plain decimal", id="infinity"),
        pytest.param("01", 8, "is not a plain decimal", id="leading-zero"),
        pytest.param("1.", 8, "is not a plain decimal", id="trailing-dot"),
        pytest.param(".5", 8, "is not a plain decimal", id="leading-dot"),
        pytest.param("", 8, "is not a plain decimal", id="empty"),
        pytest.param("0x10", 8, "is not a plain decimal", id="hex"),
        pytest.param("1,5", 8, "is not a plain decimal", id="decimal-comma"),
        pytest.param("1.123456789", 8, "has 9 fractional digits; the asset has 8 decimals", id="too-precise"),
        pytest.param("1.0", 0, "has 1 fractional digits; the asset has 0 decimals", id="fraction-of-indivisible"),
        pytest.param("340282366920938463463374607431768211456", 0, "is not below 2^128", id="2^128"),
        pytest.param(str(1 << 130), 0, "is not below 2^128", id="2^130"),
    ],
)
def test_amounts_that_do_not_parse(text: str, decimals: int, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse_amount(text, decimals, where="file.csv:3 column BTC")
    assert str(error.value).startswith("file.csv:3 column BTC: amount ")


@given(st.integers(0, U128_LIMIT - 1), st.integers(0, 36))
def test_format_then_parse_is_identity(value: int, decimals: int) -> None:
    text = format_amount(value, decimals)
    assert parse_amount(text, decimals, where="t") == value
    assert not text.endswith(".") and not (("." in text) and text.endswith("0"))


def test_format_amount_is_shortest() -> None:
    assert format_amount(150_000_000, 8) == "1.5"
    assert format_amount(100_000_000, 8) == "1"
    assert format_amount(0, 18) == "0"
    assert format_amount(1, 18) == "0.000000000000000001"


def test_lp_prefixes_utf8_length() -> None:
    assert lp("café") == b"\x00\x05caf\xc3\xa9"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T00:00:00",
        "2026-11-21 00:00:00Z",
        "2026-11-21T00:00:00.000Z",
        "2026-02-30T00:00:00Z",
        "2026-11-21T24:00:00Z",
        "2026-11-21T00:00:60Z",
        "1969-12-31T23:59:59Z",
        "2026-11-21T00:00:00+00:00",
    ],
)
def test_cutoff_rejects_other_spellings(text: str) -> None:
    with pytest.raises(InputError, match="cutoff"):
        parse_cutoff(text, where="--cutoff")


def test_cutoff_is_unix_seconds() -> None:
    assert parse_cutoff("2026-11-21T00:00:00Z", where="t") == 1_795_219_200


@pytest.mark.parametrize("text", ["AB" * 32, "0x" + "ab" * 31, "ab" * 31, "ab" * 33, "g" * 64])
def test_hex_is_64_lowercase_characters(text: str) -> None:
    with pytest.raises(InputError, match="must be 64 lowercase hex characters"):
        parse_hex32(text, what="hash", where="t")
