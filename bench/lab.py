"""Benchmark: the policy lab at scale — impact preview of two versions, and a 5-year simulation.

Usage: python bench/lab.py [--subjects 1_000_000] [--records-per-subject 10] [--dir DIR] [--rounds 3]
                           [--only impact|simulate]

A seeded population is generated once (kept in --dir and reused). Each contender runs in its own
process, so its peak RSS is its own; the figure compared with the population's columns is the peak
minus the process's RSS after its imports (Python, pandas, fairlearn, DuckDB), against the in-memory
Arrow size of the three files. Prints the median seconds of the rounds, and the CPU seconds the
process used (user + system, all threads): on a shared machine the wall time depends on the load,
the CPU time much less. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2026, 7, 1)


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_impact(directory: Path) -> dict[str, float]:
    from functools import partial

    from xinyong.engines.population import PopulationPaths, compare, records_of
    from xinyong.lab.impact import impact
    from xinyong.policy.loader import load_policy

    old = load_policy(ROOT / "examples/lab/rongcheng-points.yaml")
    new = load_policy(ROOT / "examples/lab/rongcheng-revised.yaml")
    paths = PopulationPaths.in_dir(directory)
    base = _rss_kb("VmRSS")
    cpu = _cpu()
    started = time.perf_counter()
    table = compare(paths, old, new, AS_OF)
    sql = time.perf_counter() - started
    impact(old, new, table, AS_OF, partial(records_of, paths), n_boot=200)
    return {"seconds": time.perf_counter() - started, "sql_seconds": sql, "cpu_seconds": _cpu() - cpu,
            "peak_mb": (_rss_kb("VmHWM") - base) / 1024}


def child_simulate(directory: Path, years: float) -> dict[str, float]:
    from xinyong.engines import population as engine
    from xinyong.lab.simulate import Process, due_process, future_records, month_ends, monthly
    from xinyong.policy.loader import load_policy

    lp = load_policy(ROOT / "policies/shixin.yaml")
    paths = engine.PopulationPaths.in_dir(directory)
    base = _rss_kb("VmRSS")
    cpu = _cpu()
    started = time.perf_counter()
    types = engine.relevant_types(lp)
    groups = engine.subjects_table(paths)
    future = future_records(lp.catalogue, groups.select(["subject", "kind"]), engine.record_counts(paths, types),
                            types, AS_OF, years, seed=1)
    ends = month_ends(AS_OF, round(years * 12))
    episodes = due_process(lp, engine.listings_by_month(paths, lp, future, ends), ends, Process(), seed=1)
    result = monthly(episodes, ends, groups)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu, "episodes": float(episodes.num_rows),
            "future_records": float(future.num_rows), "listed_end": float(result["listed"][-1]),
            "peak_mb": (_rss_kb("VmHWM") - base) / 1024}


def run_child(kind: str, directory: Path, years: float) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(directory), "--years", str(years)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--records-per-subject", type=float, default=10.0)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/xinyong-bench-lab"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--only", choices=["impact", "simulate"], help="Run one of the two.")
    ap.add_argument("--child", choices=["impact", "simulate"])
    args = ap.parse_args()
    if args.child == "impact":
        print(json.dumps(child_impact(args.dir)))
        return
    if args.child == "simulate":
        print(json.dumps(child_simulate(args.dir, args.years)))
        return

    import pyarrow.parquet as pq

    from xinyong.lab import generate_population
    from xinyong.policy.loader import load_catalogue

    directory = args.dir / f"{args.subjects}-{args.records_per_subject:g}"
    if not (directory / "records.parquet").exists():
        started = time.perf_counter()
        catalogue = load_catalogue(ROOT / "policies/catalogue.yaml")[0]
        summary = generate_population(catalogue, directory, subjects=args.subjects,
                                      records_per_subject=args.records_per_subject, seed=7, as_of=AS_OF)
        print(f"generated {summary.subjects:,} subjects, {summary.records:,} records "
              f"in {time.perf_counter() - started:.1f} s")
    columns_mb = sum(pq.read_table(directory / f).nbytes for f in
                     ("subjects.parquet", "attributes.parquet", "records.parquet")) / 2**20
    records = pq.ParquetFile(directory / "records.parquet").metadata.num_rows
    print(f"population: {args.subjects:,} subjects, {records:,} records, columns {columns_mb:,.0f} MB in Arrow")
    for kind in [args.only] if args.only else ["impact", "simulate"]:
        runs = [run_child(kind, directory, args.years) for _ in range(args.rounds)]
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        extra = {k: v for k, v in runs[0].items() if k not in ("seconds", "peak_mb")}
        each = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        print(f"{kind}: median {seconds:.1f} s over {len(runs)} rounds ({each}), "
              f"peak {peak:,.0f} MB above imports = {peak / columns_mb:.2f}x the columns; {extra}")


if __name__ == "__main__":
    main()
