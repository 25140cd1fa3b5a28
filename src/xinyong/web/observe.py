"""Operability: Prometheus metrics and one structured (JSON) access-log line per request, with a
request id the response echoes (``X-Request-Id``), from one ASGI middleware in front of everything.

Metrics are per app (their own ``CollectorRegistry``, never the process-global default: two apps in one
process, as in tests, do not share counters). Labels are bounded: the route's path *template*, never a
raw path with a subject id in it, so neither cardinality nor personal data leaks into the metrics. The
access log names the key id of the caller only when the app resolved it; it never logs bodies.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import count
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.service.online import Online

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class HttpStats:
    """Requests by (method, route, status) and latencies by route, counted in plain dicts and turned into
    Prometheus families only when scraped.

    Every request passes here, so it is kept to a dict update and a bisection; the client library's
    labelled instruments take a lock and walk the buckets in Python on every observation. Counting needs
    no lock: requests are served, and the metrics scraped, on the one event loop thread of the process."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # route -> per-bucket counts (the last is +Inf), then sum

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        row = self.latency.get(route)
        if row is None:
            row = self.latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        row[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        row[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("xinyong_http_requests", "HTTP requests", labels=["method", "route", "status"])
        for (method, route, status), n in sorted(self.requests.items()):
            requests.add_metric([method, route, str(status)], n)
        yield requests
        latency = HistogramMetricFamily("xinyong_http_request_seconds", "HTTP request latency", labels=["route"])
        bounds = [*(repr(b) for b in LATENCY_BUCKETS), "+Inf"]  # "0.0005", "1.0": Prometheus' spelling
        for route, row in sorted(self.latency.items()):
            cumulative: list[tuple[str, float]] = []
            total = 0.0
            for bound, in_bucket in zip(bounds, row, strict=False):
                total += in_bucket
                cumulative.append((bound, total))
            latency.add_metric([route], cumulative, sum_value=row[-1])
        yield latency


class Metrics:
    """The instruments of one app; the service layer reports to it through :meth:`render`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpStats()
        self.registry.register(self.http)
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


_UNROUTED = frozenset({"/v1/decisions", "/metrics", "/healthz", "/readyz"})


def _route(scope: Scope) -> str:
    """The matched route's template (``/v1/subjects/{subject}/file``), or ``unmatched``: never a raw path."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    return scope["path"] if scope["path"] in _UNROUTED else "unmatched"


class Observe:
    """Counts, times and (optionally) logs every request, and tags it with a request id.

    A request id the client sends (``X-Request-Id``) is kept; otherwise it is this process's random
    prefix and a counter: unique in the logs without asking the OS for randomness on every request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.stats = metrics.http
        self.access_log = access_log
        self.log = structlog.get_logger("xinyong.access")
        self._prefix = secrets.token_hex(6).encode() + b"-"
        self._ids = count(1)

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
        rid = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value[:64]
                break
        if not rid:
            rid = b"%s%x" % (self._prefix, next(self._ids))
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid)]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = time.perf_counter() - started
            route = _route(scope)
            self.stats.observe(scope["method"], route, status, took)
            if self.access_log:
                self.log.info("request", request_id=rid.decode("latin-1"), method=scope["method"], route=route,
                              status=status, ms=round(took * 1000, 3), client=(scope.get("client") or ("", 0))[0])


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    """structlog to stderr, one JSON object per line (or key=value for a terminal): called by the
    server's entry point, never at import time."""
    processors: list[Any] = [structlog.processors.add_log_level,
                             structlog.processors.TimeStamper(fmt="iso", utc=True)]
    processors.append(structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer())
    structlog.configure(processors=processors, wrapper_class=structlog.make_filtering_bound_logger(level),
                        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
                        cache_logger_on_first_use=True)
