"""One view context, two renderings: every page is a template over a model, and the same model is its JSON.

A view calls the service (the same call its ``/v1`` endpoint makes, with the same principal checks and
audit entries), builds one pydantic model and hands it to :func:`render`; ``?format=json`` or an
``Accept: application/json`` request gets that model as JSON, a browser gets the page (datasette's way).
An HTMX request (``HX-Request``) may get only the fragment that changed (``partial=``); without
JavaScript the full page is served, so every page works without it.

Errors are the domain's (``model/errors.py``): on a page they render an error page with the status the
API would give, on a JSON request the same problem+json as the API.
"""

from __future__ import annotations

import gettext
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

import xinyong
from xinyong.model.errors import XinyongError
from xinyong.service.online import Online
from xinyong.service.principals import Principal
from xinyong.web.pages.i18n import (
    LANG_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    N_,
    Translator,
    load_translations,
    negotiate,
)
from xinyong.web.pages.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    RateLimit,
    Signer,
    csrf_cookie_of,
    set_cookies,
)
from xinyong.web.problems import status_of

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
SECRET_ENV = "XINYONG_SESSION_SECRET"


@dataclass
class Pages:
    """The pages' share of one app: templates, catalogues, the signing secret, the sign-in limiter."""

    env: jinja2.Environment
    translations: dict[str, gettext.NullTranslations]
    signer: Signer
    signin_limit: RateLimit


def make_pages(secret: bytes | None = None) -> Pages:
    """Several workers of one server must share the secret (``XINYONG_SESSION_SECRET``, set by ``serve``);
    otherwise each app draws its own, and sessions end when it stops."""
    env_secret = os.environ.get(SECRET_ENV)
    key = secret or (env_secret.encode() if env_secret else secrets.token_bytes(32))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # real ones per request
    return Pages(env, load_translations(), Signer(key), RateLimit())


def pages_of(request: Request) -> Pages:
    p: Pages = request.app.state.pages
    return p


def online_of(request: Request) -> Online:
    svc: Online = request.app.state.online
    return svc


def translator(request: Request) -> Translator:
    t: Translator | None = getattr(request.state, "translator", None)
    if t is None:
        lang = negotiate(request)
        t = Translator(lang, pages_of(request).translations[lang])
        request.state.translator = t
    return t


def wants_json(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt in ("json", "html"):
        return fmt == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# -- who is signed in -----------------------------------------------------------------------------------

_UNKNOWN = object()


class SignInRequired(Exception):
    """A page that needs a signed-in principal was asked for without one."""


def current_principal(request: Request) -> Principal | None:
    """The principal of this browser's session, or None (no cookie, forged, expired, or key revoked)."""
    cached = getattr(request.state, "principal", _UNKNOWN)
    if cached is None or isinstance(cached, Principal):
        return cached
    session = pages_of(request).signer.session(request.cookies.get(SESSION_COOKIE))
    principal = None if session is None else online_of(request).principals.live(session.key_id, session.key_digest)
    request.state.principal = principal
    return principal


async def signed_in(request: Request) -> Principal:
    principal = current_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


#: a view's parameter for the signed-in principal; without a session: the sign-in page (JSON: 401)
SignedIn = Annotated[Principal, Depends(signed_in)]


# -- CSRF and the page routers ---------------------------------------------------------------------------

class CsrfRefused(Exception):
    """A form came back without the token of the page that served it."""


async def page_guard(request: Request) -> None:
    """Marks the request as a page's (errors render as pages) and refuses any unsafe method whose form
    lacks this browser's CSRF token, before the view runs."""
    request.state.page = True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token: Any = None
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                           "multipart/form-data")):
        token = (await request.form()).get(CSRF_FIELD)
    token = token or request.headers.get("x-csrf-token")
    if not pages_of(request).signer.csrf_ok(request.cookies.get(CSRF_COOKIE), token):
        raise CsrfRefused()


def page_router(**kw: Any) -> APIRouter:
    """An ``APIRouter`` for pages: CSRF-checked, marked as pages, left out of the OpenAPI document."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(page_guard)], **kw)


def context(request: Request) -> dict[str, Any]:
    """What every template may use besides its ``data``."""
    t = translator(request)
    params = {k: v for k, v in request.query_params.items() if k != "lang"}

    def lang_url(lang: str) -> str:
        return request.url.path + "?" + urlencode({**params, "lang": lang})

    def url(path: str, **query: Any) -> str:
        q = {k: v for k, v in query.items() if v not in (None, "")}
        return path + ("?" + urlencode(q) if q else "")

    return {**t.callables(), "lang": t.lang, "html_lang": t.lang.replace("_", "-"), "date": t.date,
            "languages": [(code, LANGUAGE_NAMES[code], lang_url(code)) for code in LANGUAGES],
            "csrf_field": CSRF_FIELD, "csrf_token": pages_of(request).signer.csrf_token(csrf_cookie_of(request)),
            "principal": current_principal(request), "path": request.url.path, "url": url,
            "quote": quote, "version": xinyong.__version__, "request": request}


def render_html(request: Request, template: str, data: BaseModel | dict[str, Any], title: str | None = None,
                **extra: Any) -> str:
    """The template over ``data`` in the request's language, as text (for a PDF, or a response)."""
    return pages_of(request).env.get_template(template).render(data=data, title=title, **context(request),
                                                                **extra)


