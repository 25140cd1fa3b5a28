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

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.audit import AuditEntry, ChainedEntry, utc_now
from xinyong.model.assessment import Assessment, Decision
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import Forbidden, InvalidIdentifier, InvalidInput, NotFound, TooLarge
from xinyong.model.record import Amendment, Record
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.budget import DEFAULT_READ_BUDGET, Budget
from xinyong.service.checkpoints import Checkpointer
from xinyong.service.decisions import DecisionIndex
from xinyong.service.online_cases import OnlineCases
from xinyong.service.principals import Principal, Principals, Role
from xinyong.service.publication import PublicPage, public_page
from xinyong.service.registry import REASSESS_LIMIT, Registry, decision_detail
from xinyong.store.protocol import FullStore, PolicyVersion

DEFAULT_MAX_BATCH = 10_000
#: How often a server polls the store's change sequence for other processes' writes (seconds).
DEFAULT_FOLLOW_INTERVAL = 0.2
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


class Online:
    """The service a server process runs; ``start`` before use, ``close`` on shutdown (flushes audit)."""

    def __init__(self, store: FullStore, *, as_of: date | None = None, max_batch: int = DEFAULT_MAX_BATCH,
                 audit: AuditBuffer | None = None, owns_store: bool = False,
                 follow_interval: float = DEFAULT_FOLLOW_INTERVAL, checkpointer: Checkpointer | None = None,
                 read_budget: float = DEFAULT_READ_BUDGET, public_url: str | None = None) -> None:
        self.store = store
        self.public_url = public_url  # where the public reaches this register (printed on credit reports)
        self.registry = Registry(store, actor="http")
        self.principals = Principals(store, self.registry.schemes, registry=self.registry, today=self.today)
        self.audit = audit or AuditBuffer(store)
        self.fixed_as_of = as_of
        self.max_batch = max_batch
        self.owns_store = owns_store
        self._index: DecisionIndex | None = None
        self._keys: dict[str, str] = {}
        self.follow_interval = follow_interval
        #: whether another process may create or revoke keys while this one serves: not on a DuckDB file,
        #: which one process at a time opens for writing (this one), so every key change goes through
        #: ``self.principals`` and re-reading the key table on each follow would find nothing new
        self._keys_shared = store.dialect != "duckdb"
        self._effects: dict[str, int] = {}
        self._ingested: dict[str, int] = {}
        self.checkpointer = checkpointer
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self.read_budget = read_budget
        self.cases = OnlineCases(self)  # due process: objections, appeals, repair, decisions, notices

    def budget(self, what: str) -> Budget:
        """The time budget of one read that may grow with the data (``what`` names it in the refusal)."""
        return Budget(self.read_budget, what)

    def start(self) -> None:
        """Build the decision index (evaluating once if no snapshot exists for the date) and start the
        audit flusher."""
        self.index()
        self.principals.warm()
        self.audit.start()
        if self.checkpointer is not None:
            self.checkpointer.start()
        if self.follow_interval > 0:
            self._follower = threading.Thread(target=self._follow_loop, name="xinyong-follow", daemon=True)
            self._follower.start()

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
        self.audit.close()
        if self.checkpointer is not None:
            self.checkpointer.close()  # after the last flush: the final head is anchored
        if self.owns_store:
            self.store.close()

    def today(self) -> date:
        """The service's as-of date: fixed (the demo, tests) or today's, read at this edge only."""
        return self.fixed_as_of or date.today()

    def indexed(self, as_of: date | None) -> bool:
        """Whether a decision can be answered on the event loop: the index for today is built (after
        midnight it must be rebuilt, which takes the store lock and may evaluate: a worker thread's job,
        never the loop's) and the request asks for today."""
        idx = self._index
        return idx is not None and idx.as_of == self.today() and as_of in (None, idx.as_of)

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

    def _authorise_check(self, who: Principal, subjects: Sequence[str], action: str, purpose: str,
                         as_of: date | None) -> None:
        try:
            who.may_check(action)
            if as_of is not None and as_of != self.today():
                # another date would show listings not in force today: proposed ones still in their notice
                # period, or ones that have ended (charter rules 5 and 6); relying parties decide today
                raise Forbidden(f"relying parties get decisions as of the service date {self.today()}, "
                                f"not {as_of}", field="as_of")
        except Forbidden as exc:  # a refused look-up is still a look-up: the subject sees it was tried
            self.audit.extend(AuditEntry(0, utc_now(), who.actor, "decide_refused", s, purpose,
                                         {"action": action, "reason": exc.message}) for s in subjects)
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
        self._authorise_check(who, [key], action, purpose, as_of)
        d = self._decisions([key], action, purpose, as_of)[0]
        did = d.id
        self._effects[d.effect.value] = self._effects.get(d.effect.value, 0) + 1
        self._log(who, "decide", key, purpose, decision_detail(d, did))
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
        self._authorise_check(who, keys, action, purpose, as_of)
        out = [(d, d.id) for d in self._decisions(keys, action, purpose, as_of)]
        for d, _ in out:
            self._effects[d.effect.value] = self._effects.get(d.effect.value, 0) + 1
        at, actor = utc_now(), who.actor
        self.audit.extend(AuditEntry(0, at, actor, "decide", d.subject, purpose, decision_detail(d, did))
                          for d, did in out)
        return out

    def _decisions(self, keys: list[str], action: str, purpose: str, as_of: date | None) -> list[Decision]:
        """From the index only: ``_authorise_check`` has refused any date but the service's."""
        idx = self.index()
        return [idx.decision(k, action, purpose) for k in keys]

    # -- agencies and reviewers: writes ---------------------------------------------------------------

    def take_effect_counts(self) -> dict[str, int]:
        """Decisions by effect since the last call (for the metrics endpoint)."""
        counts, self._effects = self._effects, {}
        return counts

    def count_ingest(self, status: str, n: int) -> None:
        self._ingested[status] = self._ingested.get(status, 0) + n

    def take_ingest_counts(self) -> dict[str, int]:
        counts, self._ingested = self._ingested, {}
        return counts

    def reassess(self, subjects: set[str]) -> None:
        """Single-subject re-evaluation after a write: the index reflects it before the write returns."""
        idx = self._index
        if idx is None:
            return
        with self.store.lock:
            for s in sorted(subjects):
                idx.update([a for _, a in self.registry.assess_in_force(s, idx.as_of)])

    def follow(self) -> int:
        """Apply other processes' writes: re-assess the subjects the store's change sequence names since
        the index's head (another API worker, a CLI ingest, a reviewer), and re-read the live keys where
        another process can change them. Returns how many subjects."""
        idx = self._index
        if idx is None:
            return 0
        with self.store.lock:
            if self._keys_shared:
                self.principals.reload()  # keys revoked or created by another process
            head, changed = self.store.changed_subjects(idx.seq)
            if len(changed) > REASSESS_LIMIT:  # a bulk load elsewhere: rebuild from a batch evaluation
                self._index = self.registry.decision_index(idx.as_of)
            elif changed:
                self.registry.refresh(idx, changed)
            idx.seq = max(idx.seq, head)
        return len(changed)

    def _follow_loop(self) -> None:
        while not self._stop.wait(self.follow_interval):
            try:
                self.follow()
            except Exception:  # a transient store error: the next round retries
                continue

    def add_amendments(self, who: Principal, amendments: Sequence[Amendment]) -> tuple[list[str], list[str]]:
        """Amend stored records: an agency only its own. A reviewer's amendments come from deciding a case
        (``POST /v1/cases/{id}/decision``), which links each to the case and its reasons; a bare amendment
        by a reviewer would change a file with no case behind it."""
        if who.role is Role.REVIEWER:
            raise Forbidden("a reviewer amends records by deciding a case (POST /v1/cases/{id}/decision), "
                            "so every amendment is linked to a case and its reasons", field="role")
        who.require(Role.AGENCY)
        if len(amendments) > self.max_batch:
            raise TooLarge(f"{len(amendments)} amendments in one request; the limit is {self.max_batch}",
                           limit=self.max_batch, field="amendments")
        today = self.today()
        for i, a in enumerate(amendments):
            if a.effective < today:
                # a backdated amendment would rewrite assessments already issued; corrections of the past
                # come from case decisions, dated on the decision (charter rule 5, recomputable history)
                raise InvalidInput(f"an amendment takes effect from today ({today}) or later, not {a.effective}",
                                   field=f"amendments[{i}].effective")
        with self.store.lock:
            owners = self.store.record_owners(sorted({a.record for a in amendments}))
            for i, a in enumerate(amendments):
                owner = owners.get(a.record)
                if owner is None or (who.role is Role.AGENCY and owner[0] != who.source):
                    # one answer for "not stored" and "another source's": ids are guessable content hashes
                    raise NotFound(f"no record {a.record} from your source"
                                   if who.role is Role.AGENCY else f"record {a.record} is not stored",
                                   field=f"amendments[{i}].record")
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
        budget = self.budget("the subject's file")
        with self.store.lock:  # read under the lock; evaluate outside it, within the budget
            records, amendments = self.store.records_of(key), self.store.amendments_of(key)
            policies = self.registry.policies(day)
        assessments = []
        for lp in policies:
            budget.check()
            assessments.append(evaluate(lp, key, records, amendments, day, self.registry.schemes))
        self._log(who, "explain", key, purpose, {"as_of": day.isoformat()})
        self.audit.flush()  # the access log below then includes every read so far, this one too
        with self.store.lock:
            log = self.store.audit_of_subject(key, log_limit)
        return SubjectFile(key, day, assessments, records, amendments, log)

    # -- the public ------------------------------------------------------------------------------------

    def public_page(self, list_id: str, limit: int = 100, offset: int = 0) -> PublicPage:
        """A page of a published list as of the service's date: the same page ``xinyong lists public``
        prints (``service/publication.public_page``: in force only, published fields only, own reasons)."""
        day = self.index().as_of
        with self.store.lock:
            return public_page(self.registry, list_id, day, limit, offset)

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
