"""The portable half of a SQL store: every query that reads the same on DuckDB and PostgreSQL.

Adapters differ in how they connect, run transactions, stream and bulk-insert (DuckDB: one in-process
connection and Arrow; PostgreSQL: a pool and ``COPY``), not in what they ask. So the queries live here
once, over four primitives a subclass provides (:meth:`_query`, :meth:`_run`, :meth:`_stream`,
:meth:`_insert`), and a backend keeps only what is truly its own. Placeholders are ``?``; the
PostgreSQL adapter rewrites them for its driver. Records and amendments are append-only: nothing here
updates or deletes them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput, NotFound, StoreError
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.model.runs import RunQuery, RunSummary
from xinyong.store.migrate import Migration, migrations
from xinyong.store.protocol import (
    Added,
    AssessmentRow,
    AssessmentRun,
    CaseStore,
    KeyStore,
    LakePages,
    ListingRow,
    PolicyVersion,
    SubjectRow,
)
from xinyong.store.sql_audit import SqlAudit
from xinyong.store.sql_runs import SqlRuns

if TYPE_CHECKING:  # pyarrow is imported where a table is built
    pass

PAGE = 10_000


def dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class SqlStore(SqlAudit, SqlRuns):
    """Queries shared by the SQL adapters; subclasses supply connections, transactions and bulk paths."""

    dialect: str = ""
    url: str = ""
    read_only: bool = False
    schemes: SchemeRegistry

    # -- primitives (a subclass provides these) --------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed (or -1 when the driver cannot tell)."""
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows a page at a time, so a caller walks millions of rows in constant memory."""
        raise NotImplementedError

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert many rows in one bulk operation (never row by row)."""
        raise NotImplementedError

    def _lock_audit_head(self) -> None:
        """Serialise audit appends across writers until the transaction ends (PostgreSQL: an advisory
        lock; DuckDB: one writer per file already)."""

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self._one(sql, params)
        return int(row[0]) if row and row[0] is not None else 0

    # -- schema ----------------------------------------------------------------------------------------

    def _applied(self) -> set[int]:
        raise NotImplementedError

    def pending_migrations(self) -> list[Migration]:
        """Migrations this store has not applied yet (named by ``xinyong migrate`` and read-only opens)."""
        done = self._applied()
        return [m for m in migrations(self.dialect) if m.version not in done]

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in one transaction with its ``schema_migrations`` row."""
        if self.read_only:
            raise StoreError(f"store {self.url} is open read-only; it cannot be migrated")
        self._run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "applied_at TIMESTAMP NOT NULL)")
        names = []
        for m in self.pending_migrations():
            with self.transaction():
                for stmt in m.statements():
                    self._run(stmt)
                self._run("INSERT INTO schema_migrations VALUES (?, ?)", [m.version, utc_now()])
            names.append(m.name)
        return names

    def _check_schema(self, *, migrate: bool | None) -> None:
        """``migrate``: True applies what is missing, False refuses naming it, None skips the check."""
        if migrate is None:
            return
        pending = self.pending_migrations()
        if not pending:
            return
        if not migrate or self.read_only:
            raise StoreError(f"store {self.url} needs migrations {', '.join(m.name for m in pending)}; "
                             "run `xinyong migrate`", field="db")
        self.migrate()

    def schema_version(self) -> int:
        return self._scalar("SELECT max(version) FROM schema_migrations")

    # -- catalogue and policies ------------------------------------------------------------------------

    def put_catalogue(self, catalogue: Catalogue, actor: str = "system") -> None:
        """Make the stored record types and sources equal the catalogue; idempotent, audited on change.

        Existing rows are replaced, never deleted: records may refer to a type a later catalogue drops.
        """
        types = [(rt.id, rt.name, rt.category, rt.severity.value, rt.polarity.value, rt.legal_basis,
                  rt.default_validity_days, rt.publication_days,
                  json.dumps([k.value for k in rt.subject_kinds])) for rt in catalogue.record_types]
        sources = [(s.id, s.name, json.dumps(s.may_submit)) for s in catalogue.sources]
        with self.transaction():
            have_t = set(self._query("SELECT id, name, category, severity, polarity, legal_basis, "
                                     "default_validity_days, publication_days, subject_kinds FROM record_types"))
            have_s = set(self._query("SELECT id, name, may_submit FROM sources"))
            new_t = [t for t in types if t not in have_t]
            new_s = [s for s in sources if s not in have_s]
            if not new_t and not new_s:
                return
            for t in new_t:
                self._run(
                    "INSERT INTO record_types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                    "SET name = excluded.name, category = excluded.category, severity = excluded.severity, "
                    "polarity = excluded.polarity, legal_basis = excluded.legal_basis, "
                    "default_validity_days = excluded.default_validity_days, "
                    "publication_days = excluded.publication_days, subject_kinds = excluded.subject_kinds", t)
            for s in new_s:
                self._run("INSERT INTO sources VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                          "SET name = excluded.name, may_submit = excluded.may_submit", s)
            self.append_audit([AuditEntry(0, utc_now(), actor, "catalogue", detail={
                "record_types": sorted(t[0] for t in new_t), "sources": sorted(s[0] for s in new_s)})])

    def publish_policy(self, policy: str, version: str, policy_yaml: str, catalogue_yaml: str,
                       actor: str = "system") -> bool:
        """Store a policy version; True if new. A version is immutable: other text under it is refused."""
        with self.transaction():
            row = self._one("SELECT document, catalogue FROM policy_versions WHERE policy = ? AND version = ?",
                            [policy, version])
            if row is not None:
                if tuple(row) == (policy_yaml, catalogue_yaml):
                    return False
                raise InvalidInput(f"policy {policy} version {version} is already published with other "
                                   "content; publish a new version", field="version")
            self._run("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?)",
                      [policy, version, policy_yaml, catalogue_yaml, utc_now()])
            self.append_audit([AuditEntry(0, utc_now(), actor, "publish",
                                          detail={"policy": policy, "version": version})])
        return True

    def policy_versions(self, policy: str | None = None) -> list[PolicyVersion]:
        """Published versions, oldest first (of one policy, or of all)."""
        sql = "SELECT policy, version, document, catalogue, published_at FROM policy_versions"
        rows = (self._query(sql + " WHERE policy = ? ORDER BY published_at, version", [policy])
                if policy else self._query(sql + " ORDER BY policy, published_at, version"))
        return [PolicyVersion(*r) for r in rows]

    # -- records and amendments ------------------------------------------------------------------------

    def _existing(self, table: str, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        rows = self._query(f"SELECT DISTINCT id FROM {table} WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                           [list(ids)])
        return [r[0] for r in rows]

    def _add_subjects(self, keys: set[str]) -> None:
        have = set(self._existing("subjects", sorted(keys)))
        rows = [(k, k.partition(":")[0], self.schemes.kind_of(k).value, None) for k in sorted(keys - have)]
        if rows:
            self._insert("subjects", ("id", "scheme", "kind", "name"), rows)

    def _record_keys(self, ids: Sequence[str]) -> None:
        """Side tables a backend keeps per new record id (DuckDB: the narrow dedup key)."""

    def add_records(self, records: Sequence[Record], batch: str | None = None, actor: str = "api") -> Added:
        """Append records (ids are content hashes: a record already stored is reported, not re-added).

        Subjects not yet known are created; one audit entry per subject written about, in the same
        transaction, so the write shows in that subject's access log.
        """
        batch = batch or uuid.uuid4().hex
        ids = [r.id for r in records]
        with self.transaction():
            seen: set[str] = set(self._existing("records", ids))
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
                sid = dict(self._query("SELECT id, sid FROM subjects WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                                       [sorted({row[1] for row in rows})]))  # the subject keys (migration 011)
                self._insert("records", ("id", "subject", "source", "type", "occurred", "decided", "document",
                                         "amount", "batch", "received_at", "sid"),
                             [(*row, sid[row[1]]) for row in rows])
                self._record_keys(new)
            self.append_audit(_per_subject(actor, "add_records", now, [(row[1], row[0]) for row in rows],
                                           len(ids), {"batch": batch}))
        return Added(new, dup)

    def add_amendments(self, amendments: Sequence[Amendment], actor: str = "api") -> Added:
        """Append amendments to stored records; an amendment of an unknown record is refused."""
        ids = [a.id for a in amendments]
        with self.transaction():
            owner = {r: s for r, (_, s) in self.record_owners(sorted({a.record for a in amendments})).items()}
            for a in amendments:
                if a.record not in owner:
                    raise NotFound(f"record {a.record} is not stored", field="record")
            seen = set(self._existing("amendments", ids))
            rows, new, dup, now = [], [], [], utc_now()
            for a, aid in zip(amendments, ids, strict=True):
                if aid in seen:
                    dup.append(aid)
                    continue
                seen.add(aid)
                new.append(aid)
                rows.append((aid, a.record, a.kind.value, a.effective, a.reason, a.document, a.amount, now))
            if rows:
                self._insert("amendments", ("id", "record", "kind", "effective", "reason", "document", "amount",
                                            "received_at"), rows)
            self.append_audit(_per_subject(actor, "add_amendments", now,
                                           [(owner[row[1]], row[0]) for row in rows], len(ids), {}))
        return Added(new, dup)

    def records_of(self, subject: str) -> list[Record]:
        """A subject's whole file, oldest decision first (each distinct record once)."""
        rows = self._query(
            "SELECT DISTINCT subject, source, type, occurred, decided, document, amount FROM records "
            "WHERE subject = ? ORDER BY decided, occurred, type, document", [subject])
        return [Record(subject=r[0], source=r[1], type=r[2], occurred=r[3], decided=r[4], document=r[5],
                       amount=dec(r[6])) for r in rows]

    def amendments_of(self, subject: str) -> list[Amendment]:
        """Amendments of the subject's records, in effective-date order."""
        rows = self._query(
            "SELECT DISTINCT a.record, a.kind, a.effective, a.reason, a.document, a.amount "
            "FROM amendments a WHERE a.record IN (SELECT id FROM records WHERE subject = ?) "
            "ORDER BY a.effective, a.record, a.kind, a.document", [subject])
        return [Amendment.model_validate({"record": r[0], "kind": r[1], "effective": r[2], "reason": r[3],
                                          "document": r[4], "amount": dec(r[5])}) for r in rows]

    def has_amendments(self, as_of: date) -> bool:
        """Whether any amendment is effective by ``as_of`` (the engine leaves the join out otherwise)."""
        return self._one("SELECT 1 FROM amendments WHERE effective <= ? LIMIT 1", [as_of]) is not None

    def record_count(self) -> int:
        return self._scalar("SELECT count(*) FROM records")

    def subject_count(self) -> int:
        return self._scalar("SELECT count(*) FROM subjects")

    def subjects(self, limit: int = 100, offset: int = 0) -> list[SubjectRow]:
        rows = self._query("SELECT id, scheme, kind, name FROM subjects ORDER BY id LIMIT ? OFFSET ?",
                           [limit, offset])
        return [SubjectRow(*r) for r in rows]

    # -- assessment runs -------------------------------------------------------------------------------

    _RUN_COLS = "run, policy, version, as_of, created_at, subjects, records, seconds"

    def latest_run(self, policy: str, as_of: date | None = None) -> AssessmentRun | None:
        """The most recent run of a policy (evaluated as of exactly ``as_of``, when given)."""
        sql = f"SELECT {self._RUN_COLS} FROM assessment_runs WHERE policy = ?"
        params: list[Any] = [policy]
        if as_of is not None:
            sql += " AND as_of = ?"
            params.append(as_of)
        row = self._one(sql + " ORDER BY created_at DESC, run DESC LIMIT 1", params)
        return AssessmentRun(*row) if row else None

    def runs(self, policy: str | None = None) -> list[AssessmentRun]:
        sql = f"SELECT {self._RUN_COLS} FROM assessment_runs"
        rows = (self._query(sql + " WHERE policy = ? ORDER BY created_at", [policy]) if policy
                else self._query(sql + " ORDER BY created_at"))
        return [AssessmentRun(*r) for r in rows]

    def assessment_of(self, subject: str, run: str) -> AssessmentRow | None:
        row = self._one("SELECT score, tier FROM assessments WHERE run = ? AND subject = ?", [run, subject])
        listings = self._query("SELECT run, subject, list, kind, since, until FROM listings WHERE run = ? "
                               "AND subject = ? ORDER BY list", [run, subject])
        if row is None and not listings:
            return None
        score, tier = row if row else (None, None)
        return AssessmentRow(run, subject, score, tier, [ListingRow(*r) for r in listings])

    def write_run(self, q: RunQuery) -> RunSummary:
        """Run the compiled query into a temporary table and store the snapshot from it (the GROUP BY
        over the records happens once), all in one transaction: a failure leaves nothing behind."""
        t, run = q.assessed_table, "'" + q.run.replace("'", "''") + "'"
        with self.transaction():
            started = time.perf_counter()
            # read before the query runs: every write with a lower seq is visible to it
            head = self._scalar("SELECT max(seq) FROM audit_log")
            self._run(f"CREATE TEMPORARY TABLE {t} AS {q.assessed_sql}")
            self._run(f"INSERT INTO assessments (run, subject, score, tier) "
                      f"SELECT {run}, subject, CAST(score AS INTEGER), tier FROM {t}")
            self._run(f"INSERT INTO listings (run, subject, list, kind, since, until) "
                      f"SELECT {run}, subject, list, kind, since, until FROM ({q.listings_sql}) AS l")
            tiers: dict[str | None, int] = {r[0]: int(r[1]) for r in self._query(
                f"SELECT tier, count(*) FROM {t} GROUP BY tier")}
            lists = {lid: self._scalar(f"SELECT count({column}) FROM {t}") for lid, column in q.lists.items()}
            subjects = sum(tiers.values())
            records = self._scalar(q.records_sql)
            self._run(f"DROP TABLE {t}")
            seconds = time.perf_counter() - started
            self._run("INSERT INTO assessment_runs (run, policy, version, as_of, created_at, subjects, records, "
                      "seconds, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [q.run, q.policy, q.version, q.as_of, utc_now(), subjects, records, seconds, head])
        return RunSummary(run=q.run, policy=q.policy, version=q.version, as_of=q.as_of, subjects=subjects,
                          records=records, seconds=seconds, tiers=tiers, lists=lists)

    def run_audit_seq(self, run: str) -> int:
        """The audit head a run was computed after (0 for runs older than migration 007)."""
        return self._scalar("SELECT audit_seq FROM assessment_runs WHERE run = ?", [run])

    def changed_subjects(self, after_seq: int) -> tuple[int, set[str]]:
        """The change sequence: the audit head now, and every subject written about after ``after_seq``
        (records, amendments, cases filed or decided; an ingest batch's subjects through its records).
        Any process's writes show here, so a follower needs nothing but this store."""
        rows = self._query("SELECT seq, action, subject, detail FROM audit_log WHERE seq > ? AND action IN "
                           "('add_records', 'add_amendments', 'ingest', 'case_filed', 'case_decided') "
                           "ORDER BY seq", [after_seq])
        head = max([after_seq, *(int(r[0]) for r in rows)])
        last = self._scalar("SELECT max(seq) FROM audit_log")
        subjects = {r[2] for r in rows if r[2] is not None}
        batches = sorted({str(json.loads(r[3]).get("batch")) for r in rows if r[1] == "ingest" and r[2] is None})
        if batches:
            subjects |= {r[0] for r in self._query(
                "SELECT DISTINCT subject FROM records WHERE batch IN (SELECT unnest(?::VARCHAR[]))", [batches])}
        return max(head, last), subjects

    # -- online reads ----------------------------------------------------------------------------------

    def record_owners(self, record_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """record id → (source, subject) for the stored ones (who may amend it, whom it is about)."""
        if not record_ids:
            return {}
        rows = self._query("SELECT DISTINCT id, source, subject FROM records WHERE id IN "
                           "(SELECT unnest(?::VARCHAR[]))", [list(record_ids)])
        return {r[0]: (r[1], r[2]) for r in rows}

    def subject_names(self, subjects: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """subject → (kind, name) for registered subjects (names may be absent)."""
        if not subjects:
            return {}
        rows = self._query("SELECT id, kind, name FROM subjects WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                           [list(subjects)])
        return {r[0]: (r[1], r[2]) for r in rows}

    @property
    def cases(self) -> CaseStore:
        """Due-process storage (cases, notices, deliveries) in this store's transactions."""
        from xinyong.store.sql_cases import SqlCases  # it imports this module: bound at first use

        return SqlCases(self)

    @property
    def keys(self) -> KeyStore:
        """API keys and their revocations, in this store's transactions."""
        from xinyong.store.sql_keys import SqlKeys  # it imports this module: bound at first use

        return SqlKeys(self)

    def import_snapshot(self, directory: Path, actor: str = "system") -> RunSummary:
        """SnapshotImport: a run computed over the lake, loaded as a normal run (store/snapshot.py);
        ``export_table`` is the lake's other half (LakeExport)."""
        from xinyong.store import snapshot  # it imports this module: bound at first use

        return snapshot.import_snapshot(self, directory, actor)

    def export_table(self, table: str, *, buckets: int = 16, page_rows: int = 262_144) -> LakePages:
        from xinyong.store import snapshot

        return snapshot.export_pages(self, table, buckets=buckets, page_rows=page_rows)


def _per_subject(actor: str, action: str, now: Any, written: list[tuple[str, str]], submitted: int,
                 extra: dict[str, Any]) -> list[AuditEntry]:
    """One audit entry per subject written about (its access log shows the write); one entry naming
    no subject when nothing new was written, so a resubmission is still on record."""
    by_subject: dict[str | None, list[str]] = {}
    for subject, item in written:
        by_subject.setdefault(subject, []).append(item)
    groups = sorted(by_subject.items(), key=lambda kv: str(kv[0])) or [(None, [])]
    return [AuditEntry(0, now, actor, action, subject, detail={
        **extra, "new": len(got), "duplicates": submitted - len(written), "ids": got[:100]})
        for subject, got in groups]
