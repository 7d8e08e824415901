"""Custody resilience (ATTACKS.md #15): which reserves freeze if keyholders vanish.

Every wallet has a signing policy (``threshold`` of ``keys``); the snapshot's
``keyholders`` map people, devices or sites to keys, and a key nobody lists is a
keyholder of its own. A set of unreachable keyholders freezes a wallet when the keys
still reachable are fewer than its threshold. For each k (1, 2, 3 by default) this finds,
per asset, the worst share of reserves any k keyholders can freeze, and the smallest sets
that do it; it flags single-key cold wallets, keys shared by many wallets, and anyone who
holds a whole threshold alone. Shares are exact integer ratios.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_utils.address import is_address, to_checksum_address

from reserves.control.ownership import SigningPolicy
from reserves.encoding import format_share
from reserves.errors import InputError
from reserves.onchain.reserve_sections import Keyholder, Wallet

MAX_COMBINATIONS = 500_000
"""Beyond this many keyholder sets for one k, that k is not searched (and says so)."""
EXAMPLES = 3
"""How many worst-case keyholder sets are listed per asset and k."""


@dataclass(frozen=True)
class CustodyWallet:
    wallet: Wallet
    policy: SigningPolicy
    holdings: dict[str, int]
    """Counted reserves per asset, smallest units."""


@dataclass(frozen=True)
class Exposure:
    """The worst any ``k`` keyholders can freeze of one asset."""

    asset: str
    k: int
    frozen: int
    total: int
    sets: tuple[tuple[str, ...], ...]
    """Keyholder sets of size k that freeze ``frozen`` while none of their subsets does
    (at most ``EXAMPLES``); empty when a smaller set already freezes as much."""
    searched: bool = True

    @property
    def share(self) -> str:
        return format_share(self.frozen, self.total)


@dataclass(frozen=True)
class Flag:
    kind: str
    """``single-key cold wallet``, ``shared key`` or ``threshold held alone``."""
    detail: str


@dataclass(frozen=True)
class CustodyReport:
    keyholders: tuple[str, ...]
    wallets: list[CustodyWallet]
    exposures: list[Exposure]
    flags: list[Flag]
    unreachable: tuple[str, ...] = ()
    frozen_now: dict[str, int] | None = None
    """With ``unreachable`` given: per asset, what those keyholders freeze."""
    frozen_wallets: tuple[str, ...] = ()
    totals: dict[str, int] | None = None


def holder_of(keyholders: Sequence[Keyholder]) -> dict[str, str]:
    """Key id -> keyholder name. EVM keys compare as checksummed, Bitcoin keys as hex."""
    mapping: dict[str, str] = {}
    for holder in keyholders:
        for key in holder.keys:
            normal = str(to_checksum_address(key)) if key.startswith("0x") and is_address(key) else key.lower()
            mapping[normal] = holder.name
    return mapping


def analyse(
    wallets: list[CustodyWallet],
    keyholders: Sequence[Keyholder],
    assets: Iterable[str],
    *,
    ks: Sequence[int] = (1, 2, 3),
    unreachable: Sequence[str] = (),
    shared_key_wallets: int = 3,
) -> CustodyReport:
    """Who holds each key, what every keyholder set of each size in ``ks`` freezes (worst
    case per asset), the custody flags, and what the ``unreachable`` keyholders freeze."""
    custody = _Custody(wallets, _named_keys(wallets, keyholders))
    everyone = custody.everyone
    known = {k.name for k in keyholders}
    unknown = [name for name in unreachable if name not in everyone and name not in known]
    if unknown:
        raise InputError(f"no keyholder is named {unknown[0]!r} (keyholders: {', '.join(everyone) or 'none'})")
    symbols = list(assets)
    totals = {a: sum(w.holdings.get(a, 0) for w in wallets) for a in symbols}
    exposures = _exposures(custody, symbols, totals, ks)
    flags = _threshold_flags(custody) + _shared_key_flags(custody, shared_key_wallets)
    frozen_now: dict[str, int] | None = None
    frozen_wallets: list[str] = []
    if unreachable:
        frozen, frozen_wallets = custody.frozen_by(set(unreachable))
        frozen_now = {asset: frozen.get(asset, 0) for asset in symbols}
    return CustodyReport(
        tuple(everyone), wallets, exposures, flags, tuple(unreachable), frozen_now, tuple(frozen_wallets), totals
    )


def _named_keys(wallets: list[CustodyWallet], keyholders: Sequence[Keyholder]) -> dict[str, str]:
    """Each key's holder; a key nobody lists is a keyholder of its own, named after its wallet."""
    named = holder_of(keyholders)
    for w in wallets:
        for key in w.policy.keys:
            named.setdefault(key, f"key of {w.wallet.label}" if len(w.policy.keys) == 1 else f"key {key[:12]}")
    return named


