"""HTTP plumbing shared by the sources: one ``HttpEndpoint`` per base URL.

Every request has a connect and read timeout and a total deadline (a server that drips
one byte a second is cut off, not waited on), a bound on the body's size, no redirects
(a reply from a host the auditor did not name is never counted), uncompressed bodies
only (no decompression bombs), and retries with backoff on transient failures
(connection errors, timeouts, 429 and 5xx) with ``Retry-After`` honoured up to a cap.
Each retry is announced through ``notice`` so that a slow source is never silent. URLs
appear in messages only redacted (``reserves.redaction``): they often carry API keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import urllib3

from reserves.errors import SourceError
from reserves.onchain.sources import DEFAULT_TIMEOUT
from reserves.redaction import Redactor, redact_url

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
DEADLINE_FACTOR = 4
"""A whole request (one attempt) may take this many timeouts at most."""
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 0.2
MAX_BACKOFF = 10.0
MAX_RETRY_AFTER = 30.0
"""A server's ``Retry-After`` is honoured up to this many seconds."""
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
READ_CHUNK = 64 * 1024

Notice = Callable[[str], None]
"""Told about retries, in words: ``"ethereum: retry 2/5 after timeout"``."""


@dataclass(frozen=True)
class TimeBudget:
    """One deadline shared by every request of a run (an audit reading many sources):
    past it, no request starts and none waits longer."""

    seconds: float
    expires_at: float

    @classmethod
    def of(cls, seconds: float) -> TimeBudget:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _Transient(Exception):
    """A failure worth another try; ``wait`` is what the server asked for, if anything."""

    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait


class HttpEndpoint:
    """One base URL of a chain's API, read with the bounds of the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_bytes: int = MAX_RESPONSE_BYTES,
        notice: Notice | None = None,
        session: requests.Session | None = None,
        max_retry_after: float = MAX_RETRY_AFTER,
        budget: TimeBudget | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.shown = redact_url(url)
        """The URL as messages show it: scheme, host and port only."""
        self.redactor = Redactor.for_urls([url])
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.notice = notice
        self.session = session or requests.Session()
        self.max_retry_after = max_retry_after
        self.budget = budget

    def get(self, path: str = "") -> HttpReply:
        return self._request("GET", self.url.rstrip("/") + path if path else self.url, None)

    def post_json(self, payload: bytes) -> HttpReply:
        return self._request("POST", self.url, payload)

    def fail(self, doing: str) -> SourceError:
        """A ``SourceError`` naming this source (redacted) and what could not be done."""
        return SourceError(f"{self.name} ({self.shown}): {self.redactor.scrub(doing)}")

    def _request(self, method: str, url: str, payload: bytes | None) -> HttpReply:
        for attempt in range(self.retries + 1):
            self._check_budget()
            try:
                return self._attempt(method, url, payload)
            except _Transient as transient:
                if attempt == self.retries:
                    raise self.fail(f"gave up after {self.retries} retries ({transient.why})") from None
                delay = min(self.backoff * 2**attempt, MAX_BACKOFF)
                if transient.wait is not None:
                    delay = min(max(delay, transient.wait), self.max_retry_after)
                if self.notice is not None:
                    self.notice(f"{self.name}: retry {attempt + 1}/{self.retries} after {transient.why}")
                time.sleep(max(0.0, min(delay, self._budget_left())))
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, url: str, payload: bytes | None) -> HttpReply:
        headers = {"Accept-Encoding": "identity"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        deadline = min(time.monotonic() + self.timeout * DEADLINE_FACTOR, time.monotonic() + self._budget_left())
        timeout = max(0.01, min(self.timeout, self._budget_left()))
        try:
            response = self.session.request(
                method, url, data=payload, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
            try:
                body = self._body(response, deadline)
            finally:
                response.close()
        except requests.Timeout:
            raise _Transient("timeout") from None
        except (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Transient(f"connection error: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise self.fail(f"request failed: {exc}") from None
        status = response.status_code
        if 300 <= status < 400:
            raise self.fail(f"answered HTTP {status} (a redirect): redirects are not followed")
        if status in TRANSIENT_STATUSES:
            raise _Transient(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        return HttpReply(status, body)

    def _budget_left(self) -> float:
        return self.budget.remaining() if self.budget is not None else float("inf")

    def _check_budget(self) -> None:
        if self.budget is not None and self.budget.remaining() <= 0:
            raise self.fail(f"the run's time budget of {self.budget.seconds:g} s is spent")

    def _body(self, response: requests.Response, deadline: float) -> bytes:
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise self.fail(f"sent a {encoding}-compressed reply although none was asked for")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                self._check_budget()
                raise self.fail(f"the reply took longer than {self.timeout * DEADLINE_FACTOR:g} s")
            chunk = response.raw.read1(READ_CHUNK, decode_content=False)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise self.fail(f"the reply is larger than {self.max_bytes} bytes")
            chunks.append(chunk)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; ``None`` if absent or a date."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return float(int(text))
