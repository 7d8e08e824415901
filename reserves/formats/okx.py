"""What OKX's proof formats share (github.com/okx/proof-of-reserves, MIT licence): three
assets, balances as decimal strings, SHA-256 over concatenated hex and decimal text, and
sums rounded down to 8 decimal places.

Amounts are exact integers here, in units of 10^-18 (no float, no Decimal): a balance
with more than 18 fractional digits is rejected, and a sum is rounded down to 10^-8 as
OKX does before it is written back in the shortest decimal form.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from reserves.encoding import parse_amount as parse_plain_amount
from reserves.errors import InputError
from reserves.strict_json import shorten

ASSETS = ("BTC", "ETH", "USDT")
SCALE = 18
"""Amounts are held as integers of 10^-18."""
ROUNDING = 10 ** (SCALE - 8)
"""OKX rounds every sum down to 8 decimal places."""
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Balances:
    """BTC, ETH and USDT in units of 10^-18, with the spelling they were read in."""

    units: tuple[int, int, int]
    text: tuple[str, str, str]

    @classmethod
    def zero(cls) -> Balances:
        return cls((0, 0, 0), ("0", "0", "0"))

    def __add__(self, other: Balances) -> Balances:
        """OKX's addition: the exact sum, rounded down to 8 decimal places."""
        units = tuple((a + b) // ROUNDING * ROUNDING for a, b in zip(self.units, other.units, strict=True))
        return Balances(units, tuple(format_units(u) for u in units))  # type: ignore[arg-type]

    @property
    def is_zero(self) -> bool:
        return not any(self.units)

    @property
    def rounded(self) -> bool:
        """Whether every amount has at most 8 decimals, as OKX's sums are rounded."""
        return all(u % ROUNDING == 0 for u in self.units)

    def as_dict(self) -> dict[str, str]:
        return dict(zip(ASSETS, self.text, strict=True))

    def leaf_json(self) -> str:
        """``{"BTC":"…","ETH":"…","USDT":"…"}`` exactly as OKX's Go code writes it."""
        return json.dumps(self.as_dict(), separators=(",", ":"))

    def concatenated(self) -> str:
        return "".join(self.text)


def parse_amount(text: object, *, where: str) -> tuple[int, str]:
    """An OKX amount: FORMAT §2's plain decimal (``encoding.parse_amount``) with up to 18
    decimals, as units of 10^-18, and the spelling it was read in (OKX hashes the text)."""
    if not isinstance(text, str):
        raise InputError(f"expected a decimal string, found {shorten(repr(text))}", where=where)
    return parse_plain_amount(text, SCALE, where=where), text


def parse_balances(value: object, *, where: str) -> Balances:
    if not isinstance(value, dict) or set(value) != set(ASSETS):
        raise InputError(f"balances must have exactly the keys {', '.join(ASSETS)}", where=where)
    parsed = [parse_amount(value[a], where=f"{where}.{a}") for a in ASSETS]
    return Balances(tuple(u for u, _ in parsed), tuple(t for _, t in parsed))  # type: ignore[arg-type]


def format_units(units: int) -> str:
    whole, fraction = divmod(units, 10**SCALE)
    digits = str(fraction).rjust(SCALE, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def parse_hash(value: object, *, where: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InputError(f"expected 64 lowercase hex characters, found {value!r}", where=where)
    return value


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def node_hash(left: str, right: str, balances: Balances, height: int) -> str:
    """An internal node: SHA-256 of left hash, right hash, the three sums and the height."""
    return sha256_text(left + right + balances.concatenated() + str(height))
