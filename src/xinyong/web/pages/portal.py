"""The subject portal: a signed-in subject's own file, notices, cases, and the forms of due process.

Every page makes the service call its ``/v1`` twin makes (``Online.subject_file``, ``online.cases``), with
the same principal checks and audit entries; there is no second implementation of who may see what. One
thing differs from the API on purpose: a subject asking for another subject's pages gets 404, not 403, so
the portal does not even confirm that a file or case exists. The service has already audited the refused
attempt by then (``explain_refused``, ``cases_refused``, ...), so the other subject sees it was tried.

Forms post to the portal, are CSRF-checked by the page router, and answer with a redirect to the result
(a reload does not file twice). A refused form is shown again with what was typed and why; with HTMX only
the form is replaced (htmx swaps only 2xx answers, so that fragment comes with 200; the page and the JSON
twin carry the real status).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response

from xinyong.model.case import CaseView, NoticeKind
from xinyong.model.errors import Forbidden, InvalidInput, NotFound, NotYetEligible, XinyongError
from xinyong.service.notices import ordered
from xinyong.service.principals import Principal, Role
from xinyong.web.case_schemas import CaseOut, NoticeOut, StatusOut
from xinyong.web.pages.core import SignedIn, online_of, page_router, redirect, render, translator, wants_json
from xinyong.web.pages.portal_views import (
    CaseDone,
    FileView,
    FormView,
    NoticesView,
    SubjectCaseView,
    WhatIfView,
    appealable,
    evidence_lines,
    list_infos,
    record_lines,
)
from xinyong.web.problems import status_of
from xinyong.web.routes.subjects import file_out

router = page_router(prefix="/portal")
T = TypeVar("T")
TextField = Annotated[str, Form(max_length=5000)]
EvidenceField = Annotated[str, Form(max_length=25_000)]


def _subject_only(who: Principal) -> str:
    if who.role is not Role.SUBJECT or who.subject is None:
        raise Forbidden("the portal is for subjects; reviewers work in the console (/console)", field="role")
    return who.subject


def _hidden(call: Callable[[], T]) -> T:
    """Run a service call; its refusal of another subject's data becomes 404 (already audited), and a case
    that does not exist gets the very same answer, so the portal never tells whether someone's case is."""
    try:
        return call()
    except Forbidden as exc:
        if exc.field in ("subject", "case"):
            raise NotFound("no such page", field=None) from None
        raise
    except NotFound as exc:
        if exc.field == "case":
            raise NotFound("no such page", field=None) from None
        raise


def _base(subject: str) -> str:
    return f"/portal/subjects/{quote(subject, safe=':')}"


def _done(request: Request, view: CaseView) -> Response:
    """After a filing: the case page (HTMX: told to go there), or the case as ``/v1`` returns it."""
    out = CaseOut.of(view, online_of(request).today())
    if wants_json(request):
        return render(request, "portal/case.html", CaseDone(case=out), status=201)
    url = f"/portal/cases/{view.id}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return redirect(url)


def _refused(request: Request, exc: XinyongError, form: FormView) -> Response:
    """The form again, with the service's reason (and, for repair, the earliest date)."""
    if isinstance(exc, NotYetEligible):
        form.earliest = exc.earliest
    form.error, form.field = exc.message, exc.field
    htmx = request.headers.get("hx-request") == "true"
    return render(request, "portal/form.html", form, status=200 if htmx else status_of(exc),
                  partial="portal/_form.html", title=translator(request).text("Your request was not filed"))


@router.get("")
def portal_home(who: SignedIn) -> Response:
    return redirect(f"{_base(_subject_only(who))}/file")


@router.get("/subjects/{subject}/file")
def file_page(request: Request, subject: str, who: SignedIn) -> Response:
    """The whole file (the same call as ``GET /v1/subjects/{id}/file``) and each listing's stage."""
    _subject_only(who)
    svc = online_of(request)
    f = _hidden(lambda: svc.subject_file(who, subject))
    status = svc.cases.status(who, f.subject)
    body = file_out(f)
    view = FileView(subject=f.subject, as_of=f.as_of, file=body, status=StatusOut.of(status),
                    records=record_lines(body.records, body.amendments, svc.catalogue(), f.as_of),
                    lists=list_infos(svc.policies()))
    return render(request, "portal/file.html", view, title=translator(request).text("Your file"))


