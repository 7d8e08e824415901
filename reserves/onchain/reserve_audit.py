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

from reserves.checks import Check, Status
from reserves.context import Asset
from reserves.control.custody import CustodyReport, CustodyWallet, analyse
from reserves.control.ownership import OwnershipResult, canonical_message, verify_ownership
from reserves.encoding import format_amount, format_share
from reserves.errors import SourceError
from reserves.liabilities.published import PublishedSnapshot
from reserves.onchain.reserve_sections import EvmChain, ReserveSections, Token, Wallet
from reserves.onchain.sources import BalanceQuery, BalanceSource, BatchProgress

ReadProgress = Callable[[str, int, int], None]
NATIVE_DECIMALS = {"evm": 18, "bitcoin": 8}
DUPLICATE_NOTE = "duplicate address: counted once"
OWNERSHIP_NOTE = "not counted: ownership not proven"
IMPLAUSIBLE_NOTE = "not counted: implausible balance"
PLAUSIBLE_LIMIT = 1 << 128
"""A balance at or above this (in the asset's smallest unit) exceeds any liabilities total
FORMAT allows: a source that reports one is wrong, and it is never counted."""


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
    unread_chains: dict[str, str] = field(default_factory=dict)
    """Chains whose balances were not read, and why: the audit is then INCOMPLETE."""


def reserve_ratio(reserves: int, liabilities: int) -> str:
    """Reserves over liabilities as a percentage with two decimals, rounded down; exact integers."""
    return format_share(reserves, liabilities, of_nothing="n/a (no liabilities)")


def to_asset_units(raw: int, chain_decimals: int, asset_decimals: int) -> int:
    """Convert a chain amount to the asset's smallest unit, rounding down (never overstating)."""
    if asset_decimals >= chain_decimals:
        return raw * _power_of_ten(asset_decimals - chain_decimals)
    return raw // _power_of_ten(chain_decimals - asset_decimals)


def _power_of_ten(exponent: int) -> int:
    result: int = 10**exponent
    return result


@dataclass
class _Run:
    """What the steps of one reserves audit share as they go."""

    statement: PublishedSnapshot
    sources: Mapping[str, BalanceSource]
    checks: list[Check] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    duplicates: set[int] = field(default_factory=set)
    """Positions of wallets that repeat an earlier wallet on the same chain."""
    trusted: dict[str, BalanceSource] = field(default_factory=dict)
    """Sources whose chain identity checks passed, by chain name."""
    unread_chains: dict[str, str] = field(default_factory=dict)
    """Chains whose balances were not read, and why (no source given, or the source failed)."""
    not_counted: dict[str, str] = field(default_factory=dict)
    """Why a chain's balances are not counted, by chain name."""
    untrusted_tokens: set[tuple[str, str]] = field(default_factory=set)
    ownership: dict[int, OwnershipResult] = field(default_factory=dict)
    readings: list[WalletReading] = field(default_factory=list)

    @property
    def sections(self) -> ReserveSections:
        return self.statement.reserves

    def source_failed(self, chain: str, exc: SourceError) -> None:
        self.unreadable.append(str(exc))
        self.unread_chains[chain] = "its source failed"
        self.not_counted[chain] = f"not read: {exc}"
        self.trusted.pop(chain, None)


def audit_reserves(
    statement: PublishedSnapshot,
    liabilities: Mapping[str, int],
    sources: Mapping[str, BalanceSource],
    *,
    progress: ReadProgress | None = None,
    custody_ks: Sequence[int] = (1, 2, 3),
    unreachable: Sequence[str] = (),
) -> ReserveAudit:
    """Steps (5) to (12) of the module docstring, in order."""
    run = _Run(statement, sources)
    _unique_addresses(run)  # (5)
    _chain_identities(run)  # (6), (7)
    _ownership(run)  # (8)
    _read_balances(run, progress)  # (9)
    _claims(run)  # (10)
    verdicts = _verdicts(run, liabilities)  # (11)
    custody = _custody_step(run, custody_ks, unreachable)  # (12)
    return ReserveAudit(
        run.readings, verdicts, run.checks, run.unreadable, list(run.ownership.values()), custody, run.unread_chains
    )


