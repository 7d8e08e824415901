"""``okx-addresses``: OKX's address-ownership files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reserves.checks import Outcome, Status, verdict_of
from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_CODES_HELP,
    JsonOption,
    errors_to_exit_codes,
    print_checks,
    print_json,
    register_secret_urls,
    say,
    say_outcome,
    usage_parser,
)
from reserves.onchain.sources import Endpoint, endpoints_by_name, parse_endpoint
from reserves.report.documents import envelope


@app.command("okx-addresses", epilog=EXIT_CODES_HELP, rich_help_panel="Other exchanges")
def okx_addresses_command(
    csv_file: Annotated[Path, typer.Argument(help="OKX's address-ownership CSV (either published layout).")],
    rpc: Annotated[
        list[Endpoint] | None,
        typer.Option(
            parser=usage_parser(parse_endpoint), metavar="NETWORK=URL", help="An archive node, e.g. ETH=http://..."
        ),
    ] = None,
    esplora: Annotated[
        list[Endpoint] | None,
        typer.Option(
            parser=usage_parser(parse_endpoint), metavar="NETWORK=URL", help="An Esplora API, e.g. BTC=http://..."
        ),
    ] = None,
    as_json: JsonOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings and skipped rows too.")] = False,
) -> None:
    """Check OKX's address-ownership CSV: each row's signature.

    With --rpc/--esplora, also each row's stated amount at its stated height.

    Example: reserves okx-addresses okx_por_example.csv --rpc ETH=http://127.0.0.1:8545"""
    with errors_to_exit_codes(as_json=as_json):
        from reserves.formats.okx_addresses import verify_file as verify_okx_addresses

        rpc_urls = endpoints_by_name(rpc or [], where="--rpc")
        esplora_urls = endpoints_by_name(esplora or [], where="--esplora")
        register_secret_urls([*rpc_urls.values(), *esplora_urls.values()])
        report = verify_okx_addresses(csv_file, rpc_urls, esplora_urls)
        counts = {s: sum(1 for r in report.results if r.check.status is s) for s in Status}
        compared = [r.balance for r in report.results if r.balance is not None]
        amounts = {s: sum(1 for c in compared if c.status is s) for s in Status}
        signed = "every row of a supported network is signed by its address (a constant message: replayable)"
        verdict = verdict_of(report.checks, strict=strict, missing=None, passed_reason=signed)
        if as_json:
            print_json(
                envelope(
                    "okx-addresses",
                    verdict,
                    report.checks,
                    **{
                        "file": report.source,
                        "rows": [
                            {
                                "line": r.row.line,
                                "coin": r.row.coin,
                                "network": r.row.network,
                                "address": r.row.address,
                                "ownership": r.check.to_json(),
                                "balance": r.balance.to_json() if r.balance else None,
                            }
                            for r in report.results
                        ],
                        "counts": {s.value: n for s, n in counts.items()},
                        "amount_counts": {s.value: n for s, n in amounts.items()},
                    },
                )
            )
        else:
            print_checks(report.checks)
            summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
            say(f"{len(report.results)} address rows: {summary}")
            if compared:
                compared_summary = ", ".join(f"{n} {s.value}" for s, n in amounts.items() if n)
                say(f"stated amounts at their heights: {compared_summary}")
            if counts[Status.WARN]:
                say("WARN: the signed message is a constant: a valid signature can be replayed later.")
            if verdict.outcome is Outcome.FAIL or not verdict.warnings:
                say_outcome(verdict)  # a replayable signature is never shown as a full pass
        raise typer.Exit(verdict.exit_code)
