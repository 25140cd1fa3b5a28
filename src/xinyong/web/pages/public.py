"""The public area (no sign-in): the start page, the register of published lists, the published policies.

The register page and its JSON come from :func:`xinyong.service.register.search` (browsing one list is
the same page as ``GET /v1/lists/{list}``, from the same publication rules); the policies page from the
published policies, as ``GET /v1/policies`` serves them.
"""

from __future__ import annotations

from datetime import date

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from xinyong.service import register
from xinyong.web.pages.core import online_of, page_router, render, translator

router = page_router()
PER_PAGE = 20


class AreaLink(BaseModel):
    href: str
    title: str
    text: str


class HomeView(BaseModel):
    areas: list[AreaLink]


@router.get("/")
def home(request: Request) -> Response:
    t = translator(request)
    areas = [AreaLink(href="/register", title=t.text("Public register"),
                      text=t.text("Search the red and black lists in force by organisation code or name.")),
             AreaLink(href="/policies", title=t.text("Published policies"),
                      text=t.text("Every list, measure and record type with its legal basis and limits.")),
             AreaLink(href="/portal", title=t.text("Subject portal"),
                      text=t.text("Your own file, notices, objections, repair and your credit report.")),
             AreaLink(href="/console", title=t.text("Reviewer console"),
                      text=t.text("Open cases by deadline; decide with reasons.")),
             AreaLink(href="/verify", title=t.text("Verify a credit report"),
                      text=t.text("Check that a presented report is genuine and current."))]
    return render(request, "home.html", HomeView(areas=areas), title=t.text("xinyong credit register"))


class ListOption(BaseModel):
    id: str
    name: str
    kind: str


class HitView(BaseModel):
    list_id: str
    list_name: str
    list_kind: str
    legal_basis: str | None
    policy: str
    subject: str | None
    name: str | None
    since: date | None
    until: date | None
    reason: str | None


class RegisterView(BaseModel):
    """A page of the register: the question, the answer's size and one page of it."""

    q: str
    list_id: str | None
    as_of: date
    total: int
    page: int
    pages: int
    per_page: int
    hits: list[HitView]
    lists: list[ListOption]


def public_register(request: Request) -> register.PublicRegister:
    """The app's register (its cache lives as long as the service it reads)."""
    svc = online_of(request)
    reg: register.PublicRegister | None = getattr(request.app.state, "register", None)
    if reg is None or reg.svc is not svc:
        reg = request.app.state.register = register.PublicRegister(svc)
    return reg


@router.get("/register")
def register_page(request: Request, q: str = Query(default="", max_length=register.MAX_QUERY),
                  list_id: str = Query(default="", max_length=100, alias="list"),
                  page: int = Query(default=1, ge=1, le=1_000_000)) -> Response:
    reg = public_register(request)
    every = reg.published_lists()
    result = reg.search(q, list_id or None, PER_PAGE, (page - 1) * PER_PAGE)
    view = RegisterView(
        q=result.query, list_id=result.list_id, as_of=result.as_of, total=result.total, page=page,
        pages=max(1, -(-result.total // PER_PAGE)), per_page=PER_PAGE,
        hits=[HitView(list_id=h.list_id, list_name=h.list_name, list_kind=h.list_kind, legal_basis=h.legal_basis,
                      policy=h.policy, subject=h.entry.subject, name=h.entry.name, since=h.entry.since,
                      until=h.entry.until, reason=h.entry.reason) for h in result.hits],
        lists=[ListOption(id=d.id, name=d.name, kind=d.kind.value) for _, d in every])
    return render(request, "register.html", view, partial="register_results.html",
                  title=translator(request).text("Public register"))


class RecordTypeView(BaseModel):
    id: str
    name: str
    category: str
    severity: str
    legal_basis: str | None
    validity_days: int
    publication_days: int


class MeasureView(BaseModel):
    id: str
    applies_to: str
    action: str
    effect: str
    agencies: list[str]
    legal_basis: str | None
    description: str


class ListView(BaseModel):
    id: str
    name: str
    kind: str
    legal_basis: str | None
    max_duration_days: int | None
    takes_effect: str
    published: bool
    publication_days: int | None
    publication_fields: list[str]
    description: str


class PolicyView(BaseModel):
    id: str
    version: str
    title: str
    description: str
    effective_from: date | None
    notice_days: int | None
    objection_days: int | None
    appeal_days: int | None
    lists: list[ListView]
    measures: list[MeasureView]


class PoliciesView(BaseModel):
    policies: list[PolicyView]
    record_types: list[RecordTypeView]


@router.get("/policies")
def policies_page(request: Request) -> Response:
    svc = online_of(request)
    loaded = svc.policies()
    views = []
    for lp in loaded:
        p = lp.policy
        views.append(PolicyView(
            id=p.id, version=p.version, title=p.title, description=p.description, effective_from=p.effective_from,
            notice_days=p.procedure.notice_days, objection_days=p.procedure.objection_days,
            appeal_days=p.procedure.appeal_days,
            lists=[ListView(id=d.id, name=d.name, kind=d.kind.value, legal_basis=d.legal_basis,
                            max_duration_days=d.max_duration_days, takes_effect=d.takes_effect,
                            published=d.publication.publish, publication_days=d.publication.days,
                            publication_fields=list(d.publication.fields), description=d.description)
                   for d in p.lists],
            measures=[MeasureView(id=m.id, applies_to=f"list:{m.on_list}" if m.on_list
                                  else "tier:" + ",".join(m.tiers or []),
                                  action=m.action, effect=m.effect.value,
                                  agencies=[a.strip() for a in m.agency.split(";") if a.strip()],
                                  legal_basis=m.legal_basis, description=m.description) for m in p.measures]))
    catalogue = loaded[0].catalogue if loaded else None
    types = [RecordTypeView(id=r.id, name=r.name, category=r.category, severity=r.severity.value,
                            legal_basis=r.legal_basis, validity_days=r.default_validity_days,
                            publication_days=r.publication_days)
             for r in (catalogue.record_types if catalogue else [])]
    return render(request, "policies.html", PoliciesView(policies=views, record_types=types),
                  title=translator(request).text("Published policies"))
