"""Benchmark: the embedded DuckDB store and PostgreSQL side by side on the same population.

Usage: python bench/stores.py [--records 1_000_000] [--rounds 5] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Generates ``records`` valid records (court enforcement types, one source) as Parquet, then for each
backend, in alternating rounds (contender and baseline interleaved, a fresh store each round):

- ingest: ``xinyong.service.ingest.ingest_files`` (validated, deduplicated, audited) vs the floor for the
  same rows on the same backend (DuckDB: ``INSERT ... SELECT FROM read_parquet``; PostgreSQL: a plain
  ``COPY`` of the same rows into an unindexed table), median of per-round ratios with min-max;
- evaluate: ``Registry.evaluate`` (the compiled policy query + the snapshot) vs the compiled query alone
  (``SELECT count(*)`` over it): the price of writing the snapshot;
- single-subject assess: p50/p99 of ``Registry.assess`` over 300 random subjects at ``records`` and at
  ``--small`` records (flat = independent of the register's size).

Self-contained: needs only the project and a PostgreSQL server (trust auth) for the second half.
Nothing is asserted; figures are for the changelog and the README.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2025, 1, 1)
SOURCE = "court.enforcement"


def generate(path: Path, records: int) -> None:
    from xinyong.lab.bulk import generate_bulk_records
    from xinyong.policy.loader import load_catalogue

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    generate_bulk_records(path, records=records, subjects=max(records // 10, 1), seed=1, as_of=AS_OF,
                          types=list(cat.source(SOURCE).may_submit), catalogue=cat)


class Backend:
    def __init__(self, name: str, tmp: Path, pg: str) -> None:
        self.name, self.tmp, self.pg = name, tmp, pg
        self.made: list[str] = []

    def fresh(self) -> str:
        if self.name == "duckdb":
            return str(self.tmp / f"{uuid.uuid4().hex[:8]}.duckdb")
        import psycopg

        db = f"xy_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.pg, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{db}"')
        self.made.append(db)
        return self.pg.rsplit("/", 1)[0] + "/" + db

    def cleanup(self) -> None:
        if self.name != "duckdb" and self.made:
            import psycopg

            with psycopg.connect(self.pg, autocommit=True) as con:
                for db in self.made:
                    con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def published(url: str) -> object:
    from xinyong.service.registry import Registry
    from xinyong.store import open_store

    store = open_store(url)
    Registry(store, actor="bench").publish([ROOT / "policies"])
    return store


def ingest(url: str, parquet: Path) -> float:
    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.loader import load_catalogue
    from xinyong.service.ingest import ingest_files

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    store = published(url)
    try:
        started = time.perf_counter()
        ingest_files(store, [parquet], SOURCE, cat, default_schemes(), AS_OF, write_reports=False)  # type: ignore[arg-type]
        return time.perf_counter() - started
    finally:
        store.close()  # type: ignore[attr-defined]


def floor(backend: Backend, url: str, parquet: Path) -> float:
    """The same rows with no validation, no dedup, no subjects, no audit."""
    if backend.name == "duckdb":
        import duckdb

        con = duckdb.connect(url)
        con.execute("CREATE TABLE r AS SELECT * FROM read_parquet(?) LIMIT 0", [str(parquet)])
        started = time.perf_counter()
        con.execute("INSERT INTO r SELECT * FROM read_parquet(?)", [str(parquet)])
        took = time.perf_counter() - started
        con.close()
        return took
    import io

    import psycopg
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE r (subject VARCHAR, source VARCHAR, type VARCHAR, occurred DATE, decided DATE, "
                    "document VARCHAR, amount DECIMAL(18, 2))")
        started = time.perf_counter()
        buf = io.BytesIO()
        pacsv.write_csv(table.select(["subject", "source", "type", "occurred", "decided", "document", "amount"]),
                        buf, pacsv.WriteOptions(include_header=False))
        with con.cursor() as cur, cur.copy("COPY r FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        return time.perf_counter() - started


def ratio_line(label: str, a: list[float], b: list[float], n: int) -> str:
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return (f"{label:<34} {n / statistics.median(a) / 1e6:6.2f} M rows/s vs {n / statistics.median(b) / 1e6:6.2f}"
            f"  ratio x{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}, "
            f"{len(ratios)} rounds)")


def assess_latency(url: str, parquet: Path, samples: int = 300) -> tuple[float, float]:
    import pyarrow.parquet as pq

    from xinyong.service.registry import Registry

    ingest(url, parquet)
    from xinyong.store import open_store

    subjects = sorted(set(pq.read_table(parquet, columns=["subject"]).column(0).to_pylist()))
    rng = random.Random(7)
    with open_store(url) as store:
        reg = Registry(store, actor="bench")
        reg.assess(subjects[0], AS_OF)  # warm caches and policies
        times = []
        for s in rng.sample(subjects, min(samples, len(subjects))):
            t = time.perf_counter()
            reg.assess(s, AS_OF)
            times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99) - 1] * 1e3


def evaluate_pair(url: str) -> tuple[float, float]:
    from xinyong.engines.plan import plan_run
    from xinyong.service.registry import Registry
    from xinyong.store import open_store

    with open_store(url) as store:
        reg = Registry(store, actor="bench")
        t = time.perf_counter()
        reg.evaluate(AS_OF)
        full = time.perf_counter() - t
        t = time.perf_counter()
        for lp in reg.policies():
            q = plan_run(lp, AS_OF, store.dialect, amended=False)
            store._scalar(f"SELECT count(*) FROM ({q.assessed_sql}) AS q")  # type: ignore[attr-defined]
        return full, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--small", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--backends", default="duckdb,postgres")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big, small = work / "big.parquet", work / "small.parquet"
        generate(big, args.records)
        generate(small, args.small)
        for name in args.backends.split(","):
            b = Backend(name, work, args.pg)
            try:
                contender, baseline = [], []
                for _ in range(args.rounds):  # A B A B: the machine is shared and noisy
                    contender.append(ingest(b.fresh(), big))
                    baseline.append(floor(b, b.fresh(), big))
                print(ratio_line(f"{name}: validated ingest vs floor", contender, baseline, args.records))
                url = b.fresh()
                ingest(url, big)
                fulls, queries = [], []
                for _ in range(args.rounds):
                    f, q = evaluate_pair(url)
                    fulls.append(f)
                    queries.append(q)
                r = [f / q for f, q in zip(fulls, queries, strict=True)]
                print(f"{name}: evaluate {statistics.median(fulls):.2f} s with snapshot, query alone "
                      f"{statistics.median(queries):.2f} s: x{statistics.median(r):.2f} "
                      f"(min {min(r):.2f}, max {max(r):.2f})")
                p50s, p99s = assess_latency(b.fresh(), small)
                p50b, p99b = assess_latency(b.fresh(), big)
                print(f"{name}: single-subject assess p50/p99 {p50s:.2f}/{p99s:.2f} ms at {args.small:,} records, "
                      f"{p50b:.2f}/{p99b:.2f} ms at {args.records:,} records")
            finally:
                b.cleanup()


if __name__ == "__main__":
    main()
