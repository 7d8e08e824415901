"""Exchanges' decimal amounts, exactly: text to an integer count of ``10^-scale`` and back,
in the spellings their validators hash (Java's ``stripTrailingZeros().toPlainString()``
and decimal.js ``toString()``; Java's ``setScale(places, DOWN)``). Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


_JAVA = re.compile(r"(-?)(0|[1-9][0-9]{0,60})(?:\.([0-9]{1,60}))?(?:E([+-]?[0-9]{1,3}))?")


def _power(exponent: int) -> int:
    """``10^exponent`` for an exponent known not to be negative."""
    return int("1" + "0" * exponent)


@dataclass(frozen=True)
class JavaDecimal:
    """A ``java.math.BigDecimal``: ``unscaled × 10^-scale``, with the scale kept, because
    the text of the value (``toString``, ``toPlainString``) depends on it."""

    unscaled: int
    scale: int

    @classmethod
    def parse(cls, text: object, *, exponent: bool, where: str) -> JavaDecimal:
        """``new BigDecimal(text)`` for the plain spelling (and, if ``exponent``, ``1.5E-7``)."""
        match = _JAVA.fullmatch(text) if isinstance(text, str) and text.isascii() else None
        if match is None or (match.group(4) is not None and not exponent):
            raise InputError(f"amount {text!r} is not a plain decimal", where=where)
        sign, whole, fraction, power = match.groups()
        unscaled = int(whole + (fraction or ""))
        if sign and not unscaled:
            raise InputError(f"amount {text!r} is a negative zero", where=where)
        return cls(-unscaled if sign else unscaled, len(fraction or "") - int(power or 0))

    def plus(self, other: JavaDecimal) -> JavaDecimal:
        """``add``: exact, at the larger scale."""
        scale = max(self.scale, other.scale)
        return JavaDecimal(self._at(scale) + other._at(scale), scale)

    def _at(self, scale: int) -> int:
        return self.unscaled * _power(scale - self.scale)

    def units(self, scale: int) -> int:
        """The value in units of ``10^-scale``, rounded toward zero (``setScale(scale, DOWN)``)."""
        if scale >= self.scale:
            return self._at(scale)
        cut = abs(self.unscaled) // _power(self.scale - scale)
        return -cut if self.unscaled < 0 else cut

    def plain(self, scale: int) -> str:
        """``setScale(scale, RoundingMode.DOWN).toPlainString()``."""
        return fixed_places(self.units(scale), scale, scale) if scale > 0 else str(self.units(0))

    def stripped(self) -> str:
        """``stripTrailingZeros().toPlainString()`` (a negative scale written as a whole number)."""
        return strip_zeros(self.units(max(self.scale, 0)), max(self.scale, 0))

    def __str__(self) -> str:
        """``toString``: plain when the scale is not negative and the adjusted exponent is at
        least -6, otherwise scientific (``1.000000000E-7``)."""
        digits = str(abs(self.unscaled))
        adjusted = len(digits) - 1 - self.scale
        sign = "-" if self.unscaled < 0 else ""
        if self.scale >= 0 and adjusted >= -6:
            return sign + fixed_places(abs(self.unscaled), self.scale, self.scale) if self.scale else sign + digits
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}E{'+' if adjusted > 0 else ''}{adjusted}"
