"""What keeps the pages safe in a browser: signed sessions, CSRF tokens, sign-in rate limits, headers.

A browser sends cookies on its own, so anything a cookie authorises needs more than the cookie:

- **Session.** Signing in exchanges a key for a cookie holding the key's id, a digest of its hash and an
  expiry, signed with HMAC-SHA256 (never the key itself). HttpOnly (no script reads it), SameSite=Strict (no
  other site's page sends it), Secure over https, expiring after :data:`SESSION_SECONDS`. Each request
  maps it back to the live key, so revoking the key ends the session at once.
- **CSRF.** Double submit, signed: a random cookie and, in every form, an HMAC of it under the app's
  secret. A POST to a page whose form token does not match its cookie is refused before the view runs; an
  attacker's site can neither read the cookie nor compute the token.
- **Headers.** Every HTML page gets a Content-Security-Policy allowing only this origin's scripts and
  styles, none inline (HTMX's own indicator styles are switched off in ``base.html``), nosniff, a strict
  referrer policy and no framing.
- **Rate limit.** Sign-in attempts per client address in a sliding window: keys are long random strings,
  but an unlimited form would still be an oracle.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.service.principals import Principal, hash_key

SESSION_COOKIE = "xy_session"
CSRF_COOKIE = "xy_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
SIGNIN_ATTEMPTS = 10
SIGNIN_WINDOW = 60.0

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]
#: FastAPI's own documentation pages load Swagger UI with inline scripts: they keep their defaults
_UNTOUCHED = ("/v1/", "/docs", "/redoc", "/openapi.json", "/metrics")


class PageHeaders:
    """Adds :data:`PAGE_HEADERS` to every HTML response outside the API (plain ASGI: /v1 pays nothing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_UNTOUCHED):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                ctype = next((v for k, v in headers if k == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    names = {k for k, _ in headers}
                    headers += [(k, v) for k, v in PAGE_HEADERS if k not in names]
                else:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    """A signed-in browser: which key, until when."""

    key_id: str
    key_digest: str
    expires: int


class Signer:
    """HMAC-SHA256 under the app's secret, for session cookies and CSRF tokens."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def mac(self, purpose: str, value: str) -> str:
        return _b64(hmac.new(self.secret, f"{purpose}\x1f{value}".encode(), hashlib.sha256).digest())

    # -- sessions -----------------------------------------------------------------------------------

    def session_cookie(self, principal: Principal, key: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        body = _b64(json.dumps({"k": principal.id, "d": hash_key(key), "e": expires},
                               separators=(",", ":")).encode())
        return f"{body}.{self.mac('session', body)}"

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie holds, or None if it is missing, forged, malformed or expired."""
        if not cookie or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self.mac("session", body)):
            return None
        try:
            data = json.loads(_unb64(body))
            s = Session(str(data["k"]), str(data["d"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return s if s.expires > (now or time.time()) else None

    # -- CSRF ---------------------------------------------------------------------------------------

    def csrf_token(self, cookie: str) -> str:
        return self.mac("csrf", cookie)

    def csrf_ok(self, cookie: str | None, token: str | None) -> bool:
        return bool(cookie and token) and hmac.compare_digest(self.csrf_token(str(cookie)), str(token))


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_cookie_of(request: Request) -> str:
    """This browser's CSRF cookie, or a new one (set on the response by ``render``)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 16 <= len(existing) <= 64:
        return existing
    fresh: str | None = getattr(request.state, "new_csrf", None)
    if fresh is None:
        fresh = new_csrf_cookie()
        request.state.new_csrf = fresh
    return fresh


def set_cookies(request: Request, response: Response) -> None:
    """Cookies a render owes the browser: a new CSRF cookie (scoped to this site, script-proof)."""
    fresh = getattr(request.state, "new_csrf", None)
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")


def set_session(request: Request, response: Response, value: str) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                        path="/", secure=request.url.scheme == "https")


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


class RateLimit:
    """At most ``attempts`` per ``window`` seconds per client (a sliding window, in memory, per process)."""

    def __init__(self, attempts: int = SIGNIN_ATTEMPTS, window: float = SIGNIN_WINDOW) -> None:
        self.attempts = attempts
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._mutex = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> float:
        """0 if this attempt may go ahead (and counts it), else the seconds until one may."""
        now = time.monotonic() if now is None else now
        with self._mutex:
            if len(self._seen) > 100_000:  # a flood of addresses: forget the idle ones
                self._seen = {k: q for k, q in self._seen.items() if q and q[-1] > now - self.window}
            q = self._seen.setdefault(client, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.attempts:
                return max(0.001, q[0] + self.window - now)
            q.append(now)
            return 0.0
