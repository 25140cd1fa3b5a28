"""Signing in: a key, typed once into a form, exchanged for a session cookie (``security.py``).

Any live key may sign in; what a principal then sees is decided by the pages behind it and, below them,
by the service (a subject reads only its own file). The key never appears in a URL, a log or the cookie.
Signing in and out are audited, so a subject's access log shows its own sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import Unauthenticated
from xinyong.service.principals import Principal, Role
from xinyong.web.pages.core import (
    current_principal,
    error_page,
    online_of,
    page_router,
    pages_of,
    redirect,
    render,
    safe_next,
    translator,
)
from xinyong.web.pages.security import clear_session, set_session

router = page_router()

#: where each role lands after signing in (the areas are built on this session)
HOME = {Role.SUBJECT: "/portal", Role.REVIEWER: "/console", Role.ADMIN: "/console"}


class SignInView(BaseModel):
    next: str
    error: str | None = None
    signed_in_as: str | None = None


def landing(principal: Principal) -> str:
    return HOME.get(principal.role, "/")


@router.get("/signin")
def signin_form(request: Request, next: str = "") -> Response:
    who = current_principal(request)
    return render(request, "signin.html", SignInView(next=safe_next(next, ""),
                                                     signed_in_as=who.name if who else None),
                  title=translator(request).text("Sign in"))


@router.post("/signin")
def signin(request: Request, key: Annotated[str, Form(max_length=200)] = "",
           next: Annotated[str, Form(max_length=500)] = "") -> Response:
    pages, svc = pages_of(request), online_of(request)
    client = request.client.host if request.client else "unknown"
    wait = pages.signin_limit.allow(client)
    t = translator(request)
    if wait:
        return error_page(request, 429, t.text("Too many sign-in attempts from your address. Wait a minute "
                                               "and try again."), headers={"Retry-After": str(int(wait) + 1)})
    try:
        principal = svc.principals.authenticate(key.strip())
    except Unauthenticated:
        return render(request, "signin.html", SignInView(next=safe_next(next, ""),
                                                         error=t.text("This key is unknown or revoked.")),
                      status=401, title=t.text("Sign in"))
    svc.audit.add(AuditEntry(0, utc_now(), principal.actor, "signin", principal.subject, "web session",
                             {"key": principal.id}))
    response = redirect(safe_next(next, landing(principal)))
    set_session(request, response, pages.signer.session_cookie(principal, key.strip()))
    return response


@router.post("/signout")
def signout(request: Request) -> Response:
    who = current_principal(request)
    if who is not None:
        online_of(request).audit.add(AuditEntry(0, utc_now(), who.actor, "signout", who.subject, "web session",
                                                {"key": who.id}))
    response = redirect("/")
    clear_session(request, response)
    return response
