"""Proof of control (FORMAT §6.4; ATTACKS.md #11, #13) with real keys and signatures:
EIP-191 for EVM accounts and Safe owners, BIP-137 for Bitcoin single keys and multisig."""

from __future__ import annotations

import base64

import pytest
from embit import networks
from embit.script import multisig, p2sh, p2wpkh, p2wsh

from reserves.checks import Status
from reserves.control.ownership import canonical_message, verify_ownership
from reserves.control.signatures import bitcoin_public_key, bitcoin_sign, evm_address, evm_sign
from reserves.onchain.reserve_sections import BitcoinChain, EvmChain, Ownership, Wallet
from reserves.onchain.sources import ContractSigners
from reserves.testing.regtest import key, multisig_p2wsh, p2pkh_address, p2wpkh_address

EVM = EvmChain("ethereum", 1, "ETH", 100, b"\x01" * 32)
BTC = BitcoinChain("bitcoin", "regtest", "BTC", 100, b"\x02" * 32)
ROOT = bytes.fromhex("ab" * 32)
ALICE, BOB, CAROL = b"\xa1" * 32, b"\xb0" * 32, b"\xc0" * 32
REGTEST = networks.NETWORKS["regtest"]


def message(chain: str, address: str) -> str:
    return canonical_message("Example Exchange", "2026-11-21", ROOT, chain, address)


def evm_wallet(address: str, signatures: tuple[str, ...], text: str | None = None) -> Wallet:
    signed = text if text is not None else message("ethereum", address)
    return Wallet("ethereum", address, address, "cold", "w", ("ETH",), ownership=Ownership(signed, signatures))


def btc_wallet(
    address: str, signatures: tuple[str, ...], script: bytes | None = None, text: str | None = None
) -> Wallet:
    signed = text if text is not None else message("bitcoin", address)
    return Wallet("bitcoin", address, address, "cold", "v", ("BTC",), None, script, Ownership(signed, signatures))


def test_canonical_message_is_exact() -> None:
    assert message("ethereum", "0xAbC") == (
        "reserves ownership proof\nexchange: Example Exchange\nsnapshot: 2026-11-21\n"
        f"root: {'ab' * 32}\nchain: ethereum\naddress: 0xAbC"
    )


# -- EVM accounts ---------------------------------------------------------------------------


def test_evm_account_signed_over_canonical_message_passes() -> None:
    address = evm_address(ALICE)
    result = verify_ownership(
        evm_wallet(address, (evm_sign(message("ethereum", address), ALICE),)), EVM, message("ethereum", address)
    )
    assert (result.status, result.detail, result.signed_by) == (Status.PASS, "1 of 1 signers, threshold 1", (address,))


def test_replayed_static_message_is_warn_not_pass() -> None:
    """ATTACKS.md #13: a valid signature over 'I am an X address' proves control once."""
    address = evm_address(ALICE)
    static = "I am an OKX address"
    result = verify_ownership(
        evm_wallet(address, (evm_sign(static, ALICE),), static), EVM, message("ethereum", address)
    )
    assert result.status is Status.WARN
    assert result.detail.startswith("valid, but replayable")


def test_signature_for_another_snapshot_is_replayable() -> None:
    address = evm_address(ALICE)
    old = canonical_message("Example Exchange", "2026-11-14", ROOT, "ethereum", address)
    result = verify_ownership(evm_wallet(address, (evm_sign(old, ALICE),), old), EVM, message("ethereum", address))
    assert result.status is Status.WARN


def test_uncontrolled_address_signed_by_another_key_fails() -> None:
    """ATTACKS.md #11: the exchange lists someone else's address and signs with its own key."""
    address = evm_address(ALICE)
    result = verify_ownership(
        evm_wallet(address, (evm_sign(message("ethereum", address), BOB),)), EVM, message("ethereum", address)
    )
    assert (result.status, result.detail) == (Status.FAIL, "0 of the 1 required signers signed (1 signatures given)")


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda s: s.upper().replace("0X", "0x"), id="uppercase-hex"),
        pytest.param(lambda s: s[2:], id="no-0x"),
        pytest.param(lambda s: s[:-2], id="short"),
        pytest.param(lambda s: s[:4] + ("0" if s[4] != "0" else "1") + s[5:], id="flipped-r"),
    ],
)
def test_malformed_or_altered_evm_signature_fails(signature: object) -> None:
    address = evm_address(ALICE)
    good = evm_sign(message("ethereum", address), ALICE)
    bad = signature(good)  # type: ignore[operator]
    result = verify_ownership(evm_wallet(address, (bad,)), EVM, message("ethereum", address))
    assert result.status is Status.FAIL


def test_missing_ownership_fails() -> None:
    address = evm_address(ALICE)
    wallet = Wallet("ethereum", address, address, "cold", "w", ("ETH",))
    assert verify_ownership(wallet, EVM, message("ethereum", address)).detail == "no ownership proof"


# -- EVM contract wallets (Safe) ----------------------------------------------------------------

SAFE = "0x0d5c3922890962b9F832F9742B1ac1aadEd35116"
OWNERS = ContractSigners((evm_address(ALICE), evm_address(BOB), evm_address(CAROL)), 2)


