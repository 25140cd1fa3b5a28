"""The store protocol: the only I/O seam of the service layer.

Everything the use cases need from storage goes through :class:`Store` (pycasbin's split: a core every
backend implements, plus capabilities a backend implements natively: :class:`BulkIngest` for checked
batches, :class:`RunWriter` for the engine's snapshot). ``xinyong.store.open_store(url)`` is the one
factory; the service, web and CLI layers import nothing else from ``xinyong.store`` adapters.

Records and amendments are append-only: the protocol has no call that updates or deletes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import pyarrow as pa

from xinyong.audit import AuditEntry, ChainedEntry
from xinyong.model.case import Case, CaseEvent, CaseView, Notice
from xinyong.model.catalogue import Catalogue
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.model.runs import RunQuery, RunSummary


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A published policy version with the texts it was published with (recomputable forever)."""

    policy: str
    version: str
    document: str
    catalogue: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class AssessmentRun:
    """One batch evaluation of a policy version over the population as of a date."""

    run: str
    policy: str
    version: str
    as_of: date
    created_at: datetime
    subjects: int
    records: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ListingRow:
    """A list membership produced by a run."""

    run: str
    subject: str
    list_id: str
    kind: str
    since: date
    until: date


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    """A subject's score, tier and listings in one run."""

    run: str
    subject: str
    score: int | None
    tier: str | None
    listings: list[ListingRow]


@dataclass(frozen=True, slots=True)
class Added:
    """Which of the submitted ids were new (the others were already stored: ids are content hashes)."""

    new: list[str]
    existing: list[str]


