"""OKX's address-ownership CSV: each reserve address with a signature over a message.

Two layouts are published (``okx_por_example.csv``: a summary section, a blank line, then
``coin,Network,Snapshot Height,address,amount,message,signature1,signature2,redeem script/
public key,eoa1,eoa2``; ``test.csv``: ``digitalAsset,network,address,signedMessage,
signedMessage2,message,publicKey,owner1,owner2``); both are read by their header names.

- EVM networks: ``personal_sign`` over the 32-byte Keccak-256 of the message; the signer
  is the address, or, with owners listed (a contract wallet), each owner signs.
- Bitcoin and Dogecoin: the standard signed-message format with the chain's magic; a
  P2SH/P2WSH row carries two signatures and the redeem script, which must hash to the
  address and contain both (distinct) signers, at least its threshold.
- Other networks: SKIPPED with the reason, never PASS.

The message is a constant, so a valid signature proves control once and can be replayed:
WARN, never PASS. With ``--rpc``/``--esplora`` the stated amount is compared with the
balance at the stated height.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embit import networks
from embit.base58 import encode_check
from embit.ec import PublicKey as EmbitKey
from embit.script import Script, p2pkh, p2sh, p2wpkh, p2wsh
from eth_utils.crypto import keccak

from reserves.checks import Check, Status
from reserves.control.signatures import (
    SignatureFormatError,
    bitcoin_message_hash,
    evm_signer,
    parse_multisig,
    recover_public_key,
)
from reserves.encoding import format_amount, parse_amount
from reserves.errors import InputError
from reserves.onchain.reserve_sections import BitcoinChain, EvmChain
from reserves.onchain.sources import BalanceQuery, BalanceSource
from reserves.onchain.sources.esplora import EsploraSource
from reserves.onchain.sources.evm import EvmSource

EVM_NETWORKS = frozenset({"ETH", "ARBITRUM", "OPTIMISM", "POLYGON", "POLY", "AVAXC", "BSC", "BASE", "LINEA"})
UTXO_NETWORKS = {
    # network: (signed-message magic, base58 P2PKH version, base58 P2SH version)
    "BTC": (b"Bitcoin Signed Message:\n", b"\x00", b"\x05"),
    "DOGE": (b"Dogecoin Signed Message:\n", b"\x1e", b"\x16"),
}
_COLUMNS = {
    "coin": ("coin", "digitalAsset"),
    "network": ("Network", "network"),
    "height": ("Snapshot Height",),
    "address": ("address",),
    "amount": ("amount",),
    "message": ("message",),
    "signature1": ("signature1", "signedMessage"),
    "signature2": ("signature2", "signedMessage2"),
    "script": ("redeem script/ public key", "publicKey"),
    "owner1": ("eoa1", "owner1"),
    "owner2": ("eoa2", "owner2"),
}


@dataclass(frozen=True)
class AddressRow:
    line: int
    coin: str
    network: str
    address: str
    message: str
    signatures: tuple[str, ...]
    script: str
    owners: tuple[str, ...]
    height: int | None = None
    amount: str | None = None


@dataclass(frozen=True)
class RowResult:
    row: AddressRow
    check: Check
    balance: Check | None = None


@dataclass
class AddressReport:
    source: str
    results: list[RowResult] = field(default_factory=list)

    @property
    def checks(self) -> list[Check]:
        return [c for r in self.results for c in (r.check, r.balance) if c is not None]

    def ownership_counts(self) -> dict[Status, int]:
        """How many rows' signatures ended in each status."""
        return {s: sum(1 for r in self.results if r.check.status is s) for s in Status}

    def amount_counts(self) -> dict[Status, int]:
        """How many stated amounts, among those compared, ended in each status."""
        compared = [r.balance for r in self.results if r.balance is not None]
        return {s: sum(1 for c in compared if c.status is s) for s in Status}


MAX_CSV_BYTES = 64 * 1024 * 1024


def read_rows(path: Path) -> list[AddressRow]:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}", where=str(path)) from None
    if len(data) > MAX_CSV_BYTES:
        raise InputError(f"larger than {MAX_CSV_BYTES} bytes", where=str(path))
    rows: list[AddressRow] = []
    header: dict[str, int] | None = None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    for number, fields in _records(reader, str(path)):
        if not any(f.strip() for f in fields):
            header = None  # a blank line ends a section
            continue
        names = [f.strip() for f in fields]
        if "address" in names and ("message" in names):
            header = {
                key: next((names.index(n) for n in options if n in names), -1) for key, options in _COLUMNS.items()
            }
            continue
        if header is None:
            continue  # the summary section (coin, snapshot height, amount) is not an address row
        rows.append(_row(fields, header, number, str(path)))
    if not rows:
        raise InputError("no address rows (expected a header with address and message columns)", where=str(path))
    return rows


