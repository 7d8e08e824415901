"""Custody resilience (ATTACKS.md #15): which reserves freeze when keyholders vanish."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from reserves.control.custody import CustodyWallet, analyse
from reserves.control.ownership import SigningPolicy
from reserves.errors import InputError
from reserves.onchain.reserve_sections import Keyholder, Wallet


def wallet(label: str, kind: str, threshold: int, keys: tuple[str, ...], btc: int) -> CustodyWallet:
    w = Wallet("bitcoin", label, label, kind, label, ("BTC",))
    return CustodyWallet(w, SigningPolicy(threshold, keys), {"BTC": btc})


def exposure(report, k: int):  # type: ignore[no-untyped-def]
    return next(e for e in report.exposures if e.k == k and e.asset == "BTC")


def test_frozen_reserves_2_of_2_freezes_if_either_keyholder_vanishes() -> None:
    report = analyse(
        [wallet("vault", "cold", 2, ("k1", "k2"), 90), wallet("hot", "hot", 1, ("k3",), 10)],
        [Keyholder("alice", ("k1",)), Keyholder("bob", ("k2",)), Keyholder("ops", ("k3",))],
        ["BTC"],
    )
    one = exposure(report, 1)
    assert (one.frozen, one.total, one.share) == (90, 100, "90.00%")
    assert one.sets == (("alice",), ("bob",))
    assert exposure(report, 2).frozen == 100


def test_frozen_reserves_one_person_two_keys_of_2_of_3() -> None:
    """Two of the three keys with one person: that person alone freezes (and moves) the vault."""
    report = analyse(
        [wallet("vault", "cold", 2, ("k1", "k2", "k3"), 50)],
        [Keyholder("alice", ("k1", "k2")), Keyholder("bob", ("k3",))],
        ["BTC"],
    )
    assert exposure(report, 1).sets == (("alice",),)
    assert exposure(report, 1).share == "100.00%"
    assert [(f.kind, f.detail) for f in report.flags] == [
        ("threshold held alone", "alice holds 2 keys of vault's 2-of-3: enough to move it alone")
    ]


def test_well_spread_2_of_3_survives_any_one_keyholder() -> None:
    report = analyse(
        [wallet("vault", "cold", 2, ("k1", "k2", "k3"), 50)],
        [Keyholder("a", ("k1",)), Keyholder("b", ("k2",)), Keyholder("c", ("k3",))],
        ["BTC"],
    )
    assert exposure(report, 1).frozen == 0
    assert exposure(report, 2).sets == (("a", "b"), ("a", "c"), ("b", "c"))
    assert exposure(report, 3).sets == ()  # three keyholders freeze no more than two do
    assert report.flags == []


def test_frozen_reserves_single_key_cold_wallet_is_flagged() -> None:
    report = analyse([wallet("cold-1", "cold", 1, ("k1",), 7)], [], ["BTC"])
    assert [(f.kind, f.detail) for f in report.flags] == [
        ("single-key cold wallet", "cold-1 (cold-1) is moved by one key")
    ]
    assert exposure(report, 1).sets == (("key of cold-1",),)


def test_key_shared_by_many_wallets_is_flagged() -> None:
    wallets = [wallet(f"w{i}", "hot", 1, ("shared",), 1) for i in range(3)]
    report = analyse(wallets, [Keyholder("ops", ("shared",))], ["BTC"])
    assert [f.kind for f in report.flags] == ["shared key"]
    assert report.flags[0].detail == "key shared (ops) signs for 3 wallets: w0, w1, w2"
    assert exposure(report, 1).share == "100.00%"


def test_chosen_unreachable_keyholders() -> None:
    report = analyse(
        [wallet("vault", "cold", 2, ("k1", "k2", "k3"), 60), wallet("hot", "hot", 1, ("k4",), 40)],
        [Keyholder("a", ("k1",)), Keyholder("b", ("k2",)), Keyholder("c", ("k3", "k4"))],
        ["BTC"],
        unreachable=("c",),
    )
    assert report.frozen_wallets == ("hot",)
    assert report.frozen_now == {"BTC": 40}


def test_unknown_unreachable_keyholder_is_an_input_error() -> None:
    with pytest.raises(InputError, match=re.escape("no keyholder is named 'zed' (keyholders: a)")):
        analyse([wallet("w", "hot", 1, ("k1",), 1)], [Keyholder("a", ("k1",))], ["BTC"], unreachable=("zed",))


def test_evm_keyholder_keys_match_whatever_their_case() -> None:
    owner = "0x52908400098527886E0F7030069857D2E4169EE7"
    report = analyse([wallet("safe", "cold", 1, (owner,), 5)], [Keyholder("alice", (owner.lower(),))], ["BTC"])
    assert report.keyholders == ("alice",)


def test_search_memory_follows_held_assets_not_every_asset() -> None:
    """Reliability finding D7: every keyholder set kept a dict over every asset of the
    snapshot (16 MB per asset with 145 single-key wallets). 40 single-key wallets in a
    snapshot of 500 assets: 9,880 sets of three, which took about 350 MB that way."""

    wallets = [wallet(f"w{i}", "hot", 1, (f"k{i}",), i + 1) for i in range(40)]
    assets = ["BTC", *(f"A{i}" for i in range(499))]
    tracemalloc.start()
    try:
        report = analyse(wallets, [], assets, ks=(1, 2, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    three = exposure(report, 3)
    assert (three.frozen, three.sets) == (40 + 39 + 38, (("key of w37", "key of w38", "key of w39"),))
    assert peak < 40 * 1024 * 1024, peak
