"""The auditor's reserves check: on-chain balances at the pinned blocks against the
liabilities, asset by asset (ATTACKS.md #10, #11, #12).

    (5) addresses are unique per chain once canonicalised     (#11)
    (6) each chain's source is the snapshot's chain, and the pinned block has the
        snapshot's hash                                        (#12)
    (7) each token's on-chain decimals() is the declared one   (#10)
    (8) the exchange controls each wallet, and said so for this snapshot (#11, #13)
    (9) balances read at exactly the pinned block              (#12)
   (10) claimed balances equal the balances found
   (11) per asset: reserves >= liabilities; no netting across assets, no fiat totals
   (12) custody: single-key cold wallets, shared keys, thresholds held alone (#15)

A balance counts only if it was read from a chain whose identity checks passed, from a
wallet not already counted, whose ownership proof is valid. An asset whose wallets could
not all be read gets no verdict (SKIPPED), never a PASS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from reserves.context import Asset
from reserves.custody import CustodyReport, CustodyWallet, analyse
from reserves.encoding import format_amount, format_share
from reserves.errors import SourceError
from reserves.ownership import OwnershipResult, canonical_message, verify_ownership
from reserves.results import Check, Status
from reserves.snapshot import SnapshotStatement
from reserves.sources import BalanceQuery, BalanceSource, BatchProgress
from reserves.wallets import EvmChain, ReserveSections, Token, Wallet

ReadProgress = Callable[[str, int, int], None]
NATIVE_DECIMALS = {"evm": 18, "bitcoin": 8}
DUPLICATE_NOTE = "duplicate address: counted once"
OWNERSHIP_NOTE = "not counted: ownership not proven"


@dataclass(frozen=True)
class WalletReading:
    """One asset of one wallet, as found on-chain."""

    wallet: Wallet
    asset: str
    found: int | None
    """Smallest units of the asset at the pinned block; ``None`` if not read."""
    counted: bool
    """Whether ``found`` counts toward the asset's reserves."""
    note: str = ""
    """Why it does not count, or was not read."""


@dataclass(frozen=True)
class AssetVerdict:
    asset: Asset
    reserves: int
    """Counted reserves, smallest units."""
    liabilities: int
    status: Status
    detail: str

    @property
    def ratio(self) -> str:
        return reserve_ratio(self.reserves, self.liabilities)


@dataclass(frozen=True)
class ReserveAudit:
    readings: list[WalletReading]
    verdicts: list[AssetVerdict]
    checks: list[Check]
    unreadable: list[str]
    """Messages of the sources that could not be read (exit code 3)."""
    ownership: list[OwnershipResult] = field(default_factory=list)
    custody: CustodyReport | None = None


def reserve_ratio(reserves: int, liabilities: int) -> str:
    """Reserves over liabilities as a percentage with two decimals, rounded down; exact integers."""
    if liabilities == 0:
        return "n/a (no liabilities)"
    return format_share(reserves, liabilities)


def to_asset_units(raw: int, chain_decimals: int, asset_decimals: int) -> int:
    """Convert a chain amount to the asset's smallest unit, rounding down (never overstating)."""
    if asset_decimals >= chain_decimals:
        return raw * _power_of_ten(asset_decimals - chain_decimals)
    return raw // _power_of_ten(chain_decimals - asset_decimals)


def _power_of_ten(exponent: int) -> int:
    result: int = 10**exponent
    return result


