"""The online use cases behind the HTTP service: decide, submit, read a file, publish lists.

One :class:`Online` holds one store for the life of a server process (the embedded DuckDB allows one
writer), the decision index for the service's as-of date, the principals and the audit buffer. Every
method takes the calling :class:`Principal` and decides what it may do here, not in the edge: a role
check is a rule of the platform, and the CLI or a test gets the same answer as HTTP. Due process
(objections, appeals, repair, reviewer decisions, notices, status) is ``online.cases``
(:mod:`xinyong.service.online_cases`), over the same store, index and audit buffer.

Decisions never query the store: they are dict lookups in the :class:`DecisionIndex`, built from the
latest assessment snapshot and kept current by single-subject re-evaluation after every write. A DuckDB
connection is not safe for concurrent use, so everything else holds ``store.lock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.audit import AuditEntry, ChainedEntry, utc_now
from xinyong.model.assessment import Assessment, Decision
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import Forbidden, InvalidIdentifier, InvalidInput, NotFound, TooLarge
from xinyong.model.record import Amendment, Record
from xinyong.policy.decide import PolicyState, decide_states
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import ListDef
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.decisions import DecisionIndex
from xinyong.service.online_cases import OnlineCases
from xinyong.service.principals import Principal, Principals, Role
from xinyong.service.publication import published_rows
from xinyong.service.registry import Registry
from xinyong.store.duckdb_store import DuckDBStore
from xinyong.store.protocol import PolicyVersion

DEFAULT_MAX_BATCH = 10_000
_KEY_CACHE_MAX = 200_000


@dataclass(frozen=True)
class SubjectFile:
    """A subject's whole file: what the subject (or a reviewer) sees, and who looked at it."""

    subject: str
    as_of: date
    assessments: list[Assessment]
    records: list[Record]
    amendments: list[Amendment]
    access_log: list[ChainedEntry]


@dataclass(frozen=True)
class PublicEntry:
    subject: str
    name: str | None
    since: date
    until: date


@dataclass(frozen=True)
class PublicList:
    list_def: ListDef
    policy: str
    as_of: date
    total: int
    entries: list[PublicEntry]
    note: str


