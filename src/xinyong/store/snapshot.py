"""The store's side of the lake: tables streamed out for export, snapshots computed elsewhere loaded in.

A national register is evaluated where its records are spread out (Spark over a Parquet lake), not in
the store; the store still owns the truth and the audit log. So the lake is written from pages of the
store's tables, sorted by the subject's hash bucket and the subject (one pass, one sort that the
database may spill to disk), and a snapshot comes back through :func:`import_snapshot`, which writes
exactly the rows :meth:`SqlStore.write_run` would: assessments, listings and the run row with the audit
head the snapshot reflects, so decisions, the public list and the subject file cannot tell the two apart.

The bucket is computed with ``md5`` and ``strpos``, which DuckDB and PostgreSQL both have, so the same
register lands in the same buckets whichever backend holds it.

A snapshot directory holds ``assessments/*.parquet``, ``listings/*.parquet`` and ``_manifest.json``
(``format: xinyong.snapshot/1``: run, policy, version, as_of, counts, every file's sha256, and the lake
it was computed from with the audit entries of that lake's exports). The engines write it
(``xinyong.engines.lake``); the store reads it here and trusts nothing it cannot check: file hashes must
match, the policy version must be published, and the lake's export entries must be in this store's
audit chain (a snapshot of another register is refused).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import InvalidInput, NotFound, StoreError
from xinyong.model.runs import RunSummary
from xinyong.store.protocol import LakePages

if TYPE_CHECKING:
    from xinyong.store.sql_store import SqlStore

SNAPSHOT_FORMAT = "xinyong.snapshot/1"
DEC = pa.decimal128(18, 2)

#: table → (select list over alias ``t``, subject expression, Arrow schema of the lake file)
LAKE_TABLES: dict[str, tuple[str, str, pa.Schema]] = {
    "records": (
        "t.id, t.subject, t.source, t.type, t.occurred, t.decided, t.document, t.amount", "t.subject",
        pa.schema([("id", pa.string()), ("subject", pa.string()), ("source", pa.string()),
                   ("type", pa.string()), ("occurred", pa.date32()), ("decided", pa.date32()),
                   ("document", pa.string()), ("amount", DEC)])),
    "amendments": (
        "t.id, t.record, r.subject, t.kind, t.effective, t.reason, t.document, t.amount", "r.subject",
        pa.schema([("id", pa.string()), ("record", pa.string()), ("subject", pa.string()),
                   ("kind", pa.string()), ("effective", pa.date32()), ("reason", pa.string()),
                   ("document", pa.string()), ("amount", DEC)])),
    "subjects": (
        "t.id, t.scheme, t.kind, t.name", "t.id",
        pa.schema([("id", pa.string()), ("scheme", pa.string()), ("kind", pa.string()),
                   ("name", pa.string())])),
}
HEX = "'0123456789abcdef'"
EXPORT_MEMORY = "1GB"


def bucket_sql(subject: str, buckets: int) -> str:
    """The subject's bucket in ``[0, buckets)``: the first two hex digits of its md5, modulo."""
    digit = [f"(strpos({HEX}, substr(md5({subject}), {i}, 1)) - 1)" for i in (1, 2)]
    return f"(({digit[0]} * 16 + {digit[1]}) % {buckets})"


def export_pages(store: SqlStore, table: str, *, buckets: int, page_rows: int) -> LakePages:
    """:meth:`LakeExport.export_table`: the count and audit head now, the pages when iterated."""
    if table not in LAKE_TABLES:
        raise InvalidInput(f"cannot export {table!r}: choose one of {', '.join(LAKE_TABLES)}", field="table")
    if not 1 <= buckets <= 256:
        raise InvalidInput("buckets must be between 1 and 256", field="buckets")
    columns, subject, schema = LAKE_TABLES[table]
    source = "amendments t JOIN records r ON r.id = t.record" if table == "amendments" else f"{table} t"
    head = store._scalar("SELECT max(seq) FROM audit_log")
    rows = store._scalar(f"SELECT count(*) FROM {source}")
    key = "t.id" if table == "subjects" else f"{subject}, t.id"
    sql = (f"SELECT {columns}, CAST({bucket_sql(subject, buckets)} AS INTEGER) AS bucket FROM {source} "
           f"ORDER BY bucket, {key}")
    out_schema = schema.append(pa.field("bucket", pa.int32()))
    return LakePages(table, rows, head, buckets, schema, _pages(store, sql, out_schema, page_rows))


def _pages(store: SqlStore, sql: str, schema: pa.Schema, page_rows: int) -> Iterator[pa.RecordBatch]:
    """Arrow pages: DuckDB hands out record batches natively; any other store is read through its
    streaming cursor and the tuples are turned into columns a page at a time."""
    cursor = getattr(store, "cursor", None)
    if store.dialect == "duckdb" and callable(cursor):
        con: Any = cursor()
        # the sort is DuckDB's: cap its memory for the export so it spills instead of growing with the
        # register (the limit is the database's, so the previous one is put back afterwards)
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute(f"SET memory_limit = '{EXPORT_MEMORY}'")
        try:
            reader = con.sql(sql).to_arrow_reader(page_rows)
            for batch in reader:
                if batch.schema.equals(schema):
                    yield batch
                    continue
                yield pa.RecordBatch.from_arrays(
                    [c if c.type == f.type else c.cast(f.type) for c, f in zip(batch.columns, schema, strict=True)],
                    schema=schema)
        finally:
            con.execute(f"SET memory_limit = '{limit}'")
            con.close()
        return
    page: list[tuple[Any, ...]] = []
    for row in store._stream(sql):
        page.append(row)
        if len(page) >= page_rows:
            yield _batch(page, schema)
            page = []
    if page:
        yield _batch(page, schema)


