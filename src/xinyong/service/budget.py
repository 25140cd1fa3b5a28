"""A time budget per read request: work that grows with the data (a subject's file, what-if, case
lists) checks it as it goes and stops with :class:`OverBudget` once it is spent, so one large request
cannot hold a worker (and the store) while everybody else waits. The check is cooperative: it runs
between units of work (an evaluation, a page of cases), never while the store lock is held."""

from __future__ import annotations

import time

from xinyong.model.errors import OverBudget

#: Seconds a read may compute before it is refused (``xinyong serve --read-budget``).
DEFAULT_READ_BUDGET = 10.0


class Budget:
    """The deadline of one request; ``check()`` raises :class:`OverBudget` once it has passed."""

    __slots__ = ("deadline", "seconds", "what")

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget(f"{self.what} needs more than the read budget of {self.seconds:g} s per request "
                             "and was stopped; retry later, or ask for less", budget=self.seconds,
                             field="budget")
