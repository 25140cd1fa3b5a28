"""Request and response bodies of the due-process endpoints (objections, appeals, repair, cases, notices,
status). Kept apart from :mod:`xinyong.web.schemas` so that each module stays readable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from xinyong.model.case import CaseEvent, CaseKind, CaseStatus, CaseView, Notice, NoticeKind
from xinyong.policy.counterfactual import Change
from xinyong.policy.procedure import ListingStatus
from xinyong.service.status import SubjectStatus
from xinyong.web.schemas import Body

TEXT = Field(min_length=1, max_length=5000, description="What you say, in words")
EVIDENCE: Any = Field(default_factory=list, max_length=50,
                 description="References of evidence documents (receipts, judgments, transfer slips)")
Evidence = list[Annotated[str, Field(min_length=1, max_length=500)]]


class ObjectionIn(Body):
    target: str = Field(min_length=1, max_length=200, description="record:<record id> or list:<list id>",
                        examples=["list:shixin"])
    text: str = TEXT
    evidence: Evidence = EVIDENCE


class AppealIn(Body):
    text: str = TEXT
    evidence: Evidence = EVIDENCE


class RepairIn(Body):
    record: str = Field(min_length=1, max_length=64, description="Id of the record to repair")
    text: str = TEXT
    evidence: Evidence = Field(default_factory=list, max_length=50,
                               description="Evidence that the obligation was performed (required)")


class DecisionIn(Body):
    outcome: Literal["upheld", "rejected", "granted", "refused"] = Field(
        description="Objection or appeal: upheld | rejected; repair: granted | refused")
    reasons: str = Field(min_length=1, max_length=5000, description="The reasons (required, told to the subject)")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2,
                                   description="Upholding an objection to an amount: the corrected amount")


class CaseOut(BaseModel):
    """A case as of the service's date: what was asked, by whom, the deadline, and every decision."""

    id: str
    kind: CaseKind
    subject: str
    target: str = Field(description="record:<id>, list:<id> or, for an appeal, case:<id>")
    filed: date
    filed_by: str
    text: str
    evidence: list[str]
    deadline: date = Field(description="The reviewer must decide by this date")
    expedited: bool
    appeal_of: str | None
    status: CaseStatus
    overdue: bool
    decision: CaseEvent | None = Field(description="The decision in effect, with the reviewer and reasons")
    events: list[CaseEvent]

    @classmethod
    def of(cls, view: CaseView, day: date) -> CaseOut:
        c = view.case
        return cls(id=view.id, kind=c.kind, subject=c.subject, target=c.target, filed=c.filed, filed_by=c.filed_by,
                   text=c.text, evidence=c.evidence, deadline=c.deadline, expedited=c.expedited,
                   appeal_of=c.appeal_of, status=view.status(day), overdue=view.overdue(day),
                   decision=view.decision(day), events=[e for e in view.events if e.at <= day])


class NoticeOut(BaseModel):
    id: str
    subject: str
    kind: NoticeKind
    issued: date
    ref: str = Field(description="record:<id>, list:<id>@<episode start> or case:<id>")
    title: str
    body: str
    act_by: date | None = Field(description="Last day to object, appeal or act")

    @classmethod
    def of(cls, n: Notice) -> NoticeOut:
        return cls(id=n.id, subject=n.subject, kind=n.kind, issued=n.issued, ref=n.ref, title=n.title,
                   body=n.body, act_by=n.act_by)


class PolicyStatusOut(BaseModel):
    policy: str
    score: int | None
    tier: str | None
    listings: list[ListingStatus] = Field(description="Each listing's due-process stage: proposed, "
                                          "suspended, in force")
    what_if: list[Change] = Field(description="With what_if=true: what would change the status, and from when")


class StatusOut(BaseModel):
    subject: str
    as_of: date
    policies: list[PolicyStatusOut]
    open_cases: list[CaseOut]

    @classmethod
    def of(cls, s: SubjectStatus) -> StatusOut:
        return cls(subject=s.subject, as_of=s.as_of, open_cases=[CaseOut.of(v, s.as_of) for v in s.open_cases],
                   policies=[PolicyStatusOut(policy=p.policy, score=p.assessment.score, tier=p.assessment.tier,
                                             listings=p.listings, what_if=p.what_if) for p in s.policies])
