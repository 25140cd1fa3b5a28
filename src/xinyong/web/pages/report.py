"""The credit report (printable page and PDF) and the public page that verifies one.

Both renderings come from one issued report (:func:`xinyong.service.reports.issue`): the page is the
template, the PDF is the same template laid out by WeasyPrint (its print stylesheet hides the site's
navigation), so they cannot disagree. WeasyPrint reads only this site's static files, never the network.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from xinyong.service import reports
from xinyong.service.online import Online
from xinyong.web.pages.core import SignedIn, online_of, page_router, render, render_html, translator
from xinyong.web.pages.pdf import html_to_pdf

router = page_router()


class ListingView(BaseModel):
    list_id: str
    kind: str
    since: date
    until: date
    legal_basis: str


class AssessmentView(BaseModel):
    policy: str
    version: str
    title: str
    score: int | None
    tier: str | None
    listings: list[ListingView]


class RecordView(BaseModel):
    id: str
    source: str
    type: str
    type_name: str
    legal_basis: str | None
    occurred: date
    decided: date
    document: str
    amount: str | None


class ReportView(BaseModel):
    """What a report asserts, and how a reader checks it."""

    subject: str
    kind: str
    name: str | None
    as_of: date
    issued_at: datetime
    assessments: list[AssessmentView]
    records: list[RecordView]
    amendments: int
    content_hash: str
    audit_seq: int
    audit_hash: str
    code: str
    verify_url: str


def report_view(svc: Online, r: reports.CreditReport, verify_url: str) -> ReportView:
    loaded = {lp.policy.id: lp for lp in svc.policies()}
    catalogue = {t.id: t for lp in loaded.values() for t in lp.catalogue.record_types}
    return ReportView(
        subject=r.subject, kind=r.kind, name=r.name, as_of=r.as_of, issued_at=r.issued_at,
        assessments=[AssessmentView(policy=a.policy, version=a.policy_version,
                                    title=loaded[a.policy].policy.title if a.policy in loaded else a.policy,
                                    score=a.score, tier=a.tier,
                                    listings=[ListingView(list_id=x.list_id, kind=x.kind.value, since=x.since,
                                                          until=x.until, legal_basis=x.legal_basis)
                                              for x in a.listings]) for a in r.assessments],
        records=[RecordView(id=x.id, source=x.source, type=x.type,
                            type_name=catalogue[x.type].name if x.type in catalogue else x.type,
                            legal_basis=catalogue[x.type].legal_basis if x.type in catalogue else None,
                            occurred=x.occurred, decided=x.decided, document=x.document,
                            amount=str(x.amount) if x.amount is not None else None)
                 for x in sorted(r.records, key=lambda x: (x.decided, x.id))],
        amendments=len(r.amendments), content_hash=r.content_hash, audit_seq=r.audit_seq, audit_hash=r.audit_hash,
        code=r.code, verify_url=verify_url)


def _verify_url(request: Request, code: str) -> str:
    """The link printed on a report: under the configured public address when there is one (``serve
    --public-url``), so that a request's Host header cannot make a genuine report point elsewhere."""
    base = online_of(request).public_url
    if base:
        return f"{base}/verify?{urlencode({'code': code})}"
    return str(request.url_for("verify_page").include_query_params(code=code))


@router.get("/report")
def report_page(request: Request, who: SignedIn) -> Response:
    """The signed-in subject's own report, issued now (the issuing is an audit entry)."""
    svc = online_of(request)
    r = reports.issue(svc, who)
    return render(request, "report.html", report_view(svc, r, _verify_url(request, r.code)),
                  title=translator(request).text("Credit report"), headers={"Cache-Control": "no-store"})


@router.get("/report.pdf")
def report_pdf(request: Request, who: SignedIn) -> Response:
    """The same report as a PDF (WeasyPrint; Noto CJK renders the Chinese)."""
    svc = online_of(request)
    r = reports.issue(svc, who)
    t = translator(request)
    html = render_html(request, "report.html", report_view(svc, r, _verify_url(request, r.code)),
                       t.text("Credit report"), pdf=True)
    pdf = html_to_pdf(html, str(request.base_url))
    filename = f"credit-report-{r.audit_seq}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


class VerifyView(BaseModel):
    code: str
    checked: bool
    genuine: bool
    current: bool
    issued_on: date | None


@router.get("/verify", name="verify_page")
def verify_page(request: Request, code: str = Query(default="", max_length=100),
                subject: str = Query(default="", max_length=100)) -> Response:
    """Public: whether a presented code was issued about the subject the report names, and is current;
    nothing about the subject (the identifier asked for is not echoed back)."""
    if not code.strip() or not subject.strip():
        view = VerifyView(code=code.strip(), checked=False, genuine=False, current=False, issued_on=None)
    else:
        v = reports.verify(online_of(request), code, subject)
        view = VerifyView(code=v.code, checked=True, genuine=v.genuine, current=v.current, issued_on=v.issued_on)
    return render(request, "verify.html", view, title=translator(request).text("Verify a credit report"))
