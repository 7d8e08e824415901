"""Proof of control (FORMAT §6.4; ATTACKS.md #11, #13): does the exchange control each
wallet, and did it say so for *this* snapshot?

A wallet's ownership passes when enough of its signers signed the canonical message that
binds exchange, snapshot, root, chain and address. Signatures that are valid but over
another message prove control once and can be replayed: WARN, never PASS. Anything else
fails, and the wallet's reserves do not count.

Who the signers are, per wallet:

    EVM account without code     the address itself (1 of 1)
    EVM contract (Safe)          its owners, with its threshold, at the pinned block
    Bitcoin P2PKH/P2WPKH/...     the key that recovers from the signature (1 of 1)
    Bitcoin P2SH/P2WSH multisig  the keys of ``script`` (which must hash to the address), m of n
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from embit.script import address_to_scriptpubkey

from reserves.checks import Status
from reserves.control.signatures import (
    SignatureFormatError,
    bitcoin_sign,
    bitcoin_signer,
    evm_sign,
    evm_signer,
    parse_multisig,
    script_matches_address,
)
from reserves.encoding import parse_hex32
from reserves.errors import InputError
from reserves.onchain.reserve_sections import BitcoinChain, Chain, EvmChain, Ownership, Wallet
from reserves.onchain.sources import ContractSigners
from reserves.strict_json import load_json

if TYPE_CHECKING:
    from reserves.liabilities.private_sums.files import PrivateStatement
    from reserves.liabilities.published import PublishedSnapshot
    from reserves.liabilities.snapshot import SnapshotStatement

    Statement = TypeVar("Statement", bound=SnapshotStatement | PrivateStatement)

MESSAGE_TITLE = "reserves ownership proof"


def canonical_message(exchange: str, snapshot_id: str, root: bytes, chain: str, address: str) -> str:
    """The message that binds a wallet to one snapshot (FORMAT §6.4), lines joined by LF."""
    return "\n".join(
        [
            MESSAGE_TITLE,
            f"exchange: {exchange}",
            f"snapshot: {snapshot_id}",
            f"root: {root.hex()}",
            f"chain: {chain}",
            f"address: {address}",
        ]
    )


@dataclass(frozen=True)
class SigningPolicy:
    """Who must sign to move a wallet's funds: ``threshold`` of ``keys`` (distinct)."""

    threshold: int
    keys: tuple[str, ...]
    """Key ids: EIP-55 addresses for EVM, SEC public key hex for Bitcoin; ``address:…`` for
    a single-key Bitcoin address whose key is not known (no valid signature)."""


@dataclass(frozen=True)
class OwnershipResult:
    wallet: Wallet
    status: Status
    detail: str
    policy: SigningPolicy | None
    """The wallet's signers, where they could be determined."""
    signed_by: tuple[str, ...] = ()
    """Key ids of the valid signatures."""


def verify_ownership(
    wallet: Wallet, chain: Chain, expected_message: str, contract: ContractSigners | None = None
) -> OwnershipResult:
    """Check ``wallet.ownership``; ``contract`` is what the chain says about a contract wallet."""
    if isinstance(chain, EvmChain):
        policy = (
            SigningPolicy(1, (wallet.canonical,))
            if contract is None
            else SigningPolicy(contract.threshold, contract.owners)
        )
        if contract is not None and contract.error:
            return OwnershipResult(wallet, Status.FAIL, contract.error, None)
        return _judge(wallet, expected_message, policy, _evm_signers(wallet, policy))
    assert isinstance(chain, BitcoinChain)
    if wallet.script is not None:
        if not script_matches_address(wallet.script, wallet.canonical, chain.network):
            return OwnershipResult(wallet, Status.FAIL, "the script does not hash to the address", None)
        multisig = parse_multisig(wallet.script)
        if multisig is None:
            return OwnershipResult(wallet, Status.FAIL, "the script is not an m-of-n multisig script", None)
        policy = SigningPolicy(multisig.threshold, tuple(k.hex() for k in multisig.public_keys))
        return _judge(wallet, expected_message, policy, _bitcoin_signers(wallet, chain, set(policy.keys)))
    signers = _bitcoin_signers(wallet, chain, None)
    policy = SigningPolicy(1, (signers[0],) if signers else (f"address:{wallet.canonical}",))
    return _judge(wallet, expected_message, policy, signers)


