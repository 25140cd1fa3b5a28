"""HTTP load test of `xinyong serve` on 127.0.0.1: POST /v1/decisions against a bare FastAPI endpoint.

Named http_load, not http: a script's folder comes first on sys.path, and a bench/http.py would shadow the
standard library's http package.

Bounded and local only. One uvicorn worker serves a demo registry with auth and audit on; a bare FastAPI
endpoint doing a dict lookup (pydantic body, one worker, same uvicorn) is the baseline. Both servers run
for the whole benchmark and are loaded in turn, baseline then xinyong, for ``--rounds`` rounds (A B A B):
each round gives a req/s ratio and a p99 ratio, and the medians of the per-round ratios are reported with
their min–max, since a shared 2-core machine swings between runs. The load generator is wrk (one thread
per core, ``--connections`` keep-alive connections, a Lua script that rotates through 1 000 prepared
bodies) when installed, else a minimal asyncio keep-alive client (pre-built requests), both far cheaper
than the servers they measure; the client named in the output says which.

    .venv/bin/python bench/http_load.py [--subjects 20000] [--seconds 5] [--rounds 5] [--connections 16]
        [--batch 100] [--client wrk|python] [--json rows.jsonl]
        [--db postgresql://postgres@127.0.0.1:5432/xy_bench --workers 2]

With ``--db`` a PostgreSQL URL (the database is emptied first, if it exists, by dropping and creating it)
the registry is built there and ``--workers`` server processes share it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xinyong.service.auditlog import DEFAULT_MAX_DELAY  # noqa: E402
from xinyong.service.demo import DEMO_AS_OF, build_demo  # noqa: E402
from xinyong.service.principals import create_demo_keys  # noqa: E402
from xinyong.store import is_postgres, open_store  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abtable import Row, ratio_text, write_rows  # noqa: E402

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


WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("XY_BODIES")) do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("XY_KEY")
if key ~= nil and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('XY {"n": %d, "us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Load:
    """One load run: requests per second, median and 99th percentile latency (ms), failures."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    n: int = 0
    cpu_us: float = 0.0  # the server's CPU (all threads and worker processes) per request, µs


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and its descendants (``--workers``), from /proc (Linux; 0
    elsewhere). On a shared machine the req/s of a round moves with whatever else runs; the CPU a
    server spends per request moves much less, so it says which server does more work per answer."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    children: dict[int, list[int]] = {}
    used: dict[int, int] = {}
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(d.name))
        used[int(d.name)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += used.get(p, 0)
        todo.extend(children.get(p, []))
    return total / os.sysconf("SC_CLK_TCK")


def wrk_load(port: int, path: str, bodies: list[dict[str, object]], key: str | None, seconds: float,
             connections: int, work: Path, nice: list[str]) -> Load:
    script, listing = work / "load.lua", work / f"bodies-{port}-{len(bodies)}.jsonl"
    script.write_text(WRK_SCRIPT)
    listing.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    threads = min(connections, os.cpu_count() or 2)
    out = subprocess.run([*nice, "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "-s",
                          str(script), f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         env={**os.environ, "XY_BODIES": str(listing), "XY_KEY": key or ""}, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("XY "))
    r = json.loads(line[3:])
    return Load(r["n"] / (r["us"] / 1e6), r["p50_us"] / 1e3, r["p99_us"] / 1e3, r["errors"] + r["non2xx"], r["n"])


def python_load(port: int, path: str, bodies: list[dict[str, object]], key: str | None, seconds: float,
                connections: int) -> Load:
    reqs = [request(port, path, b, key) for b in bodies]
    lat, errors, elapsed = run(load(port, reqs, seconds, connections))
    lat.sort()
    n = len(lat)
    return Load(n / elapsed, lat[n // 2] * 1e3 if n else 0.0, lat[min(n - 1, int(n * 0.99))] * 1e3 if n else 0.0,
                len(errors), n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=5.0, help="per load run")
    ap.add_argument("--rounds", type=int, default=5, help="baseline/xinyong pairs (A B A B ...)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--batch", type=int, default=100, help="subjects per decisions:batch request (0: skip)")
    ap.add_argument("--audit-interval", type=float, default=DEFAULT_MAX_DELAY, help="xinyong serve --audit-interval")
    ap.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    ap.add_argument("--db", default=None, help="a PostgreSQL URL (default: a DuckDB file in a temp directory)")
    ap.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only)")
    ap.add_argument("--json", type=Path, default=None, help="append the table rows here (bench/all.py)")
    ap.add_argument("--nice", type=int, default=0, help="run servers and client at this niceness (e.g. -5, as "
                    "root: on a machine shared with other work, it disturbs the rounds less)")
    args = ap.parse_args()
    nice = ["nice", "-n", str(args.nice)] if args.nice else []
    work = Path(tempfile.mkdtemp(prefix="xinyong-bench-http-"))
    db: str | Path = work / "bench.duckdb"
    if args.db and is_postgres(args.db):
        import psycopg

        db = args.db
        admin, name = args.db.rsplit("/", 1)
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
          f"{time.perf_counter() - t:.1f} s; client {args.client}, {args.connections} connections, "
          f"{args.rounds} rounds of {args.seconds:g} s per server, {args.workers} xinyong worker(s), one baseline "
          f"worker; {os.cpu_count()} cores shared by both servers and the client"
          + (f"; niceness {args.nice}" if args.nice else ""), flush=True)

    def loader(port: int, path: str, bodies: list[dict[str, object]], key: str | None, seconds: float) -> Load:
        if args.client == "wrk":
            return wrk_load(port, path, bodies, key, seconds, args.connections, work, nice)
        return python_load(port, path, bodies, key, seconds, args.connections)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    base_port, port = free_port(), free_port()
    base = subprocess.Popen([*nice, sys.executable, "-c", BASELINE_APP, str(base_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = subprocess.Popen([*nice, sys.executable, "-m", "xinyong", "serve", "--db", str(db), "--port", str(port),
                               "--as-of", DEMO_AS_OF.isoformat(), "--audit-interval", str(args.audit_interval),
                               "--workers", str(args.workers), "--no-access-log"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_bodies: list[dict[str, object]] = [{"subject": f"s{i}", "action": "a", "purpose": "p"} for i in range(1000)]
    xy_bodies: list[dict[str, object]] = [{"subject": s, "action": "transport.flight.purchase",
                                           "purpose": "ticket sale"} for s in subjects[:1000]]
    rounds: list[tuple[Load, Load]] = []
    try:
        wait_ready(base_port, "/docs", base)
        wait_ready(port, "/readyz", server)
        loader(base_port, "/v1/decisions", base_bodies, None, 1.0)  # warm-up, not counted
        loader(port, "/v1/decisions", xy_bodies, key, 1.0)
        def measured(proc: subprocess.Popen[bytes], port: int, bodies: list[dict[str, object]], key: str | None
                     ) -> Load:
            before = cpu_seconds(proc.pid)
            out = loader(port, "/v1/decisions", bodies, key, args.seconds)
            out.cpu_us = (cpu_seconds(proc.pid) - before) / max(out.n, 1) * 1e6
            return out

        for i in range(args.rounds):
            b = measured(base, base_port, base_bodies, None)
            x = measured(server, port, xy_bodies, key)
            rounds.append((b, x))
            print(f"round {i + 1} (load {os.getloadavg()[0]:.1f}): bare {b.rps:8,.0f} req/s p50 {b.p50_ms:5.2f} p99 "
                  f"{b.p99_ms:6.2f} ms cpu {b.cpu_us:4.0f} µs/req | xinyong {x.rps:8,.0f} req/s p50 {x.p50_ms:5.2f} "
                  f"p99 {x.p99_ms:6.2f} ms cpu {x.cpu_us:4.0f} µs/req | req/s {x.rps / b.rps:.2f}x, "
                  f"p99 {x.p99_ms / b.p99_ms:.2f}x | errors {b.errors}/{x.errors}", flush=True)
        batch: Load | None = None
        if args.batch:
            manifests = [subjects[i:i + args.batch] for i in range(0, min(len(subjects), 50 * args.batch), args.batch)]
            batch = loader(port, "/v1/decisions:batch", [{"subjects": m, "action": "transport.flight.purchase",
                                                          "purpose": "passenger manifest"} for m in manifests],
                           key, args.seconds)
    finally:
        for proc in (base, server):
            proc.terminate()  # SIGTERM: a clean shutdown, the audit buffer is flushed
        base.wait(timeout=60)
        server.wait(timeout=60)
    with open_store(db, read_only=True) as store:
        logged = store._query(  # type: ignore[attr-defined]
            "SELECT count(*) FROM audit_log WHERE action = 'decide' AND actor LIKE 'relying_party:%'")[0]
    rps = [x.rps / b.rps for b, x in rounds]
    p99 = [x.p99_ms / b.p99_ms for b, x in rounds]
    cpu = [b.cpu_us / x.cpu_us for b, x in rounds if x.cpu_us > 0]
    med = statistics.median
    print(f"\nPOST /v1/decisions / bare endpoint, median of {len(rounds)} rounds (min–max):")
    print(f"  req/s  {ratio_text(med(rps), min(rps), max(rps))}   target >= 0.9x: "
          f"{'met' if med(rps) >= 0.9 else 'NOT met'}")
    print(f"  p99    {ratio_text(med(p99), min(p99), max(p99))}   target <= 1.2x: "
          f"{'met' if med(p99) <= 1.2 else 'NOT met'}")
    if cpu:
        print(f"  server CPU per request, bare / xinyong: {ratio_text(med(cpu), min(cpu), max(cpu))} (bare "
              f"{med([b.cpu_us for b, _ in rounds]):.0f} µs, xinyong {med([x.cpu_us for _, x in rounds]):.0f} µs)")
    print(f"  bare: {med([b.rps for b, _ in rounds]):,.0f} req/s, p99 {med([b.p99_ms for b, _ in rounds]):.2f} ms; "
          f"xinyong: {med([x.rps for _, x in rounds]):,.0f} req/s, p99 {med([x.p99_ms for _, x in rounds]):.2f} ms; "
          f"errors {sum(b.errors + x.errors for b, x in rounds)}")
    if batch is not None:
        print(f"  decisions:batch x{args.batch}: {batch.rps:,.0f} req/s = {batch.rps * args.batch:,.0f} decisions/s, "
              f"p99 {batch.p99_ms:.1f} ms")
    print(f"  audit entries written for the run: {logged[0] if logged else 0:,}")
    xs = f"{med([x.rps for _, x in rounds]):,.0f} req/s, p99 {med([x.p99_ms for _, x in rounds]):.2f} ms"
    bs = f"{med([b.rps for b, _ in rounds]):,.0f} req/s, p99 {med([b.p99_ms for b, _ in rounds]):.2f} ms"
    write_rows(args.json, [
        Row(f"`POST /v1/decisions` req/s, one worker, {args.client} {args.connections} conns", xs, bs, med(rps),
            min(rps), max(rps), ">= 0.9x", med(rps) >= 0.9, "bare FastAPI endpoint, same run",
            {"rounds": float(len(rounds)), "cpu_us_per_request": med([x.cpu_us for _, x in rounds]),
             "bare_cpu_us_per_request": med([b.cpu_us for b, _ in rounds]),
             "cpu_ratio": med(cpu) if cpu else 0.0}),
        Row("`POST /v1/decisions` p99 latency (bare / xinyong)", f"p99 {med([x.p99_ms for _, x in rounds]):.2f} ms",
            f"p99 {med([b.p99_ms for b, _ in rounds]):.2f} ms", 1 / med(p99), 1 / max(p99), 1 / min(p99),
            "p99 <= 1.2x bare (ratio >= 0.83x)", med(p99) <= 1.2, "ratio: bare p99 / xinyong p99"),
    ])


if __name__ == "__main__":
    main()
