"""``okx-addresses``: OKX's address-ownership files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_FAILED,
    errors_to_exit_codes,
    print_checks,
    print_json,
    stdout,
)
from reserves.results import Status, passed
from reserves.sources import parse_endpoints


@app.command("okx-addresses")
def okx_addresses_command(
    csv_file: Annotated[Path, typer.Argument(help="OKX's address-ownership CSV (either published layout).")],
    rpc: Annotated[list[str] | None, typer.Option(help="NETWORK=URL of an archive node, e.g. ETH=http://...")] = None,
    esplora: Annotated[
        list[str] | None, typer.Option(help="NETWORK=URL of an Esplora API, e.g. BTC=http://...")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings and skipped rows too.")] = False,
) -> None:
    """Check each row's address-ownership signature in OKX's CSV (and, with --rpc/--esplora,
    its stated amount at its stated height)."""
    with errors_to_exit_codes():
        from reserves.formats.okx_addresses import verify_file as verify_okx_addresses

        report = verify_okx_addresses(
            csv_file, parse_endpoints(rpc or [], "--rpc"), parse_endpoints(esplora or [], "--esplora")
        )
        counts = {s: sum(1 for r in report.results if r.check.status is s) for s in Status}
        compared = [r.balance for r in report.results if r.balance is not None]
        amounts = {s: sum(1 for c in compared if c.status is s) for s in Status}
        if as_json:
            print_json({
                "file": report.source,
                "rows": [
                    {"line": r.row.line, "coin": r.row.coin, "network": r.row.network, "address": r.row.address,
                     "ownership": r.check.to_json(), "balance": r.balance.to_json() if r.balance else None}
                    for r in report.results
                ],
                "counts": {s.value: n for s, n in counts.items()},
                "amount_counts": {s.value: n for s, n in amounts.items()},
            })  # fmt: skip
        else:
            print_checks(report.checks)
            summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
            stdout.print(f"{len(report.results)} address rows: {summary}", markup=False)
            if compared:
                compared_summary = ", ".join(f"{n} {s.value}" for s, n in amounts.items() if n)
                stdout.print(f"stated amounts at their heights: {compared_summary}", markup=False)
            if counts[Status.WARN]:
                stdout.print("WARN: the signed message is a constant: a valid signature can be replayed later.")
        if not passed(report.checks, strict=strict):
            raise typer.Exit(EXIT_FAILED)
