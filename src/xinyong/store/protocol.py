"""The store protocol: the only I/O seam of the service layer.

Everything the use cases need from storage goes through :class:`Store`, so a PostgreSQL store can sit
behind the same calls as the embedded DuckDB file. Adapter-specific fast paths (bulk ingest, the SQL
engine's writes) live on the adapter classes, never on this protocol.

Records and amendments are append-only: the protocol has no call that updates or deletes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from xinyong.audit import AuditEntry, ChainedEntry
from xinyong.model.case import Case, CaseEvent, CaseView, Notice
from xinyong.model.catalogue import Catalogue
from xinyong.model.record import Amendment, Record


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


@runtime_checkable
class Store(Protocol):
    """Storage of the catalogue, policy versions, records, amendments, runs and the audit log."""

    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all (nesting joins the outer transaction)."""
        ...

    # catalogue and policies
    def put_catalogue(self, catalogue: Catalogue) -> None: ...
    def publish_policy(self, policy: str, version: str, policy_yaml: str, catalogue_yaml: str) -> bool: ...
    def policy_versions(self, policy: str | None = None) -> list[PolicyVersion]: ...

    # records and amendments (append-only)
    def add_records(self, records: Sequence[Record], batch: str) -> Added: ...
    def add_amendments(self, amendments: Sequence[Amendment]) -> Added: ...
    def records_of(self, subject: str) -> list[Record]: ...
    def amendments_of(self, subject: str) -> list[Amendment]: ...
    def subject_count(self) -> int: ...
    def subjects(self, limit: int = 100, offset: int = 0) -> list[SubjectRow]: ...
    def record_count(self) -> int: ...

    # assessment runs (written by the engine inside a transaction)
    def latest_run(self, policy: str, as_of: date | None = None) -> AssessmentRun | None: ...
    def runs(self, policy: str | None = None) -> list[AssessmentRun]: ...
    def listings_in_force(self, list_id: str, run: str) -> list[ListingRow]: ...
    def assessment_of(self, subject: str, run: str) -> AssessmentRow | None: ...

    # audit log
    def append_audit(self, entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        """Chain entries onto the stored head (seq numbers are assigned here) and store them."""
        ...

    def audit_entries(self, after_seq: int = 0) -> Iterator[ChainedEntry]:
        """Every stored entry in ``seq`` order, streamed (constant memory)."""
        ...

    # online reads (the HTTP service, issue #4)
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
    """Storage of due process (issue #5): cases and their decisions, notices and deliveries.

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