@dataclass(frozen=True)
class _Custody:
    wallets: list[CustodyWallet]
    named: dict[str, str]
    """Key -> keyholder."""

    def holders(self, policy: SigningPolicy) -> list[str]:
        return [self.named[key] for key in policy.keys]

    @property
    def everyone(self) -> list[str]:
        return sorted({h for w in self.wallets for h in self.holders(w.policy)})

    def frozen_by(self, gone: set[str]) -> tuple[dict[str, int], list[str]]:
        """What ``gone`` freezes, only the assets it freezes any of: memory follows the
        assets wallets hold, not every asset of the snapshot (reliability finding D7)."""
        frozen: dict[str, int] = {}
        labels = []
        for w in self.wallets:
            reachable = {key for key in w.policy.keys if self.named[key] not in gone}
            if len(reachable) < w.policy.threshold:
                labels.append(w.wallet.label)
                for asset, amount in w.holdings.items():
                    if amount:
                        frozen[asset] = frozen.get(asset, 0) + amount
        return frozen, labels


def _exposures(custody: _Custody, symbols: list[str], totals: dict[str, int], ks: Sequence[int]) -> list[Exposure]:
    """Per size k and asset: the most any k keyholders freeze, and the smallest sets that do."""
    everyone = custody.everyone
    exposures: list[Exposure] = []
    smaller: dict[tuple[str, ...], dict[str, int]] = {}
    """What each set of size k-1 freezes: a listed set must freeze more than all its subsets."""
    for k in sorted(ks):
        if k > len(everyone):
            continue
        if math.comb(len(everyone), k) > MAX_COMBINATIONS:
            exposures += [Exposure(a, k, 0, totals[a], (), searched=False) for a in symbols]
            smaller = {}
            continue
        worst, sets, smaller = _search(custody, symbols, k, smaller)
        exposures += [Exposure(a, k, worst[a], totals[a], tuple(sets[a])) for a in symbols]
    return exposures


def _search(
    custody: _Custody, symbols: list[str], k: int, smaller: dict[tuple[str, ...], dict[str, int]]
) -> tuple[dict[str, int], dict[str, list[tuple[str, ...]]], dict[tuple[str, ...], dict[str, int]]]:
    """Every set of k keyholders: the worst frozen per asset, the minimal sets freezing it,
    and what each set freezes (for the next size's minimality test)."""
    worst = dict.fromkeys(symbols, 0)
    sets: dict[str, list[tuple[str, ...]]] = {a: [] for a in symbols}
    current: dict[tuple[str, ...], dict[str, int]] = {}
    for combo in itertools.combinations(custody.everyone, k):
        frozen, _ = custody.frozen_by(set(combo))
        if frozen:
            current[combo] = frozen
        for asset, amount in frozen.items():
            if amount > worst[asset]:
                worst[asset], sets[asset] = amount, []
            if amount < worst[asset] or len(sets[asset]) >= EXAMPLES:
                continue
            if all(smaller.get(sub, {}).get(asset, 0) < amount for sub in itertools.combinations(combo, k - 1)):
                sets[asset].append(combo)
    return worst, sets, current


def _threshold_flags(custody: _Custody) -> list[Flag]:
    """Single-key cold wallets, and anyone holding a whole threshold alone."""
    flags: list[Flag] = []
    for w in custody.wallets:
        if w.wallet.kind == "cold" and len(w.policy.keys) == 1:
            flags.append(Flag("single-key cold wallet", f"{w.wallet.label} ({w.wallet.address}) is moved by one key"))
        if w.policy.threshold < 2:
            continue
        holders = custody.holders(w.policy)
        for holder in sorted(set(holders), key=holders.index):
            held = holders.count(holder)
            if held >= w.policy.threshold:
                policy = f"{w.policy.threshold}-of-{len(w.policy.keys)}"
                detail = f"{holder} holds {held} keys of {w.wallet.label}'s {policy}: enough to move it alone"
                flags.append(Flag("threshold held alone", detail))
    return flags


def _shared_key_flags(custody: _Custody, shared_key_wallets: int) -> list[Flag]:
    """A key that signs for ``shared_key_wallets`` wallets or more."""
    uses: dict[str, list[str]] = {}
    for w in custody.wallets:
        for key in dict.fromkeys(w.policy.keys):
            uses.setdefault(key, []).append(w.wallet.label)
    return [
        Flag("shared key", f"key {key} ({custody.named[key]}) signs for {len(labels)} wallets: {', '.join(labels)}")
        for key, labels in uses.items()
        if len(labels) >= shared_key_wallets
    ]
