"""``POST /v1/decisions``: the one implementation of the endpoint, and the transport that serves it in
front of the router.

:func:`answer` is the endpoint: it authenticates, requires ``Content-Type: application/json``, reads the
body (through a reader the transport gives it, within the size limit), validates with the pydantic
model, calls :meth:`Online.decide_with_id` and builds the response body or the problem document. The
FastAPI route of the same path (``routes/decisions.py``) documents it in the OpenAPI schema and calls
:func:`answer` with the router's request; :class:`DecisionFastPath` calls it straight from ASGI, because
routing, the request object and the dependency solver cost more than the decision itself. Both read the
headers with :func:`decision_headers`, so they cannot disagree about who is asking (a repeated
``Authorization`` is refused before either runs: ``web.headers``).

The order of checks is the contract of both: a declared length over the limit (413), then the key (401
whatever the body, so a caller without a valid key learns nothing about the request format), then the
media type (415), and only then is the body read (413 once it passes the limit) and parsed (422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
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
_JSON = (b"content-type", b"application/json")

#: reads the whole request body; raises :class:`BodyTooLarge` past the limit
BodyReader = Callable[[], Awaitable[bytes]]


class ClientGone(Exception):
    """The client disconnected before its body was read: there is no one to answer."""


def is_json(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (``application/json``, parameters allowed). The decision
    endpoints accept nothing else."""
    return content_type.split(";")[0].strip().lower() == "application/json"


def unsupported_media_type(path: str | None, content_type: str) -> Response:
    """415 for a decision request whose body is not declared as JSON."""
    got = content_type.split(";")[0].strip() or "none"
    return problem(415, "unsupported media type", f"the request body must be JSON with Content-Type: "
                   f"application/json (got {got})", instance=path, field="content-type")


def too_large(path: str | None, limit: int) -> Response:
    """413 naming the limit (the answer ``limits.BodyLimit`` gives every other route)."""
    return problem(413, "too large", BodyTooLarge(limit).detail, instance=path, field="body", limit=limit)


UNSUPPORTED_MEDIA_TYPE_DOC: dict[int | str, dict[str, Any]] = {
    415: {**PROBLEM_RESPONSES[422], "description": "The body is not declared as application/json"}}


def decision_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str, int]:
    """(Authorization, Content-Type, declared Content-Length or 0) from raw ASGI headers, in one pass."""
    authorization = content_type = ""
    declared = 0
    for name, value in headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            declared = int(value) if value.isdigit() else 0
    return authorization, content_type, declared


def authenticate(svc: Online, authorization: str) -> Principal:
    """The caller of an ``Authorization: Bearer <key>`` header; raises ``Unauthenticated``."""
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


async def answer(svc: Online, path: str, authorization: str, content_type: str, read_body: BodyReader
                 ) -> bytes | Response:
    """The endpoint: the 200 JSON body, or the problem response (the transport sends either)."""
    try:
        who = authenticate(svc, authorization)
        if not is_json(content_type):
            return unsupported_media_type(path, content_type)
        try:
            raw = await read_body()
        except BodyTooLarge as exc:
            return too_large(path, exc.limit)
        return await decision_json(svc, who, raw)
    except ValidationError as exc:
        return validation_response(exc.errors(), path)
    except XinyongError as exc:
        return domain_response(exc, path)
    except RecursionError:  # JSON nested past the decoder's limit (the router's handler says the same)
        return problem(422, "invalid input", "the body's JSON is nested too deeply", instance=path, field="body")


class DecisionFastPath:
    """ASGI middleware that serves exactly ``POST /v1/decisions`` with :func:`answer`, passing anything
    else on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization, content_type, declared = decision_headers(scope["headers"])
        limit = self.max_bytes
        if declared > limit:
            await too_large(PATH, limit)(scope, receive, send)
            return

        async def read_body() -> bytes:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientGone
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                if not message.get("more_body", False):
                    return b"".join(chunks) + chunk if chunks else chunk
                chunks.append(chunk)

        try:
            out = await answer(scope["app"].state.online, PATH, authorization, content_type, read_body)
        except ClientGone:
            return
        if isinstance(out, Response):
            await out(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [_JSON, (b"content-length", b"%d" % len(out))]})
        await send({"type": "http.response.body", "body": out})