def _records(reader: Any, source: str) -> Iterator[tuple[int, list[str]]]:
    """Records with the line they start on; a malformed record is an error naming its line
    (the csv module's field limit, a lone carriage return inside a field, stray quotes)."""
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", where=f"{source}:{line}") from None
        yield line, fields


def _row(fields: list[str], header: dict[str, int], line: int, source: str) -> AddressRow:
    def cell(key: str) -> str:
        index = header[key]
        value = fields[index].strip() if 0 <= index < len(fields) else ""
        return "" if value == "null" else value

    height_text = cell("height")
    if height_text and not (height_text.isascii() and height_text.isdigit() and len(height_text) <= 12):
        raise InputError(f"snapshot height {height_text!r} is not a block number", where=f"{source}:{line}")
    signatures = tuple(s for s in (cell("signature1"), cell("signature2")) if s)
    owners = tuple(o for o in (cell("owner1"), cell("owner2")) if o)
    height = int(height_text) if height_text else None
    return AddressRow(
        line,
        cell("coin"),
        cell("network"),
        cell("address"),
        cell("message"),
        signatures,
        cell("script"),
        owners,
        height,
        cell("amount") or None,
    )


def verify_row(row: AddressRow) -> Check:
    name = f"line {row.line}: {row.coin} on {row.network} {row.address}"
    if not row.signatures or not row.message:
        return Check(1, "signature", name, Status.FAIL, "no signature or no message")
    try:
        if row.network in EVM_NETWORKS:
            detail = _verify_evm(row)
        elif row.network in UTXO_NETWORKS:
            detail = _verify_utxo(row)
        else:
            return Check(
                1, "signature", name, Status.SKIPPED, f"network {row.network} is not supported by this verifier"
            )
    except _Invalid as exc:
        return Check(1, "signature", name, Status.FAIL, str(exc))
    return Check(
        1, "signature", name, Status.WARN, f"valid, but replayable: {detail} over the constant message {row.message!r}"
    )


class _Invalid(Exception):
    pass


def evm_okx_signer(message: str, signature: str) -> str:
    """The signer of OKX's EVM scheme: ``personal_sign`` over Keccak-256(message); OKX's
    files spell signatures with or without ``0x``, in either case."""
    try:
        return evm_signer(keccak(text=message), "0x" + signature.removeprefix("0x").lower())
    except SignatureFormatError as exc:
        raise _Invalid(f"not a valid signature: {exc}") from None


def _verify_evm(row: AddressRow) -> str:
    if row.owners:
        if len(row.owners) != len(row.signatures):
            raise _Invalid(f"{len(row.owners)} owners but {len(row.signatures)} signatures")
        for owner, signature in zip(row.owners, row.signatures, strict=True):
            signer = evm_okx_signer(row.message, signature)
            if signer.lower() != owner.lower():
                raise _Invalid(f"a signature recovers to {signer}, not the owner {owner}")
        return f"signed by its {len(row.owners)} listed owners (that they own the contract is not checked here)"
    signer = evm_okx_signer(row.message, row.signatures[0])
    if signer.lower() != row.address.lower():
        raise _Invalid(f"the signature recovers to {signer}, not the address")
    return "signed by the address's key"


def utxo_signer(network: str, message: str, signature: str) -> bytes:
    """The compressed public key that signed ``message`` in the chain's signed-message format."""
    magic = UTXO_NETWORKS[network][0]
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid("a signature is not base64") from None
    if len(raw) != 65 or not 27 <= raw[0] <= 42:
        raise _Invalid("a signature is not 65 bytes with a header byte of 27 to 42")
    try:
        key = recover_public_key(raw, bitcoin_message_hash(message, magic))
    except SignatureFormatError as exc:
        raise _Invalid(str(exc)) from None
    return bytes(key.format(compressed=True))