def audit_reserves(
    statement: SnapshotStatement,
    liabilities: Mapping[str, int],
    sources: Mapping[str, BalanceSource],
    *,
    progress: ReadProgress | None = None,
    custody_ks: Sequence[int] = (1, 2, 3),
    unreachable: Sequence[str] = (),
) -> ReserveAudit:
    sections = statement.reserves
    assets = {a.symbol: a for a in statement.context.assets}
    checks: list[Check] = []
    unreadable: list[str] = []

    # (5)
    first_seen: dict[tuple[str, str], Wallet] = {}
    duplicates: set[int] = set()
    for position, wallet in enumerate(sections.wallets):
        key = (wallet.chain, wallet.canonical)
        if key in first_seen:
            duplicates.add(position)
            other = first_seen[key]
            checks.append(Check(
                f"(5) {wallet.chain}: addresses are unique", Status.FAIL,
                f"{wallet.label} ({wallet.address}) is {other.label} ({other.address}) again; counted once",
                "each address once", f"{wallet.canonical} twice",
            ))  # fmt: skip
        else:
            first_seen[key] = wallet
    if not duplicates and sections.wallets:
        checks.append(Check("(5) addresses are unique per chain", Status.PASS, f"{len(sections.wallets)} wallets"))

    # (6), (7)
    trusted: dict[str, BalanceSource] = {}
    not_counted: dict[str, str] = {}
    """Why a chain's balances are not counted, by chain name."""
    untrusted_tokens: set[tuple[str, str]] = set()
    for name, chain in sections.chains.items():
        source = sources.get(name)
        if source is None:
            option = "--rpc" if isinstance(chain, EvmChain) else "--esplora"
            not_counted[name] = f"not read: no {option} {name}=URL given"
            checks.append(Check(f"(6) {name}: chain identity", Status.SKIPPED, not_counted[name]))
            continue
        try:
            identity = source.identity_checks()
            checks += [_numbered("(6)", c) for c in identity]
            if any(c.status is Status.FAIL for c in identity):
                not_counted[name] = f"not counted: {name} failed its identity checks"
                continue
            for token in (t for t in sections.tokens if t.chain == name):
                check = _token_decimals_check(source, token)
                checks.append(check)
                if check.status is not Status.PASS:
                    untrusted_tokens.add((name, token.asset))
        except SourceError as exc:
            unreadable.append(str(exc))
            not_counted[name] = f"not read: {exc}"
            checks.append(Check(f"(6) {name}: chain identity", Status.SKIPPED, f"could not read: {exc}"))
            continue
        trusted[name] = source

    # (8)
    ownership: dict[int, OwnershipResult] = {}
    for position, wallet in enumerate(sections.wallets):
        if position in duplicates:
            continue
        chain = sections.chains[wallet.chain]
        message = canonical_message(statement.context.exchange, statement.context.snapshot_id, statement.root.hash,
                                    wallet.chain, wallet.address)  # fmt: skip
        name = f"(8) {wallet.label}: ownership of {wallet.address}"
        contract = None
        if isinstance(chain, EvmChain):
            if wallet.chain not in trusted:
                checks.append(Check(name, Status.SKIPPED, f"{wallet.chain} not read: the signers are on-chain"))
                continue
            try:
                contract = trusted[wallet.chain].contract_signers(wallet.canonical)
            except SourceError as exc:
                unreadable.append(str(exc))
                not_counted[wallet.chain] = f"not read: {exc}"
                trusted.pop(wallet.chain)
                checks.append(Check(name, Status.SKIPPED, f"could not read: {exc}"))
                continue
        result = verify_ownership(wallet, chain, message, contract)
        ownership[position] = result
        checks.append(Check(name, result.status, result.detail))

    # (9)
    readings: list[WalletReading] = []
    for name, chain in sections.chains.items():
        wallets = [(p, w) for p, w in enumerate(sections.wallets) if w.chain == name]
        plan: list[tuple[Wallet, str, BalanceQuery, str]] = []
        """(wallet, asset, query, why it does not count or "")"""
        for position, wallet in wallets:
            for symbol in wallet.assets:
                if position in duplicates:
                    readings.append(WalletReading(wallet, symbol, None, False, DUPLICATE_NOTE))
                elif name not in trusted:
                    readings.append(WalletReading(wallet, symbol, None, False, not_counted[name]))
                elif (name, symbol) in untrusted_tokens:
                    readings.append(WalletReading(wallet, symbol, None, False, "token decimals check failed"))
                else:
                    owned = ownership[position].status is not Status.FAIL
                    note = "" if owned else f"{OWNERSHIP_NOTE}: {ownership[position].detail}"
                    plan.append((wallet, symbol, BalanceQuery(wallet.canonical, sections.token(name, symbol)), note))
        if not plan:
            continue
        source = trusted[name]
        report = _reporter(progress, f"reading {name}", len(plan))
        try:
            found = source.balances([q for _, _, q, _ in plan], report)
        except SourceError as exc:
            unreadable.append(str(exc))
            readings += [WalletReading(w, s, None, False, f"could not read: {exc}") for w, s, _, _ in plan]
            continue
        for (wallet, symbol, query, note), raw in zip(plan, found, strict=True):
            units = query.token.decimals if query.token else NATIVE_DECIMALS[chain.kind]
            amount = to_asset_units(raw, units, assets[symbol].decimals)
            readings.append(WalletReading(wallet, symbol, amount, not note, note))
    if sections.wallets:
        read = sum(1 for r in readings if r.counted)
        status = Status.PASS if read == len(readings) else Status.WARN
        checks.append(
            Check(
                "(9) balances read at the pinned blocks", status, f"{read} of {len(readings)} wallet balances counted"
            )
        )

    # (10)
    for reading in readings:
        claims = reading.wallet.claimed
        if claims is None or reading.found is None:
            continue
        decimals = assets[reading.asset].decimals
        name = f"(10) {reading.wallet.label}: claimed {reading.asset} found"
        if claims[reading.asset] == reading.found:
            checks.append(Check(name, Status.PASS, format_amount(reading.found, decimals)))
        else:
            checks.append(
                Check(
                    name,
                    Status.WARN,
                    "the balance found differs from the claim",
                    format_amount(claims[reading.asset], decimals),
                    format_amount(reading.found, decimals),
                )
            )

    # (11)
    verdicts = [_verdict(asset, readings, liabilities[asset.symbol]) for asset in statement.context.assets]
    if sections.wallets:
        checks += [Check(f"(11) reserves cover liabilities: {v.asset.symbol}", v.status, v.detail,
                         *_expected_found(v)) for v in verdicts]  # fmt: skip
    # (12)
    custody = None
    if sections.wallets:
        custody = _custody(sections, statement, readings, list(ownership.values()), custody_ks, unreachable)
        checks += [Check(f"(12) custody: {flag.kind}", Status.WARN, flag.detail) for flag in custody.flags]
        if unreachable:
            frozen = ", ".join(custody.frozen_wallets) or "nothing"
            status = Status.WARN if custody.frozen_wallets else Status.PASS
            checks.append(Check(f"(12) custody with {', '.join(unreachable)} unreachable", status, f"frozen: {frozen}"))
    return ReserveAudit(readings, verdicts, checks, unreadable, list(ownership.values()), custody)


