"""Fixtures shared by every test module; the helpers themselves live in ``support``."""

from support import five, four

__all__ = ["five", "four"]
