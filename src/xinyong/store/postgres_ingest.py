"""Bulk ingest on PostgreSQL: a checked batch goes in with one ``COPY`` and one ``INSERT ... SELECT``.

The batch (``CHECKED_SCHEMA``, already validated and unique by id) is written as CSV by Arrow's C++
writer straight into ``COPY ... FROM STDIN`` of a temporary staging table: no Python object per row.
The records table's unique index on ``id`` then keeps only the new ones (``ON CONFLICT DO NOTHING``),
so re-running a file adds nothing. Records, subjects and the audit entry commit in one transaction.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from xinyong.audit import AuditEntry, utc_now
from xinyong.store.postgres_store import PostgresStore
from xinyong.store.protocol import Appended

_STAGE_COLUMNS = ("id", "subject", "scheme", "kind", "type", "occurred", "decided", "document", "amount")


def _csv(batch: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(batch.select(list(_STAGE_COLUMNS)), buf,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def append_checked(store: PostgresStore, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                   detail: dict[str, Any]) -> Appended:
    """Store the batch's new records and subjects with one audit entry, atomically."""
    now = utc_now()
    with store.transaction(), store._conn() as con:
        con.execute("CREATE TEMP TABLE IF NOT EXISTS xy_stage (id VARCHAR, subject VARCHAR, scheme VARCHAR, "
                    "kind VARCHAR, type VARCHAR, occurred DATE, decided DATE, document VARCHAR, "
                    "amount DECIMAL(18, 2)) ON COMMIT DELETE ROWS")
        if batch.num_rows:
            with con.cursor() as cur, cur.copy(
                    f"COPY xy_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(_csv(batch))
        # subjects first: a record carries its subject's number (migration 011); a batch of duplicates
        # only has subjects that are stored already, so this adds nothing for it
        con.execute("INSERT INTO subjects (id, scheme, kind) SELECT DISTINCT ON (subject) subject, scheme, "
                    "kind FROM xy_stage ORDER BY subject ON CONFLICT (id) DO NOTHING")
        new = con.execute(
            "INSERT INTO records (id, subject, source, type, occurred, decided, document, amount, batch, "
            "received_at, sid) SELECT x.id, x.subject, %s, x.type, x.occurred, x.decided, x.document, x.amount, "
            "%s, %s, s.sid FROM xy_stage x JOIN subjects s ON s.id = x.subject "
            "ON CONFLICT (id) DO NOTHING RETURNING id, subject",
            [source, batch_id, now]).fetchall()
        accepted = len(new)
        entry = store.append_audit([AuditEntry(0, now, actor, "ingest", purpose="bulk ingest", detail={
            "batch": batch_id, "source": source, "new": accepted,
            "duplicates": batch.num_rows - accepted, **detail})])
        if accepted:
            store._run("INSERT INTO ingest_batches VALUES (?, ?)", [batch_id, entry[0].entry.seq])
    return Appended(batch_id, accepted, batch.num_rows - accepted, pa.array([r[0] for r in new], pa.string()),
                    frozenset(r[1] for r in new))