@dataclass(frozen=True, slots=True)
class SubjectRow:
    id: str
    scheme: str
    kind: str
    name: str | None


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One stored API key (never the key itself: its hash)."""

    id: str
    name: str
    role: str
    source: str | None
    subject: str | None
    actions: tuple[str, ...]
    key_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    holder: str | None = None


@runtime_checkable
class KeyStore(Protocol):
    """API keys and their revocations (a revocation is a row of its own; nothing is updated)."""

    def add(self, row: KeyRow) -> None: ...
    def revoke(self, key_id: str, by: str, reason: str) -> KeyRow: ...
    def get(self, key_id: str) -> KeyRow: ...
    def all(self) -> list[KeyRow]: ...
    def source_exists(self, source: str) -> bool: ...


@runtime_checkable
class Store(Protocol):
    """Storage of the catalogue, policy versions, records, amendments, runs and the audit log."""

    url: str
    dialect: str
    read_only: bool
    schemes: SchemeRegistry

    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all (nesting joins the outer transaction)."""
        ...

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Held around every use of the store by a multi-threaded caller when the backend needs it
        (one DuckDB connection is not safe for concurrent use); a no-op where the driver pools."""
        ...

    @property
    def cases(self) -> CaseStore: ...

    @property
    def keys(self) -> KeyStore: ...

    # schema
    def schema_version(self) -> int: ...
    def migrate(self) -> list[str]: ...

    # catalogue and policies
    def put_catalogue(self, catalogue: Catalogue, actor: str = "system") -> None: ...
    def publish_policy(self, policy: str, version: str, policy_yaml: str, catalogue_yaml: str,
                       actor: str = "system") -> bool: ...
    def policy_versions(self, policy: str | None = None) -> list[PolicyVersion]: ...

    # records and amendments (append-only)
    def add_records(self, records: Sequence[Record], batch: str | None = None, actor: str = "api") -> Added: ...
    def add_amendments(self, amendments: Sequence[Amendment], actor: str = "api") -> Added: ...
    def has_amendments(self, as_of: date) -> bool: ...
    def records_of(self, subject: str) -> list[Record]: ...
    def amendments_of(self, subject: str) -> list[Amendment]: ...
    def subject_count(self) -> int: ...
    def subjects(self, limit: int = 100, offset: int = 0) -> list[SubjectRow]: ...
    def record_count(self) -> int: ...

    # assessment runs (written by the engine inside a transaction)
    def latest_run(self, policy: str, as_of: date | None = None) -> AssessmentRun | None: ...
    def runs(self, policy: str | None = None) -> list[AssessmentRun]: ...
    def run_states(self, run: str) -> Iterator[tuple[str, str | None, list[str]]]: ...
    def run_audit_seq(self, run: str) -> int: ...
    def changed_subjects(self, after_seq: int) -> tuple[int, set[str]]: ...
    def listings_in_force(self, list_id: str, run: str) -> list[ListingRow]: ...
    def assessment_of(self, subject: str, run: str) -> AssessmentRow | None: ...

    # audit log
    def append_audit(self, entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        """Chain entries onto the stored head (seq numbers are assigned here) and store them."""
        ...

    def append_audit_group(self, entries: Sequence[AuditEntry], near: int | None = None) -> tuple[int, str]:
        """:meth:`append_audit` for a group of read entries; returns only the new head (seq, hash)."""
        ...

    def audit_head(self, near: int | None = None) -> tuple[int, str]: ...

    def audit_entries(self, after_seq: int = 0) -> Iterator[ChainedEntry]:
        """Every stored entry in ``seq`` order, streamed (constant memory)."""
        ...

    # online reads
    def record_owners(self, record_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """record id → (source, subject), for the stored ones."""
        ...

    def subject_names(self, subjects: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """subject → (kind, name) for registered subjects."""
        ...

    def audit_of_subject(self, subject: str, limit: int = 1000) -> list[ChainedEntry]:
        """The latest audit entries about one subject, newest first (its access log)."""
        ...


@runtime_checkable
class CaseStore(Protocol):
    """Storage of due process: cases and their decisions, notices and deliveries.

    Append-only like records: a decision is a new event, a delivery attempt a new row. Every write
    leaves an audit entry in the same transaction.
    """

    def add_case(self, case: Case, actor: str) -> bool: ...
    def add_event(self, event: CaseEvent, subject: str, actor: str) -> None: ...
    def case(self, case_id: str) -> CaseView: ...
    def cases(self, subject: str | None = None) -> list[CaseView]: ...
    def add_notices(self, notices: Sequence[Notice], actor: str) -> list[Notice]: ...
    def notices_of(self, subject: str) -> list[Notice]: ...
    def undelivered(self, channel: str, subject: str | None = None) -> list[Notice]: ...
    def add_deliveries(self, results: Sequence[tuple[str, bool, str]], channel: str, actor: str) -> None: ...
    def subjects_to_recheck(self, run: str, notice_lists: Sequence[str], notified_after: date,
                            as_of: date) -> list[str]: ...
    def subjects_changing(self, offsets: Sequence[int], after: date, until: date) -> list[str]: ...
    def files_of(self, subjects: Sequence[str]
                 ) -> dict[str, tuple[list[Record], list[Amendment], list[CaseView]]]: ...


# -- optional capability: bulk ingest ------------------------------------------------------------------

#: The Arrow schema of a checked batch: valid rows only, unique by ``id`` (the first row of a duplicate
#: kept), every value already canonical. ``row`` is the 1-based data row of the file (for reports);
#: ``source`` is the same for every row of a batch and passed separately.
CHECKED_SCHEMA = pa.schema([
    ("row", pa.int64()), ("id", pa.string()), ("subject", pa.string()),
    ("scheme", pa.string()), ("kind", pa.string()), ("type", pa.string()), ("occurred", pa.date32()),
    ("decided", pa.date32()), ("document", pa.string()), ("amount", pa.decimal128(18, 2)),
])


@dataclass(frozen=True)
class Appended:
    """What one checked batch added: counts, the new record ids and the subjects they are about.

    ``ids`` stays an Arrow array: a file ingest never looks at the ids, and a million of them as Python
    strings cost more than the batch's dedup; ``new_ids`` makes the set once, for callers that ask.
    """

    batch: str
    accepted: int
    duplicates: int
    ids: pa.Array | pa.ChunkedArray
    subjects: frozenset[str]

    @cached_property
    def new_ids(self) -> frozenset[str]:
        return frozenset(self.ids.to_pylist())


@runtime_checkable
class BulkIngest(Protocol):
    """Append a checked batch (``CHECKED_SCHEMA``) natively: DuckDB from Arrow, PostgreSQL via COPY.

    One transaction per call: the new records, their subjects, dedup keys and the audit entries
    commit together or not at all; rows whose id is already stored are counted as duplicates.
    """

    def append_checked(self, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                       detail: dict[str, Any]) -> Appended: ...


# -- optional capability: the engine's hand-off -----------------------------------------------------


@runtime_checkable
class RunWriter(Protocol):
    """Run a compiled policy query where the records are and store the snapshot (assessments,
    listings, the run row) in the caller's transaction: the engine compiles, the store executes."""

    def write_run(self, query: RunQuery) -> RunSummary: ...


