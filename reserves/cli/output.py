"""What every command shares: the consoles, the mapping from errors to exit codes, the
JSON envelope, progress bars, and printers that never let untrusted text steer the
terminal (control and bidi characters are shown escaped, markup is never parsed) nor
let a secret through (URLs' credentials are scrubbed from everything printed)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from reserves.checks import Check, Outcome, Status, Verdict
from reserves.encoding import format_amount, parse_asset_decimals, parse_set_sizes
from reserves.errors import CannotCheck, InputError, ReservesError, SourceError, VerificationError
from reserves.onchain.sources import Endpoint, parse_endpoint
from reserves.redaction import Redactor
from reserves.report.documents import schema

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_SOURCE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

EXIT_CODES_HELP = (
    "Exit codes: 0 every check passed (or the command did its work); 1 a check failed; "
    "2 bad usage, malformed input or a local file that cannot be read or written; "
    "3 a network source (node, API) could not be read, or the audit is INCOMPLETE; "
    "4 internal error (a bug); 130 interrupted."
)

# Piped output is not cut to 80 columns: addresses and amounts must survive whole.
PIPED_WIDTH = 200

stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

if TYPE_CHECKING:
    from reserves.progress import ProgressCallback


T = TypeVar("T")

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.WARN: "bold yellow", Status.SKIPPED: "dim"}
OUTCOME_STYLE = {
    Outcome.PASS: "bold green",
    Outcome.FAIL: "bold red",
    Outcome.INCOMPLETE: "bold yellow",
    Outcome.NOT_ANCHORED: "bold yellow",
}


@dataclass(frozen=True)
class AssetDecimals:
    """``--decimals``: decimals by asset symbol, in the file's order."""

    by_symbol: dict[str, int]


@dataclass(frozen=True)
class SetSizes:
    """``--set-sizes``: sizes of the keyholder sets the custody search looks at."""

    sizes: tuple[int, ...]


def usage_parser(parse: Callable[[str], T]) -> Callable[[str], T]:
    """A library parser as a click parameter type: its errors render as usage errors (exit 2)."""

    def parameter(text: str) -> T:
        if not isinstance(text, str):
            return text  # a default, already converted
        try:
            return parse(text)
        except InputError as exc:
            raise typer.BadParameter(exc.message) from None

    return parameter


DecimalsOption = Annotated[
    AssetDecimals,
    typer.Option(
        parser=usage_parser(lambda text: AssetDecimals(parse_asset_decimals(text))),
        metavar="SYMBOL=DECIMALS,…",
        help="Decimals of every asset column, e.g. BTC=8,ETH=18,USDT=6.",
    ),
]
RpcOption = Annotated[
    list[Endpoint] | None,
    typer.Option(
        parser=usage_parser(parse_endpoint),
        metavar="NAME=URL",
        help="An archive node for an EVM chain of the snapshot, by the chain's name (repeat for each chain; "
        "or set RESERVES_RPC_<NAME>, to keep API keys out of shell history).",
    ),
]
EsploraOption = Annotated[
    list[Endpoint] | None,
    typer.Option(
        parser=usage_parser(parse_endpoint),
        metavar="NAME=URL",
        help="An Esplora API for a Bitcoin chain of the snapshot (repeat for each; or set RESERVES_ESPLORA_<NAME>).",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        help="Seconds to wait for a source to connect or send more; a whole request may take 4 times this.",
        min=0.1,
        max=600,
    ),
]
MaxTimeOption = Annotated[
    float | None,
    typer.Option(
        "--max-time",
        help="Seconds all requests to the sources may take together; past it the sources not yet read "
        "are unreadable (the audit is INCOMPLETE). Default: no overall limit.",
        min=1,
    ),
]
UnreachableOption = Annotated[
    list[str] | None, typer.Option(help="A keyholder to treat as unreachable (repeat for several).")
]
SetSizesOption = Annotated[
    SetSizes,
    typer.Option(
        parser=usage_parser(lambda text: SetSizes(parse_set_sizes(text))),
        metavar="K,…",
        help="Sizes of the keyholder sets to search for what they freeze, e.g. 1,2,3.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (schema in docs/schemas/).")]


_redactor = Redactor()


def register_secret_urls(urls: Iterable[str]) -> None:
    """Scrub these URLs' credentials (user info, path, query) from everything printed by
    this command (each command registers its endpoints once, replacing any earlier ones)."""
    global _redactor  # noqa: PLW0603 - one command, one set of endpoints
    _redactor = Redactor.for_urls(urls)


def register_secrets(secrets: Iterable[str]) -> None:
    """Scrub these strings (a user's credential) from everything this command prints."""
    global _redactor  # noqa: PLW0603 - one command, one set of secrets
    _redactor = Redactor(tuple(sorted({*_redactor.secrets, *(s for s in secrets if s)}, key=len, reverse=True)))


