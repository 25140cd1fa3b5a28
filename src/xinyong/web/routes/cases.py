"""Due process: subjects object, appeal and apply for repair; reviewers decide with reasons.

The rules (windows, deadlines, eligibility, the same-reviewer refusal) are the case service's; who may
call what is decided in :mod:`xinyong.service.online_cases`. These endpoints are sync: they run in the
thread pool and hold the store lock while they read or write.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from xinyong.model.case import CaseStatus
from xinyong.service.notices import ordered
from xinyong.web.auth import Caller, Service
from xinyong.web.case_schemas import AppealIn, CaseOut, DecisionIn, NoticeOut, ObjectionIn, RepairIn, StatusOut
from xinyong.web.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["due process"], responses=PROBLEM_RESPONSES)

CaseState = Literal["open", "upheld", "rejected", "granted", "refused"]
SubjectPath = Annotated[str, Path(max_length=64, description="Subject id: scheme:value, or a bare USCC / resident ID",
                                  examples=["cn.ric:11010519491231002X"])]
CasePath = Annotated[str, Path(max_length=64, description="Case id", examples=["2db15c60f3133680"])]


@router.post("/subjects/{subject}/objections", response_model=CaseOut, status_code=201,
             summary="Object to a record or a listing")
def post_objection(subject: SubjectPath, body: ObjectionIn, who: Caller, svc: Service) -> CaseOut:
    """The subject (its own key) objects within the objection window. An after-notice listing is
    suspended while the objection is open (decisions see it at once); a court list stays in force and the
    objection gets the expedited deadline."""
    view = svc.cases.object(who, subject, body.target, body.text, body.evidence)
    return CaseOut.of(view, svc.today())


@router.post("/cases/{case}/appeal", response_model=CaseOut, status_code=201,
             summary="Appeal the decision on an objection")
def post_appeal(case: CasePath, body: AppealIn, who: Caller, svc: Service) -> CaseOut:
    """The subject appeals the decision on its own objection, within the appeal window; a different
    reviewer decides the appeal."""
    view = svc.cases.appeal(who, case, body.text, body.evidence)
    return CaseOut.of(view, svc.today())


@router.post("/subjects/{subject}/repairs", response_model=CaseOut, status_code=201,
             summary="Apply for credit repair")
def post_repair(subject: SubjectPath, body: RepairIn, who: Caller, svc: Service) -> CaseOut:
    """The subject applies for repair of a record, with evidence that the obligation was performed. Too
    early: 422 whose `earliest` is the first day it may apply (`field` is `record`)."""
    view = svc.cases.repair(who, subject, body.record, body.text, body.evidence)
    return CaseOut.of(view, svc.today())


@router.get("/cases", response_model=list[CaseOut], summary="Cases, for reviewers")
def get_cases(who: Caller, svc: Service,
              state: CaseState | None = Query(default=None, description="Only cases in this state today"),
              subject: str | None = Query(default=None, max_length=64, description="Only this subject's cases"),
              limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0)
              ) -> list[CaseOut]:
    """The cases filed up to the service's date, oldest first, with status and deadline, one page (reviewer
    or admin key). Each subject's access log shows the read."""
    views = svc.cases.find(who, None if state is None else CaseStatus(state), subject, limit, offset)
    day = svc.today()
    return [CaseOut.of(v, day) for v in views]


@router.get("/cases/{case}", response_model=CaseOut, summary="One case")
def get_case(case: CasePath, who: Caller, svc: Service) -> CaseOut:
    """A case with every decision and its reasons (reviewer or admin key, or the subject's own)."""
    return CaseOut.of(svc.cases.case(who, case), svc.today())


@router.post("/cases/{case}/decision", response_model=CaseOut, summary="Decide a case")
def post_decision(case: CasePath, body: DecisionIn, who: Caller, svc: Service) -> CaseOut:
    """A reviewer decides with reasons. Upheld objections annul (or correct) records and granted repairs
    end them from today: decisions change before this returns. A reviewer may not decide their own
    filing, nor the appeal against their own decision (403)."""
    view = svc.cases.decide(who, case, CaseStatus(body.outcome), body.reasons, body.amount)
    return CaseOut.of(view, svc.today())


@router.get("/subjects/{subject}/notices", response_model=list[NoticeOut], summary="A subject's notices")
def get_notices(subject: SubjectPath, who: Caller, svc: Service) -> list[NoticeOut]:
    """Everything the subject has been told up to today, oldest first: new records, proposed listings
    (how to object and by when), listings in force and ended, case filings and decisions."""
    return [NoticeOut.of(n) for n in ordered(svc.cases.notices(who, subject))]  # same day: cause before effect


@router.get("/subjects/{subject}/status", response_model=StatusOut, summary="Due-process status")
def get_status(subject: SubjectPath, who: Caller, svc: Service,
               what_if: bool = Query(default=False, description="Also: what would change my status, and when")
               ) -> StatusOut:
    """Where each listing stands (proposed, suspended, in force), open cases, and with `what_if=true` which
    records, repaired or expired on which dates, would move the subject off a list or up a tier."""
    return StatusOut.of(svc.cases.status(who, subject, what_if))
