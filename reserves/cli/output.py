"""What every command shares: the consoles, the mapping from errors to exit codes
(0 passed, 1 a check failed, 2 bad usage or input, 3 a source unreadable, 4 a bug),
progress bars, and the printers of checks and amounts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from reserves.encoding import format_amount
from reserves.errors import InputError, ReservesError, SourceError, VerificationError
from reserves.results import Check, Status

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_SOURCE, EXIT_BUG = 0, 1, 2, 3, 4


# Piped output is not cut to 80 columns: addresses and amounts must survive whole.
PIPED_WIDTH = 200


stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)


stderr = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

if TYPE_CHECKING:
    from reserves.progress import ProgressCallback


STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.WARN: "bold yellow", Status.SKIPPED: "dim"}


# Options shared by the commands that read chains.
RpcOption = Annotated[
    list[str] | None, typer.Option(help="NAME=URL of an archive node for each EVM chain of the snapshot.")
]


EsploraOption = Annotated[
    list[str] | None, typer.Option(help="NAME=URL of an Esplora API for each Bitcoin chain of the snapshot.")
]


UnreachableOption = Annotated[
    list[str] | None, typer.Option(help="A keyholder to treat as unreachable (repeat for several).")
]


KOption = Annotated[str, typer.Option("--k", help="Sizes of keyholder sets to search, e.g. 1,2,3.")]


def fail(code: int, message: str) -> NoReturn:
    stderr.print(f"reserves: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    try:
        yield
    except typer.Exit:
        raise
    except InputError as exc:
        fail(EXIT_INPUT, f"invalid input: {exc}")
    except VerificationError as exc:
        fail(EXIT_FAILED, f"check failed: {exc}")
    except SourceError as exc:
        fail(EXIT_SOURCE, f"source unavailable: {exc}")
    except ReservesError as exc:  # pragma: no cover - every branch above is a subclass
        fail(EXIT_BUG, f"internal error: {exc}")
    except KeyboardInterrupt:
        fail(130, "interrupted")
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        fail(
            EXIT_BUG,
            f"internal error ({type(exc).__name__}: {exc}). This is a bug; please report it with the command you ran.",
        )


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
            tasks[task] = bars.add_task(task, total=total)
        bars.update(tasks[task], completed=done, total=total)

    with bars:
        yield report


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def print_checks(checks: list[Check]) -> None:
    for check in checks:
        stdout.print(f"[{STATUS_STYLE[check.status]}]{check.status.value:<7}[/] {check.name}")
        if check.detail:
            stdout.print(f"        {check.detail}", markup=False)
        if check.expected is not None or check.found is not None:
            stdout.print(f"        expected: {check.expected}", markup=False)
            stdout.print(f"        found:    {check.found}", markup=False)


def amounts_table(title: str, statement_assets: Any, columns: dict[str, tuple[int, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("asset")
    for name in columns:
        table.add_column(name, justify="right")
    for position, asset in enumerate(statement_assets):
        table.add_row(asset.symbol, *(format_amount(v[position], asset.decimals) for v in columns.values()))
    return table
