"""Tagged hashes (FORMAT §1): ``TH(tag, m) = SHA256(SHA256(tag) || SHA256(tag) || m)``.

The 64-byte prefix is the same for every use of a tag, so each ``Tag`` absorbs it once
and hands out copies of that state; the compiled hot loops (``reserves.liabilities._bulk``) take the
prefix bytes, ``Tag.prefix``, and do the same.
"""

from __future__ import annotations

import hashlib

Buffer = bytes | bytearray | memoryview


class Tag:
    """One tag of the tagged-hash construction, with its prefix state precomputed."""

    def __init__(self, name: str) -> None:
        digest = hashlib.sha256(name.encode("ascii")).digest()
        self.name = name
        self.prefix = digest + digest
        """``SHA256(tag) || SHA256(tag)``, for the compiled loops (``reserves.liabilities._bulk``)."""
        self._state = hashlib.sha256(self.prefix)

    def hash(self, *parts: Buffer) -> bytes:
        """``TH(tag, parts[0] || parts[1] || …)``."""
        state = self._state.copy()
        for part in parts:
            state.update(part)
        return state.digest()


CONTEXT = Tag("reserves/v1/context")
ACCOUNT = Tag("reserves/v1/account")
LEAF = Tag("reserves/v1/leaf")
PAD = Tag("reserves/v1/pad")
NODE = Tag("reserves/v1/node")
