"""``POST /v1/decisions`` served in front of the router: the one hot endpoint, without framework overhead.

Measured in-process (``bench/http.py`` and an ASGI loop), FastAPI's routing, request object and
dependency solver cost more than the decision itself (≈ 60 µs of ≈ 105 µs per request), which caps one
worker near the bare-endpoint baseline. This middleware answers exactly ``POST /v1/decisions``: it reads
the body within the size limit, authenticates, validates with the same pydantic model, calls the same
:meth:`Online.decide_with_id` and maps errors through the same ``problems`` module. The FastAPI route of
the same path documents it in the OpenAPI schema and serves it if this middleware is not installed.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.model.errors import XinyongError
from xinyong.service.online import Online
from xinyong.web.limits import BodyTooLarge
from xinyong.web.problems import domain_response, problem, validation_response
from xinyong.web.schemas import DecisionOut, DecisionRequest

PATH = "/v1/decisions"
_JSON = [(b"content-type", b"application/json")]


async def decision_json(svc: Online, authorization: str, raw: bytes | str) -> bytes:
    """The response body for one decision request; raises domain or validation errors.

    From the index it is computed on the event loop (microseconds); for another as-of date the subject
    is evaluated from its records, which waits for the store, so that runs in the thread pool."""
    scheme, _, token = authorization.partition(" ")
    who = svc.principals.authenticate(token.strip() if scheme.lower() == "bearer" else None)
    body = DecisionRequest.model_validate_json(raw)
    args = (who, body.subject, body.action, body.purpose, body.as_of)
    d, did = (svc.decide_with_id(*args) if svc.indexed(body.as_of)
              else await run_in_threadpool(svc.decide_with_id, *args))
    return DecisionOut.of(d, did).model_dump_json().encode()


class DecisionFastPath:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await problem(413, "too large", BodyTooLarge(self.max_bytes).detail, instance=PATH, field="body",
                              limit=self.max_bytes)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            content = await decision_json(scope["app"].state.online, authorization, b"".join(chunks))
        except ValidationError as exc:
            await validation_response(exc.errors(), PATH)(scope, receive, send)
            return
        except XinyongError as exc:
            await domain_response(exc, PATH)(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_JSON, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
