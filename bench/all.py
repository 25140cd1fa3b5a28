"""Every speed target in one table: runs each bench script, collects its rows, says met or missed.

Usage: python bench/all.py [--quick] [--only ingest,evaluate,...] [--json bench/results.json] [--readme]

Each script runs in its own process (its own peak memory, no warm caches shared between them), with the
sizes of the targets (``--quick`` divides them by ten for a smoke run: the figures are then not the
targets' figures). Every script alternates contender and baseline (A B A B, >= 5 rounds) and reports the
median of the per-round ratios with min–max (``bench/abtable.py``). The table is printed, written as
JSON, and with ``--readme`` written into README.md between the ``bench:start``/``bench:end`` markers.
Nothing is asserted: a missed row is reported, with its note, as missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name: (script, arguments at full size, arguments for --quick)
SUITES: dict[str, tuple[str, list[str], list[str]]] = {
    "ingest": ("ingest.py", ["--records", "1_000_000", "--rounds", "5"],
               ["--records", "100_000", "--rounds", "5"]),
    "evaluate": ("evaluate.py", ["--records", "10_000_000", "--rounds", "5"],
                 ["--records", "1_000_000", "--rounds", "5"]),
    "decisions": ("decisions.py", ["--subjects", "1_000_000", "--checks", "1_000_000", "--rounds", "5"],
                  ["--subjects", "100_000", "--checks", "100_000", "--rounds", "5"]),
    "http": ("http_load.py", ["--rounds", "5"], ["--rounds", "5", "--seconds", "2"]),
    "cli": ("cli_startup.py", ["--rounds", "10"], ["--rounds", "5"]),
}


def run_suite(name: str, quick: bool, out: Path) -> tuple[int, float]:
    script, full, small = SUITES[name]
    args = [sys.executable, str(HERE / script), *(small if quick else full), "--json", str(out)]
    print(f"\n=== {name}: {' '.join(args[1:])}", flush=True)
    t = time.perf_counter()
    rc = subprocess.run(args, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}).returncode
    return rc, time.perf_counter() - t


def markdown(rows: list[dict[str, object]]) -> str:
    lines = ["| work | xinyong | reference | ratio (median, min–max) | target | met |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = ""
        if r.get("ratio") is not None:
            ratio = f"{r['ratio']:.2f}x"
            if r.get("ratio_min") is not None:
                ratio += f" ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})"
        met = {True: "met", False: "**missed**", None: "—"}[r.get("met")]  # type: ignore[index]
        lines.append(f"| {r['work']} | {r['xinyong']} | {r['reference']} | {ratio} | {r['target']} | {met} |")
    return "\n".join(lines)


def write_readme(table: str, quick: bool) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        print("README.md has no bench:start/bench:end markers; not written", file=sys.stderr)
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    stamp = f"\n_`python bench/all.py{' --quick' if quick else ''}`, {time.strftime('%Y-%m-%d')}_\n\n"
    readme.write_text(head + start + stamp + table + "\n" + end + tail, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes (smoke run, not the targets)")
    ap.add_argument("--only", default=",".join(SUITES), help=f"comma-separated among {','.join(SUITES)}")
    ap.add_argument("--json", type=Path, default=HERE / "results.json", help="where the table goes as JSON")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose among {', '.join(SUITES)}")
    rows: list[dict[str, object]] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.jsonl"
            rc, secs = run_suite(name, args.quick, out)
            got = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
            if rc != 0 or not got:
                failed.append(f"{name} (exit {rc}, {len(got)} rows)")
            rows.extend(got)
            print(f"=== {name}: {len(got)} row(s) in {secs:.0f} s", flush=True)
    table = markdown(rows)
    print("\n" + table)
    args.json.write_text(json.dumps({"quick": args.quick, "date": time.strftime("%Y-%m-%d"), "rows": rows},
                                    ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.json}")
    if args.readme:
        write_readme(table, args.quick)
    if failed:
        print("suites that failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    missed = [str(r["work"]) for r in rows if r.get("met") is False]
    print(f"{len(rows) - len(missed)} of {len(rows)} rows met" + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
