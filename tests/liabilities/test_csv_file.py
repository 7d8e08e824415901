"""liabilities.csv (FORMAT §6.6) is read strictly: every bad row rejected with its line."""

from __future__ import annotations

import re

import pytest

from reserves.errors import InputError
from reserves.liabilities.csv_file import parse_liabilities

DECIMALS = {"BTC": 8, "ETH": 18}


def parse(raw: bytes | str, order: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return parse_liabilities(data, DECIMALS, order=order, source="liabilities.csv")


def test_reads_rfc4180_with_quoted_comma_quote_and_unicode() -> None:
    parsed = parse(
        'account,BTC,ETH\r\n"doe, jane",1.5,0\r\n"say ""hi""",0,2\r\n张伟,0.00000001,0.000000000000000001\r\n'
    )
    assert parsed.ids == ["doe, jane", 'say "hi"', "张伟"]
    assert parsed.balances == [(150_000_000, 0), (0, 2 * 10**18), (1, 1)]
    assert [a.symbol for a in parsed.assets] == ["BTC", "ETH"]


def test_lf_without_final_newline_is_read() -> None:
    assert parse("account,BTC,ETH\nalice,1,2").ids == ["alice"]


def test_zero_balance_accounts_are_kept() -> None:
    assert parse("account,BTC,ETH\nalice,0,0\n").balances == [(0, 0)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # ATTACKS.md #2: a fake debit account that would cancel real deposits.
        pytest.param(
            "account,BTC,ETH\nalice,1,2\nmallory,-5,0\n",
            "liabilities.csv:3 column BTC: amount '-5' is not a plain decimal",
            id="negative-balance",
        ),
        pytest.param(
            "account,BTC,ETH\nalice,1,2\nmallory,0,-0\n",
            "liabilities.csv:3 column ETH: amount '-0' is not a plain decimal",
            id="negative-zero",
        ),
        # ATTACKS.md #9: non-canonical spellings.
        pytest.param("account,BTC,ETH\nalice,1e8,2\n", "liabilities.csv:2 column BTC: amount '1e8'", id="exponent"),
        pytest.param(
            "account,BTC,ETH\nalice,1_000,2\n", "liabilities.csv:2 column BTC: amount '1_000'", id="underscore"
        ),
        pytest.param("account,BTC,ETH\nalice, 12,2\n", "liabilities.csv:2 column BTC: amount ' 12'", id="space"),
        pytest.param(
            "account,BTC,ETH\nalice,١٢,2\n", "liabilities.csv:2 column BTC: amount '١٢'", id="non-ascii-digits"
        ),
        pytest.param("account,BTC,ETH\nalice,NaN,2\n", "liabilities.csv:2 column BTC: amount 'NaN'", id="nan"),
        pytest.param("account,BTC,ETH\nalice,,2\n", "liabilities.csv:2 column BTC: amount ''", id="empty-amount"),
        pytest.param(
            "account,BTC,ETH\nalice,1.123456789,2\n",
            "liabilities.csv:2 column BTC: amount '1.123456789' has 9 fractional digits",
            id="too-precise",
        ),
        pytest.param(
            f"account,BTC,ETH\nalice,1,{1 << 130}\n", "is not below 2^128 smallest units", id="overflow-2^130"
        ),
        pytest.param(
            "account,BTC,ETH\nCafe\u0301,1,2\n",
            "liabilities.csv:2: account id 'Cafe\\u0301' is not in Unicode NFC",
            id="non-nfc-id",
        ),
        pytest.param(
            "account,BTC,ETH\n,1,2\n",
            "liabilities.csv:2: account id must be 1 to 256 bytes of UTF-8, found 0",
            id="empty-id",
        ),
        pytest.param(
            "account,BTC,ETH\n" + "x" * 257 + ",1,2\n",
            "liabilities.csv:2: account id must be 1 to 256 bytes of UTF-8, found 257",
            id="id-too-long",
        ),
        # ATTACKS.md #4: the same account twice (e.g. to share a leaf).
        pytest.param(
            "account,BTC,ETH\nalice,1,2\nbob,1,1\nalice,1,2\n",
            "liabilities.csv:4: account id 'alice' appears again (first on line 2)",
            id="duplicate-id",
        ),
        # Structure.
        pytest.param("account,BTC,ETH\nalice,1\n", "liabilities.csv:2: expected 3 fields", id="short-row"),
        pytest.param("account,BTC,ETH\nalice,1,2,3\n", "liabilities.csv:2: expected 3 fields", id="long-row"),
        pytest.param("account,BTC,ETH\nalice,1,2\n\nbob,1,2\n", "liabilities.csv:3: blank line", id="blank-line"),
        pytest.param(
            "account,BTC,ETH\ralice,1,2\r", "liabilities.csv:1: carriage return without line feed", id="cr-line-ends"
        ),
        pytest.param(
            b"\xef\xbb\xbfaccount,BTC,ETH\nalice,1,2\n",
            "liabilities.csv:1: starts with a UTF-8 byte-order mark",
            id="bom",
        ),
        pytest.param(b"account,BTC,ETH\nalice,1,2\nb\xffb,1,2\n", "liabilities.csv:3: not valid UTF-8", id="bad-utf8"),
        pytest.param(
            'account,BTC,ETH\n"alice,1,2\n',
            "liabilities.csv:2: malformed CSV in the record starting here: unexpected end of data",
            id="unterminated-quote",
        ),
        pytest.param("", "liabilities.csv:1: empty file", id="empty-file"),
        pytest.param("account,BTC,ETH\n", "liabilities.csv: no accounts", id="header-only"),
        pytest.param(
            "id,BTC,ETH\nalice,1,2\n", "liabilities.csv:1: the header must start with 'account'", id="header-name"
        ),
        pytest.param(
            "account,BTC,BTC\nalice,1,2\n", "liabilities.csv:1: an asset column appears twice", id="header-dup"
        ),
        pytest.param("account,BTC\nalice,1\n", "liabilities.csv:1: asset ETH has no column", id="missing-asset"),
        pytest.param(
            "account,BTC,ETH,SOL\nalice,1,2,3\n",
            "liabilities.csv:1: no decimals known for asset SOL",
            id="unknown-asset",
        ),
        pytest.param(
            "account,btc,ETH\nalice,1,2\n",
            "liabilities.csv:1: asset symbol 'btc' does not match",
            id="lowercase-symbol",
        ),
    ],
)
def test_malformed_liabilities_are_rejected_with_line(raw: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse(raw)


def test_column_order_must_match_snapshot_when_auditing() -> None:
    with pytest.raises(InputError, match=re.escape("expected BTC,ETH, found ETH,BTC")):
        parse("account,ETH,BTC\nalice,1,2\n", order=("BTC", "ETH"))


def test_line_numbers_count_physical_lines_of_multiline_records() -> None:
    with pytest.raises(InputError, match=re.escape("liabilities.csv:4 column BTC")):
        parse('account,BTC,ETH\n"two\nlines",1,2\nbob,x,2\n')