def _utxo_address(network: str, script: Script) -> str:
    _, p2pkh_version, p2sh_version = UTXO_NETWORKS[network]
    if network == "BTC":
        return str(script.address(networks.NETWORKS["main"]))
    kind, data = script.script_type(), script.data
    if kind == "p2pkh":
        return str(encode_check(p2pkh_version + data[3:23]))
    if kind == "p2sh":
        return str(encode_check(p2sh_version + data[2:22]))
    raise _Invalid(f"{network} has no {kind} addresses")


def _verify_utxo(row: AddressRow) -> str:
    keys = [utxo_signer(row.network, row.message, s) for s in row.signatures]
    if row.script:
        try:
            redeem = Script(bytes.fromhex(row.script))
        except ValueError:
            raise _Invalid("the redeem script is not hex") from None
        candidates = [p2sh(redeem)] + ([p2wsh(redeem), p2sh(p2wsh(redeem))] if row.network == "BTC" else [])
        if row.address not in {_utxo_address(row.network, c) for c in candidates}:
            raise _Invalid("the redeem script does not hash to the address")
        multisig = parse_multisig(redeem.data)
        if multisig is None:
            raise _Invalid("the redeem script is not a multisig script")
        members = set(multisig.public_keys)
        signers = {k for k in keys if k in members}
        if len(signers) < len(keys) or len(signers) < multisig.threshold:
            raise _Invalid(
                f"{len(signers)} distinct signers in the script; {multisig.threshold} required, "
                f"{len(keys)} signatures given"
            )
        return f"{len(signers)} of the script's {len(members)} keys signed (threshold {multisig.threshold})"
    parsed = EmbitKey.parse(keys[0])
    candidates = [p2pkh(parsed)] + ([p2wpkh(parsed), p2sh(p2wpkh(parsed))] if row.network == "BTC" else [])
    if row.address not in {_utxo_address(row.network, c) for c in candidates}:
        raise _Invalid("the recovered key does not produce the address")
    return "signed by the address's key"


NATIVE = {
    "ETH": "ETH",
    "ARBITRUM": "ETH",
    "OPTIMISM": "ETH",
    "BASE": "ETH",
    "LINEA": "ETH",
    "BTC": "BTC",
    "DOGE": "DOGE",
}
"""Each network's native coin: only native balances can be compared (token contracts are not in the CSV)."""


def compare_balance(row: AddressRow, source: BalanceSource | None) -> Check | None:
    """The row's stated amount against the balance at its stated height."""
    name = f"line {row.line}: {row.coin} balance at height {row.height}"
    if row.amount is None or row.height is None:
        return None
    if source is None:
        return Check(2, "stated-balance", name, Status.SKIPPED, f"no source given for {row.network}")
    if row.coin.split("-")[0] != NATIVE.get(row.network) or "(" in row.coin:
        return Check(
            2,
            "stated-balance",
            name,
            Status.SKIPPED,
            f"{row.coin} is not {row.network}'s native coin: no token contract in the file",
        )
    decimals = 18 if row.network in EVM_NETWORKS else 8
    try:
        stated = parse_amount(row.amount, decimals, where=f"line {row.line} amount")
    except InputError as exc:
        return Check(2, "stated-balance", name, Status.FAIL, f"the stated amount is not a plain decimal: {exc.message}")
    found = source.balance(BalanceQuery(row.address))
    detail = "block hash not checked: the file gives only a height"
    if found == stated:
        return Check(2, "stated-balance", name, Status.PASS, f"{format_amount(found, decimals)} ({detail})")
    return Check(
        2,
        "stated-balance",
        name,
        Status.FAIL,
        f"the stated amount differs from the chain ({detail})",
        format_amount(stated, decimals),
        format_amount(found, decimals),
    )


def verify_file(path: Path, rpc: dict[str, str], esplora: dict[str, str]) -> AddressReport:
    report = AddressReport(str(path))
    for row in read_rows(path):
        source: BalanceSource | None = None
        if row.height is not None and row.network in rpc:
            chain = EvmChain(row.network.lower(), 1, "ETH", row.height, bytes(32))
            source = EvmSource.connect(chain, rpc[row.network])
        elif row.height is not None and row.network in esplora and row.network == "BTC":
            source = EsploraSource.connect(
                BitcoinChain(row.network.lower(), "mainnet", "BTC", row.height, bytes(32)),
                esplora[row.network],
                pinned_hash_known=False,
            )
        report.results.append(RowResult(row, verify_row(row), compare_balance(row, source)))
    return report
