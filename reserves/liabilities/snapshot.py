"""The published snapshot statement, ``snapshot.json`` (FORMAT §6.1).

Parsed strictly into a frozen ``SnapshotStatement``; written back in one canonical
layout (two-space indent, ASCII escapes, trailing newline), so the same inputs always
give the same bytes.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reserves.context import Asset, SnapshotContext
from reserves.encoding import check_decimals, check_symbol, format_amount, parse_amount, parse_cutoff, parse_hex32
from reserves.errors import InputError, SourceError
from reserves.liabilities.tree import Node
from reserves.onchain.reserve_sections import ReserveSections, parse_reserve_sections
from reserves.strict_json import MAX_JSON_BYTES, JsonValue, load_json, parse_json

SNAPSHOT_FORMAT = "reserves-snapshot/1"
_COMMITMENT_KEYS = ("exchange", "snapshot_id", "cutoff", "height", "assets", "root")
_RESERVE_KEYS = ("chains", "tokens", "wallets", "keyholders")


@dataclass(frozen=True)
class SnapshotCommitment:
    """The context and the root: what a proof embeds and what a user anchors to."""

    context: SnapshotContext
    root: Node
    """The root node ``(H, 0)``: its hash and per-asset totals of all liabilities."""

    def to_json(self) -> dict[str, Any]:
        ctx = self.context
        return {
            "exchange": ctx.exchange,
            "snapshot_id": ctx.snapshot_id,
            "cutoff": ctx.cutoff_text,
            "height": ctx.height,
            "assets": [{"symbol": a.symbol, "decimals": a.decimals} for a in ctx.assets],
            "root": {"hash": self.root.hash.hex(), "sums": sums_to_json(ctx.assets, self.root.sums)},
        }


@dataclass(frozen=True)
class SnapshotStatement:
    """``snapshot.json``: the commitment, the account count and the reserve sections."""

    commitment: SnapshotCommitment
    accounts: int
    """``N``, the number of accounts in the tree."""
    reserves: ReserveSections = field(default_factory=ReserveSections)
    """Chains, tokens, wallets and keyholders; empty when only liabilities are published."""

    @property
    def context(self) -> SnapshotContext:
        return self.commitment.context

    @property
    def root(self) -> Node:
        return self.commitment.root

    def liability_totals(self) -> dict[str, int]:
        """Each asset's published total (the root's sums), smallest units."""
        return dict(zip(self.context.symbols, self.root.sums, strict=True))

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"format": SNAPSHOT_FORMAT}
        document.update(self.commitment.to_json())
        document["accounts"] = self.accounts
        document.update(self.reserves.to_json(self.context.assets))
        return document

    def to_text(self) -> str:
        return dump_json(self.to_json())


def dump_json(document: dict[str, Any]) -> str:
    """The canonical layout of every JSON file this project writes: exactly
    ``json.dumps(document, indent=2) + "\\n"`` (two-space indent, ASCII escapes), written
    without json's pure-Python indenting encoder, which is most of a proof's cost."""
    parts: list[str] = []
    _write(document, "\n", parts)
    parts.append("\n")
    return "".join(parts)


def _write(value: Any, newline: str, parts: list[str]) -> None:
    """``value`` at the indentation ``newline`` ends with, onto ``parts``."""
    if isinstance(value, str):
        parts.append(_quote(value))
    elif value is None or isinstance(value, bool):
        parts.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner, separator = newline + "  ", "{"
        for key, item in value.items():
            parts.append(f"{separator}{inner}{_quote(key)}: ")
            _write(item, inner, parts)
            separator = ","
        parts.append(newline + "}")
    elif isinstance(value, list):
        if not value:
            parts.append("[]")
            return
        inner, separator = newline + "  ", "["
        for item in value:
            parts.append(separator + inner)
            _write(item, inner, parts)
            separator = ","
        parts.append(newline + "]")
    else:
        parts.append(json.dumps(value))  # anything else: json's own spelling


_quote = json.encoder.encode_basestring_ascii


def sums_to_json(assets: tuple[Asset, ...], sums: tuple[int, ...]) -> dict[str, str]:
    return {a.symbol: format_amount(s, a.decimals) for a, s in zip(assets, sums, strict=True)}


def parse_sums(value: JsonValue, assets: tuple[Asset, ...]) -> tuple[int, ...]:
    """An object with exactly the snapshot's symbols as keys, amounts as strings."""
    value.object(tuple(a.symbol for a in assets))
    return tuple(parse_amount(value[a.symbol].string(), a.decimals, where=value[a.symbol].where) for a in assets)


