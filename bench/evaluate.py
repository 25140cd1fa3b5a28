"""Benchmark: `xinyong evaluate` (the policy compiled to SQL) against hand-written baselines.

Usage: python bench/evaluate.py --records 10_000_000 [--subjects N] [--clustered]

Every contender does the same scoring on the same data in the same run (valid-as-of filter, per-subject
sum, tiers, one list flag) and runs in its own process so that peak RSS is its own. Prints seconds,
ratios against the hand-written DuckDB query and the Polars lazy query, and peak RSS against the raw
columns. Nothing here is asserted: figures are for the closing note and the changelog.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = date(2026, 6, 30)
TYPES = {  # type: (points, validity days)  — must match bench/policy.yaml and policies/catalogue.yaml
    "contract.breach": (-20, 730),
    "court.breach_finding": (-50, 730),
    "admin.damage_public_utilities": (-100, 730),
    "civic.volunteering": (5, 365),
    "civic.blood_donation": (10, 730),
    "court.refuse_perform": (0, 1095),
}
LIST_TYPE = "court.refuse_perform"


def generate(db: Path, parquet: Path, records: int, subjects: int, clustered: bool) -> None:
    """Random records inside DuckDB (fast; identifiers are not validated by the engine)."""
    import duckdb

    types = list(TYPES)
    con = duckdb.connect(str(db))
    con.execute((HERE.parent / "src/xinyong/store/migrations/001_initial.sql").read_text())
    type_case = (f"CASE hash(i * 7) % {len(types)} "
                 + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(types)) + " END")
    subject_no = f"i * {subjects} // {records}" if clustered else f"i % {subjects}"
    con.execute(f"""
        INSERT INTO records
        SELECT md5(i::VARCHAR)[:32], 'cn.uscc:' || lpad(({subject_no})::VARCHAR, 18, '0'),
               'bench', {type_case},
               DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER) - 10,
               DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER), 'doc', NULL, 'b0', now()
        FROM range({records}) t(i)
        {"" if clustered else "ORDER BY hash(i * 13)"}
    """)
    con.execute(f"""
        INSERT INTO subjects SELECT 'cn.uscc:' || lpad(i::VARCHAR, 18, '0'), 'cn.uscc', 'organisation', NULL
        FROM range({subjects}) t(i)""")
    con.execute(f"COPY (SELECT subject, type, decided FROM records) TO '{parquet}' (FORMAT parquet)")
    con.close()


def hand_duckdb_sql() -> str:
    points = " ".join(f"WHEN '{t}' THEN {p}" for t, (p, _) in TYPES.items())
    validity = " ".join(f"WHEN '{t}' THEN {v}" for t, (_, v) in TYPES.items())
    return f"""
        SELECT subject, score,
               CASE WHEN score >= 1050 THEN 'AAA' WHEN score >= 1030 THEN 'AA' WHEN score >= 1000 THEN 'A'
                    WHEN score >= 800 THEN 'B' WHEN score >= 600 THEN 'C' ELSE 'D' END AS tier, listed
        FROM (SELECT subject, 1000 + sum(CASE type {points} ELSE 0 END) AS score,
                     bool_or(type = '{LIST_TYPE}') AS listed
              FROM records
              WHERE decided <= DATE '{AS_OF}'
                AND DATE '{AS_OF}' < decided + CAST(CASE type {validity} END AS INTEGER)
              GROUP BY subject)
    """


def run_hand_duckdb(db: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    n = con.execute(f"SELECT count(*), sum(score) FROM ({hand_duckdb_sql()})").fetchone()
    return {"seconds": time.perf_counter() - t, "rows": float(n[0] if n else 0)}


def run_polars(parquet: Path) -> dict[str, float]:
    import polars as pl

    t = time.perf_counter()
    points = pl.col("type").replace_strict({k: v[0] for k, v in TYPES.items()}, default=0)
    validity = pl.col("type").replace_strict({k: v[1] for k, v in TYPES.items()}, default=0)
    as_of = pl.lit(AS_OF)
    out = (
        pl.scan_parquet(parquet)
        .filter((pl.col("decided") <= as_of)
                & ((as_of - pl.col("decided")).dt.total_days() < validity))
        .group_by("subject")
        .agg((1000 + points.sum()).alias("score"), (pl.col("type") == LIST_TYPE).any().alias("listed"))
        .with_columns(pl.when(pl.col("score") >= 1050).then(pl.lit("AAA"))
                      .when(pl.col("score") >= 1030).then(pl.lit("AA"))
                      .when(pl.col("score") >= 1000).then(pl.lit("A"))
                      .when(pl.col("score") >= 800).then(pl.lit("B"))
                      .when(pl.col("score") >= 600).then(pl.lit("C")).otherwise(pl.lit("D")).alias("tier"))
        .select(pl.len(), pl.col("score").sum())
        .collect()
    )
    return {"seconds": time.perf_counter() - t, "rows": float(out.item(0, 0))}


def run_xinyong(db: Path) -> dict[str, float]:
    import duckdb

    from xinyong.engines.duckdb_engine import run_assessment
    from xinyong.policy.loader import load_policy

    lp = load_policy(HERE / "policy.yaml")
    con = duckdb.connect(str(db))
    t = time.perf_counter()
    # as the registry runs it: record ids are unique in the store (the generator's md5 ids are)
    summary = run_assessment(con, lp, AS_OF, "bench-run", unique_ids=True)
    seconds = time.perf_counter() - t
    con.execute("DELETE FROM assessments WHERE run = 'bench-run'")  # bench database only
    con.execute("DELETE FROM listings WHERE run = 'bench-run'")
    con.execute("DELETE FROM assessment_runs WHERE run = 'bench-run'")
    return {"seconds": seconds, "rows": float(summary.subjects)}


def run_xinyong_query(db: Path) -> dict[str, float]:
    """The compiled query alone, result aggregated like the hand-written one (nothing stored)."""
    import duckdb

    from xinyong.engines.compiler import compile_policy
    from xinyong.policy.loader import load_policy

    cp = compile_policy(load_policy(HERE / "policy.yaml"), "duckdb", dedupe=False)
    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    n = con.execute(f"SELECT count(*), sum(score) FROM ({cp.assessment_sql(AS_OF, pretty=False)})").fetchone()
    return {"seconds": time.perf_counter() - t, "rows": float(n[0] if n else 0)}


CONTENDERS = {"duckdb-hand": run_hand_duckdb, "polars-hand": run_polars, "xinyong-query": run_xinyong_query,
              "xinyong": run_xinyong}


def child(name: str, path: Path) -> None:
    result = CONTENDERS[name](path)
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--subjects", type=lambda s: int(s.replace("_", "")), default=None)
    ap.add_argument("--clustered", action="store_true", help="store records clustered by subject")
    ap.add_argument("--repeat", type=int, default=2, help="runs per contender; the best is reported")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    subjects = args.subjects or max(1, args.records // 10)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        db, parquet = Path(tmp) / "bench.duckdb", Path(tmp) / "records.parquet"
        t = time.perf_counter()
        generate(db, parquet, args.records, subjects, args.clustered)
        raw_mb = _raw_columns_mb(parquet)
        print(f"data: {args.records:,} records, {subjects:,} subjects"
              f"{' (clustered)' if args.clustered else ''}, generated in {time.perf_counter() - t:.1f} s;"
              f" raw columns {raw_mb:.0f} MB")
        results: dict[str, dict[str, float]] = {}
        for name in CONTENDERS:
            runs = []
            for _ in range(args.repeat):
                target = parquet if name == "polars-hand" else db
                out = subprocess.run([sys.executable, __file__, "--child", name, str(target)],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            results[name] = min(runs, key=lambda r: r["seconds"])
    base_d, base_p = results["duckdb-hand"]["seconds"], results["polars-hand"]["seconds"]
    print(f"{'contender':<14}{'seconds':>9}{'vs duckdb':>11}{'vs polars':>11}{'peak RSS MB':>13}"
          f"{'RSS/raw':>9}{'records/s':>14}")
    for name, r in results.items():
        secs, rss = r["seconds"], r["peak_rss_mb"]
        print(f"{name:<14}{secs:>9.2f}{secs / base_d:>11.2f}{secs / base_p:>11.2f}{rss:>13.0f}"
              f"{rss / raw_mb:>9.2f}{args.records / secs:>14,.0f}")
    print("targets: xinyong vs duckdb <= 1.0, vs polars <= 1.5, RSS/raw <= 1.5")
    print("xinyong-query is the compiled query alone; xinyong is `evaluate`: the query, the snapshot stored "
          "(assessments, listings, run row) and committed")


def _peak_rss_mb() -> float:
    """This process's high-water RSS. ``ru_maxrss`` would do, but Linux keeps it across exec, so a child
    would report its parent's peak (the data generation); ``VmHWM`` belongs to the new address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _raw_columns_mb(parquet: Path) -> float:
    import pyarrow.parquet as pq

    return float(pq.read_table(parquet).nbytes) / 2**20


if __name__ == "__main__":
    main()
