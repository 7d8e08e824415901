"""A published ``snapshot.json`` of either format, as the reserves side and the reports read it.

The reserves sections (chains, tokens, wallets, keyholders), the identity and the root hash
that wallets' ownership messages name are the same in both formats; only the liabilities
differ (one sum tree in v1, a tree per asset with hidden sums in v2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reserves.context import Asset
from reserves.liabilities.private_sums import SNAPSHOT_FORMAT
from reserves.liabilities.snapshot import SnapshotStatement, parse_snapshot
from reserves.onchain.reserve_sections import ReserveSections
from reserves.strict_json import JsonValue, load_json

if TYPE_CHECKING:
    from reserves.liabilities.private_sums.files import PrivateStatement


class PublishedContext(Protocol):
    @property
    def exchange(self) -> str: ...
    @property
    def snapshot_id(self) -> str: ...
    @property
    def assets(self) -> tuple[Asset, ...]: ...
    @property
    def symbols(self) -> tuple[str, ...]: ...
    @property
    def decimals(self) -> dict[str, int]: ...
    @property
    def cutoff_text(self) -> str: ...


class PublishedRoot(Protocol):
    @property
    def hash(self) -> bytes: ...


class PublishedSnapshot(Protocol):
    """What both formats' statements offer the reserves side."""

    @property
    def context(self) -> PublishedContext: ...
    @property
    def root(self) -> PublishedRoot: ...
    @property
    def reserves(self) -> ReserveSections: ...
    def liability_totals(self) -> dict[str, int]: ...


def parse_statement(document: JsonValue) -> SnapshotStatement | PrivateStatement:
    """``snapshot.json`` in format v1 or v2, by its ``format``."""
    if isinstance(document.value, dict) and document.value.get("format") == SNAPSHOT_FORMAT:
        from reserves.liabilities.private_sums.files import parse_statement as parse_v2  # noqa: PLC0415 - needs coincurve

        return parse_v2(document)
    return parse_snapshot(document)


def load_statement(path: Path) -> SnapshotStatement | PrivateStatement:
    return parse_statement(load_json(path))
