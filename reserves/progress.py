"""How long steps say how far they have come, for the CLI's progress bars."""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressCallback = Callable[[str, int, int], None]
"""``(task, completed, total)``: how far a long step has come."""


def silent(task: str, completed: int, total: int) -> None:
    """The callback when nobody is watching."""


class SharedCount:
    """A count that several threads add to, reported after each addition."""

    def __init__(self, report: ProgressCallback, task: str, total: int) -> None:
        self._report, self._task, self._total = report, task, total
        self._done = 0
        self._lock = threading.Lock()
        report(task, 0, total)  # from the calling thread: the task exists before any worker reports

    def add(self, amount: int) -> None:
        with self._lock:
            self._done += amount
            self._report(self._task, min(self._done, self._total), self._total)
