"""The registry use cases: publish policies, evaluate the population, decide, explain, list.

This is the one place that joins the store (I/O), the policy core (semantics) and the engines (batch
evaluation). Every read of subject data and every write leaves an audit entry (charter rule 6); reads
name their purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from xinyong.audit import AuditEntry, VerifyResult, utc_now, verify
from xinyong.engines.plan import plan_run
from xinyong.model.assessment import Assessment, Decision
from xinyong.model.case import CaseView
from xinyong.model.errors import InvalidInput, NotFound, PolicyError
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.model.record import Amendment, Record
from xinyong.model.runs import RunSummary
from xinyong.policy.decide import PolicyState, decide_states
from xinyong.policy.evaluate import evaluate
from xinyong.policy.lint import lint, lint_catalogue
from xinyong.policy.loader import LoadedPolicy, find_policy_files, load_policy, load_published
from xinyong.policy.procedure import in_force_only, listing_statuses
from xinyong.service.decisions import DecisionIndex
from xinyong.service.index_build import build_index
from xinyong.service.index_due import apply_due_process
from xinyong.store.protocol import AssessmentRun, FullStore, ListingRow

#: Above this many subjects written about since the last snapshot, building an index evaluates the
#: whole population again instead of re-assessing them one at a time.
REASSESS_LIMIT = 5_000


@dataclass(frozen=True)
class Published:
    policy: str
    version: str
    new: bool


@dataclass
class Registry:
    """Use cases over one store. ``actor`` names who acts, for the audit log."""

    store: FullStore
    actor: str = "cli"
    schemes: SchemeRegistry = field(default_factory=default_schemes)
    _versions: list[LoadedPolicy] | None = None

    # -- policies ----------------------------------------------------------------------------------

    def publish(self, paths: list[Path], today: date | None = None) -> list[Published]:
        """Publish every policy under ``paths``; refused whole if any breaks the charter, or if a version
        would take effect before ``today`` (no retroactive punishment: a new rule never reaches back)."""
        files = find_policy_files(paths)
        if not files:
            raise NotFound(f"no policy files under {', '.join(map(str, paths))}", field="paths")
        loaded = [load_policy(f) for f in files]
        problems = [p for lp in loaded for p in lint(lp)]
        # the register keeps the whole catalogue: every entry must be lawful, used or not
        catalogues = {str(lp.catalogue_doc.path): lp for lp in loaded}
        problems += [p for lp in catalogues.values() for p in lint_catalogue(lp.catalogue, lp.catalogue_doc)]
        if problems:
            unique = {str(p): p for p in problems}  # a catalogue entry a policy uses is reported by both
            raise PolicyError(sorted(unique.values(), key=lambda p: (p.file, p.line, p.code)))
        known = {(pv.policy, pv.version) for pv in self.store.policy_versions()}
        for lp in loaded:
            start = lp.policy.effective_from
            if today is not None and start is not None and start < today and (lp.policy.id, lp.policy.version) \
                    not in known:
                raise InvalidInput(f"{lp.doc.path}: {lp.policy.ref} would take effect on {start}, before today "
                                   f"({today}); a version applies from its publication on, never to the past",
                                   field="effective_from")
        out = []
        with self.store.transaction():
            for lp in loaded:
                self.store.put_catalogue(lp.catalogue, actor=self.actor)
                new = self.store.publish_policy(
                    lp.policy.id, lp.policy.version, lp.doc.path.read_text(encoding="utf-8"),
                    lp.catalogue_doc.path.read_text(encoding="utf-8"), actor=self.actor)
                out.append(Published(lp.policy.id, lp.policy.version, new))
        self._versions = None
        return out

    def versions(self, *, current: bool = False) -> list[LoadedPolicy]:
        """Every published version, in publication order, loaded once from the texts the store kept.

        ``current``: first ask the store which versions it holds, and load again if another process
        published since (a long-running service answering a question that must not use stale rules)."""
        if current and self._versions is not None:
            stored = [(pv.policy, pv.version) for pv in self.store.policy_versions()]
            if stored != [(lp.policy.id, lp.policy.version) for lp in self._versions]:
                self._versions = None
        if self._versions is None:
            self._versions = [load_published(pv) for pv in self.store.policy_versions()]  # oldest first
        return self._versions

    def policies(self, as_of: date | None = None) -> list[LoadedPolicy]:
        """The version of every policy in force on ``as_of`` (the latest published whose
        ``effective_from`` is not after it; a version without one is in force from the start), or the
        latest of each without a date. Replaying a past date uses the rules of that date."""
        chosen: dict[str, LoadedPolicy] = {}
        for lp in self.versions():  # publication order: a later version in force replaces an earlier
            start = lp.policy.effective_from
            if as_of is None or start is None or start <= as_of:
                chosen[lp.policy.id] = lp
        if not chosen:
            raise NotFound("no policy is published in this store; run `xinyong publish policies/`"
                           if not self.versions() else f"no policy version is in force on {as_of}", field="policy")
        return [chosen[k] for k in sorted(chosen)]

    # -- evaluation --------------------------------------------------------------------------------

    def evaluate(self, as_of: date) -> list[RunSummary]:
        """Evaluate every published policy over the whole population; one snapshot per policy."""
        out = []
        amended = self.store.has_amendments(as_of)
        for lp in self.policies(as_of):
            # both stores keep each record id once (content ids, deduplicated on write)
            query = plan_run(lp, as_of, self.store.dialect, amended=amended, unique_ids=True)
            with self.store.transaction():
                summary = self.store.write_run(query)
                run = summary.run
                self._audit("evaluate", detail={"policy": lp.policy.ref, "as_of": as_of.isoformat(),
                                                "run": run, "subjects": summary.subjects})
            out.append(summary)
        return out

    def assess(self, subject: str, as_of: date) -> list[tuple[LoadedPolicy, Assessment]]:
        """Single-subject evaluation from the subject's own records (reflects a new record at once)."""
        key = self.schemes.parse(subject).key
        records, amendments = self.store.records_of(key), self.store.amendments_of(key)
        return [(lp, evaluate(lp, key, records, amendments, as_of, self.schemes))
                for lp in self.policies(as_of)]

    def assess_in_force(self, subject: str, as_of: date) -> list[tuple[LoadedPolicy, Assessment]]:
        """What decisions read: like :meth:`assess`, but a listing still in its notice period, or suspended
        by an open objection, carries no measures (due process, ``policy/procedure.py``)."""
        key = self.schemes.parse(subject).key
        return self._in_force(key, *self.store.cases.files_of([key])[key], as_of)

    def _in_force(self, key: str, records: list[Record], amendments: list[Amendment], cases: list[CaseView],
                  as_of: date) -> list[tuple[LoadedPolicy, Assessment]]:
        out = []
        for lp in self.policies(as_of):
            a = evaluate(lp, key, records, amendments, as_of, self.schemes)
            if a.listings:
                a = in_force_only(a, listing_statuses(lp, a, records, amendments, cases, self.schemes))
            out.append((lp, a))
        return out

    # -- relying parties ---------------------------------------------------------------------------

    def check(self, subject: str, action: str, purpose: str, as_of: date) -> Decision:
        """A decision for a relying party: effect, measures and legal basis; no records, no score."""
        _require_purpose(purpose)
        key = self.schemes.parse(subject).key
        if self.store.subject_names([key]):
            pairs = self._in_force(key, *self.store.cases.files_of([key])[key], as_of)
            states = [PolicyState.of(lp.policy, a) for lp, a in pairs]
        else:
            # A subject the register does not hold has no assessment: no tier, no list, so no measure,
            # neither a sanction nor a benefit (an empty file would grade a company at its base score).
            # The decision index answers unknown subjects the same way.
            states = [PolicyState(lp.policy, None, frozenset()) for lp in self.policies(as_of)]
        decision = decide_states(key, states, action, purpose, as_of)
        self._audit("decide", subject=decision.subject, purpose=purpose, detail=decision_detail(decision))
        return decision

    def check_batch(self, subjects: Iterable[str], action: str, purpose: str, as_of: date
                    ) -> list[Decision]:
        """Decisions for a manifest of subjects, from the snapshot index when one exists for ``as_of``.

        Subjects are validated first; one audit entry per decision is appended in one group.
        """
        _require_purpose(purpose)
        index = self.decision_index(as_of)
        texts = list(subjects)
        # A registered subject was validated when it was registered; re-running python-stdnum on it
        # (~100 µs for a resident id) would dominate a manifest check. The index knows the subjects that
        # carry a measure; the store answers for the rest in one query.
        known = index.states
        registered = self.store.subject_names(sorted({s for s in texts if s not in known}))
        keys = [s if s in known or s in registered else self.schemes.parse(s).key for s in texts]
        decisions = [index.decision(k, action, purpose) for k in keys]
        self.store.append_audit([
            AuditEntry(0, utc_now(), self.actor, "decide", d.subject, purpose, decision_detail(d))
            for d in decisions])
        return decisions

    def decision_index(self, as_of: date, _retry: bool = False) -> DecisionIndex:
        """Index of every subject's state from the latest runs as of ``as_of`` (evaluating if none)."""
        policies = self.policies(as_of)
        runs = [self.store.latest_run(lp.policy.id, as_of) for lp in policies]
        if any(r is None or r.version != lp.policy.version for r, lp in zip(runs, policies, strict=True)):
            self.evaluate(as_of)
            runs = [self.store.latest_run(lp.policy.id, as_of) for lp in policies]
        done = [r for r in runs if r is not None]
        assert len(done) == len(runs)
        index = build_index(self.store, policies, [r.run for r in done], as_of)
        self._due_process(index, done, as_of)
        seq = min(self.store.run_audit_seq(r.run) for r in done)
        head, changed = self.store.changed_subjects(seq)
        if len(changed) > REASSESS_LIMIT and not _retry:
            # a bulk load since the snapshot: one batch evaluation beats re-assessing one by one
            self.evaluate(as_of)
            return self.decision_index(as_of, _retry=True)
        self.refresh(index, changed)
        index.seq = head
        return index

    def in_force_of(self, keys: set[str], as_of: date) -> dict[str, list[tuple[LoadedPolicy, Assessment]]]:
        """:meth:`assess_in_force` for several subjects (canonical keys) in one read of their files."""
        return {key: self._in_force(key, *file, as_of)
                for key, file in self.store.cases.files_of(sorted(keys)).items()}

    def refresh(self, index: DecisionIndex, subjects: set[str]) -> None:
        """Re-assess subjects written about since the index was built (any process), in one read of
        their files, so decisions see every write without a new batch evaluation."""
        for pairs in self.in_force_of(subjects, index.as_of).values():
            index.update([a for _, a in pairs])

    def _due_process(self, index: DecisionIndex, runs: list[AssessmentRun], as_of: date) -> None:
        """Take out of the index the run listings not in force yet (notice period, open objection): the
        compiled SQL knows entry and duration, not due process (``service/index_due.py``)."""
        apply_due_process(index, self.store, runs, as_of, self.schemes)

    # -- subjects ----------------------------------------------------------------------------------

    def explain(self, subject: str, as_of: date, purpose: str = "subject's own file"
                ) -> list[tuple[LoadedPolicy, Assessment]]:
        """The subject's whole file under every policy: score, tier, listings, contributions."""
        pairs = self.assess(subject, as_of)
        self._audit("explain", subject=pairs[0][1].subject, purpose=purpose,
                    detail={"as_of": as_of.isoformat()})
        return pairs

    def listings(self, list_id: str, as_of: date | None = None) -> tuple[LoadedPolicy, list[ListingRow]]:
        """Listings in force in the latest run (as of ``as_of`` if given) of the policy with the list."""
        for lp in self.policies(as_of):
            if any(x.id == list_id for x in lp.policy.lists):
                run = self.store.latest_run(lp.policy.id, as_of)
                if run is None or run.version != lp.policy.version:
                    raise NotFound(f"list {list_id!r} has not been evaluated"
                                   + (f" as of {as_of}" if as_of else "") + "; run `xinyong evaluate`",
                                   field="as_of")
                return lp, self.store.listings_in_force(list_id, run.run)
        known = sorted(x.id for lp in self.policies(as_of) for x in lp.policy.lists)
        raise NotFound(f"no published policy has a list {list_id!r}; lists: {', '.join(known)}",
                       field="list")

    # -- audit -------------------------------------------------------------------------------------

    def verify_audit(self) -> VerifyResult:
        return verify(self.store.audit_entries())

    def _audit(self, action: str, *, subject: str | None = None, purpose: str | None = None,
               detail: dict[str, object] | None = None) -> None:
        self.store.append_audit([AuditEntry(0, utc_now(), self.actor, action, subject, purpose,
                                            detail or {})])


def _require_purpose(purpose: str) -> None:
    if not purpose.strip():
        raise InvalidInput("a relying party must state the purpose of a check", field="purpose")


def decision_detail(d: Decision, did: str | None = None) -> dict[str, object]:
    """The audit detail of a decision, the same from every edge (the id passed when already hashed)."""
    return {"decision": did or d.id, "action": d.action, "effect": d.effect.value, "as_of": d.as_of.isoformat(),
            "measures": [m.measure for m in d.measures]}