@router.get("/subjects/{subject}/status")
def what_if_page(request: Request, subject: str, who: SignedIn) -> Response:
    """What would change my status, and from when (``GET /v1/subjects/{id}/status?what_if=true``)."""
    _subject_only(who)
    svc = online_of(request)
    status = _hidden(lambda: svc.cases.status(who, subject, with_what_if=True))
    view = WhatIfView(subject=status.subject, status=StatusOut.of(status), lists=list_infos(svc.policies()))
    return render(request, "portal/status.html", view, title=translator(request).text("What would change my status"))


@router.get("/subjects/{subject}/notices")
def notices_page(request: Request, subject: str, who: SignedIn) -> Response:
    _subject_only(who)
    svc = online_of(request)
    notices = _hidden(lambda: svc.cases.notices(who, subject))
    view = NoticesView(subject=svc.subject_key(subject), as_of=svc.today(),
                       notices=[NoticeOut.of(n) for n in reversed(ordered(notices))])
    return render(request, "portal/notices.html", view, title=translator(request).text("Notices"))


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, who: SignedIn) -> Response:
    """One of the subject's cases, with the decision and its reasons, and the appeal form while open."""
    own = _subject_only(who)
    svc = online_of(request)
    view = _hidden(lambda: svc.cases.case(who, case_id))
    out = CaseOut.of(view, svc.today())
    until = None
    if appealable(out):  # the decision notice says until when it may be appealed
        decided = [n for n in svc.cases.notices(who, own)
                   if n.kind is NoticeKind.CASE_DECIDED and n.ref == f"case:{view.id}"]
        until = decided[-1].act_by if decided else None
        if until is not None and until < svc.today():
            until = None
    data = SubjectCaseView(subject=own, as_of=svc.today(), case=out, appeal_until=until)
    return render(request, "portal/case.html", data, title=translator(request).text("Your case"))


@router.post("/subjects/{subject}/objections")
def post_objection(request: Request, subject: str, who: SignedIn, target: Annotated[str, Form(max_length=200)],
                   text: TextField = "", evidence: EvidenceField = "") -> Response:
    svc = online_of(request)
    form = FormView(subject=subject, kind="objection", action=f"{_base(subject)}/objections", target=target,
                    text=text, evidence=evidence, error="")
    return _filing(request, who, subject, form,
                   lambda said: svc.cases.object(who, subject, target, said, evidence_lines(evidence)))


@router.post("/subjects/{subject}/repairs")
def post_repair(request: Request, subject: str, who: SignedIn, record: Annotated[str, Form(max_length=64)],
                text: TextField = "", evidence: EvidenceField = "") -> Response:
    svc = online_of(request)
    form = FormView(subject=subject, kind="repair", action=f"{_base(subject)}/repairs", target=record,
                    text=text, evidence=evidence, error="")
    return _filing(request, who, subject, form,
                   lambda said: svc.cases.repair(who, subject, record, said, evidence_lines(evidence)))


@router.post("/cases/{case_id}/appeal")
def post_appeal(request: Request, case_id: str, who: SignedIn, text: TextField = "",
                evidence: EvidenceField = "") -> Response:
    """The case names the subject; the service refuses (and audits) an appeal against another's case."""
    own = _subject_only(who)
    svc = online_of(request)
    form = FormView(subject=own, kind="appeal", action=f"/portal/cases/{quote(case_id)}/appeal",
                    target=case_id, text=text, evidence=evidence, error="")
    _hidden(lambda: svc.cases.case(who, case_id))
    return _filing(request, who, own, form,
                   lambda said: svc.cases.appeal(who, case_id, said, evidence_lines(evidence)))


def _filing(request: Request, who: Principal, subject: str, form: FormView,
            call: Callable[[str], CaseView]) -> Response:
    """File through the service. Another subject's file: the service refuses and audits it before it
    reads a word of the form, and the portal answers 404. A refusal on the merits (window closed, too
    early, nothing to object to) shows the form again with the reason."""
    own = _subject_only(who)
    if online_of(request).subject_key(subject) != own:
        _hidden(lambda: call(form.text or "-"))
        raise NotFound("no such page")  # not reached: the service refuses a foreign subject
    try:
        if not form.text.strip():
            raise InvalidInput("say in words what you ask for and why", field="text")
        view = call(form.text)
    except XinyongError as exc:
        return _refused(request, exc, form)
    return _done(request, view)
