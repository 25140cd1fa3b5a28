"""Due process over HTTP: objections, appeals, repair applications, reviewer decisions, notices, status.

The rules are :class:`~xinyong.service.cases.CaseService` and :class:`~xinyong.service.notices.NoticeService`
(the CLI runs the same ones); this module adds what the online service needs around them:

- **who may do what**: a subject files and reads only its own cases, notices and status; reviewers (and
  admins, read-only) see every case; only a reviewer decides. Refusals are :class:`Forbidden` and the
  refused attempt is audited, like a refused file read.
- **who acts**: the case service names a filer or reviewer by a plain actor string, and refuses a reviewer
  deciding their own filing or the appeal against their own decision. Here that string is
  ``role:holder name`` (e.g. ``reviewer:Li Wei``), not the key id: a reviewer who rotates their key is the
  same person, so the appeal still goes to somebody else. Each write also appends an audit entry naming the
  exact key (``Principal.actor``), in the same transaction.
- **decisions at once**: a write that can change what decisions read (an objection suspends an
  after-notice listing; an upheld objection annuls records; a granted repair ends the listing) re-evaluates
  the subject and updates the in-memory index before it returns, as ``POST /v1/records`` does.

Writes use the service's as-of date (``Online.today``): nobody files or decides a case in the past.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.case import CaseStatus, CaseView, Notice
from xinyong.model.errors import Forbidden
from xinyong.service.cases import CaseService
from xinyong.service.notices import NoticeService
from xinyong.service.principals import Principal, Role
from xinyong.service.status import SubjectStatus, subject_status

if TYPE_CHECKING:
    from xinyong.service.online import Online

_DUE_PROCESS = "due process"


def case_actor(who: Principal) -> str:
    """The actor string the case service compares: role and holder, the same across the holder's keys."""
    return f"{who.role.value}:{who.person}"


