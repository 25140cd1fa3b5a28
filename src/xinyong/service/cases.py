"""Cases: objections, appeals and credit repair, decided by a human reviewer with reasons (charter rule 5).

- An **objection** (by the subject, within ``procedure.objection_days`` of the notice) targets a record or
  a listing. While it is open an after-notice listing is suspended; a list that takes effect immediately
  stays in force and the objection gets the expedited deadline. Upheld, the record is annulled (or its
  amount corrected) from the decision date; for a listing, every record behind it is annulled. One
  objection per matter (a record, or a listing and the records behind it): a further one is refused while
  it is open (a duplicate) and once it is decided (the next step is an appeal), so repeated objections
  cannot keep a listing suspended.
- An **appeal** against a decided objection (within ``procedure.appeal_days``) goes to a *different*
  reviewer: the one who decided the objection is refused (``Forbidden``).
- A **repair** application is accepted only when the record is eligible (``policy/procedure.py``:
  minimum period by severity, a list that admits repair); granted, a ``repair`` amendment takes effect
  on the decision date, so the listing ends and its measures stop that same day.

Reviewers are plain actor ids here; the HTTP service maps its principals onto them. Every write — case,
decision, amendments, notices — commits in one transaction with its audit entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xinyong.model.assessment import Listing
from xinyong.model.case import OUTCOMES, Case, CaseEvent, CaseKind, CaseStatus, CaseView, Notice
from xinyong.model.errors import Forbidden, InvalidInput, NotFound, NotYetEligible
from xinyong.model.record import Amendment, Record
from xinyong.policy.casework import (
    appeal_deadline,
    decision_notice,
    filed_notice,
    objection_deadline,
    outcome_amendments,
    repeat_objection,
    review_deadline,
)
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import Eligibility, ListingStatus, listing_statuses, relevant_policies, repair_eligibility
from xinyong.service.notices import NoticeService, how_to
from xinyong.service.registry import Registry
from xinyong.store.protocol import CaseStore


@dataclass
class CaseService:
    registry: Registry

    @property
    def store(self) -> CaseStore:
        return self.registry.store.cases

    @property
    def actor(self) -> str:
        return self.registry.actor

    # -- reading ---------------------------------------------------------------------------------------

    def cases(self, subject: str | None = None) -> list[CaseView]:
        """Cases of one subject (or all, for reviewers); the read is audited (charter rule 6)."""
        key = None if subject is None else self._key(subject)
        views = self.store.cases(key)
        self.registry._audit("cases", subject=key, purpose="due process",
                             detail={"cases": [v.id for v in views][:100]})
        return views

    def case(self, case_id: str) -> CaseView:
        view = self.store.case(case_id)
        self.registry._audit("cases", subject=view.case.subject, purpose="due process", detail={"cases": [view.id]})
        return view

    # -- filing ----------------------------------------------------------------------------------------

    def object(self, subject: str, target: str, text: str, as_of: date,
               evidence: Sequence[str] = ()) -> CaseView:
        """File an objection against ``record:<id>`` or ``list:<id>`` within the objection window."""
        key = self._key(subject)
        kind, ident = _split_target(target)
        records = self.registry.store.records_of(key)
        listings = self._listings(key, as_of)
        if kind == "record":
            rec = _record(records, ident, key)
            if rec.decided > as_of:
                raise NotFound(f"record {rec.id} is decided on {rec.decided}, after {as_of}", field="target")
            policies = self._knowing(rec.type)
            last = objection_deadline(rec.decided, policies)
            behind = [(lp, x) for lp, x in listings if rec.id in x.triggered_by]
        else:
            found = [(lp, x) for lp, x in listings if x.list_id == ident]
            if not found:
                raise NotFound(f"{key} is not on list {ident!r} as of {as_of}", field="target")
            lp, listing = found[0]
            status = self._status(lp, key, listing, as_of)
            last, policies, behind = status.objection_by, [lp], found
        if as_of > last:
            raise InvalidInput(f"the window to object closed on {last}", field="as_of")
        self._refuse_repeat(key, f"{kind}:{ident}", {ident} if kind == "record" else set(behind[0][1].triggered_by),
                            as_of)
        immediate = [lp for lp, x in behind if lp.policy.list_def(x.list_id).takes_effect == "immediately"]
        case = Case(kind=CaseKind.OBJECTION, subject=key, target=f"{kind}:{ident}", filed=as_of, filed_by=self.actor,
                    text=text, evidence=list(evidence),
                    deadline=review_deadline(as_of, immediate or policies, expedited=bool(immediate)),
                    expedited=bool(immediate))
        return self._file(case)

    def appeal(self, case_id: str, text: str, as_of: date, evidence: Sequence[str] = ()) -> CaseView:
        """Appeal the decision on an objection, within the policy's appeal window."""
        original = self.store.case(case_id)
        decided = original.decision(as_of)
        if original.case.kind is not CaseKind.OBJECTION or decided is None:
            raise InvalidInput(f"case {case_id} is not a decided objection as of {as_of}", field="case")
        policies = self._case_policies(original.case)
        until = self._appeal_until(original.case, decided.at)
        if as_of > until:
            raise InvalidInput(f"the window to appeal closed on {until}", field="as_of")
        case = Case(kind=CaseKind.APPEAL, subject=original.case.subject, target=f"case:{case_id}", filed=as_of,
                    filed_by=self.actor, text=text, evidence=list(evidence),
                    deadline=review_deadline(as_of, policies, expedited=original.case.expedited),  # as its flag
                    expedited=original.case.expedited, appeal_of=case_id)
        return self._file(case)

    def eligibility(self, subject: str, record_id: str, as_of: date) -> Eligibility:
        """May the record be repaired as of ``as_of`` (``policy/procedure.repair_eligibility``)?"""
        key = self._key(subject)
        rec = _record(self.registry.store.records_of(key), record_id, key)
        verdict = repair_eligibility(self.registry.policies(), rec, self.registry.store.amendments_of(key),
                                     self._listings(key, as_of), as_of)
        self.registry._audit("repair_eligibility", subject=key, purpose="due process",
                             detail={"record": rec.id, "as_of": as_of.isoformat(), "eligible": verdict.eligible})
        return verdict

    def repair(self, subject: str, record_id: str, text: str, as_of: date, evidence: Sequence[str] = ()) -> CaseView:
        """Apply for credit repair of a record; refused at once, with the earliest date, if not eligible."""
        key = self._key(subject)
        if not evidence:
            raise InvalidInput("a repair application needs evidence that the obligation was performed",
                               field="evidence")
        verdict = self.eligibility(key, record_id, as_of)
        if not verdict.eligible:
            raise NotYetEligible(f"record {record_id} cannot be repaired as of {as_of}: {verdict.reason}",
                                 earliest=verdict.earliest, field="record")
        rec = _record(self.registry.store.records_of(key), record_id, key)
        policies = self._knowing(rec.type)
        behind = [(lp, x) for lp, x in self._listings(key, as_of) if rec.id in x.triggered_by]
        immediate = any(lp.policy.list_def(x.list_id).takes_effect == "immediately" for lp, x in behind)
        case = Case(kind=CaseKind.REPAIR, subject=key, target=f"record:{rec.id}", filed=as_of, filed_by=self.actor,
                    text=text, evidence=list(evidence), deadline=review_deadline(as_of, policies, expedited=immediate),
                    expedited=immediate)
        return self._file(case)

    # -- deciding --------------------------------------------------------------------------------------

    def decide(self, case_id: str, outcome: CaseStatus, reasons: str, as_of: date,
               amount: Decimal | None = None) -> CaseView:
        """The reviewer (this service's actor) decides a case with reasons; effects become amendments."""
        view = self.store.case(case_id)
        case, reviewer = view.case, self.actor
        if not reasons.strip():
            raise InvalidInput("a decision must give its reasons", field="reasons")
        if outcome not in OUTCOMES[case.kind]:
            allowed = ", ".join(o.value for o in OUTCOMES[case.kind])
            raise InvalidInput(f"a {case.kind.value} is decided {allowed}, not {outcome.value}", field="outcome")
        if as_of < case.filed:
            raise InvalidInput(f"case {case_id} was filed on {case.filed}, after {as_of}", field="as_of")
        if not view.is_open(as_of):
            raise InvalidInput(f"case {case_id} is already decided ({view.status(as_of).value})", field="case")
        if reviewer == case.filed_by:
            raise Forbidden(f"{reviewer} filed case {case_id} and may not decide it", field="reviewer")
        target = case
        if case.kind is CaseKind.APPEAL:
            original = self.store.case(case.appeal_of or "")
            first = original.decision(as_of)
            if first is not None and first.actor == reviewer:
                raise Forbidden(f"{reviewer} decided the objection {original.id}; an appeal goes to a different "
                                "reviewer", field="reviewer")
            target = original.case
        amendments: list[Amendment] = []
        if outcome in (CaseStatus.UPHELD, CaseStatus.GRANTED):
            amendments = self._amendments(target, case_id, outcome, reasons, as_of, amount)
        event = CaseEvent(case=case_id, at=as_of, actor=reviewer, outcome=outcome, reasons=reasons,
                          amendments=[a.id for a in amendments])
        with self.registry.store.transaction():
            if amendments:
                self.registry.store.add_amendments(amendments, actor=reviewer)
            self.store.add_event(event, case.subject, actor=reviewer)
            self.store.add_notices([self._decision_notice(case, outcome, reasons, as_of)], actor=reviewer)
            NoticeService(self.registry).sync(case.subject, as_of)
        return self.store.case(case_id)

    # -- helpers ---------------------------------------------------------------------------------------

    def _refuse_repeat(self, key: str, target: str, covered: set[str], as_of: date) -> None:
        """One objection per matter (``policy/casework.repeat_objection``)."""
        why = repeat_objection(target, covered, self.store.cases(key), as_of, self._covers, self._appeal_until,
                               lambda case_id: how_to("appeal", key, case_id, channel="cli"))
        if why is not None:
            raise InvalidInput(why, field="target")

    def _covers(self, case: Case) -> set[str]:
        """The records an objection is about: its record, or those behind its listing when it was filed."""
        if case.target_kind == "record":
            return {case.target_id}
        return {r for _, x in self._listings(case.subject, case.filed) if x.list_id == case.target_id
                for r in x.triggered_by}

    def _appeal_until(self, case: Case, decided: date) -> date:
        """The last day to appeal the decision on an objection."""
        return appeal_deadline(decided, self._case_policies(case))

    def _file(self, case: Case) -> CaseView:
        with self.registry.store.transaction():
            if not self.store.add_case(case, actor=self.actor):
                raise InvalidInput(f"case {case.id} is already filed", field="case")
            self.store.add_notices([filed_notice(case)], actor=self.actor)
        return self.store.case(case.id)

    def _decision_notice(self, case: Case, outcome: CaseStatus, reasons: str, as_of: date) -> Notice:
        until = self._appeal_until(case, as_of) if case.kind is CaseKind.OBJECTION else None
        return decision_notice(case, outcome, reasons, as_of, until, how_to("appeal", case.subject, case.id))

    def _amendments(self, case: Case, case_id: str, outcome: CaseStatus, reasons: str, as_of: date,
                    amount: Decimal | None) -> list[Amendment]:
        if case.kind is CaseKind.REPAIR:  # eligibility is checked again on the decision date
            verdict = self.eligibility(case.subject, case.target_id, as_of)
            if not verdict.eligible:
                raise InvalidInput(f"repair cannot be granted as of {as_of}: {verdict.reason}", field="outcome")
        behind: list[str] = []
        if case.kind is CaseKind.OBJECTION and case.target_kind == "list":
            found = [x for _, x in self._listings(case.subject, case.filed) if x.list_id == case.target_id]
            behind = found[0].triggered_by if found else []
        return outcome_amendments(case, case_id, outcome, reasons, as_of, amount, behind)

    def _key(self, subject: str) -> str:
        return self.registry.schemes.parse(subject).key

    def _listings(self, key: str, as_of: date) -> list[tuple[LoadedPolicy, Listing]]:
        return [(lp, x) for lp, a in self.registry.assess(key, as_of) for x in a.listings]

    def _status(self, lp: LoadedPolicy, key: str, listing: Listing, as_of: date) -> ListingStatus:
        records, amendments = self.registry.store.records_of(key), self.registry.store.amendments_of(key)
        a = evaluate(lp, key, records, amendments, as_of, self.registry.schemes)
        return next(s for s in listing_statuses(lp, a, records, amendments, self.store.cases(key),
                                                self.registry.schemes) if s.list_id == listing.list_id)

    def _knowing(self, type_id: str) -> list[LoadedPolicy]:
        found = relevant_policies(self.registry.policies(), type_id)
        if not found:
            raise NotFound(f"no published policy knows record type {type_id!r}", field="record")
        return found

    def _case_policies(self, case: Case) -> list[LoadedPolicy]:
        if case.target_kind == "list":
            return [lp for lp in self.registry.policies() if any(x.id == case.target_id for x in lp.policy.lists)]
        rec = _record(self.registry.store.records_of(case.subject), case.target_id, case.subject)
        return self._knowing(rec.type)


def _split_target(target: str) -> tuple[str, str]:
    kind, sep, ident = target.partition(":")
    if not sep:  # a bare 32-hex id is a record, anything else a list id
        kind, ident = ("record", target) if len(target) == 32 else ("list", target)
    if kind not in ("record", "list") or not ident:
        raise InvalidInput(f"{target!r}: give record:<record id> or list:<list id>", field="target")
    return kind, ident


def _record(records: Sequence[Record], record_id: str, subject: str) -> Record:
    for r in records:
        if r.id == record_id:
            return r
    raise NotFound(f"{subject} has no record {record_id}", field="record")
