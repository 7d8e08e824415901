"""The ``reserves`` command: the only package that talks to people.

It parses options, calls the library, and turns results and errors into output and exit
codes (``output.EXIT_CODES_HELP``): 0 passed, 1 a check failed, 2 bad usage, malformed
input or an unreadable local file, 3 a network source unreadable or INCOMPLETE, 4 a bug,
130 interrupted.

    app.py              the Typer application and its global options
    output.py           consoles, exit codes, progress bars, shared printers and options
    exchange.py         what the exchange runs: publish, proof, messages, sign
    user.py             what a user runs: verify
    auditor.py          what the auditor runs: audit, custody
    other_exchanges.py  other exchanges' files: okx-addresses

A user's ``reserves verify`` must start in well under 0.3 s: modules that pull in web3,
eth-account, coincurve, numpy or jinja2 are imported inside the commands that use them.
"""

# isort: off
# Registers the commands; the help shows their panels in this order.
from reserves.cli import exchange, user, auditor, other_exchanges

# isort: on
from reserves.cli.app import app
from reserves.cli.auditor import print_audit, print_custody
from reserves.cli.exchange import print_statement
from reserves.cli.user import print_format_verification, print_verification

__all__ = [
    "app",
    "auditor",
    "exchange",
    "main",
    "other_exchanges",
    "print_audit",
    "print_custody",
    "print_format_verification",
    "print_statement",
    "print_verification",
    "user",
]


def main() -> None:
    app()