class Online:
    """The service a server process runs; ``start`` before use, ``close`` on shutdown (flushes audit)."""

    def __init__(self, store: DuckDBStore, *, as_of: date | None = None, max_batch: int = DEFAULT_MAX_BATCH,
                 audit: AuditBuffer | None = None, owns_store: bool = False) -> None:
        self.store = store
        self.registry = Registry(store, actor="http")
        self.principals = Principals(store, self.registry.schemes)
        self.audit = audit or AuditBuffer(store)
        self.fixed_as_of = as_of
        self.max_batch = max_batch
        self.owns_store = owns_store
        self._index: DecisionIndex | None = None
        self._keys: dict[str, str] = {}
        self.cases = OnlineCases(self)  # due process: objections, appeals, repair, decisions, notices

    def start(self) -> None:
        """Build the decision index (evaluating once if no snapshot exists for the date) and start the
        audit flusher."""
        self.index()
        self.principals.warm()
        self.audit.start()

    def close(self) -> None:
        self.audit.close()
        if self.owns_store:
            self.store.close()

    def today(self) -> date:
        """The service's as-of date: fixed (the demo, tests) or today's, read at this edge only."""
        return self.fixed_as_of or date.today()

    def indexed(self, as_of: date | None) -> bool:
        """Whether decisions as of ``as_of`` come from the index (no evaluation, nothing blocks)."""
        return as_of is None or as_of == self.today()

    def index(self) -> DecisionIndex:
        """The index for :meth:`today`; rebuilt when the date moves on."""
        idx, day = self._index, self.today()
        if idx is None or idx.as_of != day:
            with self.store.lock:
                if self._index is None or self._index.as_of != day:
                    self._index = self.registry.decision_index(day)
                idx = self._index
        return idx

    @property
    def ready(self) -> bool:
        return self._index is not None

    def subject_key(self, text: str, field: str = "subject") -> str:
        """Canonical ``scheme:value``; python-stdnum is run once per distinct identifier (cached)."""
        key = self._keys.get(text)
        if key is None:
            try:
                key = self.registry.schemes.parse(text).key
            except InvalidIdentifier as exc:
                raise InvalidIdentifier(exc.message, field=field) from None
            if len(self._keys) >= _KEY_CACHE_MAX:
                self._keys.clear()
            self._keys[text] = key
        return key

    def _log(self, who: Principal, action: str, subject: str | None, purpose: str | None,
             detail: dict[str, object]) -> None:
        self.audit.add(AuditEntry(0, utc_now(), who.actor, action, subject, purpose, detail))

    # -- relying parties ---------------------------------------------------------------------------

    def _authorise_check(self, who: Principal, subjects: Sequence[str], action: str, purpose: str) -> None:
        try:
            who.may_check(action)
        except Forbidden as exc:  # a refused look-up is still a look-up: the subject sees it was tried
            for s in subjects[:100]:
                self._log(who, "decide_refused", s, purpose, {"action": action, "reason": exc.message})
            raise
        if not purpose.strip():
            raise InvalidInput("a relying party must state the purpose of a check", field="purpose")

    def decide(self, who: Principal, subject: str, action: str, purpose: str, as_of: date | None = None
               ) -> Decision:
        """Effect, measures and legal basis for one subject and action; no records, no score."""
        return self.decide_with_id(who, subject, action, purpose, as_of)[0]

    def decide_with_id(self, who: Principal, subject: str, action: str, purpose: str, as_of: date | None = None
                       ) -> tuple[Decision, str]:
        """:meth:`decide` and the decision id, hashed once for the audit entry and the response."""
        key = self.subject_key(subject)
        self._authorise_check(who, [key], action, purpose)
        d = self._decisions([key], action, purpose, as_of)[0]
        did = d.id
        self._log(who, "decide", key, purpose, _detail(d, did))
        return d, did

    def decide_batch(self, who: Principal, subjects: Sequence[str], action: str, purpose: str,
                     as_of: date | None = None) -> list[Decision]:
        """Decisions for a manifest; one audit entry per decision, appended in a group."""
        return [d for d, _ in self.decide_batch_with_ids(who, subjects, action, purpose, as_of)]

    def decide_batch_with_ids(self, who: Principal, subjects: Sequence[str], action: str, purpose: str,
                              as_of: date | None = None) -> list[tuple[Decision, str]]:
        """:meth:`decide_batch` with each decision id, hashed once for the audit entry and the response."""
        if len(subjects) > self.max_batch:
            raise TooLarge(f"{len(subjects)} subjects in one batch; the limit is {self.max_batch}",
                           limit=self.max_batch, field="subjects")
        keys = [self.subject_key(s, f"subjects[{i}]") for i, s in enumerate(subjects)]
        self._authorise_check(who, keys, action, purpose)
        out = [(d, d.id) for d in self._decisions(keys, action, purpose, as_of)]
        at, actor = utc_now(), who.actor
        self.audit.extend(AuditEntry(0, at, actor, "decide", d.subject, purpose, _detail(d, did)) for d, did in out)
        return out

    def _decisions(self, keys: list[str], action: str, purpose: str, as_of: date | None) -> list[Decision]:
        idx = self.index()
        if as_of is None or as_of == idx.as_of:
            return [idx.decision(k, action, purpose) for k in keys]
        # another date: no snapshot, so evaluate each subject from its own records (bounded by max_batch)
        out = []
        with self.store.lock:
            for k in keys:
                pairs = self.registry.assess_in_force(k, as_of)
                out.append(decide_states(k, (PolicyState.of(lp.policy, a) for lp, a in pairs), action,
                                         purpose, as_of))
        return out

    # -- agencies and reviewers: writes ---------------------------------------------------------------

    def reassess(self, subjects: set[str]) -> None:
        """Single-subject re-evaluation after a write: the index reflects it before the write returns."""
        idx = self._index
        if idx is None:
            return
        with self.store.lock:
            for s in sorted(subjects):
                idx.update([a for _, a in self.registry.assess_in_force(s, idx.as_of)])

    def add_amendments(self, who: Principal, amendments: Sequence[Amendment]) -> tuple[list[str], list[str]]:
        """Amend stored records: an agency only its own, a reviewer any (the outcome of a case)."""
        who.require(Role.AGENCY, Role.REVIEWER)
        if len(amendments) > self.max_batch:
            raise TooLarge(f"{len(amendments)} amendments in one request; the limit is {self.max_batch}",
                           limit=self.max_batch, field="amendments")
        with self.store.lock:
            owners = self.store.record_owners(sorted({a.record for a in amendments}))
            for i, a in enumerate(amendments):
                if a.record not in owners:
                    raise NotFound(f"record {a.record} is not stored", field=f"amendments[{i}].record")
                if who.role is Role.AGENCY and owners[a.record][0] != who.source:
                    raise Forbidden(f"record {a.record} was submitted by another source; an agency amends "
                                    "only its own records", field=f"amendments[{i}].record")
            added = self.store.add_amendments(amendments, actor=who.actor)
        self.reassess({owners[a.record][1] for a in amendments})
        return added.new, added.existing

    # -- subjects and reviewers: the file -------------------------------------------------------------

    def subject_file(self, who: Principal, subject: str, purpose: str | None = None,
                     as_of: date | None = None, log_limit: int = 200) -> SubjectFile:
        """Score, tier, listings, contributions, records, amendments, and the subject's access log."""
        key = self.subject_key(subject)
        try:
            who.may_read_file(key)
        except Forbidden as exc:
            self._log(who, "explain_refused", key, purpose, {"reason": exc.message})
            raise
        if who.role is Role.REVIEWER and not (purpose or "").strip():
            raise InvalidInput("a reviewer must state the purpose (e.g. the case) for reading a file",
                               field="purpose")
        day = as_of or self.today()
        purpose = purpose or "subject's own file"
        with self.store.lock:
            pairs = self.registry.assess(key, day)
            records, amendments = self.store.records_of(key), self.store.amendments_of(key)
        self._log(who, "explain", key, purpose, {"as_of": day.isoformat()})
        self.audit.flush()  # the access log below then includes every read so far, this one too
        with self.store.lock:
            log = self.store.audit_of_subject(key, log_limit)
        return SubjectFile(key, day, [a for _, a in pairs], records, amendments, log)

    # -- the public ------------------------------------------------------------------------------------

    def public_list(self, list_id: str, limit: int = 100, offset: int = 0) -> PublicList:
        """Listings in force today, persons masked (family name + "*"); organisations by name."""
        day = self.index().as_of
        with self.store.lock:  # due process: in force only (not in notice, not suspended), within the window
            lp, rows = published_rows(self.registry, list_id, day)
            page = rows[offset:offset + limit]
            names = self.store.subject_names([r.subject for r in page])
        ldef = lp.policy.list_def(list_id)
        entries, unnamed = [], 0
        for r in page:
            kind, name = names.get(r.subject, ("person", None))
            unnamed += name is None
            entries.append(PublicEntry(mask_subject(r.subject, kind), mask_name(name, kind), r.since, r.until))
        note = ("persons are shown by family name and a masked identifier; organisations by name and code"
                + (f"; {unnamed} entries have no registered name and show the masked identifier only"
                   if unnamed else ""))
        return PublicList(ldef, lp.policy.ref, day, len(rows), entries, note)

    def policies(self) -> list[LoadedPolicy]:
        with self.store.lock:
            return self.registry.policies()

    def published(self) -> list[PolicyVersion]:
        """The latest published version of each policy, with the texts it was published with."""
        with self.store.lock:
            latest = {pv.policy: pv for pv in self.store.policy_versions()}  # oldest first
        return [latest[k] for k in sorted(latest)]

    def catalogue(self) -> Catalogue:
        return self.policies()[0].catalogue


def mask_name(name: str | None, kind: str) -> str | None:
    """Persons: family name (first word, or first character of a Chinese name) and "*"."""
    if name is None or kind != "person":
        return name
    name = name.strip()
    if not name:
        return None
    family = name.split()[0] if " " in name else name[:1]
    return family + "*"


def mask_subject(key: str, kind: str) -> str:
    """Persons: the identifier with all but its first four and last two characters masked (the birth
    date and sequence number are hidden); organisations' codes are public."""
    if kind != "person":
        return key
    scheme, _, value = key.partition(":")
    shown = value[:4] + "*" * max(len(value) - 6, 0) + value[-2:] if len(value) > 6 else "*" * len(value)
    return f"{scheme}:{shown}"


def _detail(d: Decision, did: str | None = None) -> dict[str, object]:
    return {"decision": did or d.id, "action": d.action, "effect": d.effect.value, "as_of": d.as_of.isoformat(),
            "measures": [m.measure for m in d.measures]}
