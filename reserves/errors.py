"""The one error tree of the library.

Every failure the library reports is one of these; the CLI maps each branch to an exit
code and is the only place that does. Anything else escaping the library is a bug.

    ReservesError
    ├── InputError            malformed input, or a local file that cannot be read or
    │                         written: the file, line or JSON path and the value (exit 2)
    ├── VerificationError     a check failed: the check, the expected and found values (exit 1)
    └── SourceError           a network source (a node, an API) could not be read (exit 3)
        └── CannotCheck       a recognised input this version cannot check (exit 3: the
                              outcome is incomplete, never a pass)
"""

from __future__ import annotations

__all__ = ["CannotCheck", "InputError", "ReservesError", "SourceError", "VerificationError"]


class ReservesError(Exception):
    """Root of every error this library raises on purpose."""


class InputError(ReservesError):
    """Input that breaks the grammar of FORMAT.md or of a command's options.

    The message names where (file, line or JSON path) and the offending value.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class VerificationError(ReservesError):
    """A check that ran and failed; the message names the check and both values."""


class SourceError(ReservesError):
    """A network source (a node, an HTTP API) could not be read; never a local file."""


class CannotCheck(SourceError):
    """An input recognised for what it is, which this version cannot check (an exchange's
    format version or hash it does not implement): never a pass, never a failure."""
