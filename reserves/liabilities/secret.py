"""The publisher's per-snapshot secret (FORMAT §5) and what it derives.

The secret is private: the exchange gives it only to its auditors. It derives every
account's salt and its position in the tree, so that a proof reveals nothing about other
accounts and slots reveal nothing about ids (ATTACKS.md #14).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from reserves.encoding import lp
from reserves.errors import InputError

_SECRET_FILE = re.compile(r"[0-9a-f]{64}\n?")


@dataclass(frozen=True)
class SnapshotSecret:
    """32 secret bytes, fresh for every snapshot."""

    key: bytes = b""

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("a snapshot secret is exactly 32 bytes")

    def __repr__(self) -> str:
        return "SnapshotSecret(<hidden>)"

    @classmethod
    def generate(cls) -> SnapshotSecret:
        return cls(secrets.token_bytes(32))

    @classmethod
    def parse(cls, text: str, *, where: str) -> SnapshotSecret:
        """64 lowercase hex characters, optionally followed by one line feed."""
        if not _SECRET_FILE.fullmatch(text):
            raise InputError(
                "a secret is 64 lowercase hex characters (optionally one trailing newline)",
                where=where,
            )
        return cls(bytes.fromhex(text[:64]))

    @classmethod
    def load(cls, path: Path) -> SnapshotSecret:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read secret file {path}: {exc.strerror}") from None
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise InputError("a secret file holds only ASCII hex", where=str(path)) from None
        return cls.parse(text, where=str(path))

    def to_text(self) -> str:
        return self.key.hex() + "\n"

    def salt(self, account_id: str) -> bytes:
        """``HMAC-SHA256(secret, "salt" || lp(id))``."""
        return hmac.digest(self.key, b"salt" + lp(account_id), "sha256")

    def order_key(self, account_id: str) -> bytes:
        """``HMAC-SHA256(secret, "order" || lp(id))``: slots ascend by this key."""
        return hmac.digest(self.key, b"order" + lp(account_id), "sha256")
