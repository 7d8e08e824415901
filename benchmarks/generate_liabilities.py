"""Deterministic synthetic ``liabilities.csv`` of any size (FORMAT §6.6).

    python benchmarks/generate_liabilities.py --accounts 3000 --seed 7 --special \
        --assets BTC=8,ETH=18,USDT=6 --max-digits BTC=2 --out fixtures/demo/liabilities.csv

Ids are ``user-NNNNNN@example.com``; a few special ids (Unicode, a comma, a quote) can
be mixed in with ``--special``. Balances are integers in the smallest unit drawn from a
skewed distribution with many zeros, written in the shortest whole-unit form. The same
arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from reserves.encoding import format_amount

SPECIAL_IDS = ["café-ü@example.com", "张伟", "doe, jane", 'quote "q" user', "Ωmega@example.com"]


def balances(rng: random.Random, decimals: int, max_digits: int = 4) -> int:
    roll = rng.random()
    if roll < 0.35:
        return 0
    whole_digits = min(rng.choice((0, 0, 1, 1, 2, 3, 4)), max_digits)
    whole = rng.randrange(10**whole_digits)
    return whole * 10**decimals + rng.randrange(10**decimals)


def write(
    path: Path | None,
    accounts: int,
    assets: list[tuple[str, int]],
    seed: int,
    special: bool,
    max_digits: dict[str, int] | None = None,
) -> None:
    limits = max_digits or {}
    rng = random.Random(seed)
    handle = sys.stdout if path is None else path.open("w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["account", *(symbol for symbol, _ in assets)])
        ids = [f"user-{n:06d}@example.com" for n in range(accounts)]
        if special:
            ids[1 : 1 + len(SPECIAL_IDS)] = SPECIAL_IDS
        for account_id in ids:
            amounts = (format_amount(balances(rng, d, limits.get(s, 4)), d) for s, d in assets)
            writer.writerow([account_id, *amounts])
    finally:
        if path is not None:
            handle.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--assets", default="BTC=8,ETH=18,USDT=6", help="SYMBOL=DECIMALS,…")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--special", action="store_true", help="mix in Unicode, comma and quote ids")
    parser.add_argument("--max-digits", default="", help="SYMBOL=N,…: at most N whole digits (default 4)")
    parser.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args()
    assets = [(item.split("=")[0], int(item.split("=")[1])) for item in args.assets.split(",")]
    limits = {item.split("=")[0]: int(item.split("=")[1]) for item in args.max_digits.split(",") if item}
    write(args.out, args.accounts, assets, args.seed, args.special, limits)


if __name__ == "__main__":
    main()
