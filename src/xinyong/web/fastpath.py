"""``POST /v1/decisions`` served in front of the router: the one hot endpoint, without framework overhead.

Measured in-process (``bench/http_load.py`` and an ASGI loop), FastAPI's routing, request object and
dependency solver cost more than the decision itself (≈ 60 µs of ≈ 105 µs per request), which caps one
worker near the bare-endpoint baseline. This middleware answers exactly ``POST /v1/decisions``: it
authenticates, requires ``Content-Type: application/json``, reads the body within the size limit,
validates with the same pydantic model, calls the same :meth:`Online.decide_with_id` and maps errors
through the same ``problems`` module (in the same order as the route). The FastAPI route of
the same path documents it in the OpenAPI schema and serves it if this middleware is not installed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.model.errors import XinyongError
from xinyong.service.online import Online
from xinyong.service.principals import Principal
from xinyong.web.limits import BodyTooLarge
from xinyong.web.problems import PROBLEM_RESPONSES, domain_response, problem, validation_response
from xinyong.web.schemas import DecisionOut, DecisionRequest

PATH = "/v1/decisions"
_JSON = [(b"content-type", b"application/json")]


def is_json(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (``application/json``, parameters allowed). The decision
    endpoints accept nothing else, on the fast path and through the router alike."""
    return content_type.split(";")[0].strip().lower() == "application/json"


def unsupported_media_type(path: str | None, content_type: str) -> Response:
    """415 for a decision request whose body is not declared as JSON (the one mapping for both paths)."""
    got = content_type.split(";")[0].strip() or "none"
    return problem(415, "unsupported media type", f"the request body must be JSON with Content-Type: "
                   f"application/json (got {got})", instance=path, field="content-type")


UNSUPPORTED_MEDIA_TYPE_DOC: dict[int | str, dict[str, Any]] = {
    415: {**PROBLEM_RESPONSES[422], "description": "The body is not declared as application/json"}}


def authenticate(svc: Online, authorization: str) -> Principal:
    """The caller of an ``Authorization: Bearer <key>`` header; raises ``Unauthenticated``. Decision
    requests authenticate before their body is read or parsed, so a caller without a valid key learns
    nothing about the request format (401 whatever the body)."""
    scheme, _, token = authorization.partition(" ")
    return svc.principals.authenticate(token.strip() if scheme.lower() == "bearer" else None)


async def decision_json(svc: Online, who: Principal, raw: bytes | str) -> bytes:
    """The response body for one decision request by an authenticated caller; raises domain or
    validation errors.

    From today's index it is computed on the event loop (microseconds); anything else (the index being
    rebuilt after midnight, a refused other date) waits for the store, so it runs in the thread pool."""
    body = DecisionRequest.model_validate_json(raw)
    args = (who, body.subject, body.action, body.purpose, body.as_of)
    d, did = (svc.decide_with_id(*args) if svc.indexed(body.as_of)
              else await run_in_threadpool(svc.decide_with_id, *args))
    return DecisionOut.of(d, did).model_dump_json().encode()


class DecisionFastPath:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> Response:
        return problem(413, "too large", BodyTooLarge(self.max_bytes).detail, instance=PATH, field="body",
                       limit=self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization = content_type = ""
        declared = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else 0
        # the same order as through the router: a declared length over the limit (``limits.BodyLimit``),
        # then the key, then the media type, and only then the body is read and parsed
        if declared > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        svc: Online = scope["app"].state.online
        try:
            who = authenticate(svc, authorization)
        except XinyongError as exc:
            await domain_response(exc, PATH)(scope, receive, send)
            return
        if not is_json(content_type):
            await unsupported_media_type(PATH, content_type)(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            content = await decision_json(svc, who, b"".join(chunks))
        except ValidationError as exc:
            await validation_response(exc.errors(), PATH)(scope, receive, send)
            return
        except XinyongError as exc:
            await domain_response(exc, PATH)(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_JSON, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
