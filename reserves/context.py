"""The snapshot context (FORMAT §3): what every hash of a snapshot commits to.

A ``SnapshotContext`` is validated when it is made, so past this point its fields are
known to fit the grammar and its ``ctx`` hash is well defined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reserves import hashing
from reserves.encoding import (
    check_decimals,
    check_symbol,
    check_text,
    format_cutoff,
    lp,
    u8,
    u16,
    u64,
)
from reserves.errors import InputError

MAX_HEIGHT = 64
MAX_ASSETS = 4096


@dataclass(frozen=True)
class Asset:
    """One asset of the snapshot."""

    symbol: str
    """``[A-Z0-9][A-Z0-9._-]{0,31}``, unique in the snapshot."""
    decimals: int
    """Number of decimals ``d``: an amount counts units of ``10^-d`` of one whole unit."""


def check_identity(exchange: str, snapshot_id: str, cutoff: int, assets: tuple[Asset, ...]) -> None:
    """The fields both formats' contexts share: exchange, snapshot id, cut-off and assets."""
    check_text(exchange, what="exchange", min_bytes=1, max_bytes=200, where="exchange")
    check_text(snapshot_id, what="snapshot_id", min_bytes=1, max_bytes=200, where="snapshot_id")
    if not 0 <= cutoff < 1 << 64:
        raise InputError(f"cutoff {cutoff} is out of range", where="cutoff")
    if not 1 <= len(assets) <= MAX_ASSETS:
        raise InputError(f"a snapshot has 1 to {MAX_ASSETS} assets, found {len(assets)}", where="assets")
    seen: set[str] = set()
    for position, asset in enumerate(assets):
        where = f"assets[{position}]"
        check_symbol(asset.symbol, where=where)
        check_decimals(asset.decimals, where=where)
        if asset.symbol in seen:
            raise InputError(f"asset {asset.symbol} is listed twice", where=where)
        seen.add(asset.symbol)


class AssetList:
    """What both formats' contexts derive from their assets and cut-off."""

    assets: tuple[Asset, ...]
    cutoff: int

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(asset.symbol for asset in self.assets)

    @property
    def decimals(self) -> dict[str, int]:
        """``{symbol: decimals}`` of every asset."""
        return {asset.symbol: asset.decimals for asset in self.assets}

    @property
    def cutoff_text(self) -> str:
        return format_cutoff(self.cutoff)


@dataclass(frozen=True)
class SnapshotContext(AssetList):
    """Exchange, snapshot id, cut-off, height and asset list: the §3 context."""

    exchange: str
    """The exchange's name, 1 to 200 bytes of NFC UTF-8."""
    snapshot_id: str
    """Unique per snapshot of that exchange, 1 to 200 bytes of NFC UTF-8."""
    cutoff: int
    """Liabilities cut-off, Unix seconds."""
    height: int
    """Tree height ``H`` (1 to 64); the tree has ``2^H`` leaf slots."""
    assets: tuple[Asset, ...]
    """The assets in snapshot order (1 to 4096)."""
    ctx: bytes = field(init=False, repr=False, compare=False)
    """``TH("reserves/v1/context", …)``, computed once."""

    def __post_init__(self) -> None:
        check_identity(self.exchange, self.snapshot_id, self.cutoff, self.assets)
        if not 1 <= self.height <= MAX_HEIGHT:
            raise InputError(f"height must be 1 to {MAX_HEIGHT}, found {self.height}", where="height")
        preimage = [lp(self.exchange), lp(self.snapshot_id), u64(self.cutoff), u8(self.height)]
        preimage.append(u16(len(self.assets)))
        for asset in self.assets:
            preimage += [lp(asset.symbol), u8(asset.decimals)]
        object.__setattr__(self, "ctx", hashing.CONTEXT.hash(b"".join(preimage)))

    @property
    def capacity(self) -> int:
        """Number of leaf slots, ``2^H``."""
        return 1 << self.height
