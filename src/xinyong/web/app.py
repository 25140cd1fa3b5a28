"""The FastAPI application: ``create_app`` builds one app over one service, with no module-level state.

``create_app(Settings(db=...))`` opens the store when the app starts and closes it (after flushing the
audit buffer) when it stops; ``create_app(online)`` serves a service the caller built (tests, the demo)
and still starts and stops it with the app. Either way nothing is opened at import time, and two apps in
one process never share anything.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import xinyong
from xinyong.service.auditlog import DEFAULT_MAX_DELAY, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_LAG, AuditBuffer
from xinyong.service.budget import DEFAULT_READ_BUDGET
from xinyong.service.checkpoints import Checkpointer
from xinyong.service.online import DEFAULT_MAX_BATCH, Online
from xinyong.store import open_store
from xinyong.web import pages, problems
from xinyong.web.fastpath import DecisionFastPath
from xinyong.web.headers import SingleAuthorization
from xinyong.web.limits import BodyLimit
from xinyong.web.observe import Metrics, Observe
from xinyong.web.routes import cases, decisions, impact, keys, public, records, subjects

DEFAULT_MAX_BODY = 8 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything a server needs to know, passed in (never read from globals)."""

    db: str | Path
    as_of: date | None = None                 # None: today's date, read at this edge
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_batch: int = DEFAULT_MAX_BATCH
    audit_max_delay: float = DEFAULT_MAX_DELAY
    audit_max_entries: int = DEFAULT_MAX_ENTRIES
    audit_max_lag: float = DEFAULT_MAX_LAG     # reads refused (503) once the oldest unflushed entry is older
    checkpoint_key: str | None = None        # Ed25519 private key (PEM): sign the chain head
    checkpoint_dir: str = "checkpoints"
    checkpoint_interval: float = 60.0
    access_log: bool = True                  # one JSON line per request (structlog), with a request id
    read_budget: float = DEFAULT_READ_BUDGET  # seconds a growing read may compute before it is refused (503)
    public_url: str | None = None            # the register's public address, printed on reports (else the request's)

    def open(self) -> Online:
        store = open_store(self.db, create=False)
        audit = AuditBuffer(store, max_delay=self.audit_max_delay, max_entries=self.audit_max_entries,
                            max_lag=self.audit_max_lag)
        checkpointer = (Checkpointer(store, Path(self.checkpoint_key), Path(self.checkpoint_dir),
                                     self.checkpoint_interval) if self.checkpoint_key else None)
        return Online(store, as_of=self.as_of, max_batch=self.max_batch, audit=audit, owns_store=True,
                      checkpointer=checkpointer, read_budget=self.read_budget, public_url=self.public_url)


SETTINGS_ENV = "XINYONG_SERVE_SETTINGS"


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``xinyong serve --workers N`` (uvicorn's factory): the settings
    come from the parent through the environment, as JSON, since each worker is a new interpreter."""
    raw = json.loads(os.environ[SETTINGS_ENV])
    raw["as_of"] = date.fromisoformat(raw["as_of"]) if raw.get("as_of") else None
    return create_app(Settings(**raw))


def create_app(target: Settings | Online, *, max_body_bytes: int | None = None, fast_path: bool = True) -> FastAPI:
    """The HTTP service over a store (``Settings``) or over a service built by the caller (``Online``).

    ``fast_path=False`` serves ``POST /v1/decisions`` through the FastAPI route instead (same code, slower)."""
    limit = max_body_bytes or (target.max_body_bytes if isinstance(target, Settings) else DEFAULT_MAX_BODY)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = target.open() if isinstance(target, Settings) else target
        await run_in_threadpool(svc.start)
        app.state.online = svc
        if isinstance(target, Settings):  # a server process of its own (``xinyong serve``)
            # The index (a tuple and frozensets per listed subject: millions at national scale) and the
            # policies live as long as the process: keep them out of the cyclic GC's full collections,
            # whose pauses would otherwise grow with the population.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await run_in_threadpool(svc.close)  # flushes every buffered audit entry

    app = FastAPI(
        title="xinyong",
        version=xinyong.__version__,
        summary="Credit-information platform built for the rule of law: decisions, not data.",
        description=(
            "Agencies submit records; relying parties get decisions with their legal basis, never the data "
            "behind them; subjects read their whole file and who looked at it. Authenticate with "
            "`Authorization: Bearer <key>` (keys from `xinyong keys create`). Errors are RFC 9457 "
            "problem+json."),
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=limit)
    if fast_path:
        app.add_middleware(DecisionFastPath, max_bytes=limit)
    app.add_middleware(SingleAuthorization)
    access_log = target.access_log if isinstance(target, Settings) else False
    app.add_middleware(Observe, metrics=Metrics(), access_log=access_log)  # added last: runs first
    for module in (decisions, records, subjects, cases, keys, public, impact):
        app.include_router(module.router)
    pages.install(app)  # the HTML pages: same service, principals and audit as /v1
    return app