def _batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    return pa.RecordBatch.from_arrays([pa.array(list(c), f.type) for c, f in zip(cols, schema, strict=True)],
                                      schema=schema)


# -- import ---------------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    """The snapshot's manifest, checked for its format and for every file's size and sha256."""
    path = directory / "_manifest.json"
    if not path.is_file():
        raise NotFound(f"{directory} is not a snapshot (no _manifest.json)", field="snapshot")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable manifest ({exc})", field="snapshot") from None
    if manifest.get("format") != SNAPSHOT_FORMAT:
        raise InvalidInput(f"{path}: format {manifest.get('format')!r}, expected {SNAPSHOT_FORMAT}",
                           field="snapshot")
    for part in ("assessments", "listings"):
        for f in manifest["files"][part]:
            file = directory / f["path"]
            if not file.is_file() or file.stat().st_size != f["bytes"] or file_sha256(file) != f["sha256"]:
                raise InvalidInput(f"{file}: missing or changed since the snapshot was written "
                                   "(size or sha256 differs from the manifest)", field="snapshot")
    return manifest


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_lake(store: SqlStore, manifest: dict[str, Any]) -> int:
    """The audit head the snapshot reflects: the earliest head among the lake's table exports, each of
    whose audit entries must be in this store's chain with the same hash."""
    heads = []
    for table, entry in sorted(manifest["lake"].items()):
        row = store._one("SELECT hash FROM audit_log WHERE seq = ?", [entry["audit"]["seq"]])
        if row is None or row[0] != entry["audit"]["hash"]:
            raise InvalidInput(f"the lake's {table} export (audit entry {entry['audit']['seq']}) is not in this "
                               "store's audit log: the snapshot was computed from another register",
                               field="snapshot")
        heads.append(int(entry["source_audit_seq"]))
    if not heads:
        raise InvalidInput("the snapshot names no lake it was computed from", field="snapshot")
    return min(heads)


def import_snapshot(store: SqlStore, directory: Path, actor: str) -> RunSummary:
    """:meth:`SnapshotImport.import_snapshot`: all or nothing, audited like an evaluation."""
    if store.read_only:
        raise StoreError(f"store {store.url} is open read-only; it cannot import a snapshot")
    m = read_manifest(directory)
    run, policy, version = str(m["run"]), str(m["policy"]), str(m["version"])
    as_of = date.fromisoformat(m["as_of"])
    with store.transaction():
        if store._one("SELECT 1 FROM policy_versions WHERE policy = ? AND version = ?", [policy, version]) is None:
            raise NotFound(f"policy {policy} version {version} is not published in {store.url}", field="policy")
        if store._one("SELECT 1 FROM assessment_runs WHERE run = ?", [run]) is not None:
            raise InvalidInput(f"run {run} is already in the store", field="snapshot")
        head = _check_lake(store, m)
        _load(store, directory, m, run)
        subjects = store._scalar("SELECT count(*) FROM assessments WHERE run = ?", [run])
        if subjects != m["subjects"]:
            raise InvalidInput(f"{directory}: {subjects:,} assessments read, the manifest says {m['subjects']:,}",
                               field="snapshot")
        store._run("INSERT INTO assessment_runs (run, policy, version, as_of, created_at, subjects, records, "
                   "seconds, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [run, policy, version, as_of, utc_now(), subjects, int(m["records"]), float(m["seconds"]), head])
        store.append_audit([AuditEntry(0, utc_now(), actor, "evaluate", detail={
            "policy": f"{policy}@{version}", "as_of": as_of.isoformat(), "run": run, "subjects": subjects,
            "engine": m["engine"], "snapshot": m["content_hash"], "imported": True})])
    tiers = {(None if k == "none" else k): int(v) for k, v in m["tiers"].items()}
    return RunSummary(run=run, policy=policy, version=version, as_of=as_of, subjects=subjects,
                      records=int(m["records"]), seconds=float(m["seconds"]), tiers=tiers,
                      lists={k: int(v) for k, v in m["lists"].items()})


_COLUMNS = {"assessments": ("subject", "score", "tier"), "listings": ("subject", "list", "kind", "since", "until")}


def _load(store: SqlStore, directory: Path, m: dict[str, Any], run: str) -> None:
    """Rows into ``assessments`` and ``listings``: DuckDB reads the Parquet files itself; any other
    store gets them a row group at a time through its bulk insert."""
    for part, cols in _COLUMNS.items():
        files = [str(directory / f["path"]) for f in m["files"][part]]
        if not files:
            continue
        if store.dialect == "duckdb":
            select = ", ".join("CAST(score AS INTEGER)" if c == "score" else c for c in cols)
            store._run(f"INSERT INTO {part} (run, {', '.join(cols)}) SELECT ?, {select} "
                       f"FROM read_parquet(?)", [run, files])
            continue
        for file in files:
            pf = pq.ParquetFile(file)
            for batch in pf.iter_batches(batch_size=65_536, columns=list(cols)):
                values = [batch.column(c).to_pylist() for c in cols]
                store._insert(part, ("run", *cols), [(run, *row) for row in zip(*values, strict=True)])
