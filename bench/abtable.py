"""Shared by the bench scripts: interleaved A/B rounds and the one row format ``bench/all.py`` reads.

A shared 2-core machine swings 2x between runs, so a figure is never "the best of N" of one contender:
the contender and its baseline alternate (A B A B …), each round gives one ratio, and the median of the
per-round ratios is reported with its min–max. Each script can write its rows as JSON (``--json FILE``)
for ``bench/all.py``, which prints the table and decides met/missed against the targets.

Named ``abtable`` (not ``table``/``stats``): a script's folder comes first on ``sys.path``, and a name
from the standard library would shadow it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    """One line of the table: a work measured against a reference in the same run."""

    work: str
    xinyong: str             # the contender's figure, human-readable ("1.2 M rows/s")
    reference: str           # the baseline's figure, or "" when the target is absolute
    ratio: float | None      # median of per-round ratios (contender / baseline, "higher is better" sense)
    ratio_min: float | None = None
    ratio_max: float | None = None
    target: str = ""         # e.g. ">= 0.9x", "<= 2 s"
    met: bool | None = None  # decided by the script, which knows the unit of its target
    note: str = ""
    figures: dict[str, float] = field(default_factory=dict)


@dataclass
class Rounds:
    """Per-round seconds of the contender and the baseline, and their ratios."""

    a: list[float]
    b: list[float]

    def ratios(self) -> list[float]:
        """Baseline time / contender time per round: > 1 means the contender was faster."""
        return [b / a for a, b in zip(self.a, self.b, strict=True) if a > 0]

    def median_ratio(self) -> float:
        return statistics.median(self.ratios())

    def spread(self) -> tuple[float, float]:
        r = self.ratios()
        return min(r), max(r)


def alternate(contender: Callable[[], object], baseline: Callable[[], object], rounds: int = 5,
              on_round: Callable[[int, float, float], None] | None = None) -> Rounds:
    """Run contender and baseline in turn (A B A B …), timing each with a monotonic clock."""
    out = Rounds([], [])
    for i in range(rounds):
        t = time.perf_counter()
        contender()
        out.a.append(time.perf_counter() - t)
        t = time.perf_counter()
        baseline()
        out.b.append(time.perf_counter() - t)
        if on_round:
            on_round(i, out.a[-1], out.b[-1])
    return out


def ratio_text(median: float, lo: float, hi: float) -> str:
    return f"{median:.2f}x ({lo:.2f}–{hi:.2f})"


def write_rows(path: Path | None, rows: list[Row]) -> None:
    """Append this script's rows to ``path`` (JSON lines), for ``bench/all.py``."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
