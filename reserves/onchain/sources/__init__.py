"""Where reserves are read: one ``BalanceSource`` per chain, pinned to its block.

Each source has one job, reading one chain at the block ``snapshot.json`` pins, and is
injected into the audit, so the same audit runs against a real node, an in-process test
chain or a loopback server. Every source reports its failures as ``SourceError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from reserves.checks import Check
from reserves.errors import InputError
from reserves.onchain.reserve_sections import Chain, Token

DEFAULT_TIMEOUT = 15.0
"""Seconds to connect to a source, and between two reads of its reply."""

BatchProgress = Callable[[int], None]
"""Called with the number of queries answered so far."""


@dataclass(frozen=True)
class BalanceQuery:
    """One balance to read: an address's native asset, or its balance of a token."""

    address: str
    """Canonical spelling."""
    token: Token | None = None


@dataclass(frozen=True)
class ContractSigners:
    """Who can move a contract wallet's funds, read from the contract at the pinned block."""

    owners: tuple[str, ...]
    """EIP-55 owner addresses."""
    threshold: int
    """How many distinct owners must sign (0 when the contract is not a supported wallet)."""
    error: str = ""
    """Why the signers could not be read (e.g. the contract is not a Safe)."""


class BalanceSource(ABC):
    """Reads balances on one chain at exactly the chain's pinned block."""

    chain: Chain
    description: str
    """Where it reads from (for messages), e.g. the URL."""

    @abstractmethod
    def identity_checks(self) -> list[Check]:
        """Is this the snapshot's chain, and is the pinned block on it with that hash?"""

    @abstractmethod
    def balance(self, query: BalanceQuery) -> int:
        """The balance at the pinned block, in the chain's own units (wei, satoshi, token units)."""

    def balances(self, queries: Sequence[BalanceQuery], progress: BatchProgress | None = None) -> list[int]:
        """All ``queries``; sources that can batch override this one-at-a-time loop."""
        results = []
        for done, query in enumerate(queries, 1):
            results.append(self.balance(query))
            if progress is not None:
                progress(done)
        return results

    def contract_signers(self, address: str) -> ContractSigners | None:
        """For a contract wallet, its signers at the pinned block; ``None`` for an address
        controlled by a key (and on chains without contracts)."""
        return None

    def token_decimals(self, token: Token) -> int | None:
        """The token contract's ``decimals()`` at the pinned block, where the chain has tokens."""
        return None


@dataclass(frozen=True)
class Endpoint:
    """A chain's name and the URL of its node or API."""

    name: str
    url: str


def parse_endpoint(value: str) -> Endpoint:
    """``"ethereum=http://…"`` -> ``Endpoint("ethereum", "http://…")``."""
    name, sep, url = value.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise InputError(f"expected NAME=http(s)://URL, found {value!r}")
    return Endpoint(name, url)


def endpoints_by_name(endpoints: Iterable[Endpoint], *, where: str) -> dict[str, str]:
    """``{name: url}``, each name once; ``where`` names the endpoints' origin in errors."""
    by_name: dict[str, str] = {}
    for endpoint in endpoints:
        if endpoint.name in by_name:
            raise InputError(f"{endpoint.name} is given twice", where=where)
        by_name[endpoint.name] = endpoint.url
    return by_name
