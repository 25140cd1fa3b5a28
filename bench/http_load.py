"""HTTP load test of `xinyong serve` on 127.0.0.1: POST /v1/decisions and /v1/decisions:batch.

Named http_load, not http: a script's folder comes first on sys.path, and a bench/http.py would shadow the
standard library's http package.

Bounded (about 30 s in all) and local only. One uvicorn worker serves a demo registry with auth and
audit on; a bare FastAPI endpoint doing a dict lookup is measured in the same run, on the same machine,
with the same client, as the baseline. The client is a minimal asyncio HTTP/1.1 keep-alive client
(pre-built requests, Content-Length framing) so that it costs far less CPU than the server under test:
on a 2-core machine the client shares the cores, and a heavier client would measure itself.

    .venv/bin/python bench/http_load.py [--subjects 20000] [--seconds 6] [--connections 16] [--batch 100]
        [--db postgresql://postgres@127.0.0.1:5432/xy_bench --workers 2]

With ``--db`` a PostgreSQL URL (the database is emptied first, if it exists, by dropping and creating it)
the registry is built there and ``--workers`` server processes share it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xinyong.service.auditlog import DEFAULT_MAX_DELAY  # noqa: E402
from xinyong.service.demo import DEMO_AS_OF, build_demo  # noqa: E402
from xinyong.service.principals import create_demo_keys  # noqa: E402
from xinyong.store import is_postgres, open_store  # noqa: E402

BASELINE_APP = """
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
app = FastAPI()
STATES = {f"s{i}": ("deny" if i % 50 == 0 else "allow") for i in range(100_000)}
class Ask(BaseModel):
    subject: str
    action: str
    purpose: str
@app.post("/v1/decisions")
async def decide(body: Ask) -> dict[str, str]:
    return {"subject": body.subject, "effect": STATES.get(body.subject, "allow")}
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning", access_log=False)
"""


def run(coro: Coroutine[Any, Any, T]) -> T:
    """The client's event loop: uvloop (installed with uvicorn[standard]) if present, so the client costs
    less of the shared CPU than the server it measures."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, path: str, body: dict[str, object], key: str | None) -> bytes:
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n" + (f"Authorization: Bearer {key}\r\n" if key else "") + "\r\n")
    return head.encode() + data


async def connection(port: int, requests: list[bytes], until: float, lat: list[float], errors: list[int],
                     offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < until:
            req = requests[i % len(requests)]
            i += 1
            t = time.perf_counter()
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(int(head[9:12]))
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], seconds: float, connections: int
               ) -> tuple[list[float], list[int], float]:
    lat: list[float] = []
    errors: list[int] = []
    # warm-up (not counted)
    await asyncio.gather(*(connection(port, requests, time.perf_counter() + 0.5, [], [], c * 7)
                           for c in range(connections)))
    started = time.perf_counter()
    await asyncio.gather(*(connection(port, requests, started + seconds, lat, errors, c * 7919)
                           for c in range(connections)))
    return lat, errors, time.perf_counter() - started


def wait_ready(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def report(name: str, lat: list[float], errors: list[int], elapsed: float, per_request: int) -> dict[str, float]:
    lat.sort()
    n = len(lat)
    out = {"requests_per_s": n / elapsed, "p50_ms": lat[n // 2] * 1e3 if n else 0.0,
           "p99_ms": lat[min(n - 1, int(n * 0.99))] * 1e3 if n else 0.0,
           "decisions_per_s": n * per_request / elapsed, "errors": float(len(errors))}
    print(f"{name:34} {out['requests_per_s']:9,.0f} req/s  p50 {out['p50_ms']:6.2f} ms  p99 {out['p99_ms']:6.2f} ms  "
          f"{out['decisions_per_s']:11,.0f} decisions/s  errors {len(errors)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--audit-interval", type=float, default=DEFAULT_MAX_DELAY, help="xinyong serve --audit-interval")
    ap.add_argument("--db", default=None, help="a PostgreSQL URL (default: a DuckDB file in a temp directory)")
    ap.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xinyong-bench-http-"))
    db: str | Path = work / "bench.duckdb"
    if args.db and is_postgres(args.db):
        import psycopg

        db = args.db
        admin, name = db.rsplit("/", 1)
        with psycopg.connect(admin + "/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            con.execute(f'CREATE DATABASE "{name}"')
    t = time.perf_counter()
    result = build_demo(db, ROOT / "policies", subjects=args.subjects, seed=7, as_of=DEMO_AS_OF,
                        data_dir=work / "data")
    with open_store(db) as store:
        debtor = result.decisions[0].subject
        key = create_demo_keys(store, debtor)["airline"].key
        subjects = [r.id for r in store.subjects(limit=args.subjects)]
    print(f"registry: {args.subjects:,} subjects on {'PostgreSQL' if is_postgres(db) else 'DuckDB'}, built in "
          f"{time.perf_counter() - t:.1f} s; {args.connections} connections, {args.seconds:.0f} s per scenario, "
          f"{args.workers} xinyong worker(s), one baseline worker; "
          f"{os.cpu_count()} cores shared with the client")

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    figures: dict[str, dict[str, float]] = {}
    base_port = free_port()
    base = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(base_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(base_port, "/docs", base)
        reqs = [request(base_port, "/v1/decisions", {"subject": f"s{i}", "action": "a", "purpose": "p"}, None)
                for i in range(1000)]
        figures["baseline"] = report("baseline: bare FastAPI dict lookup", *run(
            load(base_port, reqs, args.seconds, args.connections)), 1)
    finally:
        base.terminate()
        base.wait()

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "xinyong", "serve", "--db", str(db), "--port", str(port),
                               "--as-of", DEMO_AS_OF.isoformat(), "--audit-interval", str(args.audit_interval),
                               "--workers", str(args.workers), "--no-access-log"],
                              env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, "/readyz", server)
        reqs = [request(port, "/v1/decisions", {"subject": s, "action": "transport.flight.purchase",
                                                "purpose": "ticket sale"}, key) for s in subjects[:1000]]
        figures["decisions"] = report("xinyong POST /v1/decisions", *run(
            load(port, reqs, args.seconds, args.connections)), 1)
        manifests = [subjects[i:i + args.batch] for i in range(0, min(len(subjects), 50 * args.batch), args.batch)]
        reqs = [request(port, "/v1/decisions:batch", {"subjects": m, "action": "transport.flight.purchase",
                                                      "purpose": "passenger manifest"}, key) for m in manifests]
        figures["batch"] = report(f"xinyong POST /v1/decisions:batch x{args.batch}", *run(
            load(port, reqs, args.seconds, args.connections)), args.batch)
    finally:
        server.terminate()  # SIGTERM: a clean shutdown, the audit buffer is flushed
        server.wait(timeout=60)
    with open_store(db, read_only=True) as store:
        logged = store._query(  # type: ignore[attr-defined]
            "SELECT count(*) FROM audit_log WHERE action = 'decide' AND actor LIKE 'relying_party:%'")[0]
    ratio = figures["decisions"]["requests_per_s"] / figures["baseline"]["requests_per_s"]
    print(f"xinyong / baseline: {ratio:.2f} of the bare endpoint's req/s; audit entries written for the run: "
          f"{logged[0] if logged else 0:,}")
    d = figures["decisions"]
    verdict = "met" if d["requests_per_s"] >= 8000 and d["p99_ms"] <= 5 else "NOT met"
    print(f"target >= 8,000 req/s with p99 <= 5 ms: {verdict} ({d['requests_per_s']:,.0f} req/s, "
          f"p99 {d['p99_ms']:.2f} ms)")


if __name__ == "__main__":
    main()