@runtime_checkable
class SubjectImport(Protocol):
    """Register subjects (id, scheme, kind, name) from a Parquet file; known ids are kept as they are."""

    def import_subjects(self, parquet: Path, actor: str = "system") -> int: ...


#: The Arrow schema of :meth:`RunStates.run_state_table`: ``lists`` is the in-force list ids joined by
#: ``,`` in order ("" for none; list ids never contain a comma), ``tier`` is null unless asked for.
RUN_STATE_SCHEMA = pa.schema([("subject", pa.string()), ("tier", pa.string()), ("lists", pa.string())])


@runtime_checkable
class RunStates(Protocol):
    """A run's states as columns, for a decision index built in bulk rather than row by row."""

    def run_state_table(self, run: str, tiers: Sequence[str], lists: Sequence[str]) -> pa.Table:
        """``RUN_STATE_SCHEMA`` rows of the run's subjects whose tier is one of ``tiers`` or who are
        listed, in force at the run's as-of date, on one of ``lists``: the tier (if one of ``tiers``)
        and those lists. Everyone else's state reads as blank to a caller that asked for these."""
        ...

    def replay_listings(self, subjects: Sequence[str], records_table: str, subjects_table: str,
                        queries: Sequence[str]) -> list[list[tuple[str, str, date]]]:
        """Run read-only ``queries`` (compiled listings of a policy as of some day: ``subject, list, kind,
        since, until``) over the files of ``subjects`` only: their subject rows (``id, kind``) and records
        (``subject, id, type, decided, amount``) are first copied into temporary tables of the names
        given, which the queries read instead of the register. Per query, its ``(subject, list, since)``."""
        ...


class FullStore(Store, BulkIngest, RunWriter, SubjectImport, RunStates, Protocol):
    """What both shipped backends implement: the core and every capability."""


# -- optional capabilities: the lake (export) and snapshots computed elsewhere (import) ---------------


@dataclass(frozen=True)
class LakePages:
    """One table read for a lake export, a page of Arrow rows at a time, sorted by (``bucket``, subject).

    ``rows`` and ``audit_seq`` (the audit head read before the scan: every write with a lower seq is in
    the pages) are known before the first page is read, so a caller can tell that nothing changed and
    leave ``batches`` unread. Each batch carries an int32 ``bucket`` column (the subject's hash bucket).
    """

    table: str
    rows: int
    audit_seq: int
    buckets: int
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]


@runtime_checkable
class LakeExport(Protocol):
    """Stream a whole table (records, amendments or subjects) for a Parquet lake in bounded memory."""

    def export_table(self, table: str, *, buckets: int = 16, page_rows: int = 262_144) -> LakePages: ...


@runtime_checkable
class SnapshotImport(Protocol):
    """Load a snapshot that an engine computed over a lake (``xinyong evaluate --lake``) as a normal run:
    assessments, listings and the run row in one transaction, with the audit head its lake reflects."""

    def import_snapshot(self, directory: Path, actor: str = "system") -> RunSummary: ...
