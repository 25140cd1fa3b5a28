"""Benchmark: how far one machine goes — the store's own run, DuckDB over the lake, Spark over the lake.

Usage: python bench/scale.py [--sizes 1M,10M] [--rounds 5] [--rounds-large 3] [--work DIR] [--master local[2]]

For each size: a DuckDB store with N synthetic records (N/10 subjects, the benchmark policy
bench/policy.yaml published), exported to a lake with ``xinyong export`` (rows/s), then in alternating
rounds (A B C A B C …) the real commands, each in its own process:

- ``duckdb-file``  ``xinyong evaluate --db store``                        (the store's run, snapshot stored)
- ``duckdb-lake``  ``xinyong evaluate --engine duckdb --lake DIR``          (snapshot written as Parquet)
- ``spark``        ``xinyong evaluate --engine spark --lake DIR --master M`` (same, JVM start included)

Each process tree's peak RSS (the Python CLI plus Spark's JVM) is sampled from /proc every 0.2 s.
Prints per-size wall seconds (median) and the engine's own seconds, peak RSS, the median of per-round
ratios spark/duckdb-lake and duckdb-lake/duckdb-file with min-max, export rows/s, ``import-snapshot``
rows/s, bytes per record on disk (store file, lake), and the fitted growth exponent between sizes.
``--index DB`` measures the decision service's index instead (resident bytes per subject).
Self-contained: needs the project, Java 17 for Spark, and disk for the store and the lake of each size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2026, 6, 30)
TYPES = ["contract.breach", "court.breach_finding", "admin.damage_public_utilities", "civic.volunteering",
         "civic.blood_donation", "court.refuse_perform"]
CONTENDERS = ("duckdb-file", "duckdb-lake", "spark")


def parse_size(text: str) -> int:
    text = text.strip().upper().replace("_", "")
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * mult)


def generate(db: Path, records: int) -> None:
    """A migrated store with the benchmark policy published and random records (ids unique), written by
    DuckDB itself: identifiers are not validated here, the engines never read them."""
    from xinyong.store import open_store

    subjects = max(records // 10, 1)
    with open_store(str(db), create=True, migrate=True) as store:
        policy = (HERE / "policy.yaml").read_text(encoding="utf-8").replace("../policies/catalogue.yaml",
                                                                            "catalogue.yaml")
        store.publish_policy("bench", "1", policy,
                             (ROOT / "policies" / "catalogue.yaml").read_text(encoding="utf-8"), actor="bench")
        con: Any = store.connection  # type: ignore[attr-defined]
        type_case = (f"CASE hash(i * 7) % {len(TYPES)} "
                     + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(TYPES)) + " END")
        con.execute(f"""INSERT INTO subjects (id, scheme, kind) SELECT 'cn.uscc:' || lpad(i::VARCHAR, 18, '0'),
                        'cn.uscc', 'organisation' FROM range({subjects}) t(i)""")
        # records carry their subject's number (migration 011), as the ingest writes them
        con.execute(f"""
            INSERT INTO records
            SELECT md5(i::VARCHAR)[:32], s.id, 'bench',
                   {type_case}, DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER) - 10,
                   DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER), 'doc', NULL, 'b0', now(), s.sid
            FROM range({records}) t(i) JOIN subjects s ON s.id = 'cn.uscc:' || lpad((i % {subjects})::VARCHAR, 18, '0')
            ORDER BY hash(i * 13)""")
        con.execute("CHECKPOINT")


class TreeRss:
    """Peak summed RSS of a process and all its descendants, sampled from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree_rss(self) -> int:
        parent: dict[int, int] = {}
        rss: dict[int, int] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                parent[int(d)] = int(fields[1])
                rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                continue
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            p = frontier.pop()
            for c, pp in parent.items():
                if pp == p and c not in tree:
                    tree.add(c)
                    frontier.append(c)
        return sum(rss.get(p, 0) for p in tree)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree_rss())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def xinyong(*args: str) -> tuple[float, int, Any]:
    """Run the CLI (``--json``); wall seconds, peak tree RSS in bytes, parsed output."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "xinyong", *args, "--json"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rss = TreeRss(proc.pid)
    out, err = proc.communicate()
    peak = rss.stop()
    if proc.returncode != 0:
        raise SystemExit(f"xinyong {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return time.perf_counter() - started, peak, json.loads(out)


def run_contender(name: str, db: Path, lake: Path, master: str) -> dict[str, float]:
    day = ["--as-of", AS_OF.isoformat()]
    if name == "duckdb-file":
        wall, peak, out = xinyong("evaluate", "--db", str(db), *day)
    elif name == "duckdb-lake":
        wall, peak, out = xinyong("evaluate", "--engine", "duckdb", "--lake", str(lake), "--db", str(db), *day)
    else:
        wall, peak, out = xinyong("evaluate", "--engine", "spark", "--lake", str(lake), "--master", master,
                                  "--db", str(db), *day)
    return {"wall": wall, "engine": float(out[0]["seconds"]), "rss": peak, "subjects": out[0]["subjects"],
            "snapshot": out[0].get("snapshot", "")}


def ratio_line(label: str, a: list[float], b: list[float]) -> str:
    r = [x / y for x, y in zip(a, b, strict=True)]
    return f"{label}: median {statistics.median(r):.2f}x (min {min(r):.2f}, max {max(r):.2f}, {len(r)} rounds)"


def du(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_size(records: int, rounds: int, work: Path, master: str) -> dict[str, Any]:
    here = work / f"n{records}"
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    db, lake = here / "store.duckdb", here / "lake"
    t = time.perf_counter()
    generate(db, records)
    print(f"\n== {records:,} records, {records // 10:,} subjects (generated in {time.perf_counter() - t:.0f} s)",
          flush=True)
    wall, peak, out = xinyong("export", "--parquet", str(lake), "--db", str(db))
    rec = next(o for o in out if o["table"] == "records")
    export = {"wall": wall, "rows": sum(o["rows"] for o in out), "records_seconds": rec["seconds"], "rss": peak}
    print(f"export: {export['rows']:,} rows in {wall:.1f} s wall ({export['rows'] / wall:,.0f} rows/s); records "
          f"table {rec['rows'] / rec['seconds']:,.0f} rows/s; peak RSS {peak / 2**20:,.0f} MB", flush=True)
    results: dict[str, list[dict[str, float]]] = {c: [] for c in CONTENDERS}
    for i in range(rounds):
        # the working tree may gain a migration while a long benchmark runs: apply it, as a user would
        subprocess.run([sys.executable, "-m", "xinyong", "migrate", "--db", str(db)], cwd=ROOT, check=True,
                       capture_output=True)
        for c in CONTENDERS:
            r = run_contender(c, db, lake, master)
            results[c].append(r)
            print(f"  round {i + 1} {c:<12} wall {r['wall']:7.1f} s  engine {r['engine']:7.1f} s  "
                  f"peak RSS {r['rss'] / 2**20:7,.0f} MB  load {os.getloadavg()[0]:.1f}", flush=True)
            if c != "duckdb-file" and i < rounds - 1:  # keep the last snapshots: one is imported below
                shutil.rmtree(str(r["snapshot"]), ignore_errors=True)
    snap = Path(str(results["duckdb-lake"][-1]["snapshot"]))
    iwall, _, iout = xinyong("import-snapshot", str(snap), "--db", str(db))
    imported = int(iout[0]["subjects"]) + sum(int(v) for v in iout[0]["lists"].values())
    summary = {
        "records": records, "export": export, "results": results,
        "import": {"rows": imported, "seconds": iout[0]["import_seconds"], "wall": iwall},
        "bytes_store": du(db), "bytes_lake": du(lake / "records") + du(lake / "subjects") + du(lake / "amendments"),
    }
    for c in CONTENDERS:
        rs = results[c]
        print(f"{c:<12} wall median {statistics.median(r['wall'] for r in rs):7.1f} s  engine median "
              f"{statistics.median(r['engine'] for r in rs):7.1f} s  "
              f"peak RSS max {max(r['rss'] for r in rs) / 2**20:,.0f} MB"
              f"  ({records / statistics.median(r['engine'] for r in rs):,.0f} records/s)")
    print(ratio_line("spark / duckdb-lake (wall)", [r["wall"] for r in results["spark"]],
                     [r["wall"] for r in results["duckdb-lake"]]))
    print(ratio_line("spark / duckdb-lake (engine)", [r["engine"] for r in results["spark"]],
                     [r["engine"] for r in results["duckdb-lake"]]))
    print(ratio_line("duckdb-lake / duckdb-file (engine)", [r["engine"] for r in results["duckdb-lake"]],
                     [r["engine"] for r in results["duckdb-file"]]))
    print(f"import-snapshot: {imported:,} rows in {summary['import']['seconds']:.2f} s "
          f"({imported / max(summary['import']['seconds'], 1e-9):,.0f} rows/s)")
    print(f"disk: store {summary['bytes_store'] / records:.0f} B/record, lake {summary['bytes_lake'] / records:.0f} "
          "B/record")
    return summary


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def index_memory(db: Path) -> None:
    """The decision service's in-memory index (``Registry.decision_index``) built from the store's latest
    runs: resident bytes per indexed subject and build seconds (``--index DB``)."""
    import gc
    import tracemalloc

    from xinyong.service.registry import Registry
    from xinyong.store import open_store

    with open_store(str(db), create=False, migrate=False) as store:
        reg = Registry(store, actor="bench")
        reg.policies(AS_OF)
        gc.collect()
        before, t = _rss(), time.perf_counter()
        index = reg.decision_index(AS_OF)
        seconds = time.perf_counter() - t
        gc.collect()
        grown = _rss() - before
        del index
        gc.collect()
        tracemalloc.start()
        index = reg.decision_index(AS_OF)  # again, traced: the Python objects the index keeps
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]  # measured while `index` is alive
        tracemalloc.stop()
        del index
        n = store.subject_count()  # the register's subjects: the index keeps entries only for some
    print(f"decision index: {n:,} subjects in {seconds:.2f} s ({seconds / max(n, 1) * 1e6:.2f} s per million); "
          f"{kept / max(n, 1):.0f} bytes per subject of Python objects kept; process RSS grew "
          f"{grown / max(n, 1):.0f} bytes per subject (with the database's buffers)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--rounds", type=int, default=5, help="rounds at sizes below 10M")
    ap.add_argument("--rounds-large", type=int, default=3, help="rounds at 10M records and above")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--work", type=Path, default=Path("/tmp/xinyong-scale"))
    ap.add_argument("--out", type=Path, default=None, help="write every measurement as JSON here")
    ap.add_argument("--index", type=Path, default=None, help="only measure the decision index of this store")
    args = ap.parse_args()
    if args.index:
        index_memory(args.index)
        return
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()}; master {args.master}")
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    summaries = [bench_size(n, args.rounds if n < 10_000_000 else args.rounds_large, args.work, args.master)
                 for n in sizes]
    if len(summaries) > 1:
        import math

        a, b = summaries[0], summaries[-1]
        for c in CONTENDERS:
            ta = statistics.median(r["engine"] for r in a["results"][c])
            tb = statistics.median(r["engine"] for r in b["results"][c])
            k = math.log(tb / ta) / math.log(b["records"] / a["records"])
            print(f"growth {c}: time ~ records^{k:.2f} between {a['records']:,} and {b['records']:,}")
    if args.out:
        args.out.write_text(json.dumps(summaries, indent=2, default=str))


if __name__ == "__main__":
    main()
