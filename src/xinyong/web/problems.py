"""The one place where errors become HTTP responses: RFC 9457 problem+json.

The core raises the domain hierarchy of :mod:`xinyong.model.errors` and knows nothing of HTTP; this
module maps each class to a status once. A problem names the ``field`` when there is one, and never
echoes stored data: a refused request learns why it was refused, not what it would have seen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.model.errors import (
    CharterViolation,
    Forbidden,
    InvalidInput,
    NotFound,
    NotYetEligible,
    OverBudget,
    PolicyError,
    StorageFault,
    StoreError,
    TooLarge,
    Unauthenticated,
    XinyongError,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("xinyong.web")

# most specific first: the first class an error is an instance of decides the status
STATUS: list[tuple[type[XinyongError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (TooLarge, 413),
    (CharterViolation, 422),
    (PolicyError, 422),
    (InvalidInput, 422),
    (StoreError, 503),
    (XinyongError, 400),
]


def problem(status: int, title: str, detail: str, *, instance: str | None = None, slug: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """A problem+json response; ``type`` is a URN naming the kind of problem."""
    body: dict[str, Any] = {"type": f"urn:xinyong:problem:{slug or title.replace(' ', '-')}", "title": title,
                            "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: XinyongError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def domain_response(exc: XinyongError, path: str | None = None) -> Response:
    status = status_of(exc)
    extra: dict[str, Any] = {"field": exc.field}
    if isinstance(exc, TooLarge):
        extra["limit"] = exc.limit
    if isinstance(exc, NotYetEligible):  # the first day a repair may be applied for, machine-readable
        extra["earliest"] = exc.earliest.isoformat() if exc.earliest else None
    if isinstance(exc, PolicyError):
        extra["problems"] = [p.as_dict() for p in exc.problems]
    if isinstance(exc, OverBudget):  # the budget that was spent, in seconds
        extra["budget"] = exc.budget
    # a storage fault waits for an operator (space freed), an over-budget read for the load to pass
    retry = "30" if isinstance(exc, StorageFault) else "5" if isinstance(exc, OverBudget) else "1"
    headers = ({"WWW-Authenticate": 'Bearer realm="xinyong"'} if status == 401
               else {"Retry-After": retry} if status == 503 else None)
    return problem(status, exc.title, exc.message, instance=path, headers=headers, **extra)


def validation_response(raw: Sequence[Any], path: str | None) -> Response:
    """422 for pydantic errors (from FastAPI's request parsing or a direct ``model_validate_json``)."""
    errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
              for e in raw]
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    return problem(422, "invalid input", f"{first['field']}: {first['message']}" if first["field"]
                   else str(first["message"]), instance=path, field=first["field"] or None, errors=errors)


def install(app: FastAPI) -> None:
    """Register the handlers: domain errors, request validation, HTTP errors, and anything else."""

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, XinyongError)
        return domain_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return validation_response(exc.errors(), request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "not found", 405: "method not allowed", 413: "too large"}.get(exc.status_code, "http error")
        limit = getattr(exc, "limit", None)  # limits.BodyTooLarge
        return problem(exc.status_code, title, str(exc.detail), instance=request.url.path,
                       headers=dict(exc.headers or {}) or None, limit=limit, field="body" if limit else None)

    async def on_too_deep(request: Request, exc: Exception) -> Response:
        # JSON nested past the decoder's recursion limit, wherever a body is parsed
        return problem(422, "invalid input", "the body's JSON is nested too deeply", instance=request.url.path,
                       field="body")

    async def on_other(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(500, "internal error", "the server failed to handle this request; it is logged",
                       instance=request.url.path)

    app.add_exception_handler(XinyongError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RecursionError, on_too_deep)
    app.add_exception_handler(Exception, on_other)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {MEDIA_TYPE: {"schema": {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"}, "instance": {"type": "string"},
                       "field": {"type": "string"}, "limit": {"type": "integer"},
                       "earliest": {"type": "string", "format": "date"}, "budget": {"type": "number"}}}}},
           **({"headers": {"Retry-After": {"description": "Seconds to wait before retrying",
                                           "schema": {"type": "integer"}}}} if code == 503 else {})}
    for code, desc in ((400, "The request is malformed: a body that cannot be parsed, or a duplicate header"),
                       (401, "No key, or an unknown or revoked key"), (403, "The key may not do this"),
                       (404, "Not found"), (413, "Body or batch too large; `limit` states the limit"),
                       (422, "Invalid input; `field` names it (a repair applied for too early: `earliest`)"),
                       (503, "Not now, retry after `Retry-After`: the audit log cannot keep up (reads are refused "
                             "rather than answered unrecorded), a storage fault (disk full, read-only), or the "
                             "read budget per request is spent (`budget`, seconds)"))
}
