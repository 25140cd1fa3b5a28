"""Group commit of audit entries, and the service as a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from tests.helpers.server import free_port, serve, wait_ready
from tests.web.conftest import AS_OF, CLEAN, DEBTOR, FLIGHT, World, auth, build_store, make_keys

from xinyong.audit import verify
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.store import FullStore, open_store
from xinyong.web import create_app


def _decide_count(store: FullStore) -> int:
    return sum(1 for c in store.audit_entries() if c.entry.action == "decide")


def test_audit_entries_are_grouped_and_a_clean_shutdown_flushes_all(world: World) -> None:
    # a long delay and a large group: nothing reaches the store until shutdown
    online = Online(world.store, as_of=AS_OF, audit=AuditBuffer(world.store, max_delay=3600, max_entries=10**6))
    n = 250
    with TestClient(create_app(online)) as client:
        for i in range(n):
            subject = DEBTOR if i % 2 else CLEAN
            r = client.post("/v1/decisions", json={"subject": subject, "action": FLIGHT, "purpose": f"p{i}"},
                            headers=auth(world.keys["airline"]))
            assert r.status_code == 200
        assert online.audit.pending == n and _decide_count(world.store) == 0
    # the app stopped: every entry is stored, in one group, and the chain verifies
    assert online.audit.pending == 0 and online.audit.groups == 1
    assert _decide_count(world.store) == n
    assert verify(world.store.audit_entries()).ok


def test_the_flusher_appends_within_its_interval(world: World) -> None:
    buffer = AuditBuffer(world.store, max_delay=0.05)
    online = Online(world.store, as_of=AS_OF, audit=buffer)
    with TestClient(create_app(online)) as client:
        client.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "x"},
                    headers=auth(world.keys["airline"]))
        deadline = time.monotonic() + 10  # generous: a loaded CI machine; the loop ends at the flush
        while buffer.flushed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert buffer.pending == 0 and buffer.flushed >= 1
        with world.store.lock:
            assert _decide_count(world.store) == 1
    assert verify(world.store.audit_entries()).ok


def test_a_real_uvicorn_process_serves_and_flushes_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "served.duckdb"
    store = build_store(db)
    keys = make_keys(store)
    store.close()
    port = free_port()
    proc = serve(db, port, "--as-of", AS_OF.isoformat(), stdout=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base, timeout=60)
        with httpx.Client(base_url=base, timeout=5) as c:
            deny = c.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "ticket sale"},
                          headers=auth(keys["airline"]))
            assert deny.status_code == 200 and deny.json()["effect"] == "deny"
            assert c.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "x"}
                          ).status_code == 401
            assert json.loads(c.get("/openapi.json").text)["info"]["title"] == "xinyong"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its clean shutdown
    with open_store(db, read_only=True) as store:
        entries = list(store.audit_entries())
        assert verify(entries).ok
        assert any(c.entry.action == "decide" and c.entry.subject == DEBTOR for c in entries)
