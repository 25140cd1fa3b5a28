"""Several server processes over one PostgreSQL database; one writer per DuckDB file, said clearly.

Real processes: ``xinyong serve --workers 2`` (uvicorn workers), a record posted through the API, and
decisions from whichever worker answers; a SIGKILL of a worker mid-write leaves the store consistent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from xinyong.audit import verify
from xinyong.model.errors import StoreBusy
from xinyong.store import open_store

from ..conftest import Stores
from ..helpers.server import free_port, serve, wait_ready
from .conftest import AS_OF, FLIGHT, ROOT, auth, build_store, make_keys

OTHER = "cn.ric:110105198001010016"


def _serve(db: str, port: int, *extra: str) -> subprocess.Popen[str]:
    return serve(db, port, "--as-of", AS_OF.isoformat(), *extra, stdout=subprocess.PIPE)


def test_two_workers_on_postgres_see_each_others_writes(stores: Stores) -> None:
    if stores.backend != "postgres":
        pytest.skip("several workers need PostgreSQL")
    url = stores.url("served")
    store = build_store(url)
    keys = make_keys(store)
    store.close()
    port = free_port()
    proc = _serve(url, port, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base)
        row = {"subject": OTHER, "type": "court.refuse_perform", "occurred": "2025-11-01",
               "decided": "2026-01-10", "document": "(2026) Jing 0105 Zhi 77"}
        with httpx.Client(base_url=base, timeout=10) as c:
            r = c.post("/v1/records", json={"records": [row]}, headers=auth(keys["court"]))
            assert r.status_code in (200, 201), r.text
        # every new connection may land on either worker; both must deny within the follow interval
        deadline, answers = time.monotonic() + 10, []
        while time.monotonic() < deadline:
            with httpx.Client(base_url=base, timeout=10) as c:  # a new connection each time
                answers.append(c.post("/v1/decisions", json={"subject": OTHER, "action": FLIGHT, "purpose": "t"},
                                      headers=auth(keys["airline"])).json()["effect"])
            if answers[-8:] == ["deny"] * 8:
                break
            time.sleep(0.05)
        assert answers[-8:] == ["deny"] * 8, answers
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    with open_store(url) as s:
        assert verify(s.audit_entries()).ok


def test_duckdb_refuses_several_workers_and_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "one.duckdb"
    build_store(db).close()
    out = subprocess.run([sys.executable, "-m", "xinyong", "serve", "--db", str(db), "--workers", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 2 and "one worker" in out.stderr and "Traceback" not in out.stderr
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy, match=f"process {holder.pid}|another process"):
            open_store(db)
    finally:
        holder.kill()
        holder.wait()
