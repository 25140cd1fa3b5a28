"""The embedded store: one DuckDB file (default ``./xinyong.duckdb``).

DuckDB is the default because the batch engine runs where the data is: the population's records are
scanned column-wise in the same process, with no server to run. SQL here stays portable (the same
statements run on PostgreSQL); DuckDB-only fast paths (bulk ingest from files, the SQL engine's
writes through :attr:`DuckDBStore.connection`) are on this adapter only, not on the protocol.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from xinyong.audit import GENESIS, AuditEntry, ChainedEntry, chain, renumber, utc_now
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput, NotFound, XinyongError
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.model.record import Amendment, Record
from xinyong.store.migrate import migrations
from xinyong.store.protocol import (
    Added,
    AssessmentRow,
    AssessmentRun,
    CaseStore,
    ListingRow,
    PolicyVersion,
    SubjectRow,
)

DEFAULT_PATH = Path("xinyong.duckdb")
_AUDIT_PAGE = 10_000


_AUDIT_COLUMNS = ("seq", "at", "actor", "action", "subject", "purpose", "detail", "prev_hash", "hash")
_AUDIT_SCHEMA = pa.schema([("seq", pa.int64()), ("at", pa.timestamp("us")), ("actor", pa.string()),
                          ("action", pa.string()), ("subject", pa.string()), ("purpose", pa.string()),
                          ("detail", pa.string()), ("prev_hash", pa.string()), ("hash", pa.string())])


class StoreError(XinyongError):
    """The store cannot be opened or is not at the schema this version of xinyong expects."""

    title = "store error"


class DuckDBStore:
    """A :class:`~xinyong.store.protocol.Store` over one DuckDB file (or ``:memory:``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, *, read_only: bool,
                 schemes: SchemeRegistry) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self.schemes = schemes
        self._depth = 0
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | Path = DEFAULT_PATH, *, read_only: bool = False,
             schemes: SchemeRegistry | None = None) -> DuckDBStore:
        """Open (creating and migrating if needed) a store file; read-only opens never migrate."""
        p = str(path)
        if read_only and p != ":memory:" and not Path(p).exists():
            raise StoreError(f"no store at {p}")
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {p}: {exc}") from None
        store = cls(con, p, read_only=read_only, schemes=schemes or default_schemes())
        store._migrate()
        return store

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for DuckDB-only fast paths (the SQL engine, bulk ingest)."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A second connection to the same database (e.g. to stream a file while writing batches)."""
        return self._con.cursor()

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        con = self._con
        if not self.read_only:
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                        "applied_at TIMESTAMP NOT NULL)")
        try:
            done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        except duckdb.CatalogException:
            done = set()
        pending = [m for m in migrations() if m.version not in done]
        if pending and self.read_only:
            raise StoreError(f"store {self.path} needs migrations {[m.name for m in pending]}; "
                             "open it once read-write")
        for m in pending:
            with self.transaction():
                for stmt in m.statements():
                    con.execute(stmt)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [m.version, utc_now()])

    def schema_version(self) -> int:
        row = self._con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT, or ROLLBACK on any exception; a nested call joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._con.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._con.execute("ROLLBACK")
                raise
            self._depth = 0
            self._con.execute("COMMIT")

    # -- catalogue and policies -----------------------------------------------------------------------

    def put_catalogue(self, catalogue: Catalogue, actor: str = "system") -> None:
        """Make the stored record types and sources equal the catalogue; idempotent, audited on change.

        Existing rows are replaced, never deleted: records may refer to a type a later catalogue drops.
        """
        types = [(rt.id, rt.name, rt.category, rt.severity.value, rt.polarity.value, rt.legal_basis,
                  rt.default_validity_days, rt.publication_days,
                  json.dumps([k.value for k in rt.subject_kinds])) for rt in catalogue.record_types]
        sources = [(s.id, s.name, json.dumps(s.may_submit)) for s in catalogue.sources]
        with self.transaction():
            have_t = set(self._con.execute("SELECT * FROM record_types").fetchall())
            have_s = set(self._con.execute("SELECT * FROM sources").fetchall())
            new_t = [t for t in types if t not in have_t]
            new_s = [s for s in sources if s not in have_s]
            if not new_t and not new_s:
                return
            if new_t:
                self._con.executemany(
                    "INSERT INTO record_types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                    "SET name = excluded.name, category = excluded.category, severity = excluded.severity, "
                    "polarity = excluded.polarity, legal_basis = excluded.legal_basis, "
                    "default_validity_days = excluded.default_validity_days, "
                    "publication_days = excluded.publication_days, subject_kinds = excluded.subject_kinds",
                    new_t)
            if new_s:
                self._con.executemany(
                    "INSERT INTO sources VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                    "SET name = excluded.name, may_submit = excluded.may_submit", new_s)
            self.append_audit([AuditEntry(0, utc_now(), actor, "catalogue", detail={
                "record_types": sorted(t[0] for t in new_t), "sources": sorted(s[0] for s in new_s)})])

    def publish_policy(self, policy: str, version: str, policy_yaml: str, catalogue_yaml: str,
                       actor: str = "system") -> bool:
        """Store a policy version; True if new. A version is immutable: other text under it is refused."""
        with self.transaction():
            row = self._con.execute("SELECT document, catalogue FROM policy_versions WHERE policy = ? "
                                    "AND version = ?", [policy, version]).fetchone()
            if row is not None:
                if tuple(row) == (policy_yaml, catalogue_yaml):
                    return False
                raise InvalidInput(f"policy {policy} version {version} is already published with other "
                                   "content; publish a new version", field="version")
            self._con.execute("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?)",
                              [policy, version, policy_yaml, catalogue_yaml, utc_now()])
            self.append_audit([AuditEntry(0, utc_now(), actor, "publish",
                                          detail={"policy": policy, "version": version})])
        return True

    def policy_versions(self, policy: str | None = None) -> list[PolicyVersion]:
        """Published versions, oldest first (of one policy, or of all)."""
        sql = "SELECT policy, version, document, catalogue, published_at FROM policy_versions"
        rows = (self._con.execute(sql + " WHERE policy = ? ORDER BY published_at, version", [policy])
                if policy else self._con.execute(sql + " ORDER BY policy, published_at, version"))
        return [PolicyVersion(*r) for r in rows.fetchall()]

    # -- records and amendments -------------------------------------------------------------------------

    def add_records(self, records: Sequence[Record], batch: str | None = None,
                    actor: str = "api") -> Added:
        """Append records (ids are content hashes: a record already stored is reported, not re-added).

        For small lists (the API path); files go through the bulk ingest. Subjects not yet known are
        created. One audit entry describes the write, in the same transaction.
        """
        batch = batch or uuid.uuid4().hex
        ids = [r.id for r in records]
        with self.transaction():
            existing = self._existing("records", ids)
            seen: set[str] = set(existing)
            rows, new, dup = [], [], []
            now = utc_now()
            for r, rid in zip(records, ids, strict=True):
                if rid in seen:
                    dup.append(rid)
                    continue
                seen.add(rid)
                new.append(rid)
                rows.append((rid, r.subject, r.source, r.type, r.occurred, r.decided, r.document,
                             r.amount, batch, now))
            if rows:
                self._add_subjects({r.subject for r in records})
                self._con.executemany("INSERT INTO records (id, subject, source, type, occurred, "
                                      "decided, document, amount, batch, received_at) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._con.executemany("INSERT INTO record_keys VALUES (?)", [(id_key(i),) for i in new])
            # one entry per subject written about, so the write shows in that subject's access log
            by_subject: dict[str | None, list[str]] = {}
            for row in rows:
                by_subject.setdefault(row[1], []).append(row[0])
            self.append_audit([
                AuditEntry(0, now, actor, "add_records", subject, detail={
                    "batch": batch, "new": len(got), "duplicates": len(ids) - len(new), "ids": got[:100]})
                for subject, got in (sorted(by_subject.items(), key=lambda kv: str(kv[0])) or [(None, [])])])
        return Added(new, dup)

    def import_subjects(self, parquet: Path, actor: str = "system") -> int:
        """Register subjects (id, scheme, kind, name) from a Parquet file; known ids are kept as they are.

        DuckDB-only fast path used by the demo and bulk registrations; ids must be canonical keys.
        """
        with self.transaction():
            before = self.subject_count()
            self._con.execute(
                "INSERT INTO subjects (id, scheme, kind, name) SELECT s.id, s.scheme, s.kind, s.name "
                "FROM read_parquet(?) s ANTI JOIN subjects USING (id)", [str(parquet)])
            added = self.subject_count() - before
            self.append_audit([AuditEntry(0, utc_now(), actor, "import_subjects",
                                          detail={"file": parquet.name, "new": added})])
        return added

    def _add_subjects(self, keys: set[str]) -> None:
        have = set(self._existing("subjects", sorted(keys)))
        rows = [(k, k.partition(":")[0], self.schemes.kind_of(k).value) for k in sorted(keys - have)]
        if rows:
            self._con.executemany("INSERT INTO subjects (id, scheme, kind) VALUES (?, ?, ?)", rows)

    def _existing(self, table: str, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        rows = self._con.execute(f"SELECT DISTINCT id FROM {table} WHERE id IN "
                                 f"(SELECT unnest(?::VARCHAR[]))", [list(ids)]).fetchall()
        return [r[0] for r in rows]

    def add_amendments(self, amendments: Sequence[Amendment], actor: str = "api") -> Added:
        """Append amendments to stored records; an amendment of an unknown record is refused."""
        ids = [a.id for a in amendments]
        with self.transaction():
            known = set(self._existing("records", sorted({a.record for a in amendments})))
            for a in amendments:
                if a.record not in known:
                    raise NotFound(f"record {a.record} is not stored", field="record")
            seen = set(self._existing("amendments", ids))
            new, dup, now = [], [], utc_now()
            for a, aid in zip(amendments, ids, strict=True):
                if aid in seen:
                    dup.append(aid)
                    continue
                seen.add(aid)
                new.append(aid)
                self._con.execute("INSERT INTO amendments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                  [aid, a.record, a.kind.value, a.effective, a.reason, a.document,
                                   a.amount, now])
            owner = dict(self._con.execute(
                "SELECT DISTINCT id, subject FROM records WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(known)]).fetchall())
            by_subject: dict[str | None, list[str]] = {}
            fresh = set(new)
            for a, aid in zip(amendments, ids, strict=True):
                if aid in fresh:
                    by_subject.setdefault(owner.get(a.record), []).append(aid)
            self.append_audit([
                AuditEntry(0, now, actor, "add_amendments", subject, detail={
                    "new": len(got), "duplicates": len(ids) - len(new), "ids": got[:100]})
                for subject, got in (sorted(by_subject.items(), key=lambda kv: str(kv[0])) or [(None, [])])])
        return Added(new, dup)

    def records_of(self, subject: str) -> list[Record]:
        """A subject's whole file, oldest decision first (each distinct record once)."""
        rows = self._con.execute(
            "SELECT DISTINCT subject, source, type, occurred, decided, document, amount FROM records "
            "WHERE subject = ? ORDER BY decided, occurred, type, document", [subject]).fetchall()
        return [Record(subject=r[0], source=r[1], type=r[2], occurred=r[3], decided=r[4], document=r[5],
                       amount=_dec(r[6])) for r in rows]

    def amendments_of(self, subject: str) -> list[Amendment]:
        """Amendments of the subject's records, in effective-date order."""
        rows = self._con.execute(
            "SELECT DISTINCT a.record, a.kind, a.effective, a.reason, a.document, a.amount "
            "FROM amendments a WHERE a.record IN (SELECT id FROM records WHERE subject = ?) "
            "ORDER BY a.effective, a.record, a.kind, a.document", [subject]).fetchall()
        return [Amendment.model_validate({"record": r[0], "kind": r[1], "effective": r[2], "reason": r[3],
                                          "document": r[4], "amount": _dec(r[5])}) for r in rows]

    def record_count(self) -> int:
        return self._scalar("SELECT count(*) FROM records")

    def subject_count(self) -> int:
        return self._scalar("SELECT count(*) FROM subjects")

    def subjects(self, limit: int = 100, offset: int = 0) -> list[SubjectRow]:
        rows = self._con.execute("SELECT id, scheme, kind, name FROM subjects ORDER BY id LIMIT ? OFFSET ?",
                                 [limit, offset]).fetchall()
        return [SubjectRow(*r) for r in rows]

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self._con.execute(sql, list(params)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- assessment runs ---------------------------------------------------------------------------------

    _RUN_COLS = "run, policy, version, as_of, created_at, subjects, records, seconds"

    def latest_run(self, policy: str, as_of: date | None = None) -> AssessmentRun | None:
        """The most recent run of a policy (evaluated as of exactly ``as_of``, when given)."""
        sql = f"SELECT {self._RUN_COLS} FROM assessment_runs WHERE policy = ?"
        params: list[Any] = [policy]
        if as_of is not None:
            sql += " AND as_of = ?"
            params.append(as_of)
        row = self._con.execute(sql + " ORDER BY created_at DESC, run DESC LIMIT 1", params).fetchone()
        return AssessmentRun(*row) if row else None

    def runs(self, policy: str | None = None) -> list[AssessmentRun]:
        sql = f"SELECT {self._RUN_COLS} FROM assessment_runs"
        rows = (self._con.execute(sql + " WHERE policy = ? ORDER BY created_at", [policy]) if policy
                else self._con.execute(sql + " ORDER BY created_at"))
        return [AssessmentRun(*r) for r in rows.fetchall()]

    def run_states(self, run: str) -> Iterator[tuple[str, str | None, list[str]]]:
        """Every subject's tier and lists in force in a run, streamed: what a decision index needs.

        Only subjects with a tier or a listing are returned; the rest are "no measure applies".
        """
        cur = self._con.cursor()
        try:
            cur.execute(
                "SELECT a.subject, a.tier, list(l.list ORDER BY l.list) FILTER (WHERE l.list IS NOT NULL) "
                "FROM assessments a JOIN assessment_runs r ON r.run = a.run "
                "LEFT JOIN listings l ON l.run = a.run AND l.subject = a.subject "
                "AND l.since <= r.as_of AND r.as_of < l.until "
                "WHERE a.run = ? GROUP BY a.subject, a.tier", [run])
            while rows := cur.fetchmany(_AUDIT_PAGE):
                for subject, tier, lists in rows:
                    yield subject, tier, list(lists or [])
        finally:
            cur.close()

    def listings_in_force(self, list_id: str, run: str) -> list[ListingRow]:
        """Members of a list in a run, in force at the run's as-of date (since ≤ as_of < until)."""
        rows = self._con.execute(
            "SELECT l.run, l.subject, l.list, l.kind, l.since, l.until FROM listings l "
            "JOIN assessment_runs r ON r.run = l.run WHERE l.run = ? AND l.list = ? "
            "AND l.since <= r.as_of AND r.as_of < l.until ORDER BY l.subject", [run, list_id]).fetchall()
        return [ListingRow(*r) for r in rows]

    def assessment_of(self, subject: str, run: str) -> AssessmentRow | None:
        row = self._con.execute("SELECT score, tier FROM assessments WHERE run = ? AND subject = ?",
                                [run, subject]).fetchone()
        listings = self._con.execute(
            "SELECT run, subject, list, kind, since, until FROM listings WHERE run = ? AND subject = ? "
            "ORDER BY list", [run, subject]).fetchall()
        if row is None and not listings:
            return None
        score, tier = row if row else (None, None)
        return AssessmentRow(run, subject, score, tier, [ListingRow(*r) for r in listings])

    # -- audit log -------------------------------------------------------------------------------------

    def append_audit(self, entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        """Chain entries onto the stored head and insert them, in the caller's transaction if any."""
        if not entries:
            return []
        with self.transaction():
            rows = self._con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
            head = rows[0] if rows else None
            last_seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
            chained = chain(renumber(entries, last_seq + 1), prev)
            # One INSERT from an Arrow table, not executemany: row-at-a-time inserts run near 1.2 k/s
            # here, which a group of thousands of decision entries cannot afford.
            columns = list(zip(*[
                (c.entry.seq, c.entry.at, c.entry.actor, c.entry.action, c.entry.subject, c.entry.purpose,
                 json.dumps(dict(c.entry.detail), sort_keys=True, ensure_ascii=False), c.prev_hash, c.hash)
                for c in chained], strict=True))
            group = pa.table(dict(zip(_AUDIT_COLUMNS, [list(c) for c in columns], strict=True)),
                             schema=_AUDIT_SCHEMA)
            self._con.register("_audit_group", group)
            try:
                self._con.execute("INSERT INTO audit_log SELECT * FROM _audit_group")
            finally:
                self._con.unregister("_audit_group")
        return chained

    def audit_entries(self, after_seq: int = 0) -> Iterator[ChainedEntry]:
        """Stored entries in ``seq`` order, fetched a page at a time on a separate cursor."""
        cur = self._con.cursor()
        try:
            cur.execute('SELECT seq, "at", actor, action, subject, purpose, detail, prev_hash, hash '
                        "FROM audit_log WHERE seq > ? ORDER BY seq", [after_seq])
            while rows := cur.fetchmany(_AUDIT_PAGE):
                for r in rows:
                    entry = AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))
                    yield ChainedEntry(entry, r[7], r[8])
        finally:
            cur.close()


    # -- online reads (the HTTP service); additive, each one query -------------------------------------

    @property
    def cases(self) -> CaseStore:
        """Due-process storage (cases, notices, deliveries) over this store's connection and lock."""
        from xinyong.store.duckdb_cases import DuckDBCases  # it imports this module: bound at first use

        return DuckDBCases(self)

    @property
    def lock(self) -> threading.RLock:
        """The lock :meth:`transaction` holds. A DuckDB connection is not safe for concurrent use, so a
        multi-threaded caller (the HTTP service) holds it around every use of the store."""
        return self._lock

    def record_owners(self, record_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """record id → (source, subject) for the stored ones (who may amend it, whom it is about)."""
        if not record_ids:
            return {}
        rows = self._con.execute("SELECT DISTINCT id, source, subject FROM records WHERE id IN "
                                 "(SELECT unnest(?::VARCHAR[]))", [list(record_ids)]).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def subject_names(self, subjects: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """subject → (kind, name) for registered subjects (names may be absent)."""
        if not subjects:
            return {}
        rows = self._con.execute("SELECT id, kind, name FROM subjects WHERE id IN "
                                 "(SELECT unnest(?::VARCHAR[]))", [list(subjects)]).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def audit_of_subject(self, subject: str, limit: int = 1000) -> list[ChainedEntry]:
        """The latest entries about one subject, newest first: its access log."""
        rows = self._con.execute(
            'SELECT seq, "at", actor, action, subject, purpose, detail, prev_hash, hash FROM audit_log '
            "WHERE subject = ? ORDER BY seq DESC LIMIT ?", [subject, limit]).fetchall()
        return [ChainedEntry(AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6])), r[7], r[8])
                for r in rows]

def id_key(record_id: str) -> int:
    """The 60-bit dedup key of a record id (see migration 002)."""
    return int(record_id[:15], 16)


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def open_store(path: str | Path = DEFAULT_PATH, *, read_only: bool = False) -> DuckDBStore:
    """Open the default store kind for a path (DuckDB today; a ``postgresql://`` URL later)."""
    return DuckDBStore.open(path, read_only=read_only)