def parse_commitment(value: JsonValue) -> SnapshotCommitment:
    """The fields shared by ``snapshot.json`` and a proof's ``snapshot`` object."""
    assets = []
    for item in value["assets"].items():
        item.object(("symbol", "decimals"))
        symbol = check_symbol(item["symbol"].string(), where=item["symbol"].where)
        decimals = check_decimals(item["decimals"].integer(), where=item["decimals"].where)
        assets.append(Asset(symbol, decimals))
    try:
        context = SnapshotContext(
            exchange=value["exchange"].string(),
            snapshot_id=value["snapshot_id"].string(),
            cutoff=parse_cutoff(value["cutoff"].string(), where=value["cutoff"].where),
            height=value["height"].integer(1, 64),
            assets=tuple(assets),
        )
    except InputError as exc:
        if exc.where is None or exc.where.startswith(value.source):
            raise
        # SnapshotContext names its own fields; put them under this document's path.
        raise InputError(exc.message, where=f"{value.where}.{exc.where}") from None
    root = value["root"].object(("hash", "sums"))
    root_hash = parse_hex32(root["hash"].string(), what="root hash", where=root["hash"].where)
    return SnapshotCommitment(context, Node(root_hash, parse_sums(root["sums"], context.assets)))


def parse_snapshot(document: JsonValue) -> SnapshotStatement:
    document.object(("format", *_COMMITMENT_KEYS, "accounts", *_RESERVE_KEYS))
    if document["format"].string() != SNAPSHOT_FORMAT:
        document["format"].fail(f"expected {SNAPSHOT_FORMAT!r}, found {document['format'].value!r}")
    commitment = parse_commitment(document)
    accounts = document["accounts"].integer(1, commitment.context.capacity)
    reserves = parse_reserve_sections(document, commitment.context.assets)
    return SnapshotStatement(commitment, accounts, reserves)


def load_snapshot(path: Path) -> SnapshotStatement:
    return parse_snapshot(load_json(path))


FETCH_TIMEOUT = 30
"""Seconds to wait for a published snapshot.json, in all."""


def fetch_snapshot(url: str, *, timeout: float = FETCH_TIMEOUT) -> SnapshotStatement:
    """The snapshot.json an exchange publishes on its site (``fetch_json``), parsed as
    strictly as a local file."""
    return parse_snapshot(fetch_json(url, timeout=timeout))


def fetch_json(url: str, *, timeout: float = FETCH_TIMEOUT) -> JsonValue:
    """A JSON file an exchange publishes on its site: ``https://`` only, the server's
    certificate verified against the system's trusted authorities, no redirects, at most
    ``MAX_JSON_BYTES``."""
    if not url.startswith("https://"):
        raise InputError(f"a snapshot URL must start with https://, found {url!r}")
    try:
        host = urllib.parse.urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        raise InputError(f"{url!r} is not a valid https:// address")
    context = ssl.create_default_context()  # verifies the certificate and the host name
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())
    try:
        with opener.open(
            urllib.request.Request(url, headers={"Accept-Encoding": "identity"}), timeout=timeout
        ) as reply:
            raw = reply.read(MAX_JSON_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise SourceError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise SourceError(f"{url}: {reason}") from None
    return parse_json(raw, source=url)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A published file is where the exchange says it is: a redirect is an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        raise urllib.error.HTTPError(args[0].full_url, args[2], "redirect refused", args[4], None)
