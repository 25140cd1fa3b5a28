"""API keys in a SQL store (DuckDB or PostgreSQL): the SQL behind :mod:`xinyong.service.principals`.

Uses the store's own transactions, so creating or revoking a key commits together with
its audit entry. Rows are plain data here; roles and scopes mean something only in the service layer.
"""

from __future__ import annotations

import json
from typing import Any

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import InvalidInput, NotFound
from xinyong.store.protocol import KeyRow
from xinyong.store.sql_store import SqlStore

_SELECT = ("SELECT k.id, k.name, k.role, k.source, k.subject, k.actions, k.key_hash, k.created_at, "
           "k.created_by, r.revoked_at, k.holder FROM api_keys k LEFT JOIN api_key_revocations r ON r.id = k.id")


def _row(r: tuple[Any, ...]) -> KeyRow:
    return KeyRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6], r[7], r[8], r[9], r[10])


class SqlKeys:
    """The ``api_keys`` and ``api_key_revocations`` tables of one store (migration 003)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def add(self, row: KeyRow) -> None:
        """Store a new key with an audit entry (the entry names the key id, never the key)."""
        with self.store.transaction():
            self.store._run("INSERT INTO api_keys (id, name, role, source, subject, actions, key_hash, created_at, "
                            "created_by, holder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [row.id, row.name, row.role, row.source, row.subject, json.dumps(list(row.actions)),
                         row.key_hash, row.created_at, row.created_by, row.holder])
            self.store.append_audit([AuditEntry(0, row.created_at, row.created_by, "key_create", detail={
                "key": row.id, "name": row.name, "holder": row.holder, "role": row.role, "source": row.source,
                "subject": row.subject, "actions": list(row.actions)})])

    def revoke(self, key_id: str, by: str, reason: str) -> KeyRow:
        """Revoke a key from now on; revoking twice is refused (the first revocation stands)."""
        with self.store.transaction():
            row = self.get(key_id)
            if row.revoked_at is not None:
                raise InvalidInput(f"key {key_id} was already revoked at {row.revoked_at:%Y-%m-%d %H:%M:%S}",
                                   field="key")
            now = utc_now()
            self.store._run("INSERT INTO api_key_revocations VALUES (?, ?, ?, ?)", [key_id, now, by, reason])
            self.store.append_audit([AuditEntry(0, now, by, "key_revoke",
                                                detail={"key": key_id, "reason": reason})])
        return self.get(key_id)

    def get(self, key_id: str) -> KeyRow:
        r = self.store._one(_SELECT + " WHERE k.id = ?", [key_id])
        if r is None:
            raise NotFound(f"no key with id {key_id!r}", field="key")
        return _row(r)

    def all(self) -> list[KeyRow]:
        rows = self.store._query(_SELECT + " ORDER BY k.created_at, k.id")
        return [_row(r) for r in rows]

    def source_exists(self, source: str) -> bool:
        return self.store._one("SELECT 1 FROM sources WHERE id = ?", [source]) is not None
