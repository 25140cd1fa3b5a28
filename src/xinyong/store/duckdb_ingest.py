"""Bulk ingest on the DuckDB adapter: append a checked batch (``CHECKED_SCHEMA``) atomically.

Validation happens before, in :class:`~xinyong.store.validation.RecordValidator`, independent of the
store; this is the DuckDB half of the :class:`~xinyong.store.protocol.BulkIngest` capability. The
checked Arrow table is scanned in place (no copy into Python); the new ids go back as an Arrow array and
only the batch's distinct subjects become Python strings (the caller re-assesses them).

Each batch commits in one transaction with its new subjects, its dedup keys and one audit entry, so a
crash or SIGKILL leaves whole batches or nothing, and re-running a file adds nothing (ids are content
hashes). Dedup probes ``record_keys``, the whole 128-bit id as one integer (migration 011): a probe of
16-byte keys instead of 32-character text, and a hit is a duplicate with nothing to confirm. Records
carry their subject's dictionary number (``sid``), looked up (or assigned) once per distinct subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import InvalidInput
from xinyong.store.protocol import CHECKED_SCHEMA, Appended

if TYPE_CHECKING:
    from xinyong.store.duckdb_store import DuckDBStore

KEY = "CAST('0x' || {} AS UHUGEINT)"  # a record id as its dedup key (migration 011)


def append_checked(store: DuckDBStore, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                   detail: dict[str, Any]) -> Appended:
    """Store the batch's new records, subjects and keys with one audit entry, in one transaction."""
    if not batch.schema.equals(CHECKED_SCHEMA):
        raise InvalidInput("a checked batch must have exactly CHECKED_SCHEMA", field="batch")
    con = store.connection
    ids: pa.Array | pa.ChunkedArray = pa.array([], pa.string())
    subjects: frozenset[str] = frozenset()
    accepted = 0
    with store.transaction():
        con.register("_xy_in", batch)
        try:
            if batch.num_rows:
                new_rows = "_xy_in"
                hits = _scalar(store, f"SELECT count(*) FROM record_keys WHERE key IN "
                               f"(SELECT {KEY.format('id')} FROM _xy_in)")
                if hits:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE _xy_new AS SELECT i.* FROM _xy_in i ANTI JOIN "
                                f"record_keys k ON k.key = {KEY.format('i.id')}")
                    new_rows = "_xy_new"
                if hits < batch.num_rows:
                    accepted, subjects = _insert(store, new_rows, source, batch_id)
                    ids = batch.column("id") if new_rows == "_xy_in" else \
                        con.sql("SELECT id FROM _xy_new").to_arrow_table().column(0)
                if hits:
                    con.execute("DROP TABLE _xy_new")
            duplicates = batch.num_rows - accepted
            entry = store.append_audit([AuditEntry(0, utc_now(), actor, "ingest", purpose="bulk ingest", detail={
                **detail, "batch": batch_id, "source": source, "new": accepted, "duplicates": duplicates})])
            if accepted:
                store._run("INSERT INTO ingest_batches VALUES (?, ?)", [batch_id, entry[0].entry.seq])
        finally:
            con.unregister("_xy_in")
    return Appended(batch_id, accepted, duplicates, ids, subjects)


def _insert(store: DuckDBStore, new_rows: str, source: str,
            batch_id: str) -> tuple[int, frozenset[str]]:
    """Subjects first (distinct, then only the unknown ones through the primary-key index; their
    numbers come from the sequence), then the records with their subject numbers, then the keys."""
    con = store.connection
    con.execute("CREATE OR REPLACE TEMP TABLE _xy_subj AS SELECT subject, any_value(scheme) AS scheme, "
                f"any_value(kind) AS kind FROM {new_rows} GROUP BY subject")
    con.execute("INSERT INTO subjects (id, scheme, kind) SELECT n.subject, n.scheme, n.kind "
                "FROM _xy_subj n ANTI JOIN subjects s ON s.id = n.subject")
    con.execute("CREATE OR REPLACE TEMP TABLE _xy_sid AS SELECT s.id AS subject, s.sid FROM subjects s "
                "SEMI JOIN _xy_subj n ON n.subject = s.id")
    accepted = _scalar(
        store, "INSERT INTO records (id, subject, source, type, occurred, decided, document, amount, batch, "
        "received_at, sid) SELECT n.id, n.subject, ?, n.type, n.occurred, n.decided, n.document, n.amount, ?, ?, "
        f"j.sid FROM {new_rows} n JOIN _xy_sid j ON j.subject = n.subject", [source, batch_id, utc_now()])
    con.execute(f"INSERT INTO record_keys SELECT {KEY.format('id')} FROM {new_rows}")
    subjects = frozenset(con.sql("SELECT subject FROM _xy_subj").to_arrow_table().column(0).to_pylist())
    con.execute("DROP TABLE _xy_subj; DROP TABLE _xy_sid")
    return accepted, subjects


def _scalar(store: DuckDBStore, sql: str, params: list[object] | None = None) -> int:
    rows = store.connection.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows else 0
