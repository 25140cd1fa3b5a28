"""The Parquet lake: its layout, how a table is written into it, and DuckDB evaluating over it.

Layout of a lake directory::

    records/bucket=NN/part-0.parquet      sorted by (subject, id) inside the file
    records/_manifest.json                rows, files with sha256, content hash, audit entry of the export
    amendments/…  subjects/…              the same (amendments carry their record's subject)
    snapshots/<run>/                      what an engine wrote (assessments/, listings/, _manifest.json)

Buckets are hive partitions (``bucket=NN``), so Spark and DuckDB read the directory as one table and a
subject's records are in one file, next to each other: the GROUP BY subject needs no global shuffle of
unrelated keys. A table is written to a staging directory and swapped in only if its content hash differs
from what is there, so re-exporting an unchanged register writes nothing.

:class:`DuckDBLakeEngine` is the single-machine engine for registers larger than memory: an in-memory
DuckDB that reads the Parquet files and spills to a temporary directory.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.engines.compiler import compile_policy
from xinyong.engines.protocol import Snapshot
from xinyong.policy.loader import LoadedPolicy

TABLES = ("records", "amendments", "subjects")
LAKE_FORMAT = "xinyong.lake/1"
SNAPSHOT_FORMAT = "xinyong.snapshot/1"
MANIFEST = "_manifest.json"


class Pages(Protocol):
    """A table streamed out of a store (the store's ``LakePages``): known size, pages sorted by bucket."""

    @property
    def table(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def audit_seq(self) -> int: ...
    @property
    def buckets(self) -> int: ...
    @property
    def schema(self) -> pa.Schema: ...
    @property
    def batches(self) -> Iterator[pa.RecordBatch]: ...


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _content_hash(files: list[dict[str, Any]]) -> str:
    """One hash for a set of files: their relative paths and sha256s, sorted."""
    text = "".join(f"{f['path']}\t{f['sha256']}\n" for f in sorted(files, key=lambda f: f["path"]))
    return hashlib.sha256(text.encode()).hexdigest()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


# -- export ---------------------------------------------------------------------------------------------


def table_manifest(root: Path, table: str) -> dict[str, Any] | None:
    return read_json(root / table / MANIFEST)


def unchanged(root: Path, pages: Pages, store_id: str) -> bool:
    """True when the lake already holds this table as the store has it now. Records and amendments are
    append-only and subjects are only ever added, so the same row count from the same store means the
    same rows; the files must still be there with their sizes."""
    m = table_manifest(root, pages.table)
    if m is None or m.get("format") != LAKE_FORMAT:
        return False
    if (m["rows"], m["buckets"], m["store"]) != (pages.rows, pages.buckets, store_id):
        return False
    return all((root / pages.table / f["path"]).is_file()
               and (root / pages.table / f["path"]).stat().st_size == f["bytes"] for f in m["files"])


@dataclass
class Staged:
    """A table written to a staging directory, waiting for its audit entry before it is swapped in."""

    root: Path
    table: str
    staging: Path
    manifest: dict[str, Any]

    @property
    def content_hash(self) -> str:
        return str(self.manifest["content_hash"])

    def same_as_current(self) -> bool:
        old = table_manifest(self.root, self.table)
        return old is not None and old.get("content_hash") == self.content_hash

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, audit: dict[str, Any]) -> dict[str, Any]:
        """Write the manifest with the export's audit entry and swap the table in."""
        self.manifest["audit"] = audit
        write_json(self.staging / MANIFEST, self.manifest)
        final = self.root / self.table
        old = self.root / f".{self.table}.old-{uuid.uuid4().hex[:8]}"
        if final.exists():
            final.rename(old)
        self.staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return self.manifest


def write_table(root: Path, pages: Pages, *, store_id: str, store_schema: int,
                progress: Callable[[int], None] | None = None, compression: str = "snappy") -> Staged:
    """Stream the pages into one Parquet file per bucket (bounded memory: one page at a time)."""
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{pages.table}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    schema = pages.schema
    writer: pq.ParquetWriter | None = None
    current = -1
    files: list[dict[str, Any]] = []
    counts: dict[int, int] = {}

    def close() -> None:
        if writer is not None:
            writer.close()

    try:
        for batch in pages.batches:
            buckets = batch.column("bucket").to_numpy(zero_copy_only=False)
            cuts = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist(), len(buckets)]
            data = pa.RecordBatch.from_arrays([batch.column(f.name) for f in schema], schema=schema)
            for lo, hi in itertools.pairwise(cuts):
                if hi <= lo:
                    continue
                b = int(buckets[lo])
                if b != current:
                    close()
                    path = staging / f"bucket={b:03d}" / "part-0.parquet"
                    path.parent.mkdir()
                    writer = pq.ParquetWriter(path, schema, compression=compression)
                    current = b
                assert writer is not None
                writer.write_batch(data.slice(lo, hi - lo))
                counts[b] = counts.get(b, 0) + hi - lo
            if progress is not None:
                progress(batch.num_rows)
        if not counts:  # an empty table is one empty file, so every reader finds its columns
            (staging / "bucket=000").mkdir()
            pq.write_table(schema.empty_table(), staging / "bucket=000" / "part-0.parquet",
                           compression=compression)
            counts[0] = 0
        close()
        writer = None
    except BaseException:
        close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for b in sorted(counts):
        rel = f"bucket={b:03d}/part-0.parquet"
        path = staging / rel
        files.append({"path": rel, "bucket": b, "rows": counts[b], "bytes": path.stat().st_size,
                      "sha256": sha256_file(path)})
    manifest = {
        "format": LAKE_FORMAT, "table": pages.table, "rows": sum(counts.values()), "buckets": pages.buckets,
        "store": store_id, "store_schema": store_schema, "source_audit_seq": pages.audit_seq,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files,
        "columns": [f.name for f in schema], "content_hash": _content_hash(files),
    }
    return Staged(root, pages.table, staging, manifest)


