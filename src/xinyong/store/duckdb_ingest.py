"""Bulk ingest on the DuckDB adapter: append a checked batch (``CHECKED_SCHEMA``) atomically.

Validation happens before, in :class:`~xinyong.store.validation.RecordValidator`, independent of the
store; this is the DuckDB half of the :class:`~xinyong.store.protocol.BulkIngest` capability. The
checked Arrow table is scanned in place (no copy into Python), so a batch never becomes Python objects
except the new ids and subjects the caller needs to re-assess.

Each batch commits in one transaction with its new subjects, its dedup keys and one audit entry, so a
crash or SIGKILL leaves whole batches or nothing, and re-running a file adds nothing (ids are content
hashes). Dedup against stored records probes the narrow ``record_keys`` table: see migration 002 for the
measurements behind that choice. Figures: ``bench/ingest.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import InvalidInput
from xinyong.store.protocol import CHECKED_SCHEMA, Appended

if TYPE_CHECKING:
    from xinyong.store.duckdb_store import DuckDBStore


def append_checked(store: DuckDBStore, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                   detail: dict[str, Any]) -> Appended:
    """Store the batch's new records, subjects and keys with one audit entry, in one transaction."""
    if not batch.schema.equals(CHECKED_SCHEMA):
        raise InvalidInput("a checked batch must have exactly CHECKED_SCHEMA", field="batch")
    con = store.connection
    new_ids: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    accepted = 0
    with store.transaction():
        con.register("_xy_in", batch)
        try:
            if batch.num_rows:
                new_rows = "_xy_in"
                # candidates by 60-bit key (narrow scan), confirmed on the full id
                hits = _scalar(store, "SELECT count(*) FROM record_keys WHERE key IN (SELECT key FROM _xy_in)")
                if hits:
                    con.execute("CREATE OR REPLACE TEMP TABLE _xy_new AS SELECT * FROM _xy_in WHERE id NOT IN "
                                "(SELECT id FROM records WHERE id IN (SELECT id FROM _xy_in WHERE key IN "
                                "(SELECT key FROM record_keys WHERE key IN (SELECT key FROM _xy_in))))")
                    new_rows = "_xy_new"
                accepted = _scalar(
                    store, "INSERT INTO records (id, subject, source, type, occurred, decided, document, "
                    "amount, batch, received_at) SELECT id, subject, ?, type, occurred, decided, document, "
                    f"amount, ?, ? FROM {new_rows}", [source, batch_id, utc_now()])
                if accepted:
                    con.execute(f"INSERT INTO record_keys SELECT key FROM {new_rows}")
                    # distinct first (kept: they are the subjects to re-assess), then only the unknown
                    # ones through the primary-key index
                    con.execute("CREATE OR REPLACE TEMP TABLE _xy_subj AS SELECT subject, any_value(scheme) "
                                f"AS scheme, any_value(kind) AS kind FROM {new_rows} GROUP BY subject")
                    con.execute("INSERT INTO subjects (id, scheme, kind) SELECT n.subject, n.scheme, n.kind "
                                "FROM _xy_subj n ANTI JOIN subjects s ON s.id = n.subject")
                    subjects = frozenset(con.sql("SELECT subject FROM _xy_subj").to_arrow_table()
                                         .column(0).to_pylist())
                    con.execute("DROP TABLE _xy_subj")
                    ids = (batch.column("id") if new_rows == "_xy_in"
                           else con.sql("SELECT id FROM _xy_new").to_arrow_table().column(0))
                    new_ids = frozenset(ids.to_pylist())
                if hits:
                    con.execute("DROP TABLE _xy_new")
            duplicates = batch.num_rows - accepted
            entry = store.append_audit([AuditEntry(0, utc_now(), actor, "ingest", purpose="bulk ingest", detail={
                **detail, "batch": batch_id, "source": source, "new": accepted, "duplicates": duplicates})])
            if accepted:
                store._run("INSERT INTO ingest_batches VALUES (?, ?)", [batch_id, entry[0].entry.seq])
        finally:
            con.unregister("_xy_in")
    return Appended(batch_id, accepted, duplicates, new_ids, subjects)


def _scalar(store: DuckDBStore, sql: str, params: list[object] | None = None) -> int:
    rows = store.connection.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows else 0
