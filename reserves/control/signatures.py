"""Signature formats of ownership proofs (FORMAT §6.4), composed from libraries:
eth-account for EIP-191 ``personal_sign``, coincurve (libsecp256k1) for Bitcoin's
recoverable signatures, embit for scripts and addresses. Nothing here decides whether a
wallet is owned; it only says who signed what.

Bitcoin signed messages follow BIP-137: 65 bytes, base64, a header byte and ``r || s``.
The header says how to turn the recovered key into an address:

    27-30  P2PKH, uncompressed key      35-38  P2SH-P2WPKH, compressed key
    31-34  compressed key (P2PKH, and   39-42  P2WPKH, compressed key
           any single-key type in wallets that sign segwit addresses this way)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from embit import networks
from embit.ec import PublicKey as EmbitPublicKey
from embit.script import Script, p2pkh, p2sh, p2wpkh, p2wsh
from eth_account import Account
from eth_account.messages import encode_defunct

from reserves.onchain.addresses import BITCOIN_NETWORKS

_EVM_SIGNATURE = re.compile(r"0x[0-9a-f]{130}")
OP_CHECKMULTISIG = 0xAE


class SignatureFormatError(ValueError):
    """A signature that is not in its format's one accepted spelling."""


# -- EVM ---------------------------------------------------------------------------------


def evm_signer(message: str | bytes, signature: str) -> str:
    """The EIP-55 address whose key made this EIP-191 ``personal_sign`` signature of a text
    message (its UTF-8 bytes) or of raw bytes (as OKX signs a Keccak-256 digest)."""
    if not _EVM_SIGNATURE.fullmatch(signature):
        raise SignatureFormatError("an EVM signature is 0x and 130 lowercase hex digits (r || s || v)")
    signed = encode_defunct(text=message) if isinstance(message, str) else encode_defunct(primitive=message)
    try:
        return str(Account.recover_message(signed, signature=bytes.fromhex(signature[2:])))
    except Exception as exc:  # noqa: BLE001 - eth-account raises several types for a bad signature
        raise SignatureFormatError(f"not a valid secp256k1 signature: {exc}") from None


def evm_sign(message: str, private_key: bytes) -> str:
    signed = Account.sign_message(encode_defunct(text=message), private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def evm_address(private_key: bytes) -> str:
    return str(Account.from_key(private_key).address)


# -- Bitcoin -----------------------------------------------------------------------------


def bitcoin_message_hash(message: str, magic: bytes = b"Bitcoin Signed Message:\n") -> bytes:
    """Double SHA-256 of the length-prefixed magic and message (Dogecoin and others differ
    only in ``magic``)."""
    raw = message.encode("utf-8")
    prefixed = _varint(len(magic)) + magic + _varint(len(raw)) + raw
    return hashlib.sha256(hashlib.sha256(prefixed).digest()).digest()


def _varint(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


@dataclass(frozen=True)
class BitcoinSigner:
    """What a BIP-137 signature recovers to."""

    public_key: bytes
    """SEC-encoded: 33 bytes compressed, or 65 uncompressed."""
    kind: str
    """``p2pkh``, ``p2sh-p2wpkh``, ``p2wpkh`` or ``any`` (header 31-34: any single-key type)."""

    def addresses(self, network: str) -> set[str]:
        """The single-key addresses this key may prove, as the header allows."""
        params = networks.NETWORKS[BITCOIN_NETWORKS[network]]
        key = EmbitPublicKey.parse(self.public_key)
        scripts = {"p2pkh": p2pkh(key)}
        if key.compressed:
            scripts["p2wpkh"] = p2wpkh(key)
            scripts["p2sh-p2wpkh"] = p2sh(p2wpkh(key))
        kinds = scripts if self.kind == "any" else {self.kind: scripts[self.kind]} if self.kind in scripts else {}
        return {str(s.address(params)) for s in kinds.values()}


def bitcoin_signer(message: str, signature: str) -> BitcoinSigner:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError("a Bitcoin signature is base64") from None
    if len(raw) != 65 or base64.b64encode(raw).decode() != signature:
        raise SignatureFormatError("a Bitcoin signature is 65 bytes in canonical base64")
    header = raw[0]
    if not 27 <= header <= 42:
        raise SignatureFormatError(f"BIP-137 header byte must be 27 to 42, found {header}")
    key = recover_public_key(raw, bitcoin_message_hash(message))
    compressed = header >= 31
    kind = {0: "p2pkh", 1: "any", 2: "p2sh-p2wpkh", 3: "p2wpkh"}[(header - 27) // 4]
    return BitcoinSigner(key.format(compressed=compressed), kind)


def recover_public_key(signature: bytes, digest: bytes) -> PublicKey:
    """The key behind a 65-byte ``header || r || s`` signature (BIP-137 header 27 to 42)."""
    try:
        return PublicKey.from_signature_and_message(
            signature[1:] + bytes([(signature[0] - 27) & 3]), digest, hasher=None
        )
    except Exception as exc:  # noqa: BLE001 - coincurve raises for an unrecoverable signature
        raise SignatureFormatError(f"no public key recovers from this signature: {exc}") from None


def bitcoin_sign(message: str, private_key: bytes, kind: str = "p2wpkh") -> str:
    """A BIP-137 signature by ``private_key`` (compressed) for an address of ``kind``."""
    recoverable = PrivateKey(private_key).sign_recoverable(bitcoin_message_hash(message), hasher=None)
    offset = {"p2pkh": 4, "any": 4, "p2sh-p2wpkh": 8, "p2wpkh": 12}[kind]
    header = 27 + offset + recoverable[64]
    return base64.b64encode(bytes([header]) + recoverable[:64]).decode()


def bitcoin_public_key(private_key: bytes) -> bytes:
    return bytes(PrivateKey(private_key).public_key.format(compressed=True))


# -- Bitcoin multisig scripts --------------------------------------------------------------


@dataclass(frozen=True)
class Multisig:
    threshold: int
    public_keys: tuple[bytes, ...]


def parse_multisig(script: bytes) -> Multisig | None:
    """``OP_m <key>… OP_n OP_CHECKMULTISIG``, or ``None`` for any other script."""
    if len(script) < 3 or script[-1] != OP_CHECKMULTISIG:
        return None
    m, n = script[0] - 0x50, script[-2] - 0x50
    if not (1 <= m <= 16 and 1 <= n <= 16 and m <= n):
        return None
    keys, position = [], 1
    while position < len(script) - 2:
        size = script[position]
        if size not in (33, 65):
            return None
        keys.append(script[position + 1 : position + 1 + size])
        position += 1 + size
    if position != len(script) - 2 or len(keys) != n:
        return None
    return Multisig(m, tuple(keys))


def script_matches_address(script: bytes, address: str, network: str) -> bool:
    """P2WSH, P2SH, or P2SH-wrapped P2WSH of ``script`` is ``address``."""
    params = networks.NETWORKS[BITCOIN_NETWORKS[network]]
    witness_script = Script(script)
    candidates = (p2wsh(witness_script), p2sh(witness_script), p2sh(p2wsh(witness_script)))
    return any(str(c.address(params)) == address for c in candidates)