def test_safe_needs_threshold_of_distinct_owners() -> None:
    text = message("ethereum", SAFE)
    two = verify_ownership(evm_wallet(SAFE, (evm_sign(text, ALICE), evm_sign(text, CAROL))), EVM, text, OWNERS)
    assert (two.status, two.detail) == (Status.PASS, "2 of 3 signers, threshold 2")
    one_twice = verify_ownership(evm_wallet(SAFE, (evm_sign(text, ALICE), evm_sign(text, ALICE))), EVM, text, OWNERS)
    assert (one_twice.status, one_twice.detail) == (
        Status.FAIL,
        "1 of the 2 required signers signed (2 signatures given)",
    )
    outsider = verify_ownership(
        evm_wallet(SAFE, (evm_sign(text, ALICE), evm_sign(text, b"\xdd" * 32))), EVM, text, OWNERS
    )
    assert outsider.status is Status.FAIL


def test_contract_that_is_not_a_safe_fails() -> None:
    text = message("ethereum", SAFE)
    result = verify_ownership(
        evm_wallet(SAFE, (evm_sign(text, ALICE),)), EVM, text, ContractSigners((), 0, "not a Safe")
    )
    assert (result.status, result.detail) == (Status.FAIL, "not a Safe")


# -- Bitcoin single keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address_of", "header_kind"),
    [
        pytest.param(p2wpkh_address, "p2wpkh", id="p2wpkh-header-39"),
        pytest.param(p2wpkh_address, "any", id="p2wpkh-header-31"),
        pytest.param(p2pkh_address, "p2pkh", id="p2pkh-header-31"),
        pytest.param(
            lambda k: str(p2sh(p2wpkh(k.get_public_key())).address(REGTEST)), "p2sh-p2wpkh", id="p2sh-p2wpkh-header-35"
        ),
    ],
)
def test_bitcoin_single_key_signed_message(address_of: object, header_kind: str) -> None:
    private = key(5)
    address = address_of(private)  # type: ignore[operator]
    text = message("bitcoin", address)
    result = verify_ownership(btc_wallet(address, (bitcoin_sign(text, private.secret, header_kind),)), BTC, text)
    assert result.status is Status.PASS, result.detail
    assert result.signed_by == (bitcoin_public_key(private.secret).hex(),)


def test_bitcoin_header_must_match_the_address_type() -> None:
    private = key(5)
    address = p2wpkh_address(private)
    text = message("bitcoin", address)
    result = verify_ownership(btc_wallet(address, (bitcoin_sign(text, private.secret, "p2sh-p2wpkh"),)), BTC, text)
    assert result.status is Status.FAIL


def test_bitcoin_signature_by_another_key_fails() -> None:
    address = p2wpkh_address(key(5))
    text = message("bitcoin", address)
    assert verify_ownership(btc_wallet(address, (bitcoin_sign(text, key(6).secret),)), BTC, text).status is Status.FAIL


def test_non_canonical_base64_fails() -> None:
    private = key(5)
    address = p2wpkh_address(private)
    text = message("bitcoin", address)
    good = bitcoin_sign(text, private.secret)
    unpadded = base64.b64encode(base64.b64decode(good)).decode().rstrip("=")
    assert verify_ownership(btc_wallet(address, (unpadded,)), BTC, text).status is Status.FAIL


# -- Bitcoin multisig -------------------------------------------------------------------------------

VAULT, SCRIPT = multisig_p2wsh(2, [key(10), key(11), key(12)])


def test_multisig_needs_threshold_of_distinct_script_keys() -> None:
    text = message("bitcoin", VAULT)
    two = (bitcoin_sign(text, key(10).secret, "any"), bitcoin_sign(text, key(12).secret, "any"))
    assert verify_ownership(btc_wallet(VAULT, two, SCRIPT.data), BTC, text).status is Status.PASS
    same = (two[0], two[0])
    result = verify_ownership(btc_wallet(VAULT, same, SCRIPT.data), BTC, text)
    assert (result.status, result.detail) == (Status.FAIL, "1 of the 2 required signers signed (2 signatures given)")
    stranger = (two[0], bitcoin_sign(text, key(13).secret, "any"))
    assert verify_ownership(btc_wallet(VAULT, stranger, SCRIPT.data), BTC, text).status is Status.FAIL


def test_script_must_hash_to_the_address() -> None:
    other = multisig(2, [key(20).get_public_key(), key(21).get_public_key()])
    text = message("bitcoin", VAULT)
    signatures = (bitcoin_sign(text, key(20).secret, "any"), bitcoin_sign(text, key(21).secret, "any"))
    result = verify_ownership(btc_wallet(VAULT, signatures, other.data), BTC, text)
    assert (result.status, result.detail) == (Status.FAIL, "the script does not hash to the address")


def test_script_that_is_not_multisig_fails() -> None:
    script = p2wpkh(key(20).get_public_key())  # a real script, but no m-of-n
    address = str(p2wsh(script).address(REGTEST))
    result = verify_ownership(btc_wallet(address, (), script.data), BTC, message("bitcoin", address))
    assert (result.status, result.detail) == (Status.FAIL, "the script is not an m-of-n multisig script")


@pytest.mark.parametrize("wrap", [p2sh, lambda s: p2sh(p2wsh(s))], ids=["p2sh", "p2sh-p2wsh"])
def test_p2sh_multisig_forms_are_accepted(wrap: object) -> None:
    script = multisig(2, [key(10).get_public_key(), key(11).get_public_key()])
    address = str(wrap(script).address(REGTEST))  # type: ignore[operator]
    text = message("bitcoin", address)
    signatures = (bitcoin_sign(text, key(10).secret, "any"), bitcoin_sign(text, key(11).secret, "any"))
    assert verify_ownership(btc_wallet(address, signatures, script.data), BTC, text).status is Status.PASS