def scrub(text: str) -> str:
    return _redactor.scrub(text)


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """Untrusted text made inert for a terminal: control and bidi characters escaped."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode(), scrub(str(text)))


def say(text: object = "", *, style: str | None = None, err: bool = False) -> None:
    """Print one line of untrusted text, never read as markup."""
    (stderr if err else stdout).print(Text(safe(text), style=style or ""))


def say_outcome(verdict: Verdict, message: str | None = None) -> None:
    """The closing line: the outcome in colour, then its reason."""
    line = Text(verdict.outcome.headline, style=OUTCOME_STYLE[verdict.outcome])
    line.append(f": {safe(message or verdict.reason)}")
    if verdict.warnings:
        line.append(f" ({verdict.warnings} warning{'s' if verdict.warnings != 1 else ''})")
    stdout.print(line)


def fail(code: int, message: str, *, as_json: bool = False) -> NoReturn:
    if as_json:
        print_json({"schema": schema("error"), "result": "ERROR", "exit_code": code, "error": scrub(message)})
    stderr.print(Text(f"reserves: {safe(message)}"))
    raise typer.Exit(code)


EXTRA_MODULES = frozenset(
    {"numpy", "pyarrow", "web3", "requests", "embit", "eth_account", "eth_utils", "eth_abi", "eth_keys"}
    | {"coincurve", "jinja2"}
)
"""What the extras install (reserves[exchange], reserves[auditor]) and the base install lacks."""


@contextmanager
def errors_to_exit_codes(*, as_json: bool = False) -> Iterator[None]:
    register_secret_urls([])  # a new command: no endpoints yet
    try:
        yield
    except typer.Exit:
        raise
    except InputError as exc:
        fail(EXIT_INPUT, f"invalid input: {exc}", as_json=as_json)
    except VerificationError as exc:
        fail(EXIT_FAILED, f"check failed: {exc}", as_json=as_json)
    except CannotCheck as exc:
        fail(EXIT_SOURCE, f"cannot check: {exc}", as_json=as_json)
    except SourceError as exc:
        fail(EXIT_SOURCE, f"source unavailable: {exc}", as_json=as_json)
    except ReservesError as exc:  # pragma: no cover - every branch above is a subclass
        fail(EXIT_BUG, f"internal error: {exc}", as_json=as_json)
    except KeyboardInterrupt:
        fail(EXIT_INTERRUPTED, "interrupted", as_json=as_json)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in ("dask", "distributed"):
            fail(EXIT_SOURCE, "cannot run: a cluster build needs Dask: pip install 'reserves[dask]'", as_json=as_json)
        if missing not in EXTRA_MODULES:
            bug = f"internal error (ModuleNotFoundError: {exc}). This is a bug; please report it."
            fail(EXIT_BUG, bug, as_json=as_json)
        fail(
            EXIT_SOURCE,
            f"cannot run: this command needs {missing}, which a verify-only install leaves out: "
            "pip install 'reserves[all]' (or reserves[exchange], reserves[auditor])",
            as_json=as_json,
        )
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        fail(
            EXIT_BUG,
            f"internal error ({type(exc).__name__}: {exc}). This is a bug; please report it with the command you ran.",
            as_json=as_json,
        )


def notice(message: str) -> None:
    """A diagnostic on stderr while work goes on (e.g. a source retrying)."""
    stderr.print(Text(f"reserves: {safe(message)}", style="dim"))


@contextmanager
def progress_bars() -> Iterator[ProgressCallback]:
    """A progress bar on stderr for long steps (silent when stderr is not a terminal)."""
    bars = Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(task: str, done: int, total: int) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(safe(task), total=total)
        bars.update(tasks[task], completed=done, total=total)

    with bars:
        yield report


def print_json(document: Any) -> None:
    sys.stdout.write(scrub(json.dumps(document, indent=2, ensure_ascii=False)) + "\n")


def print_checks(checks: Iterable[Check]) -> None:
    for check in checks:
        line = Text(f"{check.status.value:<7}", style=STATUS_STYLE[check.status])
        line.append(f" {safe(check.name)}")
        stdout.print(line)
        if check.detail:
            say(f"        {check.detail}")
        if check.expected is not None or check.found is not None:
            say(f"        expected: {check.expected}")
            say(f"        found:    {check.found}")


def cell(value: object, style: str = "") -> Text:
    """A table cell of untrusted text."""
    return Text(safe(value), style=style)


def new_table(title: str, columns: Iterable[str], right: Iterable[str] = ()) -> Table:
    table = Table(title=Text(title), title_justify="left")
    aligned = set(right)
    for column in columns:
        table.add_column(column, justify="right" if column in aligned else "left")
    return table


def amounts_table(title: str, statement_assets: Any, columns: dict[str, tuple[int, ...]]) -> Table:
    table = new_table(title, ["asset", *columns], right=columns)
    for position, asset in enumerate(statement_assets):
        table.add_row(cell(asset.symbol), *(cell(format_amount(v[position], asset.decimals)) for v in columns.values()))
    return table
