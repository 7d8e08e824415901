"""Strict JSON reading (FORMAT §6, ATTACKS.md #9) with JSON paths in every error.

Rejected at load: invalid UTF-8, a byte-order mark, duplicate keys, non-integer numbers,
``NaN``/``Infinity``, negative integers (none exist in the format, and ``-0`` would be a
second spelling of ``0``), and anything but an object at the top. ``JsonValue`` then
walks the document with typed accessors that name the path of whatever is wrong.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from reserves.errors import InputError

MAX_JSON_BYTES = 256 * 1024 * 1024
MAX_PROOF_BYTES = 32 * 1024 * 1024
"""A user's proof file: at most 65 nodes of at most 4,096 sums each, a few MiB at most;
bounding it first keeps a hostile 250 MB "proof" from costing a minute and gigabytes."""
MAX_DEPTH = 64
"""Arrays and objects nest at most about this deep: no format here needs more than 8, and
deeper input would exhaust the stack (a crash once another library raises the limit)."""
MAX_INT_DIGITS = 40
"""Every JSON integer of the formats is below 2^64; longer numbers are refused before
Python converts them (its own limit is 4,300 digits, past which it raises)."""


class _Reject(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Reject(f"duplicate key {key!r}")
        result[key] = value
    return result


def reject_float(text: str) -> NoReturn:
    """The one float hook: no number in any format here has a fraction or an exponent
    (amounts are decimal strings), in files and in sources' replies alike."""
    raise _Reject(_float_message(text))


def _float_message(text: str) -> str:
    return f"number {shorten(text)} is not an integer (amounts are strings)"


def _no_constant(text: str) -> NoReturn:
    raise _Reject(f"{text} is not allowed")


def _plain_int(text: str, negatives: list[str] | None = None) -> int:
    """A JSON integer; a negative one only when ``negatives`` collects them (its text is kept)."""
    if text.startswith("-"):
        if negatives is None:
            raise _Reject(f"negative number {shorten(text)}")
        negatives.append(text)
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Reject(f"a number of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


class NumberText(str):
    """A JSON number with a fraction or an exponent, kept as its exact text: only formats
    whose hash is made from such numbers (Bitget 2022) read them, never as a float."""


def _fraction(text: str, fractions: list[str] | None) -> NumberText:
    if fractions is None:
        reject_float(text)
    if len(text) > MAX_INT_DIGITS:
        raise _Reject(f"a number of {len(text)} characters (at most {MAX_INT_DIGITS})")
    fractions.append(text)
    return NumberText(text)


@dataclass
class Numbers:
    """The numbers a lenient parse let through, to refuse once the file's format is known."""

    negatives: list[str] = field(default_factory=list)
    fractions: list[str] = field(default_factory=list)

    def refuse(self, source: str, *, negatives: bool, fractions: bool) -> None:
        """Raise the strict parser's error for a kind of number the format has none of."""
        if self.negatives and not negatives:
            raise InputError(f"invalid JSON: negative number {shorten(self.negatives[0])}", where=source)
        if self.fractions and not fractions:
            raise InputError(f"invalid JSON: {_float_message(self.fractions[0])}", where=source)


def _bounded_int(text: str) -> int:
    """Any JSON integer of at most ``MAX_INT_DIGITS`` digits (sources' replies: error codes are negative)."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    return depth


@contextmanager
def _nesting_bound() -> Iterator[None]:
    """Run the C JSON scanner with a recursion limit just above the current depth, so that
    deep nesting raises ``RecursionError`` instead of exhausting the C stack."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + MAX_DEPTH + 20)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def loads_bounded(
    text: str | bytes,
    *,
    parse_float: Callable[[str], Any],
    parse_int: Callable[[str], Any] = _bounded_int,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """``json.loads`` with the nesting bound; raises ``ValueError`` (with a message) on any fault."""
    try:
        with _nesting_bound():
            return json.loads(
                text,
                parse_float=parse_float,
                parse_int=parse_int,
                parse_constant=_no_constant,
                object_pairs_hook=object_pairs_hook,
            )
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None


def parse_json(
    raw: bytes, *, source: str, max_bytes: int = MAX_JSON_BYTES, lenient: Numbers | None = None
) -> JsonValue:
    """Parse a whole JSON document strictly; ``source`` names it in errors. Negative integers
    and numbers with fractions are refused, unless ``lenient`` collects them (fractions are
    then kept as ``NumberText``) for the caller to refuse once it knows the format."""
    if len(raw) > max_bytes:
        raise InputError(f"larger than {max_bytes} bytes", where=source)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InputError("starts with a byte-order mark", where=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}", where=source) from None
    try:
        value = loads_bounded(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=lambda number: _fraction(number, lenient.fractions if lenient else None),
            parse_int=lambda number: _plain_int(number, lenient.negatives if lenient else None),
        )
    except _Reject as exc:
        raise InputError(f"invalid JSON: {exc}", where=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", where=source) from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", where=source) from None
    if not isinstance(value, dict):
        raise InputError("the top level must be a JSON object", where=source)
    return JsonValue(value, "$", source)


def load_json(path: Path, *, max_bytes: int = MAX_JSON_BYTES, lenient: Numbers | None = None) -> JsonValue:
    """Read and parse ``path``; a file over ``max_bytes`` is refused before it is parsed."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return parse_json(raw, source=str(path), max_bytes=max_bytes, lenient=lenient)


@dataclass(frozen=True)
class JsonValue:
    """A value inside a JSON document and its path, with typed accessors."""

    value: Any
    path: str
    source: str

    @property
    def where(self) -> str:
        return f"{self.source} {self.path}"

    def fail(self, message: str) -> NoReturn:
        raise InputError(message, where=self.where)

    def object(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> JsonValue:
        """Require an object with exactly the ``required`` keys plus any of ``optional``."""
        if not isinstance(self.value, dict):
            self.fail(f"expected an object, found {kind_of(self.value)}")
        unknown = [key for key in self.value if key not in required and key not in optional]
        if unknown:
            self.fail(f"unknown key {unknown[0]!r}")
        missing = [key for key in required if key not in self.value]
        if missing:
            self.fail(f"missing key {missing[0]!r}")
        return self

    def __getitem__(self, key: str) -> JsonValue:
        return JsonValue(self.value[key], f"{self.path}.{key}", self.source)

    def get(self, key: str) -> JsonValue | None:
        return self[key] if key in self.value else None

    def string(self) -> str:
        if not isinstance(self.value, str):
            self.fail(f"expected a string, found {kind_of(self.value)}")
        return self.value

    def integer(self, low: int = 0, high: int = (1 << 64) - 1) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"expected an integer, found {kind_of(self.value)}")
        if not low <= self.value <= high:
            self.fail(f"must be {low} to {high}, found {self.value}")
        return self.value

    def items(self) -> Iterator[JsonValue]:
        if not isinstance(self.value, list):
            self.fail(f"expected an array, found {kind_of(self.value)}")
        for position, item in enumerate(self.value):
            yield JsonValue(item, f"{self.path}[{position}]", self.source)


def kind_of(value: object) -> str:
    """How messages name a JSON value's type."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", str: "a string", list: "an array", dict: "an object"}.get(
        type(value), type(value).__name__
    )
