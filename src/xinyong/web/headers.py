"""Header rules every route obeys, checked once in front of everything (plain ASGI, one pass over the
headers): a request carrying ``Authorization`` more than once is refused with 400. Proxies and
frameworks disagree on which copy wins (first, last, joined), so accepting it would let the decision
fast path and the router read different callers from one request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.web.problems import problem


class SingleAuthorization:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen = 0
            for name, _ in scope.get("headers", ()):
                if name == b"authorization":
                    seen += 1
            if seen > 1:
                refusal = problem(400, "bad request", "the Authorization header is given more than once; send "
                                  "exactly one", instance=scope.get("path"), field="authorization")
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
