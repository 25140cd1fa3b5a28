"""Benchmark: validated bulk ingest (CSV, Parquet, JSON Lines) against plain DuckDB loads, alternating.

Usage: python bench/ingest.py [--records 1_000_000] [--subjects N] [--rounds 5] [--formats csv,parquet,jsonl]
                              [--batch-rows N] [--keep DIR] [--before SRC_DIR] [--json FILE]

Generates ``records`` valid records (``xinyong.lab.bulk``; the court enforcement types, so one source
submits the whole file) as Parquet, and the same rows as CSV and JSON Lines. Then, per round and per
format, one after the other (A B A B …), each into a fresh store file:

- ``load``: ``CREATE TABLE … AS SELECT * FROM read_csv/read_parquet/read_json(…)`` — DuckDB reading the
  file into a table, nothing else (the issue's reference);
- ``plain``: ``INSERT INTO records SELECT <sha256 content id>, … FROM read_…(…)`` — the same rows and
  ids into the store's ``records`` table (its index included), no validation, dedup, subjects or audit:
  the floor for what the store's schema and the content-id definition cost;
- ``ingest``: ``xinyong.service.ingest.ingest_files`` (what ``xinyong ingest`` runs: every check, rejects,
  dedup, subjects, one audit entry and one transaction per batch);
- ``rerun``: the same file again into that store (every row a duplicate).

Prints, per format and contender, the median rows/s and the median of the per-round ratios to ``load``
and to ``plain`` with min–max, for wall time and again for CPU time (every thread of the process; the
steadier figure when other jobs share the cores). Nothing here is asserted: figures are for the changelog.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2025, 1, 1)
SOURCE = "court.enforcement"
COLUMNS = ("{'subject': 'VARCHAR', 'type': 'VARCHAR', 'occurred': 'DATE', 'decided': 'DATE', "
           "'document': 'VARCHAR', 'amount': 'DECIMAL(18, 2)', 'source': 'VARCHAR'}")
SUFFIX = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}


def generate(work: Path, records: int, subjects: int) -> dict[str, Path]:
    import duckdb

    from xinyong.lab.bulk import generate_bulk_records
    from xinyong.policy.loader import load_catalogue

    paths = {f: work / f"records{s}" for f, s in SUFFIX.items()}
    if not paths["parquet"].exists():
        cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
        types = list(cat.source(SOURCE).may_submit)
        generate_bulk_records(paths["parquet"], records=records, subjects=subjects, seed=1, as_of=AS_OF,
                              types=types, catalogue=cat)
    con = duckdb.connect()
    cols = "subject, type, occurred, decided, document, amount, source"
    if not paths["csv"].exists():
        con.execute(f"COPY (SELECT {cols} FROM read_parquet('{paths['parquet']}')) TO '{paths['csv']}' "
                    "(FORMAT csv, HEADER true)")
    if not paths["jsonl"].exists():
        con.execute(f"COPY (SELECT {cols} FROM read_parquet('{paths['parquet']}')) TO '{paths['jsonl']}' "
                    "(FORMAT json)")
    con.close()
    return paths


def scan(fmt: str, path: Path) -> str:
    if fmt == "csv":
        return f"read_csv('{path}', header = true, auto_detect = false, columns = {COLUMNS})"
    if fmt == "jsonl":
        return f"read_json('{path}', format = 'newline_delimited', columns = {COLUMNS})"
    return f"read_parquet('{path}')"


def fresh(db: Path) -> Path:
    db.unlink(missing_ok=True)
    Path(f"{db}.wal").unlink(missing_ok=True)
    return db


def clock() -> tuple[float, float]:
    """(wall, CPU of every thread of this process): on a shared machine the CPU seconds are the steadier."""
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def load(db: Path, fmt: str, path: Path) -> tuple[float, float]:
    """DuckDB reading the file into a table of its own."""
    import duckdb

    con = duckdb.connect(str(fresh(db)))
    started = clock()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {scan(fmt, path)}")
    con.execute("CHECKPOINT")
    seconds = since(started)
    con.close()
    return seconds


def plain(db: Path, fmt: str, path: Path) -> tuple[float, float]:
    """The same rows and the same content id, straight into the store's ``records``."""
    from xinyong.store.duckdb_store import DuckDBStore

    with DuckDBStore.open(fresh(db)) as store:
        con = store.connection
        has_sid = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'records' "
                              "AND column_name = 'sid'").fetchone()
        sid = ", 0" if has_sid and has_sid[0] else ""  # the subject number column (migration 011)
        started = clock()
        con.execute(
            "INSERT INTO records SELECT substr(sha256(concat_ws(chr(31), subject, source, type, "
            "CAST(occurred AS VARCHAR), CAST(decided AS VARCHAR), document, "
            "coalesce(CAST(amount AS VARCHAR), ''))), 1, 32), subject, source, type, occurred, decided, "
            f"document, amount, 'plain', now()::TIMESTAMP{sid} FROM {scan(fmt, path)}")
        con.execute("CHECKPOINT")
        return since(started)