def render(request: Request, template: str, data: BaseModel | dict[str, Any], *, status: int = 200,
           partial: str | None = None, title: str | None = None, headers: dict[str, str] | None = None
           ) -> Response:
    """The page (or, for HTMX, its ``partial``) over ``data``, or ``data`` as JSON when that is asked for.

    A signed-in page holds someone's file: ``no-store``, so the back button after signing out on a shared
    computer shows nothing. The same URL answers a page or a fragment, so caches must key on
    ``HX-Request`` (``Vary``); htmx restoring history it did not cache asks for the whole page."""
    headers = dict(headers or {})
    if current_principal(request) is not None:
        headers.setdefault("Cache-Control", "no-store")
    if wants_json(request):
        body = data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else jsonable_encoder(data)
        return JSONResponse(body, status_code=status, headers=headers)
    fragment = (request.headers.get("hx-request") == "true"
                and request.headers.get("hx-history-restore-request") != "true")
    name = partial if partial and fragment else template
    if partial:
        headers["Vary"] = "HX-Request"
    response = HTMLResponse(render_html(request, name, data, title), status_code=status, headers=headers)
    set_cookies(request, response)
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result with GET (303), so a reload does not post again."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (``/portal``), never ``//evil.example`` or ``https://…``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


# -- errors --------------------------------------------------------------------------------------------

class ErrorView(BaseModel):
    status: int
    title: str
    detail: str
    field: str | None = None


_TITLES = {400: N_("Bad request"), 401: N_("Sign-in required"), 403: N_("Forbidden"), 404: N_("Not found"),
           405: N_("Method not allowed"), 413: N_("Too large"), 422: N_("Invalid input"),
           429: N_("Too many attempts"), 500: N_("Something went wrong"), 503: N_("Service busy")}


def error_page(request: Request, status: int, detail: str, field: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
    t = translator(request)
    view = ErrorView(status=status, title=t.text(_TITLES.get(status, N_("Error"))), detail=detail, field=field)
    return render(request, "error.html", view, status=status, title=view.title, headers=headers)


def _is_page(request: Request) -> bool:
    if getattr(request.state, "page", False):
        return True
    path = request.url.path
    return (not path.startswith(("/v1/", "/docs", "/openapi")) and "text/html" in request.headers.get("accept", "")
            and request.method == "GET")


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_errors(app: FastAPI) -> None:
    """Page errors as pages; everything else keeps the API's problem+json handlers."""
    previous: dict[Any, Any] = dict(app.exception_handlers)

    def wrap(kind: type[Exception], page: Callable[[Request, Exception], Response]) -> None:
        api: Handler | None = previous.get(kind)

        async def handler(request: Request, exc: Exception) -> Response:
            if _is_page(request) and (api is None or not wants_json(request)):
                return page(request, exc)
            assert api is not None
            return await api(request, exc)

        app.add_exception_handler(kind, handler)

    def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, XinyongError)
        return error_page(request, status_of(exc), exc.message, exc.field)

    def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_page(request, exc.status_code, str(exc.detail))

    def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path"))
        return error_page(request, 422, str(first.get("msg", "invalid input")), field or None)

    def csrf(request: Request, exc: Exception) -> Response:
        return error_page(request, 403, translator(request).text(
            "This form has expired or did not come from this site. Reload the page and try again."),
                          field=CSRF_FIELD)

    def signin(request: Request, exc: Exception) -> Response:
        if wants_json(request):
            return JSONResponse({"type": "urn:xinyong:problem:unauthenticated", "title": "unauthenticated",
                                 "status": 401, "detail": "sign in first"}, status_code=401)
        return redirect("/signin?" + urlencode({"next": request.url.path}))

    wrap(XinyongError, domain)
    wrap(StarletteHTTPException, http)
    wrap(RequestValidationError, validation)
    app.add_exception_handler(CsrfRefused, csrf)
    app.add_exception_handler(SignInRequired, signin)
