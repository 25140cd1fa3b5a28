"""Operability: Prometheus metrics and one structured (JSON) access-log line per request, with a
request id the response echoes (``X-Request-Id``), from one ASGI middleware in front of everything.

Metrics are per app (their own ``CollectorRegistry``, never the process-global default: two apps in one
process, as in tests, do not share counters). Labels are bounded: the route's path *template*, never a
raw path with a subject id in it, so neither cardinality nor personal data leaks into the metrics. The
access log names the key id of the caller only when the app resolved it; it never logs bodies.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.service.online import Online


class Metrics:
    """The instruments of one app; the service layer reports to it through :meth:`decided`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("xinyong_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("xinyong_http_request_seconds", "HTTP request latency", ["route"],
                                 buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
                                 registry=self.registry)
        self.decisions = Counter("xinyong_decisions_total", "Decisions answered", ["effect"],
                                 registry=self.registry)
        self.audit_pending = Gauge("xinyong_audit_queue_depth", "Read-audit entries not yet stored",
                                   registry=self.registry)
        self.audit_lag = Gauge("xinyong_audit_flush_lag_seconds", "Age of the oldest unflushed audit entry",
                               registry=self.registry)
        self.ingest_rows = Counter("xinyong_ingest_rows_total", "Record rows submitted over HTTP", ["status"],
                                   registry=self.registry)

    def render(self, svc: Online | None) -> bytes:
        if svc is not None:
            self.audit_pending.set(svc.audit.pending)
            self.audit_lag.set(svc.audit.lag())
            for effect, n in svc.take_effect_counts().items():
                self.decisions.labels(effect).inc(n)
            for status, n in svc.take_ingest_counts().items():
                self.ingest_rows.labels(status).inc(n)
        return generate_latest(self.registry)


def _route(scope: Scope) -> str:
    """The matched route's template (``/v1/subjects/{subject}/file``), or ``unmatched``: never a raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    return scope["path"] if scope["path"] in ("/v1/decisions", "/metrics", "/healthz", "/readyz") else "unmatched"


class Observe:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.log = structlog.get_logger("xinyong.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/metrics" and scope["method"] == "GET":
            svc = getattr(scope["app"].state, "online", None) if "app" in scope else None
            body = self.metrics.render(svc)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        rid = next((v.decode("latin-1")[:64] for k, v in scope["headers"] if k == b"x-request-id"), None) \
            or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = time.perf_counter() - started
            route = _route(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(took)
            if self.access_log:
                self.log.info("request", request_id=rid, method=scope["method"], route=route, status=status,
                              ms=round(took * 1000, 3), client=(scope.get("client") or ("", 0))[0])


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    """structlog to stderr, one JSON object per line (or key=value for a terminal): called by the
    server's entry point, never at import time."""
    processors: list[Any] = [structlog.processors.add_log_level,
                             structlog.processors.TimeStamper(fmt="iso", utc=True)]
    processors.append(structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer())
    structlog.configure(processors=processors, wrapper_class=structlog.make_filtering_bound_logger(level),
                        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
                        cache_logger_on_first_use=True)
