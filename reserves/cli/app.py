"""The ``reserves`` Typer application and its global options."""

from __future__ import annotations

from typing import Annotated

import typer

from reserves import __version__
from reserves.cli.output import EXIT_OK, stdout

app = typer.Typer(
    help="Proofs of reserves: publish a liabilities snapshot, verify your own balance in it, audit the whole of it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.")] = False,
) -> None:
    if version:
        stdout.print(f"reserves {__version__}")
        raise typer.Exit(EXIT_OK)