def _unique_addresses(run: _Run) -> None:
    """(5) One address counts once per chain, however the file names or spells it (ATTACKS #11)."""
    wallets = run.sections.wallets
    first_seen: dict[tuple[tuple[str, str], str], Wallet] = {}
    for position, wallet in enumerate(wallets):
        key = (run.sections.chains[wallet.chain].identity, wallet.canonical)
        other = first_seen.setdefault(key, wallet)
        if other is wallet:
            continue
        run.duplicates.add(position)
        same_chain = "" if other.chain == wallet.chain else f" on {other.chain}, the same chain"
        run.checks.append(
            Check(
                5,
                "unique-addresses",
                f"{wallet.chain}: addresses are unique",
                Status.FAIL,
                f"{wallet.label} ({wallet.address}) is {other.label} ({other.address}){same_chain} again; counted once",
                "each address once",
                f"{wallet.canonical} twice",
            )
        )
    if not run.duplicates and wallets:
        run.checks.append(
            Check(5, "unique-addresses", "addresses are unique per chain", Status.PASS, f"{len(wallets)} wallets")
        )


def _chain_identities(run: _Run) -> None:
    """(6) Each source serves the snapshot's chain and its pinned block; (7) token decimals."""
    for name in run.sections.chains:
        source = run.sources.get(name)
        if source is None:
            run.unread_chains[name] = "no source given"
            run.not_counted[name] = "not read: no source given"
            run.checks.append(Check(6, "chain-identity", f"{name}: chain identity", Status.SKIPPED, "no source given"))
            continue
        try:
            identity = source.identity_checks()
            run.checks += identity
            if any(c.status is Status.FAIL for c in identity):
                run.not_counted[name] = f"not counted: {name} failed its identity checks"
                continue
            for token in (t for t in run.sections.tokens if t.chain == name):
                check = _token_decimals_check(source, token)
                run.checks.append(check)
                if check.status is not Status.PASS:
                    run.untrusted_tokens.add((name, token.asset))
        except SourceError as exc:
            run.source_failed(name, exc)
            run.checks.append(
                Check(6, "chain-identity", f"{name}: chain identity", Status.SKIPPED, f"could not read: {exc}")
            )
            continue
        run.trusted[name] = source


def _ownership(run: _Run) -> None:
    """(8) The exchange controls each wallet, and said so for this snapshot."""
    context, root = run.statement.context, run.statement.root
    for position, wallet in enumerate(run.sections.wallets):
        if position in run.duplicates:
            continue
        chain = run.sections.chains[wallet.chain]
        message = canonical_message(context.exchange, context.snapshot_id, root.hash, wallet.chain, wallet.address)
        title = f"{wallet.label}: ownership of {wallet.address}"
        contract = None
        if isinstance(chain, EvmChain):
            if wallet.chain not in run.trusted:
                why = run.not_counted.get(wallet.chain, f"{wallet.chain} not read")
                run.checks.append(Check(8, "ownership", title, Status.SKIPPED, f"{why}: the signers are on-chain"))
                continue
            try:
                contract = run.trusted[wallet.chain].contract_signers(wallet.canonical)
            except SourceError as exc:
                run.source_failed(wallet.chain, exc)
                run.checks.append(Check(8, "ownership", title, Status.SKIPPED, f"could not read: {exc}"))
                continue
        result = verify_ownership(wallet, chain, message, contract)
        run.ownership[position] = result
        run.checks.append(Check(8, "ownership", title, result.status, result.detail))


def _read_balances(run: _Run, progress: ReadProgress | None) -> None:
    """(9) Every balance read at exactly its chain's pinned block."""
    assets = {a.symbol: a for a in run.statement.context.assets}
    for name, chain in run.sections.chains.items():
        plan = _reading_plan(run, name)
        if not plan:
            continue
        report = _reporter(progress, f"reading {name}", len(plan))
        try:
            found = run.trusted[name].balances([q for _, _, q, _ in plan], report)
        except SourceError as exc:
            run.source_failed(name, exc)
            run.readings += [WalletReading(w, s, None, False, f"could not read: {exc}") for w, s, _, _ in plan]
            continue
        for (wallet, symbol, query, note), raw in zip(plan, found, strict=True):
            units = query.token.decimals if query.token else NATIVE_DECIMALS[chain.kind]
            amount = to_asset_units(raw, units, assets[symbol].decimals)
            why = note
            if amount >= PLAUSIBLE_LIMIT:
                why = IMPLAUSIBLE_NOTE
                run.checks.append(
                    Check(
                        9,
                        "balance-plausible",
                        f"{wallet.label}: {symbol} balance is plausible",
                        Status.FAIL,
                        "more than any liabilities total can be (2^128 smallest units): the source is wrong",
                        f"< {PLAUSIBLE_LIMIT}",
                        str(amount),
                    )
                )
            run.readings.append(WalletReading(wallet, symbol, amount, not why, why))
    if run.sections.wallets:
        counted = sum(1 for r in run.readings if r.counted)
        unread = any(r.found is None and r.note != DUPLICATE_NOTE for r in run.readings)
        status = Status.PASS if counted == len(run.readings) else Status.SKIPPED if unread else Status.WARN
        run.checks.append(
            Check(
                9,
                "balances-read",
                "balances read at the pinned blocks",
                status,
                f"{counted} of {len(run.readings)} wallet balances counted",
            )
        )


