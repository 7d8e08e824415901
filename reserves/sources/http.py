"""HTTP plumbing shared by the sources: retries with backoff on transient failures
(connection errors, timeouts, 429 and 5xx, honouring Retry-After), a timeout on every
request, and a bound on every response's size. Retries are urllib3's, not ours."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from reserves.errors import SourceError

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 0.2
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def retrying_session(retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF) -> requests.Session:
    """A session that retries transient failures of GET and POST (JSON-RPC reads are idempotent)."""
    policy = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        backoff_max=10.0,
        status_forcelist=TRANSIENT_STATUSES,
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def get_bounded(session: requests.Session, url: str, *, timeout: float, what: str) -> requests.Response:
    """GET ``url``; raise ``SourceError`` for a network failure or an oversized body.

    Non-2xx responses are returned (after retries) for the caller to interpret.
    """
    try:
        response = session.get(url, timeout=timeout, stream=True)
        body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise SourceError(f"{what}: cannot reach {url}: {describe_failure(exc)}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise SourceError(f"{what}: the response of {url} is larger than {MAX_RESPONSE_BYTES} bytes")
    response._content = body
    return response


def describe_failure(exc: BaseException) -> str:
    """A request's failure in one line; urllib3's retry exhaustion made readable."""
    text = str(exc)
    if "Max retries exceeded" in text:
        cause = text.split("(Caused by ", 1)[-1].rstrip(")")
        return f"gave up after retries ({cause})"
    return text or type(exc).__name__
