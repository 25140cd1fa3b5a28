"""Start-up time of the command line: `xinyong --help` and `xinyong policy lint <file>` against
`python -c pass` (the interpreter's own start), in alternating rounds.

Each round runs the baseline, then each command, once, as a user would (a new process, wall clock and the
child's CPU time); the medians over the rounds are reported with their min–max, and the ratio is the
median of the per-round ratios (command / `python -c pass`). The target is absolute: at most 0.3 s.

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from their environment)
and the warm-up run writes it: an installed package has its bytecode (pip compiles it at install), so a
start that recompiles every module measures the sandbox, not the command line.

    .venv/bin/python bench/cli_startup.py [--rounds 10] [--json rows.jsonl]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from abtable import Row, write_rows  # noqa: E402

TARGET_S = 0.3
COMMANDS = {
    "xinyong --help": ["-m", "xinyong", "--help"],
    "xinyong policy lint policies/shixin.yaml": ["-m", "xinyong", "policy", "lint", "policies/shixin.yaml"],
}
#: The floor of each command: what its libraries cost before any xinyong code runs, timed in the same
#: rounds. ``--help`` cannot beat a bare Typer app printing its help (Typer imports pydantic and Rich);
#: ``policy lint`` cannot beat importing Typer's help and errors, pydantic and PyYAML, which it needs.
FLOORS = {
    "xinyong --help": ("a bare Typer app's --help",
                       ["-c", "import typer\napp = typer.Typer()\n@app.command()\ndef one() -> None: pass\n"
                        "@app.command()\ndef two() -> None: pass\napp(['--help'])"]),
    "xinyong policy lint policies/shixin.yaml": ("import typer, its Rich help, pydantic, yaml",
                                                 ["-c", "import typer, typer.rich_utils, pydantic, yaml"]),
}


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the interpreter with ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**env, "PYTHONPATH": str(ROOT / "src")}, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None, help="append the table rows here (bench/all.py)")
    args = ap.parse_args()
    timed(["-c", "pass"])  # warm the file cache: the first start of anything reads from disk
    for cmd in COMMANDS.values():
        timed(cmd)
    base: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    floors: dict[str, list[tuple[float, float]]] = {name: [] for name in FLOORS}
    for _, cmd in FLOORS.values():
        timed(cmd)
    for _ in range(args.rounds):
        base.append(timed(["-c", "pass"]))
        for name, cmd in COMMANDS.items():
            runs[name].append(timed(cmd))
            floors[name].append(timed(FLOORS[name][1]))
    load = os.getloadavg()
    print(f"{args.rounds} rounds, alternating; wall (CPU) median (min–max); load average {load[0]:.2f} "
          f"(1 min) {load[1]:.2f} (5 min) at the end, on {os.cpu_count()} cores")
    print(f"  {'python -c pass':42} {spread([w for w, _ in base])}  CPU {spread([c for _, c in base])}")
    rows = []
    for name, got in runs.items():
        ratios = [w / b for (w, _), (b, _) in zip(got, base, strict=True)]
        wall = statistics.median([w for w, _ in got])
        met = wall <= TARGET_S
        print(f"  {name:42} {spread([w for w, _ in got])}  CPU {spread([c for _, c in got])}  "
              f"{statistics.median(ratios):.1f}x python -c pass ({min(ratios):.1f}–{max(ratios):.1f}); "
              f"target <= {TARGET_S} s: {'met' if met else 'NOT met'}")
        what, _ = FLOORS[name]
        floor = statistics.median([w for w, _ in floors[name]])
        over = statistics.median([w / f for (w, _), (f, _) in zip(got, floors[name], strict=True)])
        print(f"  {'  floor: ' + what:42} {spread([w for w, _ in floors[name]])}  the command is {over:.2f}x it")
        rows.append(Row(f"`{name}`", f"{wall:.2f} s", f"{statistics.median([w for w, _ in base]):.3f} s",
                        statistics.median(ratios), min(ratios), max(ratios), f"<= {TARGET_S} s", met,
                        f"ratio: command / `python -c pass` (lower is better); floor ({what}) {floor:.2f} s, "
                        f"the command {over:.2f}x it",
                        {"seconds": wall, "cpu_seconds": statistics.median([c for _, c in got]),
                         "floor_seconds": floor}))
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