def _reading_plan(run: _Run, chain: str) -> list[tuple[Wallet, str, BalanceQuery, str]]:
    """The balances to read on ``chain``: (wallet, asset, query, why it will not count or "").
    Balances that cannot be read are recorded as readings of nothing right away."""
    plan = []
    for position, wallet in enumerate(run.sections.wallets):
        if wallet.chain != chain:
            continue
        for symbol in wallet.assets:
            if position in run.duplicates:
                run.readings.append(WalletReading(wallet, symbol, None, False, DUPLICATE_NOTE))
            elif chain not in run.trusted:
                run.readings.append(WalletReading(wallet, symbol, None, False, run.not_counted[chain]))
            elif (chain, symbol) in run.untrusted_tokens:
                run.readings.append(WalletReading(wallet, symbol, None, False, "token decimals check failed"))
            else:
                proof = run.ownership[position]
                note = "" if proof.status is not Status.FAIL else f"{OWNERSHIP_NOTE}: {proof.detail}"
                plan.append((wallet, symbol, BalanceQuery(wallet.canonical, run.sections.token(chain, symbol)), note))
    return plan


def _claims(run: _Run) -> None:
    """(10) What the exchange claims each wallet holds, against what was found."""
    assets = {a.symbol: a for a in run.statement.context.assets}
    for reading in run.readings:
        claims = reading.wallet.claimed
        if claims is None or reading.found is None:
            continue
        decimals = assets[reading.asset].decimals
        title = f"{reading.wallet.label}: claimed {reading.asset} found"
        if claims[reading.asset] == reading.found:
            run.checks.append(Check(10, "claimed-balance", title, Status.PASS, format_amount(reading.found, decimals)))
        else:
            run.checks.append(
                Check(
                    10,
                    "claimed-balance",
                    title,
                    Status.WARN,
                    "the balance found differs from the claim",
                    format_amount(claims[reading.asset], decimals),
                    format_amount(reading.found, decimals),
                )
            )


def _verdicts(run: _Run, liabilities: Mapping[str, int]) -> list[AssetVerdict]:
    """(11) Per asset, reserves against liabilities: no netting across assets, no fiat totals."""
    verdicts = [_verdict(asset, run.readings, liabilities[asset.symbol]) for asset in run.statement.context.assets]
    if run.sections.wallets:
        run.checks += [
            Check(
                11,
                "reserves-cover",
                f"reserves cover liabilities: {v.asset.symbol}",
                v.status,
                v.detail,
                *_expected_found(v),
            )
            for v in verdicts
        ]
    return verdicts


def _custody_step(run: _Run, ks: Sequence[int], unreachable: Sequence[str]) -> CustodyReport | None:
    """(12) Single-key cold wallets, shared keys, thresholds held alone, chosen keyholders gone."""
    if not run.sections.wallets:
        return None
    custody = _custody(run.sections, run.statement, run.readings, list(run.ownership.values()), ks, unreachable)
    run.checks += [Check(12, "custody", f"custody: {flag.kind}", Status.WARN, flag.detail) for flag in custody.flags]
    if unreachable:
        frozen = ", ".join(custody.frozen_wallets) or "nothing"
        status = Status.WARN if custody.frozen_wallets else Status.PASS
        run.checks.append(
            Check(
                12,
                "custody-unreachable",
                f"custody with {', '.join(unreachable)} unreachable",
                status,
                f"frozen: {frozen}",
            )
        )
    return custody


def _custody(
    sections: ReserveSections,
    statement: PublishedSnapshot,
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


def _token_decimals_check(source: BalanceSource, token: Token) -> Check:
    actual = source.token_decimals(token)
    title = f"{token.chain}: {token.asset} token {token.contract} has {token.decimals} decimals"
    if actual is None:
        return Check(
            7,
            "token-decimals",
            title,
            Status.FAIL,
            "the contract has no decimals() at the pinned block",
            str(token.decimals),
            "none",
        )
    if actual != token.decimals:
        return Check(
            7,
            "token-decimals",
            title,
            Status.FAIL,
            "declared decimals differ from the contract's",
            str(token.decimals),
            str(actual),
        )
    return Check(7, "token-decimals", title, Status.PASS, f"decimals() = {actual}")


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
