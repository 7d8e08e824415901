"""Exchanges' decimal amounts, exactly: text to an integer count of ``10^-scale`` and back,
in the spellings their validators hash (Java's ``stripTrailingZeros().toPlainString()``
and decimal.js ``toString()``; Java's ``setScale(places, DOWN)``). Never a float."""

from __future__ import annotations

import re

from reserves.errors import InputError

_DECIMAL = re.compile(r"(-?)(0|[1-9][0-9]{0,38})(?:\.([0-9]+))?")


def parse_decimal(text: object, *, scale: int, signed: bool, where: str) -> int:
    """A plain decimal (a sign only if ``signed``), at most ``scale`` decimals, as units of ``10^-scale``."""
    match = _DECIMAL.fullmatch(text) if isinstance(text, str) and text.isascii() else None
    fraction = (match.group(3) or "") if match else ""
    if match is None or (match.group(1) and not signed) or len(fraction) > scale:
        kind = "a plain decimal" if signed else "a non-negative plain decimal"
        raise InputError(f"amount {text!r} is not {kind} of at most {scale} decimals", where=where)
    value = int(match.group(2) + fraction.ljust(scale, "0"))
    return -value if match.group(1) else value


def strip_zeros(units: int, scale: int) -> str:
    """No trailing zeros and no trailing point: ``1.50`` is ``1.5``, ``2.0`` is ``2``."""
    whole, fraction = divmod(abs(units), 10**scale)
    digits = str(fraction).rjust(scale, "0").rstrip("0")
    text = f"{whole}.{digits}" if digits else str(whole)
    return f"-{text}" if units < 0 else text


def fixed_places(units: int, scale: int, places: int) -> str:
    """Exactly ``places`` decimals, rounded toward zero (Java's ``RoundingMode.DOWN``)."""
    kept = abs(units) // 10 ** (scale - places)
    whole, fraction = divmod(kept, 10**places)
    text = f"{whole}.{str(fraction).rjust(places, '0')}" if places else str(whole)
    return f"-{text}" if units < 0 and kept else text
