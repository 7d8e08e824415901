"""``okx-addresses``: OKX's address-ownership files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserves.checks import Outcome, Status, Verdict, verdict_of
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
from reserves.report.documents import address_document

if TYPE_CHECKING:
    from reserves.formats.okx_addresses import AddressReport


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
        signed = "every row of a supported network is signed by its address (a constant message: replayable)"
        verdict = verdict_of(report.checks, strict=strict, missing=None, passed_reason=signed)
        if as_json:
            print_json(address_document(report, verdict))
        else:
            print_address_report(report, verdict)
        raise typer.Exit(verdict.exit_code)


def print_address_report(report: AddressReport, verdict: Verdict) -> None:
    print_checks(report.checks)
    counts, amounts = report.ownership_counts(), report.amount_counts()
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    say(f"{len(report.results)} address rows: {summary}")
    if any(amounts.values()):
        say(f"stated amounts at their heights: {', '.join(f'{n} {s.value}' for s, n in amounts.items() if n)}")
    if counts[Status.WARN]:
        say("WARN: the signed message is a constant: a valid signature can be replayed later.")
    if verdict.outcome is Outcome.FAIL or not verdict.warnings:
        say_outcome(verdict)  # a replayable signature is never shown as a full pass
