"""Address spellings: one canonical form per address (ATTACKS.md #11).

EVM addresses become EIP-55 checksummed; an address written in mixed case must already
carry a valid checksum (a mixed-case typo is an error, not a silent fix). Bitcoin
addresses are validated for their network; bech32 ones become lower case. Encodings are
the libraries' (eth-utils, embit); this module only composes them. They are imported
on first use: reading a snapshot must not cost a user's `verify` their start-up time.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reserves.errors import InputError

if TYPE_CHECKING:
    from embit.script import Script

BITCOIN_NETWORKS = {"mainnet": "main", "testnet": "test", "signet": "signet", "regtest": "regtest"}
_EVM_HEX = re.compile(r"0x[0-9a-fA-F]{40}")


def canonical_evm_address(text: str, *, where: str) -> str:
    from eth_utils.address import is_checksum_address, to_checksum_address

    if not _EVM_HEX.fullmatch(text):
        raise InputError(f"EVM address {text!r} is not 0x and 40 hex digits", where=where)
    digits = text[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text):
        raise InputError(f"EVM address {text!r} has an invalid EIP-55 checksum", where=where)
    return str(to_checksum_address(text))


def bitcoin_script(text: str, network: str, *, where: str) -> Script:
    """The output script an address pays to, after checking it belongs to ``network``."""
    from embit import networks
    from embit.base58 import decode_check
    from embit.script import address_to_scriptpubkey

    params = networks.NETWORKS[BITCOIN_NETWORKS[network]]
    canonical = canonical_bitcoin_address(text, network, where=where)
    try:
        script = address_to_scriptpubkey(canonical)
    except Exception:  # noqa: BLE001 - embit raises several types for a bad address
        raise InputError(f"{text!r} is not a valid Bitcoin address", where=where) from None
    if canonical.startswith(params["bech32"] + "1"):
        return script
    try:
        version = decode_check(canonical)[:1]
    except Exception:  # noqa: BLE001
        raise InputError(f"{text!r} is not a valid Bitcoin address", where=where) from None
    if version not in (params["p2pkh"], params["p2sh"]):
        raise InputError(f"{text!r} is not an address of Bitcoin {network}", where=where)
    return script


def canonical_bitcoin_address(text: str, network: str, *, where: str) -> str:
    from embit import networks

    params = networks.NETWORKS[BITCOIN_NETWORKS[network]]
    lowered = text.lower()
    if lowered.startswith(params["bech32"] + "1"):
        if text not in (lowered, text.upper()):
            raise InputError(f"bech32 address {text!r} mixes upper and lower case", where=where)
        return lowered
    if any(lowered.startswith(p["bech32"] + "1") for p in networks.NETWORKS.values()):
        raise InputError(f"{text!r} is not an address of Bitcoin {network}", where=where)
    return text
