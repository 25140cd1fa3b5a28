"""The view models of the reviewer console: the queue and a case with everything needed to decide it.

Cases are the ``/v1`` bodies (``CaseOut``); the matter (records, listings, the rule that applies) comes from
the subject's file as the reviewer reads it for this case (``Online.subject_file`` with the case as the
purpose, so the subject's access log says who read it and why) and from the published policies.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from xinyong.model.case import OUTCOMES, CaseKind
from xinyong.model.catalogue import Catalogue
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import relevant_policies
from xinyong.service.online import SubjectFile
from xinyong.web.case_schemas import CaseOut
from xinyong.web.pages.portal_views import ListInfo, RecordLine, list_infos, record_lines
from xinyong.web.routes.subjects import file_out


class QueueItem(BaseModel):
    case: CaseOut
    for_you: bool
    why_not: str | None = None  # read_only | own_filing | own_decision: why this reviewer may not decide it


class QueueView(BaseModel):
    """Open cases, earliest deadline first; ``overdue`` counts those past their deadline."""

    as_of: date
    reviewer: str
    read_only: bool
    overdue: int
    items: list[QueueItem]


class ListingLine(BaseModel):
    """A listing behind the matter, with the rule that put the subject on it."""

    list_id: str
    since: date
    until: date
    rule: str
    legal_basis: str
    policy: str
    triggered_by: list[str]


class ProcedureLine(BaseModel):
    """An applicable policy's periods: what the reviewer's deadline and the subject's windows follow."""

    policy: str
    objection_days: int | None
    appeal_days: int | None
    review_days: int
    expedited_days: int


class Matter(BaseModel):
    """What the case is about: the records and listings it concerns, and the rules that apply to them."""

    target: str
    records: list[RecordLine]
    listings: list[ListingLine]
    lists: dict[str, ListInfo]
    procedure: list[ProcedureLine]


class ConsoleCaseView(BaseModel):
    as_of: date
    case: CaseOut
    original: CaseOut | None  # for an appeal: the objection and its first decision
    matter: Matter | None  # None for a read-only (admin) reader, who may not read files
    outcomes: list[str]
    may_decide: bool
    why_not: str | None = None  # as in QueueItem, or decided
    error: str | None = None
    reasons: str = ""
    outcome: str | None = None


def outcomes_of(case: CaseOut) -> list[str]:
    return [o.value for o in OUTCOMES[CaseKind(case.kind)]]


def matter_of(case: CaseOut, original: CaseOut | None, f: SubjectFile, catalogue: Catalogue,
              policies: list[LoadedPolicy]) -> Matter:
    """The records and listings the case (for an appeal: the objection appealed) is about."""
    target = (original or case).target
    kind, _, ident = target.partition(":")
    body = file_out(f)
    lines = record_lines(body.records, body.amendments, catalogue, f.as_of)
    listings = [ListingLine(list_id=x.list_id, since=x.since, until=x.until, rule=x.rule, legal_basis=x.legal_basis,
                            policy=f"{a.policy}@{a.policy_version}", triggered_by=x.triggered_by)
                for a in f.assessments for x in a.listings]
    if kind == "list":
        listings = [x for x in listings if x.list_id == ident]
        behind = {r for x in listings for r in x.triggered_by}
        lines = [r for r in lines if r.id in behind]
    elif kind == "record":
        lines = [r for r in lines if r.id == ident]
        listings = [x for x in listings if ident in x.triggered_by]
    refs = {x.policy for x in listings} | {lp.policy.ref for r in lines for lp in relevant_policies(policies, r.type)}
    procedure = [ProcedureLine(policy=lp.policy.ref, objection_days=lp.policy.procedure.objection_days,
                               appeal_days=lp.policy.procedure.appeal_days,
                               review_days=lp.policy.procedure.review_working_days,
                               expedited_days=lp.policy.procedure.expedited_review_working_days)
                 for lp in policies if lp.policy.ref in refs]
    return Matter(target=target, records=lines, listings=listings, lists=list_infos(policies), procedure=procedure)
