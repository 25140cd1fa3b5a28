"""Benchmark: bulk ingest of Parquet (validated, deduplicated, audited) against a plain INSERT.

Usage: python bench/ingest.py [--records 2_000_000] [--subjects N] [--batch-rows N] [--keep DIR]

Generates ``records`` valid records (``xinyong.lab.bulk``; the court enforcement types, so that one
source submits the whole file) into Parquet, then in the same run times:

- ``plain``: ``INSERT INTO records SELECT <sha256 id>, … FROM read_parquet(…)`` into a fresh store, no
  validation, no dedup, no subjects, no audit (the floor for what DuckDB does with the same bytes);
- ``ingest``: ``xinyong.service.ingest.ingest_files`` into a fresh store (``RecordValidator`` in its own
  in-memory DuckDB, then the store's ``append_checked``);
- ``rerun``: the same file again into that store (every row a duplicate).

Prints rows/s and the ratio to ``plain``. Nothing here is asserted: figures are for the changelog.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2025, 1, 1)
SOURCE = "court.enforcement"


def generate(path: Path, records: int, subjects: int) -> None:
    from xinyong.lab.bulk import generate_bulk_records
    from xinyong.policy.loader import load_catalogue

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    types = list(cat.source(SOURCE).may_submit)
    generate_bulk_records(path, records=records, subjects=subjects, seed=1, as_of=AS_OF, types=types,
                          catalogue=cat)


def plain(db: Path, parquet: Path) -> float:
    """The floor: the same rows and the same id, straight into ``records``."""
    from xinyong.store.duckdb_store import DuckDBStore

    with DuckDBStore.open(db) as store:
        con = store.connection
        started = time.perf_counter()
        con.execute(
            "INSERT INTO records SELECT substr(sha256(concat_ws(chr(31), subject, source, type, "
            "CAST(occurred AS VARCHAR), CAST(decided AS VARCHAR), document, "
            "coalesce(CAST(amount AS VARCHAR), ''))), 1, 32), subject, source, type, occurred, decided, "
            "document, amount, 'plain', now()::TIMESTAMP FROM read_parquet(?)", [str(parquet)])
        return time.perf_counter() - started


def ingest(db: Path, parquet: Path, batch_rows: int | None) -> tuple[float, int, int, int]:
    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.loader import load_catalogue
    from xinyong.service.ingest import DEFAULT_BATCH_ROWS, ingest_files
    from xinyong.store.duckdb_store import DuckDBStore

    cat = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    with DuckDBStore.open(db) as store:
        started = time.perf_counter()
        s = ingest_files(store, [parquet], SOURCE, cat, default_schemes(), AS_OF,
                         batch_rows=batch_rows or DEFAULT_BATCH_ROWS, write_reports=False)
        return time.perf_counter() - started, s.accepted, s.duplicates, s.rejected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    ap.add_argument("--subjects", type=lambda s: int(s.replace("_", "")), default=0,
                    help="default: records / 10")
    ap.add_argument("--batch-rows", type=lambda s: int(s.replace("_", "")), default=None)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep (default: temp)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    subjects = args.subjects or max(args.records // 10, 1)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        parquet = work / "records.parquet"
        if not parquet.exists():
            t = time.perf_counter()
            generate(parquet, args.records, subjects)
            print(f"generated {args.records:,} records / {subjects:,} subjects in "
                  f"{time.perf_counter() - t:.1f} s -> {parquet}")
        for name in ("plain.duckdb", "ingest.duckdb"):
            (work / name).unlink(missing_ok=True)
            Path(f"{work / name}.wal").unlink(missing_ok=True)
        n = args.records
        base = plain(work / "plain.duckdb", parquet)
        first, acc1, dup1, rej1 = ingest(work / "ingest.duckdb", parquet, args.batch_rows)
        second, acc2, dup2, rej2 = ingest(work / "ingest.duckdb", parquet, args.batch_rows)

    def line(name: str, secs: float, extra: str = "") -> str:
        return (f"{name:<8} {secs:7.2f} s  {n / secs / 1e6:6.2f} M rows/s  x{secs / base:5.2f} of plain"
                f"{extra}")

    print(line("plain", base))
    print(line("ingest", first, f"  (new {acc1:,}, duplicates {dup1:,}, rejected {rej1:,})"))
    print(line("rerun", second, f"  (new {acc2:,}, duplicates {dup2:,}, rejected {rej2:,})"))


if __name__ == "__main__":
    main()
