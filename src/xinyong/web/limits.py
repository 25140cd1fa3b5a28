"""A request-body size limit, as plain ASGI middleware (no per-request overhead beyond a header check).

A declared ``Content-Length`` over the limit is refused before the body is read; a chunked body is
counted as it streams and refused as soon as it passes the limit. Either way the answer is 413 with the
limit in the problem document, so a client knows how to split its batch.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.web.problems import problem


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` mid-stream; an HTTPException so that FastAPI's body parsing passes it on
    (it turns other exceptions into 400) and the problem handler answers 413 with the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes; split it into smaller "
                              "requests")
        self.limit = limit


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self, scope: Scope) -> Response:
        exc = BodyTooLarge(self.max_bytes)
        return problem(413, "too large", exc.detail, instance=scope.get("path"), field="body", limit=exc.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refusal(scope)(scope, receive, send)
                    return
                break
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refusal(scope)(scope, receive, send)
