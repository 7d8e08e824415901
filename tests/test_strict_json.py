"""Strict JSON reading (reserves.strict_json): one spelling per value, bounded input."""

from __future__ import annotations

import sys

import pytest

from reserves.errors import InputError
from reserves.strict_json import MAX_DEPTH, parse_json


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b'{"a": 1, "a": 2}', "invalid JSON: duplicate key 'a'", id="duplicate-key"),
        pytest.param(b'{"a": 1.5}', "invalid JSON: number 1.5 is not an integer (amounts are strings)", id="float"),
        pytest.param(b'{"a": -1}', "invalid JSON: negative number -1", id="negative"),
        pytest.param(b'{"a": NaN}', "invalid JSON: NaN is not allowed", id="nan"),
        pytest.param(
            b'{"a": ' + b"1" * 41 + b"}", "invalid JSON: a number of 41 digits (at most 40)", id="long-number"
        ),
        pytest.param(b"\xef\xbb\xbf{}", "starts with a byte-order mark", id="bom"),
        pytest.param(b'{"a": "\xff"}', "not valid UTF-8 at byte 7", id="invalid-utf8"),
        pytest.param(b"[]", "the top level must be a JSON object", id="top-level-array"),
        pytest.param(
            b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
            f"invalid JSON: nested more than {MAX_DEPTH} levels deep",
            id="deep",
        ),
    ],
)
def test_malformed_json_is_refused_with_its_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InputError) as error:
        parse_json(raw, source="f.json")
    assert str(error.value) == f"f.json: {message}"


def test_nesting_is_bounded_even_when_another_library_raised_the_recursion_limit() -> None:
    """web3 raises the limit to 100,000: the C scanner then crashed the process (D4)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        with pytest.raises(InputError, match="nested more than"):
            parse_json(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", source="deep.json")
    finally:
        sys.setrecursionlimit(old)
    assert sys.getrecursionlimit() == old


def test_a_file_over_the_bound_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(InputError, match=r"f\.json: larger than 10 bytes"):
        parse_json(b'{"a": "' + b"x" * 20 + b'"}', source="f.json", max_bytes=10)
