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


# documents the same Bearer scheme on routes that authenticate before reading the body (fastpath.authenticate)
BEARER_DOC: dict[str, object] = {"security": [{"HTTPBearer": []}]}

Caller = Annotated[Principal, Depends(principal)]
Service = Annotated[Online, Depends(online)]