class OnlineCases:
    """The due-process use cases of one :class:`Online` service (``online.cases``)."""

    def __init__(self, online: Online) -> None:
        self.online = online

    # -- helpers ---------------------------------------------------------------------------------------

    def _service(self, who: Principal) -> CaseService:
        # the shared registry (its loaded policies and schemes), acting as this principal
        return CaseService(dataclasses.replace(self.online.registry, actor=case_actor(who)))

    def _log(self, who: Principal, action: str, subject: str | None, detail: dict[str, object]) -> None:
        self.online.audit.add(AuditEntry(0, utc_now(), who.actor, action, subject, _DUE_PROCESS, detail))

    def _own(self, who: Principal, subject: str, action: str, what: str) -> str:
        """The canonical key of ``subject`` if ``who`` is that subject; else Forbidden (and audited)."""
        key = self.online.subject_key(subject)
        if who.role is not Role.SUBJECT or who.subject != key:
            reason = (f"a subject key may {what} only for its own file" if who.role is Role.SUBJECT
                      else f"a {who.role.value} key may not do this; it needs the subject's own key")
            self._log(who, f"{action}_refused", key, {"reason": reason})
            raise Forbidden(reason, field="subject" if who.role is Role.SUBJECT else "role")
        return key

    def _write(self, who: Principal, action: str, subject: str, detail: dict[str, object]) -> None:
        """The audit entry naming the exact key; call inside the write's transaction."""
        self.online.store.append_audit([AuditEntry(0, utc_now(), who.actor, action, subject, _DUE_PROCESS,
                                                   detail)])

    # -- subjects: filing ------------------------------------------------------------------------------

    def object(self, who: Principal, subject: str, target: str, text: str, evidence: Sequence[str] = ()
               ) -> CaseView:
        """The subject objects to ``record:<id>`` or ``list:<id>`` within the window."""
        key = self._own(who, subject, "object", "object")
        store = self.online.store
        with store.lock, store.transaction():
            view = self._service(who).object(key, target, text, self.online.today(), evidence)
            self._write(who, "objection", key, {"case": view.id, "target": view.case.target})
        self.online.reassess({key})  # an open objection suspends an after-notice listing
        return view

    def appeal(self, who: Principal, case_id: str, text: str, evidence: Sequence[str] = ()) -> CaseView:
        """The subject appeals the decision on its own objection; a different reviewer decides it."""
        who.require(Role.SUBJECT)
        store = self.online.store
        with store.lock:
            original = store.cases.case(case_id)
        key = self._own(who, original.case.subject, "appeal", "appeal")
        with store.lock, store.transaction():
            view = self._service(who).appeal(case_id, text, self.online.today(), evidence)
            self._write(who, "appeal", key, {"case": view.id, "appeal_of": case_id})
        self.online.reassess({key})
        return view

    def repair(self, who: Principal, subject: str, record: str, text: str, evidence: Sequence[str] = ()
               ) -> CaseView:
        """A repair application; refused with the earliest date (``NotYetEligible``) when too early."""
        key = self._own(who, subject, "repair", "apply for repair")
        store = self.online.store
        with store.lock, store.transaction():
            view = self._service(who).repair(key, record, text, self.online.today(), evidence)
            self._write(who, "repair_application", key, {"case": view.id, "record": record})
        return view

    # -- reviewers -------------------------------------------------------------------------------------

    def find(self, who: Principal, state: CaseStatus | None = None, subject: str | None = None,
             limit: int = 100, offset: int = 0) -> list[CaseView]:
        """Cases filed up to today, oldest first (optionally in one state, or of one subject), one page:
        reviewers and admins."""
        who.require(Role.REVIEWER, Role.ADMIN)
        key = None if subject is None else self.online.subject_key(subject)
        day = self.online.today()
        budget = self.online.budget("the case list")
        with self.online.store.lock:
            views = [v for v in self.online.store.cases.cases(key) if v.case.filed <= day]
        budget.check()
        if state is not None:
            kept = []
            for i, v in enumerate(views):
                if i % 1000 == 999:
                    budget.check()
                if v.status(day) is state:
                    kept.append(v)
            views = kept
        views = views[offset:offset + limit]
        by_subject: dict[str, list[str]] = {}
        for v in views:  # each subject sees in its access log that its cases were read, and by whom
            by_subject.setdefault(v.case.subject, []).append(v.id)
        for s, ids in by_subject.items():
            self._log(who, "cases", s, {"cases": ids[:100]})
        return views

    def case(self, who: Principal, case_id: str) -> CaseView:
        """One case: reviewers and admins, or the subject whose case it is."""
        who.require(Role.REVIEWER, Role.ADMIN, Role.SUBJECT)
        with self.online.store.lock:
            view = self.online.store.cases.case(case_id)
        if who.role is Role.SUBJECT and who.subject != view.case.subject:
            self._log(who, "cases_refused", view.case.subject, {"case": view.id})
            raise Forbidden("a subject key may read only its own cases", field="case")
        self._log(who, "cases", view.case.subject, {"cases": [view.id]})
        return view

    def decide(self, who: Principal, case_id: str, outcome: CaseStatus, reasons: str,
               amount: Decimal | None = None) -> CaseView:
        """A reviewer decides with reasons; the refusals of the case service (own filing, appeal against
        one's own decision) are ``Forbidden``. The index reflects the outcome before this returns."""
        who.require(Role.REVIEWER)
        store = self.online.store
        with store.lock, store.transaction():
            view = self._service(who).decide(case_id, outcome, reasons, self.online.today(), amount)
            self._write(who, "case_decision", view.case.subject, {"case": view.id, "outcome": outcome.value})
        self.online.reassess({view.case.subject})
        return view

    # -- subjects: reading -----------------------------------------------------------------------------

    def notices(self, who: Principal, subject: str) -> list[Notice]:
        """The subject's notices up to today (generated from its file first), oldest first."""
        key = self._own(who, subject, "notices", "read notices")
        day = self.online.today()
        with self.online.store.lock:
            svc = NoticeService(self.online.registry)  # notices are the platform's, not the reader's
            svc.sync(key, day)
            notices = [n for n in svc.store.notices_of(key) if n.issued <= day]
        self._log(who, "notices", key, {"as_of": day.isoformat()})
        return notices

    def status(self, who: Principal, subject: str, with_what_if: bool = False) -> SubjectStatus:
        """Where each listing stands in due process, the open cases, and (``with_what_if``) what would
        change the subject's status and from when."""
        key = self._own(who, subject, "status", "read the status")
        reg, day = self.online.registry, self.online.today()
        budget = self.online.budget("the status" + (" with what-if" if with_what_if else ""))
        with self.online.store.lock:  # the lock for the read only: the computing below is bounded but not
            records, amendments, views = self.online.store.cases.files_of([key])[key]  # free, and others wait
            policies = reg.policies(day)
        status = subject_status(policies, key, records, amendments, views, day, reg.schemes,
                                with_what_if=with_what_if, tick=budget.check)
        self._log(who, "status", key, {"as_of": day.isoformat(), "what_if": with_what_if})
        return status