def _custody(
    sections: ReserveSections,
    statement: SnapshotStatement,
    readings: list[WalletReading],
    ownership: list[OwnershipResult],
    ks: Sequence[int],
    unreachable: Sequence[str],
) -> CustodyReport:
    """Custody over the wallets whose reserves count and whose signers are known."""
    known = {r.wallet.label for r in readings if r.counted}
    wallets = []
    for result in ownership:
        if result.policy is None or result.wallet.label not in known:
            continue
        holdings = {
            r.asset: r.found for r in readings if r.wallet is result.wallet and r.counted and r.found is not None
        }
        wallets.append(CustodyWallet(result.wallet, result.policy, holdings))
    return analyse(wallets, sections.keyholders, statement.context.symbols, ks=ks, unreachable=unreachable)


def _reporter(progress: ReadProgress | None, task: str, total: int) -> BatchProgress | None:
    if progress is None:
        return None
    return lambda done: progress(task, done, total)


def _numbered(step: str, check: Check) -> Check:
    return Check(f"{step} {check.name}", check.status, check.detail, check.expected, check.found)


def _token_decimals_check(source: BalanceSource, token: Token) -> Check:
    actual = source.token_decimals(token)
    name = f"(7) {token.chain}: {token.asset} token {token.contract} has {token.decimals} decimals"
    if actual is None:
        return Check(
            name, Status.FAIL, "the contract has no decimals() at the pinned block", str(token.decimals), "none"
        )
    if actual != token.decimals:
        return Check(
            name, Status.FAIL, "declared decimals differ from the contract's", str(token.decimals), str(actual)
        )
    return Check(name, Status.PASS, f"decimals() = {actual}")


def _verdict(asset: Asset, readings: list[WalletReading], liabilities: int) -> AssetVerdict:
    mine = [r for r in readings if r.asset == asset.symbol]
    reserves = sum(r.found for r in mine if r.counted and r.found is not None)
    unread = [r for r in mine if r.found is None and r.note != DUPLICATE_NOTE]
    text = (
        f"reserves {format_amount(reserves, asset.decimals)}, liabilities {format_amount(liabilities, asset.decimals)}"
    )
    if unread:
        return AssetVerdict(
            asset,
            reserves,
            liabilities,
            Status.SKIPPED,
            f"{len(unread)} wallet balance(s) not counted ({unread[0].note}); no verdict",
        )
    if reserves >= liabilities:
        return AssetVerdict(
            asset, reserves, liabilities, Status.PASS, f"{text}: {reserve_ratio(reserves, liabilities)}"
        )
    return AssetVerdict(
        asset, reserves, liabilities, Status.FAIL, f"{text}: under-reserved, {reserve_ratio(reserves, liabilities)}"
    )


def _expected_found(verdict: AssetVerdict) -> tuple[str | None, str | None]:
    if verdict.status is not Status.FAIL:
        return None, None
    decimals = verdict.asset.decimals
    return f">= {format_amount(verdict.liabilities, decimals)}", format_amount(verdict.reserves, decimals)
