"""The byte and text encodings of FORMAT.md §1 and §2, one accepted spelling each.

Everything here is strict on purpose (ATTACKS.md #9): a value has one spelling, and any
other spelling is an ``InputError``. Amounts leave this module as ``int`` counts of the
asset's smallest unit; a ``float`` never appears.
"""

from __future__ import annotations

import calendar
import re
import time
import unicodedata

from reserves.errors import InputError

U128_LIMIT = 1 << 128
"""Every amount and every sum is strictly below this bound (FORMAT §2, §4)."""

MAX_DECIMALS = 36
MAX_LP_BYTES = 65535

_AMOUNT = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]+))?")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_CUTOFF = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def u128(n: int) -> bytes:
    return n.to_bytes(16, "big")


def lp(text: str | bytes) -> bytes:
    """``u16(len(b)) || b`` for the UTF-8 bytes ``b`` of an NFC string (FORMAT §1), or for
    bytes as they are (FORMAT-2's dummy holders' ids)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_LP_BYTES:
        raise InputError(f"a string of {len(raw)} bytes cannot be length-prefixed (at most {MAX_LP_BYTES})")
    return len(raw).to_bytes(2, "big") + raw


def check_text(value: str, *, what: str, min_bytes: int, max_bytes: int, where: str) -> str:
    """Return ``value`` if it is NFC and its UTF-8 length is within bounds."""
    if unicodedata.normalize("NFC", value) != value:
        raise InputError(f"{what} {value!a} is not in Unicode NFC", where=where)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError(f"{what} {value!r} is not valid Unicode", where=where) from None
    if not min_bytes <= size <= max_bytes:
        raise InputError(
            f"{what} must be {min_bytes} to {max_bytes} bytes of UTF-8, found {size}",
            where=where,
        )
    return value


def check_symbol(value: str, *, where: str) -> str:
    if not _SYMBOL.fullmatch(value):
        raise InputError(f"asset symbol {value!r} does not match [A-Z0-9][A-Z0-9._-]{{0,31}}", where=where)
    return value


def check_decimals(value: int, *, where: str) -> int:
    if not 0 <= value <= MAX_DECIMALS:
        raise InputError(f"decimals must be 0 to {MAX_DECIMALS}, found {value}", where=where)
    return value


MAX_AMOUNT_CHARS = 39 + 1 + 255
"""An amount below 2^128 has at most 39 integer digits, a point and the asset's decimals."""


def parse_amount(text: str, decimals: int, *, where: str) -> int:
    """Whole units as written in JSON or CSV -> integer count of the smallest unit."""
    if len(text) > MAX_AMOUNT_CHARS:  # before int(): Python refuses over 4,300 digits with a ValueError
        raise InputError(f"amount of {len(text)} characters: no amount below 2^128 is that long", where=where)
    match = _AMOUNT.fullmatch(text) if text.isascii() else None
    if match is None:
        raise InputError(
            f"amount {text!r} is not a plain decimal (digits, optionally '.' and digits; "
            "no sign, exponent, spaces or separators)",
            where=where,
        )
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > decimals:
        raise InputError(
            f"amount {text!r} has {len(fraction)} fractional digits; the asset has {decimals} decimals",
            where=where,
        )
    value = int(whole + fraction.ljust(decimals, "0"))
    if value >= U128_LIMIT:
        raise InputError(f"amount {text!r} is not below 2^128 smallest units", where=where)
    return value


def format_amount(value: int, decimals: int) -> str:
    """Integer smallest units -> the shortest whole-unit spelling (FORMAT §2)."""
    if value < 0:
        raise ValueError(f"amounts are never negative: {value}")
    if decimals == 0:
        return str(value)
    whole, fraction = divmod(value, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def format_share(part: int, whole: int, *, of_nothing: str = "n/a") -> str:
    """``part / whole`` as a percentage with two decimals, rounded down; exact integers.
    A zero ``whole`` gives ``of_nothing``."""
    if whole == 0:
        return of_nothing
    basis_points = part * 10_000 // whole
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


def parse_hex32(text: str, *, what: str, where: str) -> bytes:
    """64 lowercase hex characters, no ``0x`` -> 32 bytes."""
    if not _HEX32.fullmatch(text):
        raise InputError(f"{what} must be 64 lowercase hex characters, found {text!r}", where=where)
    return bytes.fromhex(text)


def parse_cutoff(text: str, *, where: str) -> int:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC) -> Unix seconds."""
    match = _CUTOFF.fullmatch(text)
    if match is None:
        raise InputError(f"cutoff {text!r} is not of the form YYYY-MM-DDTHH:MM:SSZ", where=where)
    year, month, day, _, _, second = (int(g) for g in match.groups())
    try:
        parsed = time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise InputError(f"cutoff {text!r} is not a valid date and time", where=where) from None
    if (parsed.tm_year, parsed.tm_mon, parsed.tm_mday) != (year, month, day) or second > 59:
        raise InputError(f"cutoff {text!r} is not a valid date and time", where=where)
    seconds = calendar.timegm(parsed)
    if seconds < 0:
        raise InputError(f"cutoff {text!r} is before 1970-01-01T00:00:00Z", where=where)
    return seconds


def format_cutoff(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


_DECIMALS_ITEM = re.compile(r"([^=,]+)=(0|[1-9][0-9]?)")


def parse_asset_decimals(text: str) -> dict[str, int]:
    """``"BTC=8,ETH=18"`` -> ``{"BTC": 8, "ETH": 18}``: each symbol once, in order."""
    result: dict[str, int] = {}
    for item in text.split(","):
        match = _DECIMALS_ITEM.fullmatch(item)
        if match is None:
            raise InputError(f"expected SYMBOL=DECIMALS[,SYMBOL=DECIMALS…], found {item!r}")
        symbol, decimals = match.group(1), int(match.group(2))
        if symbol in result:
            raise InputError(f"{symbol} is given twice")
        result[check_symbol(symbol, where="")] = check_decimals(decimals, where="")
    return result


def parse_set_sizes(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` -> ``(1, 2, 3)``: sizes of keyholder sets, each from 1 to 8."""
    sizes = []
    for item in text.split(","):
        if item not in ("1", "2", "3", "4", "5", "6", "7", "8"):
            raise InputError(f"expected sizes from 1 to 8 separated by commas, found {text!r}")
        sizes.append(int(item))
    return tuple(dict.fromkeys(sizes))
