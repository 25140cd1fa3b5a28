"""Who is calling: the ``Authorization: Bearer <key>`` header, resolved to a :class:`Principal`.

Async on purpose: a sync dependency would send every request through the thread pool just to look up a
hash in a dict. What a principal may do is decided in the service layer, not here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from xinyong.service.online import Online
from xinyong.service.principals import Principal

bearer = HTTPBearer(auto_error=False, description="An API key from `xinyong keys create`, shown once.")


async def online(request: Request) -> Online:
    """The service of this app (set by the lifespan; one per app, never a module global). Async: a sync
    dependency costs a thread-pool round trip per request (measured: it cut decisions/s by half)."""
    svc: Online = request.app.state.online
    return svc


async def principal(request: Request,
                    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    svc: Online = request.app.state.online
    return svc.principals.authenticate(creds.credentials if creds else None)


def caller_of(request: Request) -> tuple[Online, Principal]:
    """The service and the caller without FastAPI's dependency solver, for the hot path: the solver
    costs about as much as the rest of a decision request (measured ≈ 60 µs of ≈ 140 µs)."""
    svc: Online = request.app.state.online
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return svc, svc.principals.authenticate(token.strip() if scheme.lower() == "bearer" else None)


# documents the same Bearer scheme on routes that authenticate with ``caller_of``
BEARER_DOC: dict[str, object] = {"security": [{"HTTPBearer": []}]}

Caller = Annotated[Principal, Depends(principal)]
Service = Annotated[Online, Depends(online)]
