"""The audit log in portable SQL: chaining onto the stored head, reading the chain back, a subject's
access log. A mixin of :class:`~xinyong.store.sql_store.SqlStore`, kept apart because the chain has rules
of its own (one head, NUL-free entries, the batch entries of bulk ingests) that the rest of the store
does not need to know."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from xinyong.audit import GENESIS, AuditEntry, ChainedEntry, chain, chain_rows, renumber

AUDIT_COLUMNS = ("seq", "at", "actor", "action", "subject", "purpose", "detail", "prev_hash", "hash")


def audit_rows(chained: Sequence[ChainedEntry]) -> list[tuple[Any, ...]]:
    """Chained entries as rows of ``audit_log`` (detail as the canonical JSON text that was hashed,
    already computed when the entry was prepared)."""
    return [(c.entry.seq, c.entry.at, c.entry.actor, c.entry.action, c.entry.subject, c.entry.purpose,
             c.entry.detail_json(), c.prev_hash, c.hash)
            for c in chained]


class SqlAudit:
    """The audit-log half of the SQL store; the store supplies the query primitives below."""

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _lock_audit_head(self) -> None:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def append_audit(self, entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        """Chain entries onto the stored head and insert them, in the caller's transaction if any."""
        if not entries:
            return []
        entries = [_storable(e) for e in entries]
        with self.transaction():
            self._lock_audit_head()
            last_seq, prev = self.audit_head()
            chained = chain(renumber(entries, last_seq + 1), prev)
            self._insert("audit_log", AUDIT_COLUMNS, audit_rows(chained))
        return chained

    def append_audit_group(self, entries: Sequence[AuditEntry], near: int | None = None) -> tuple[int, str]:
        """:meth:`append_audit` for a server's group of read entries: the same chain, stored the same way,
        but no entry object is made per row, and only the new head ``(seq, hash)`` is returned; the
        caller passes its ``seq`` back as ``near`` next time (:meth:`audit_head`)."""
        if not entries:
            return self.audit_head(near)
        entries = [_storable(e) for e in entries]
        with self.transaction():
            self._lock_audit_head()
            last_seq, prev = self.audit_head(near)
            rows = chain_rows(entries, last_seq + 1, prev)
            self._insert("audit_log", AUDIT_COLUMNS, rows)
        return rows[-1][0], rows[-1][8]

    def audit_head(self, near: int | None = None) -> tuple[int, str]:
        """(count, hash of the last entry): what a checkpoint signs (0 and the genesis hash if empty).

        ``near`` is the head's ``seq`` as last seen (by a server's audit flusher, say). Numbers have no
        gaps (each entry is the head's plus one, and ``seq`` is the key), so if entry ``near`` is stored
        and ``near + 1`` is not, ``near`` is the head: two key lookups, where finding the largest ``seq``
        reads the whole column on DuckDB. Otherwise (another writer appended since, the entry seen was
        rolled back) it is the full query: a stale ``near`` costs a query, never a wrong head."""
        if near:
            found = self._query("SELECT seq, hash FROM audit_log WHERE seq IN (?, ?)", [near, near + 1])
            if len(found) == 1 and int(found[0][0]) == near:
                return near, str(found[0][1])
        head = self._one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        return (int(head[0]), str(head[1])) if head else (0, GENESIS)

    def audit_entries(self, after_seq: int = 0) -> Iterator[ChainedEntry]:
        """Stored entries in ``seq`` order, streamed a page at a time."""
        for r in self._stream('SELECT seq, "at", actor, action, subject, purpose, detail, prev_hash, hash '
                              "FROM audit_log WHERE seq > ? ORDER BY seq", [after_seq]):
            yield _chained(r)

    def audit_of_subject(self, subject: str, limit: int = 1000) -> list[ChainedEntry]:
        """The latest entries about one subject, newest first: its access log. A bulk ingest is audited
        once per batch (an entry per subject would cost more than the insert), so the batches that wrote
        the subject's records are found through ``records.batch`` and their entries joined in."""
        cols = 'seq, "at", actor, action, subject, purpose, detail, prev_hash, hash'
        rows = self._query(f"SELECT {cols} FROM audit_log WHERE subject = ? ORDER BY seq DESC LIMIT ?",
                           [subject, limit])
        seqs = [int(r[0]) for r in self._query(
            "SELECT b.seq FROM ingest_batches b WHERE b.batch IN (SELECT DISTINCT batch FROM records WHERE "
            "subject = ?)", [subject])]
        if seqs:
            rows += self._query(f"SELECT {cols} FROM audit_log WHERE seq IN (SELECT unnest(?::BIGINT[]))", [seqs])
        return [_chained(r) for r in sorted(rows, key=lambda r: -int(r[0]))[:limit]]


def _storable(e: AuditEntry) -> AuditEntry:
    """The entry as every backend can store it: a NUL character (which PostgreSQL text cannot hold, and
    which a caller may slip into a purpose or a name) becomes U+FFFD before the entry is hashed, so an
    audit group can never be refused, and the chain is the same on every backend."""
    def clean(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("\x00", "\ufffd")
        if isinstance(v, dict):
            return {clean(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    def has_nul(v: Any) -> bool:
        if isinstance(v, str):
            return "\x00" in v
        if isinstance(v, dict):
            return any(has_nul(k) or has_nul(x) for k, x in v.items())
        if isinstance(v, list | tuple):
            return any(has_nul(x) for x in v)
        return False

    # the canonical text (prepared once per entry) spells a NUL in any string as \u0000: its absence
    # clears the entry without walking ``detail``; its presence may be a literal backslash, so then walk
    if not e.may_hold_nul():
        return e
    if not has_nul((e.actor, e.action, e.subject, e.purpose)) and not has_nul(dict(e.detail)):
        return e
    return AuditEntry(e.seq, e.at, clean(e.actor), clean(e.action), clean(e.subject), clean(e.purpose),
                      clean(dict(e.detail)))


def _chained(r: tuple[Any, ...]) -> ChainedEntry:
    return ChainedEntry(AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6])), r[7], r[8])
