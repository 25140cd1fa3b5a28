"""The reviewer console: the queue of open cases by deadline, a case with its matter, and the decision.

The queue and the case are ``online.cases.find`` / ``case`` (``GET /v1/cases``), the decision is
``online.cases.decide`` (``POST /v1/cases/{id}/decision``): the rules of who may decide what stay in the
case service, which compares the person behind a key (``case_actor``), not the key. The console only
reads those rules ahead of time to *offer* a decision: an appeal is not offered to the reviewer whose
decision it contests, and a decision posted anyway is refused by the service, not here.

Reasons are required: an empty reasons field comes back as the same form with the error, what was typed
kept, and nothing stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from xinyong.model.case import CaseStatus
from xinyong.model.errors import Forbidden, InvalidInput, XinyongError
from xinyong.service.online import Online
from xinyong.service.online_cases import case_actor
from xinyong.service.principals import Principal, Role
from xinyong.web.case_schemas import CaseOut
from xinyong.web.pages.console_views import ConsoleCaseView, QueueItem, QueueView, matter_of, outcomes_of
from xinyong.web.pages.core import SignedIn, online_of, page_router, redirect, render, translator, wants_json
from xinyong.web.problems import status_of

router = page_router(prefix="/console")
QUEUE_LIMIT = 1000


def _console_only(who: Principal) -> None:
    if who.role not in (Role.REVIEWER, Role.ADMIN):
        raise Forbidden("the console is for reviewers; subjects use the portal (/portal)", field="role")


def _why_not(svc: Online, who: Principal, case: CaseOut, original: CaseOut | None) -> str | None:
    """Why ``who`` may not decide ``case`` (the case service's refusals, read ahead), as a code the
    templates put in words (``read_only``, ``own_filing``, ``own_decision``), or None."""
    me = case_actor(who)
    if who.role is not Role.REVIEWER:
        return "read_only"
    if case.filed_by == me:
        return "own_filing"
    if original is not None and original.decision is not None and original.decision.actor == me:
        return "own_decision"
    return None


@router.get("")
def queue_page(request: Request, who: SignedIn) -> Response:
    """Open cases, earliest deadline first, overdue ones marked; appeals against one's own decision are
    shown but not offered."""
    _console_only(who)
    svc = online_of(request)
    day = svc.today()
    views = svc.cases.find(who, CaseStatus.OPEN, limit=QUEUE_LIMIT)
    cases = sorted((CaseOut.of(v, day) for v in views), key=lambda c: (c.deadline, c.filed, c.id))
    originals = {c.appeal_of: CaseOut.of(svc.cases.case(who, c.appeal_of), day) for c in cases if c.appeal_of}
    items = []
    for c in cases:
        why = _why_not(svc, who, c, originals.get(c.appeal_of) if c.appeal_of else None)
        items.append(QueueItem(case=c, for_you=why is None, why_not=why))
    view = QueueView(as_of=day, reviewer=case_actor(who), read_only=who.role is not Role.REVIEWER,
                     overdue=sum(c.overdue for c in cases), items=items)
    return render(request, "console/queue.html", view, title=translator(request).text("Open cases"))


def _case_view(request: Request, who: Principal, case_id: str) -> ConsoleCaseView:
    svc = online_of(request)
    day = svc.today()
    case = CaseOut.of(svc.cases.case(who, case_id), day)
    original = CaseOut.of(svc.cases.case(who, case.appeal_of), day) if case.appeal_of else None
    matter = None
    if who.role is Role.REVIEWER:  # the file, read for this case (the subject's access log names it)
        f = svc.subject_file(who, case.subject, purpose=f"case {case.id}")
        matter = matter_of(case, original, f, svc.catalogue(), svc.policies())
    why = _why_not(svc, who, case, original)
    if case.status is not CaseStatus.OPEN:
        why = "decided"
    return ConsoleCaseView(as_of=day, case=case, original=original, matter=matter, outcomes=outcomes_of(case),
                           may_decide=why is None, why_not=why)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, who: SignedIn) -> Response:
    _console_only(who)
    view = _case_view(request, who, case_id)
    return render(request, "console/case.html", view, title=translator(request).text("Case %s") % view.case.id)


@router.post("/cases/{case_id}/decision")
def decide(request: Request, case_id: str, who: SignedIn, outcome: Annotated[str, Form(max_length=20)] = "",
           reasons: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Decide with reasons through the case service; a refusal shows the case again with the reason."""
    _console_only(who)
    svc = online_of(request)
    try:
        if outcome not in {s.value for s in CaseStatus} - {CaseStatus.OPEN.value}:
            raise InvalidInput("choose an outcome", field="outcome")
        if not reasons.strip():
            raise InvalidInput("a decision must give its reasons", field="reasons")
        svc.cases.decide(who, case_id, CaseStatus(outcome), reasons)
    except XinyongError as exc:
        view = _case_view(request, who, case_id)
        view.error, view.reasons, view.outcome = exc.message, reasons, outcome or None
        view.may_decide = view.may_decide or isinstance(exc, Forbidden)  # keep the form and its reason visible
        htmx = request.headers.get("hx-request") == "true"
        return render(request, "console/case.html", view, status=200 if htmx else status_of(exc),
                      partial="console/_decide.html", title=translator(request).text("Case %s") % view.case.id)
    url = f"/console/cases/{case_id}"
    if wants_json(request):
        return render(request, "console/case.html", _case_view(request, who, case_id))
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return redirect(url)
