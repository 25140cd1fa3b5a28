"""Server-rendered pages in the same app as ``/v1``: the same service, principals and audit.

``install(app)`` adds them: templates (Jinja2, autoescaped, Babel catalogues in Chinese and English),
``/static`` (one stylesheet and a vendored HTMX; no CDN), security headers, CSRF and sessions
(``security.py``), and the routers of every area. An area is a module here with a ``router``
(``page_router()``); modules named ``portal*`` and ``console*`` are found and mounted by name, so an area
is added without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from xinyong.web.pages import public, report, signin
from xinyong.web.pages.core import STATIC_DIR, install_errors, make_pages
from xinyong.web.pages.security import PageHeaders

AREA_PREFIXES = ("portal", "console")


def area_routers() -> list[APIRouter]:
    """The routers of the areas built on this foundation (the subject portal, the reviewer console)."""
    out = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith(AREA_PREFIXES):
            router = getattr(importlib.import_module(f"{__name__}.{info.name}"), "router", None)
            if isinstance(router, APIRouter):
                out.append(router)
    return out


def install(app: FastAPI, secret: bytes | None = None) -> None:
    """Add the pages to an app whose problem handlers are installed (page errors wrap them)."""
    app.state.pages = make_pages(secret)
    install_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (public.router, signin.router, report.router, *area_routers()):
        app.include_router(router)
    app.add_middleware(PageHeaders)


__all__ = ["install"]