def ingest(db: Path, path: Path, batch_rows: int | None) -> tuple[tuple[float, float], int, int, int]:
    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.loader import load_catalogue
    from xinyong.service.ingest import DEFAULT_BATCH_ROWS, ingest_files
    from xinyong.store.duckdb_store import DuckDBStore

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    with DuckDBStore.open(db) as store:
        started = clock()
        s = ingest_files(store, [path], SOURCE, cat, default_schemes(), AS_OF,
                         batch_rows=batch_rows or DEFAULT_BATCH_ROWS, write_reports=False)
        store.connection.execute("CHECKPOINT")
        return since(started), s.accepted, s.duplicates, s.rejected


STAGES = (("dedup probe", ("record_keys WHERE", "ANTI JOIN record_keys")),
          ("subjects", ("INSERT INTO subjects", "FROM subjects s SEMI JOIN", "TEMP TABLE _xy_subj",
                        "TEMP TABLE _xy_sid", "DROP TABLE _xy_subj", "SELECT subject FROM _xy_subj")),
          ("insert records", ("INSERT INTO records",)), ("record_keys", ("INSERT INTO record_keys",)),
          ("commit", ("COMMIT",)), ("checkpoint", ("CHECKPOINT",)))


def profile(db: Path, path: Path, batch_rows: int | None) -> dict[str, tuple[float, float]]:
    """Where one ingest's seconds go, (wall, CPU) per stage: the steps ``ingest_files`` runs, taken one
    after the other (so the stages add up), the store's statements timed by SQL."""
    import uuid

    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.loader import load_catalogue
    from xinyong.service.ingest import DEFAULT_BATCH_ROWS
    from xinyong.store.duckdb_store import DuckDBStore
    from xinyong.store.validation import RecordValidator

    spent: dict[str, list[float]] = {}

    def add(stage: str, start: tuple[float, float]) -> tuple[float, float]:
        wall, cpu = since(start)
        got = spent.setdefault(stage, [0.0, 0.0])
        got[0] += wall
        got[1] += cpu
        return clock()

    class Timed:  # the store's connection, every statement timed under its stage
        def __init__(self, con: Any) -> None:
            self.con = con

        def __getattr__(self, name: str) -> Any:
            return getattr(self.con, name)

        def _timed(self, how: str, sql: str, *args: Any) -> Any:
            stage = next((name for name, marks in STAGES if any(m in sql for m in marks)), "audit, other SQL")
            start = clock()
            out = getattr(self.con, how)(sql, *args)
            add(stage, start)
            return out

        def execute(self, sql: str, *args: Any) -> Any:
            return self._timed("execute", sql, *args)

        def sql(self, sql: str, *args: Any) -> Any:
            return self._timed("sql", sql, *args)

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    with DuckDBStore.open(fresh(db)) as store, RecordValidator(cat, SOURCE, AS_OF, default_schemes()) as v:
        store.put_catalogue(cat, actor="ingest")
        store._con = Timed(store._con)  # type: ignore[assignment]
        t = clock()
        for batch in v.read(path, batch_rows or DEFAULT_BATCH_ROWS):
            t = add("read", t)
            staged = v._subjects(batch)
            t = add("identifiers (numpy, per distinct subject)", t)
            checked = v.validate(batch, str(path))
            t = add("checks + sha256 id (one SQL pass; identifiers again)", t)
            sql_before = sum(w for k, (w, _) in spent.items() if k in dict(STAGES) or k == "audit, other SQL")
            store.append_checked(checked.checked, source=SOURCE, batch_id=uuid.uuid4().hex, actor="ingest",
                                 detail={})
            sql_after = sum(w for k, (w, _) in spent.items() if k in dict(STAGES) or k == "audit, other SQL")
            wall, _ = since(t)
            arrow = spent.setdefault("store: Python between statements", [0.0, 0.0])
            arrow[0] += max(wall - (sql_after - sql_before), 0.0)
            t = clock()
            del staged
        add("read", t)
        store.connection.execute("CHECKPOINT")
    return {k: (w, c) for k, (w, c) in spent.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--subjects", type=lambda s: int(s.replace("_", "")), default=0,
                    help="default: records / 10")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--formats", default="csv,parquet,jsonl")
    ap.add_argument("--batch-rows", type=lambda s: int(s.replace("_", "")), default=None)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep (default: temp)")
    ap.add_argument("--before", type=Path, default=None,
                    help="another source tree (e.g. `git archive HEAD src`): its ingest is timed too, as `before`")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the source tree timed as `ingest`")
    ap.add_argument("--json", type=Path, default=None, help="append the rows for bench/all.py (JSON lines)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--profile-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--no-profile", action="store_true", help="skip the per-stage profile of one ingest")
    args = ap.parse_args()
    if args.profile_child:
        sys.path.insert(0, str(args.src))
        import json

        print(json.dumps(profile(Path(args.profile_child[0]), Path(args.profile_child[1]), args.batch_rows)))
        return
    if args.child:  # --before: ingest with the other tree's code, in a process of its own
        sys.path.insert(0, args.child[0])
        (wall, cpu), new, dup, rej = ingest(Path(args.child[1]), Path(args.child[2]), args.batch_rows)
        print(wall, cpu, new, dup, rej)
        return
    sys.path.insert(0, str(ROOT / "src"))
    subjects = args.subjects or max(args.records // 10, 1)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    n = args.records
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        paths = generate(work, n, subjects)
        print(f"data: {n:,} records / {subjects:,} subjects, ready in {time.perf_counter() - t:.1f} s ({work})")
        for r in range(args.rounds):
            for fmt in formats:
                runs: list[tuple[str, Callable[[], tuple[float, float]]]] = [
                    ("load", lambda fmt=fmt: load(work / "load.duckdb", fmt, paths[fmt])),
                    ("plain", lambda fmt=fmt: plain(work / "plain.duckdb", fmt, paths[fmt])),
                ]
                for name, run in runs:
                    times.setdefault((fmt, name), []).append(run())
                # each ingest in a process of its own, as `xinyong ingest` runs (per-process caches count)
                trees = [("before", args.before)] if args.before else []
                for label, src in [*trees, ("ingest", args.src)]:
                    db = fresh(work / f"{label}.duckdb")
                    for name in (label, f"{label}-rerun" if label == "before" else "rerun"):
                        out = subprocess.run([sys.executable, __file__, "--child", str(src), str(db),
                                              str(paths[fmt])], capture_output=True, text=True, check=True)
                        wall, cpu, new, dup, rej = out.stdout.strip().splitlines()[-1].split()
                        times.setdefault((fmt, name), []).append((float(wall), float(cpu)))
                        if r == 0:
                            print(f"{fmt} {name}: new {int(new):,}, duplicates {int(dup):,}, rejected {int(rej):,}")
            print(f"round {r + 1}: " + "  ".join(f"{f}/{k} {v[-1][0]:.2f}s" for (f, k), v in times.items()),
                  flush=True)
        profiles = profile_text(args, work, paths, formats, n)
    for i, what in ((0, "wall"), (1, "CPU (all threads)")):
        print(f"\n{what}: {'format':<8}{'contender':<13}{'M rows/s':>9}   {'x of load (min-max)':<22}"
              f"{'x of plain (min-max)':<22}")
        for fmt in formats:
            for name in ("load", "plain", "before", "before-rerun", "ingest", "rerun"):
                if (fmt, name) not in times:
                    continue
                secs = [t[i] for t in times[(fmt, name)]]
                cells = []
                for base in ("load", "plain"):
                    ratios = [a / b[i] for a, b in zip(secs, times[(fmt, base)], strict=True)]
                    cells.append(f"{statistics.median(ratios):5.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
                print(f"{'':<{len(what) + 2}}{fmt:<8}{name:<13}{n / statistics.median(secs) / 1e6:9.2f}   "
                      f"{cells[0]:<22}{cells[1]:<22}")
    print("target: ingest >= 1 M rows/s for csv and parquet, >= 0.5 M rows/s for jsonl")
    print(profiles, end="")
    write_json(args.json, formats, times, n)


def profile_text(args: argparse.Namespace, work: Path, paths: dict[str, Path], formats: list[str], n: int) -> str:
    """One ingest per format, its stages one after the other, in a process of its own."""
    import json

    out = []
    if not args.no_profile:
        for fmt in formats:
            cmd = [sys.executable, __file__, "--src", str(args.src), "--profile-child",
                   str(work / "profile.duckdb"), str(paths[fmt])]
            if args.batch_rows:
                cmd += ["--batch-rows", str(args.batch_rows)]
            stages = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            total = sum(w for w, _ in stages.values())
            out.append(f"\nprofile, {fmt}, {n:,} rows, stages one after the other (wall s, CPU s of all threads):")
            out += [f"  {wall:6.2f} {cpu:6.2f}  {name}" for name, (wall, cpu) in stages.items()]
            out.append(f"  {total:6.2f}         total ({n / total / 1e6:.2f} M rows/s, stages in sequence)")
    return "\n".join(out) + "\n"


TARGET_ROWS_S = {"csv": 1e6, "parquet": 1e6, "jsonl": 5e5}
READER = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


def write_json(path: Path | None, formats: list[str], times: dict[tuple[str, str], list[tuple[float, float]]],
               n: int) -> None:
    """One row per format for ``bench/all.py`` (ratio: ingest time / load time, lower is better)."""
    if path is None:
        return
    sys.path.insert(0, str(HERE))
    from abtable import Row, write_rows

    rows = []
    for fmt in formats:
        walls = {k: [t[0] for t in times[(fmt, k)]] for k in ("load", "plain", "ingest")}
        ratios = [a / b for a, b in zip(walls["ingest"], walls["load"], strict=True)]
        floor = [a / b for a, b in zip(walls["plain"], walls["load"], strict=True)]
        rate = n / statistics.median(walls["ingest"])
        target = TARGET_ROWS_S[fmt]
        rows.append(Row(
            f"`xinyong ingest`, {n / 1e6:g} M-row {fmt}", f"{rate / 1e6:.2f} M rows/s",
            f"DuckDB {READER[fmt]} into a table: {n / statistics.median(walls['load']) / 1e6:.2f} M rows/s",
            statistics.median(ratios), min(ratios), max(ratios), f">= {target / 1e6:g} M rows/s", rate >= target,
            f"ratio: ingest time / load time (lower is better); floor (INSERT with the sha256 content id, no "
            f"validation) {statistics.median(floor):.2f}x of load, {n / statistics.median(walls['plain']) / 1e6:.2f} "
            "M rows/s", {"rows_per_s": rate}))
    write_rows(path, rows)


if __name__ == "__main__":
    main()
