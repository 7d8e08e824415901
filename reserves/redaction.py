"""Keeping API keys out of every output.

RPC and Esplora URLs often carry credentials: in the user info (``user:KEY@``), the path
(``/v3/KEY``) or the query (``?apikey=KEY``). Messages name a source by ``redact_url``
(scheme, host and port); a ``Redactor`` removes the secret parts of the URLs it was given
from any text, as a second line of defence for messages quoted from libraries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

REDACTED = "…"
MIN_SECRET_CHARS = 4
"""Shorter URL parts (``/``, ``v3``) are not worth hiding and would garble messages."""


def redact_url(url: str) -> str:
    """``https://user:KEY@host:8545/v3/KEY?k=v`` -> ``https://host:8545/…``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    hidden = bool(parts.username or parts.password or parts.path.strip("/") or parts.query or parts.fragment)
    return f"{parts.scheme}://{host}{port}" + (f"/{REDACTED}" if hidden else "")


@dataclass(frozen=True)
class Redactor:
    """Removes given secret strings from text, longest first."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def for_urls(cls, urls: Iterable[str]) -> Redactor:
        found: set[str] = set()
        for url in urls:
            found.update(_secret_parts(url))
        return cls(tuple(sorted((s for s in found if len(s) >= MIN_SECRET_CHARS), key=len, reverse=True)))

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def _secret_parts(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    found = {parts.username or "", parts.password or "", parts.query, parts.fragment}
    netloc_user = parts.netloc.rpartition("@")[0]
    found.add(netloc_user)
    path = parts.path.strip("/")
    if path:
        found.add(parts.path)
        found.add(path)
        found.update(path.split("/"))
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        found.update((value, f"{key}={value}"))
    found.discard("")
    return found