def _judge(wallet: Wallet, expected_message: str, policy: SigningPolicy, signed: list[str]) -> OwnershipResult:
    ownership = wallet.ownership
    if ownership is None:
        return OwnershipResult(wallet, Status.FAIL, "no ownership proof", policy)
    distinct = tuple(dict.fromkeys(signed))
    if len(distinct) < policy.threshold or not distinct:
        need = max(policy.threshold, 1)
        return OwnershipResult(
            wallet,
            Status.FAIL,
            f"{len(distinct)} of the {need} required signers signed ({len(ownership.signatures)} signatures given)",
            policy,
            distinct,
        )
    if ownership.message != expected_message:
        return OwnershipResult(
            wallet,
            Status.WARN,
            "valid, but replayable: the signed message does not bind this exchange, snapshot, root, chain and address",
            policy,
            distinct,
        )
    return OwnershipResult(
        wallet,
        Status.PASS,
        f"{len(distinct)} of {len(policy.keys)} signers, threshold {policy.threshold}",
        policy,
        distinct,
    )


def _evm_signers(wallet: Wallet, policy: SigningPolicy) -> list[str]:
    if wallet.ownership is None:
        return []
    signers = []
    for signature in wallet.ownership.signatures:
        try:
            signer = evm_signer(wallet.ownership.message, signature)
        except SignatureFormatError:
            continue
        if signer in policy.keys:
            signers.append(signer)
    return signers


def _bitcoin_signers(wallet: Wallet, chain: BitcoinChain, keys: set[str] | None) -> list[str]:
    """Public keys (hex) of valid signatures: members of ``keys``, or, for a single-key
    address, keys that produce the address."""
    if wallet.ownership is None:
        return []
    signers = []
    for signature in wallet.ownership.signatures:
        try:
            signer = bitcoin_signer(wallet.ownership.message, signature)
        except SignatureFormatError:
            continue
        key = signer.public_key.hex()
        if (keys is not None and key in keys) or (keys is None and wallet.canonical in signer.addresses(chain.network)):
            signers.append(key)
    return signers


def sign_wallet(wallet: Wallet, chain: Chain, message: str, private_keys: list[bytes]) -> Ownership:
    """Sign ``message`` for ``wallet`` with each of ``private_keys`` (the exchange's helper)."""
    if isinstance(chain, EvmChain):
        return Ownership(message, tuple(evm_sign(message, key) for key in private_keys))
    if wallet.script is not None:
        return Ownership(message, tuple(bitcoin_sign(message, key, "any") for key in private_keys))
    kind = address_to_scriptpubkey(wallet.canonical).script_type()
    kind = {"p2sh": "p2sh-p2wpkh"}.get(kind, kind)
    return Ownership(message, tuple(bitcoin_sign(message, key, kind) for key in private_keys))


def wallet_messages(statement: PublishedSnapshot) -> list[tuple[Wallet, str]]:
    """Each wallet with the canonical message its signers must sign for this snapshot."""
    context = statement.context
    return [
        (w, canonical_message(context.exchange, context.snapshot_id, statement.root.hash, w.chain, w.address))
        for w in statement.reserves.wallets
    ]


def sign_snapshot(statement: Statement, keys: Mapping[str, list[bytes]]) -> Statement:
    """Sign every wallet named in ``keys`` (by label) over its canonical message.

    A helper for exchanges, tests and the demo: the keys never leave this process, and
    wallets not named keep the ownership they had.
    """
    labels = {w.label for w in statement.reserves.wallets}
    unknown = sorted(set(keys) - labels)
    if unknown:
        raise InputError(f"no wallet is labelled {unknown[0]!r} (labels: {', '.join(sorted(labels))})")
    wallets = []
    for wallet, message in wallet_messages(statement):
        if wallet.label not in keys:
            wallets.append(wallet)
            continue
        chain = statement.reserves.chains[wallet.chain]
        wallets.append(dataclasses.replace(wallet, ownership=sign_wallet(wallet, chain, message, keys[wallet.label])))
    reserves = dataclasses.replace(statement.reserves, wallets=tuple(wallets))
    return dataclasses.replace(statement, reserves=reserves)


def load_signing_keys(path: Path) -> dict[str, list[bytes]]:
    """``{"<wallet label>": ["<64 hex private key>", …], …}``."""
    document = load_json(path)
    keys: dict[str, list[bytes]] = {}
    for label in list(document.value):
        keys[label] = [parse_hex32(k.string(), what="private key", where=k.where) for k in document[label].items()]
        if not keys[label]:
            document[label].fail("no keys")
    return keys
