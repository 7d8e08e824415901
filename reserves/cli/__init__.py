"""The ``reserves`` command: the only package that talks to people.

It parses options, calls the library, and turns results and errors into output and exit
codes: 0 every check passed, 1 a check failed, 2 bad usage or malformed input, 3 a data
source could not be read, 4 an internal error (a bug: please report it).

    app.py          the Typer application
    output.py       consoles, exit codes, progress bars, shared printers and options
    liabilities.py  publish, proof, verify
    audit.py        audit, custody, messages, sign
    okx.py          okx-addresses

A user's ``reserves verify`` must start in well under 0.3 s: modules that pull in web3,
eth-account, coincurve, numpy or jinja2 are imported inside the commands that use them.
"""

from reserves.cli import audit, liabilities, okx  # registers the commands
from reserves.cli.app import app
from reserves.cli.audit import print_audit, print_custody
from reserves.cli.liabilities import print_statement, print_verification

__all__ = [
    "app",
    "audit",
    "liabilities",
    "main",
    "okx",
    "print_audit",
    "print_custody",
    "print_statement",
    "print_verification",
]


def main() -> None:
    app()