# -- reading a lake -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lake:
    """An exported lake: every table present with its manifest."""

    root: Path
    manifests: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, root: Path) -> Lake:
        """The lake at ``root``, with absolute paths: a cluster's executors do not share the driver's
        working directory."""
        root = root.resolve()
        manifests = {}
        for t in TABLES:
            m = table_manifest(root, t)
            if m is None or m.get("format") != LAKE_FORMAT:
                raise FileNotFoundError(f"{root} has no exported {t} (run `xinyong export --parquet {root}`)")
            manifests[t] = m
        return cls(root, manifests)

    def files(self, table: str) -> list[str]:
        return [str(self.root / table / f["path"]) for f in self.manifests[table]["files"]]

    def rows(self, table: str) -> int:
        return int(self.manifests[table]["rows"])

    def refs(self) -> dict[str, dict[str, Any]]:
        """What a snapshot records of the lake it came from (checked against the store on import)."""
        return {t: {"content_hash": m["content_hash"], "rows": m["rows"], "audit": m["audit"],
                    "source_audit_seq": m["source_audit_seq"]} for t, m in self.manifests.items()}


def new_run_id(lp: LoadedPolicy, as_of: date) -> str:
    return f"{lp.policy.id}-{as_of.isoformat()}-{uuid.uuid4().hex[:8]}"


def finish_snapshot(out: Path, *, run: str, lp: LoadedPolicy, as_of: date, engine: str, lake: Lake,
                    seconds: float, tiers: dict[str | None, int], lists: dict[str, int]) -> Snapshot:
    """List the Parquet files the engine wrote, hash them, and write the snapshot's manifest."""
    files: dict[str, list[dict[str, Any]]] = {}
    for part in ("assessments", "listings"):
        files[part] = [{"path": str(p.relative_to(out)), "bytes": p.stat().st_size, "sha256": sha256_file(p),
                        "rows": pq.ParquetFile(p).metadata.num_rows}
                       for p in sorted((out / part).glob("*.parquet"))]
    content = _content_hash([f for fs in files.values() for f in fs])
    subjects = sum(tiers.values())
    records = lake.rows("records")
    write_json(out / MANIFEST, {
        "format": SNAPSHOT_FORMAT, "run": run, "policy": lp.policy.id, "version": lp.policy.version,
        "as_of": as_of.isoformat(), "engine": engine, "subjects": subjects, "records": records,
        "seconds": seconds, "tiers": {("none" if k is None else k): v for k, v in tiers.items()},
        "lists": lists, "files": files, "content_hash": content, "lake": lake.refs(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    return Snapshot(out, run, lp.policy.id, lp.policy.version, as_of, engine, subjects, records, seconds,
                    content, tiers, lists)


def fresh_dir(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


# -- DuckDB over the lake -------------------------------------------------------------------------------


class DuckDBLakeEngine:
    """The compiled policy in DuckDB over the lake's Parquet files; spills to ``temp_directory``."""

    name = "duckdb"

    def __init__(self, *, memory_limit: str | None = None, threads: int | None = None,
                 temp_directory: Path | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if temp_directory:
            self.con.execute(f"SET temp_directory = '{temp_directory}'")

    def close(self) -> None:
        self.con.close()

    def _views(self, lake: Lake) -> None:
        for t in TABLES:
            files = ", ".join("'" + f.replace("'", "''") + "'" for f in lake.files(t))
            self.con.execute(f"CREATE OR REPLACE VIEW {t} AS SELECT * FROM read_parquet([{files}])")

    def evaluate(self, lp: LoadedPolicy, as_of: date, lake: Lake, out: Path, *,
                 run: str | None = None) -> Snapshot:
        self._views(lake)
        run = run or new_run_id(lp, as_of)
        started = time.perf_counter()
        amended = self.con.execute("SELECT EXISTS (SELECT 1 FROM amendments WHERE effective <= ?)",
                                   [as_of]).fetchone()
        cp = compile_policy(lp, "duckdb", dedupe=False,
                            amendments="amendments" if amended and amended[0] else None)
        self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE xy_assessed AS {cp.assessment_sql(as_of, pretty=False)}")
        fresh_dir(out)
        for part in ("assessments", "listings"):
            (out / part).mkdir()
        self.con.execute(f"COPY (SELECT subject, CAST(score AS INTEGER) AS score, tier FROM xy_assessed) "
                         f"TO '{out / 'assessments' / 'part-0.parquet'}' (FORMAT parquet)")
        listings = cp.listings_query(as_of, source="xy_assessed").sql("duckdb")
        self.con.execute(f"COPY ({listings}) TO '{out / 'listings' / 'part-0.parquet'}' (FORMAT parquet)")
        tiers: dict[str | None, int] = {t: int(n) for t, n in self.con.execute(
            "SELECT tier, count(*) FROM xy_assessed GROUP BY tier").fetchall()}
        lists = {}
        for lc in cp.lists:
            row = self.con.execute(f"SELECT count({lc.column}) FROM xy_assessed").fetchone()
            lists[lc.id] = int(row[0]) if row else 0
        self.con.execute("DROP TABLE xy_assessed")
        seconds = time.perf_counter() - started
        return finish_snapshot(out, run=run, lp=lp, as_of=as_of, engine=self.name, lake=lake, seconds=seconds,
                               tiers=tiers, lists=lists)
