"""`xinyong serve`: the HTTP service (FastAPI on uvicorn) over a store file.

One process, one worker: the embedded DuckDB file has one writer, and the decision index lives in this
process's memory. Stopping with Ctrl-C (SIGINT) or SIGTERM is a clean shutdown: the audit buffer is
flushed before the store closes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, DbOpt, parse_as_of
from xinyong.cli.output import err_console
from xinyong.service.auditlog import DEFAULT_MAX_DELAY, DEFAULT_MAX_LAG
from xinyong.service.budget import DEFAULT_READ_BUDGET

if TYPE_CHECKING:
    from xinyong.web import Settings

#: ``web.app.DEFAULT_MAX_BODY``, spelled out so that ``--help`` does not import the web stack (a test
#: holds the two equal).
DEFAULT_MAX_BODY = 8 * 1024 * 1024
SWITCH_INTERVAL = float(os.environ.get("XINYONG_SWITCH_INTERVAL", "0.0005"))
HostOpt = Annotated[str, typer.Option("--host", help="Address to bind (default: this machine only).")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port.")]


def run_server(settings: Settings, host: str, port: int, *, log_level: str = "warning") -> None:
    """Serve until interrupted (blocks). Used by `serve` and by `demo`."""
    import uvicorn

    from xinyong.web import create_app
    from xinyong.web.observe import configure_logging

    # The audit flusher thread hashes and appends groups of entries while the event loop serves requests;
    # with the default 5 ms GIL switch interval a request can wait that long for the GIL at each step.
    # A shorter interval bounds those waits (bench/http_load.py on a busy machine: p99 10.2 ms → 5.7 ms).
    sys.setswitchinterval(SWITCH_INTERVAL)
    configure_logging()

    err_console.print(f"xinyong serving {settings.db} on http://{host}:{port}  (docs: http://{host}:{port}/docs; "
                      "Ctrl-C stops and flushes the audit log)", markup=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False,
                lifespan="on", timeout_graceful_shutdown=10)


def serve(
    db: DbOpt = DEFAULT_DB,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Serve decisions as of this date YYYY-MM-DD "
                                                              "(default: today's date, each day).")] = None,
    max_body: Annotated[int, typer.Option(help="Largest request body accepted, bytes (413 above).")] = DEFAULT_MAX_BODY,
    audit_interval: Annotated[float, typer.Option(help="Seconds between audit group commits. A crash loses the "
                                                      "read entries of about two intervals plus one commit "
                                                      "(README: durability window).")] = DEFAULT_MAX_DELAY,
    audit_max_lag: Annotated[float, typer.Option(help="Seconds the oldest unwritten audit entry may wait before "
                                                     "reads are refused (503, Retry-After) rather than answered "
                                                     "unrecorded: what a stalled store can cost.")] = DEFAULT_MAX_LAG,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    checkpoint_key: Annotated[Path | None, typer.Option(
        "--checkpoint-key", envvar="XINYONG_CHECKPOINT_KEY",
        help="Ed25519 private key (xinyong audit keygen): sign the audit chain's head every minute and at "
             "shutdown, so `audit verify --checkpoints` detects a cut or extended log.")] = None,
    checkpoints: Annotated[Path, typer.Option("--checkpoints", envvar="XINYONG_CHECKPOINTS",
                                              help="Where checkpoints are written.")] = Path("checkpoints"),
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="One JSON line per request on stderr (request id, route, "
                                                  "status, ms; never a body).")] = True,
    read_budget: Annotated[float, typer.Option(help="Seconds a read that grows with the data (a subject's file, "
                                                   "status with what-if, case lists) may compute before it is "
                                                   "stopped and refused (503 naming the budget).")
                           ] = DEFAULT_READ_BUDGET,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", envvar="XINYONG_PUBLIC_URL",
        help="The register's public address (https://credit.example.gov.cn): the verification link printed on "
             "credit reports points there, whatever Host header a request carried.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes sharing the store "
                                         "(PostgreSQL only: a DuckDB file has one writer).")] = 1,
) -> None:
    """Serve the /v1 HTTP API (OpenAPI at /openapi.json, docs at /docs): agencies submit records,
    relying parties get decisions, subjects read their file. Create keys with `xinyong keys create`."""
    from xinyong.service.registry import Registry
    from xinyong.store import is_postgres, open_store
    from xinyong.web import Settings
    if workers > 1 and not is_postgres(db):
        raise typer.BadParameter(f"{db} is a DuckDB file: one process may write it, so one worker serves it; "
                                 "use --db postgresql://user@host:port/dbname for several workers",
                                 param_hint="--workers")
    with open_store(db, create=False) as store:  # say what is missing here, not in a startup traceback
        Registry(store).policies()
    if audit_interval <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--audit-interval")
    if read_budget <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--read-budget")
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        raise typer.BadParameter("must start with https:// (or http://)", param_hint="--public-url")
    if audit_max_lag <= audit_interval:
        raise typer.BadParameter("must be more than --audit-interval", param_hint="--audit-max-lag")
    settings = Settings(db=db, as_of=parse_as_of(as_of) if as_of else None, max_body_bytes=max_body,
                        audit_max_delay=audit_interval, audit_max_lag=audit_max_lag,
                        checkpoint_key=str(checkpoint_key) if checkpoint_key else None,
                        checkpoint_dir=str(checkpoints), access_log=access_log, read_budget=read_budget,
                        public_url=public_url.rstrip("/") if public_url else None)
    if workers > 1:
        run_workers(settings, host, port, workers, log_level=log_level)
        return
    run_server(settings, host, port, log_level=log_level)


def migrate(db: DbOpt = DEFAULT_DB, json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False
            ) -> None:
    """Create the store if needed and apply the schema migrations it lacks (each in one transaction).

    Other commands refuse a store at an older schema and name the missing migrations; this one applies
    them. Safe to run while nothing else writes; on PostgreSQL concurrent runs wait for each other."""
    import json

    from xinyong.store import open_store

    with open_store(db, create=True, migrate=None) as store:
        applied = store.migrate()
        version = store.schema_version()
    if json_out:
        print(json.dumps({"db": str(db), "applied": applied, "schema_version": version}))
        return
    err_console.print(f"{db}: " + (f"applied {', '.join(applied)}" if applied else "up to date")
                      + f" (schema version {version})", markup=False)


def run_workers(settings: Settings, host: str, port: int, workers: int, *, log_level: str = "warning") -> None:
    """N uvicorn worker processes over one PostgreSQL database. Each builds its own decision index and
    follows the store's change sequence, so a write through one worker reaches the others' decisions
    within the follow interval (0.2 s)."""
    import json
    import os
    import secrets

    import uvicorn

    from xinyong.web.app import SETTINGS_ENV
    from xinyong.web.pages.core import SECRET_ENV

    # one page-session secret for every worker: a browser's next request may reach another worker
    os.environ.setdefault(SECRET_ENV, secrets.token_urlsafe(32))
    os.environ[SETTINGS_ENV] = json.dumps({**settings.__dict__, "db": str(settings.db),
                                          "as_of": settings.as_of.isoformat() if settings.as_of else None})
    err_console.print(f"xinyong serving {settings.db} with {workers} workers on http://{host}:{port}", markup=False)
    uvicorn.run("xinyong.web.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=10)
