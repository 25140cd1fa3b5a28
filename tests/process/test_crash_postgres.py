"""SIGKILL on PostgreSQL: an ingest killed mid-file leaves whole batches; a server worker killed under
writes loses no acknowledged write; the audit chain verifies after both (the DuckDB half of the ingest
case is in tests/service/test_ingest.py)."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import date
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.cn import uscc

from xinyong.audit import verify
from xinyong.model.identifiers import org_code_check_char
from xinyong.store import open_store

from ..conftest import Stores
from ..helpers.server import free_port, ingest_child, serve, stop, wait_ready
from ..web.conftest import AS_OF, ROOT, auth, build_store, make_keys


def _orgs(n: int) -> list[str]:
    out = []
    for i in range(n):
        body = f"91{i:06d}{i:08d}"
        body += org_code_check_char(body[8:])
        out.append(body + uscc.calc_check_digit(body))
    return out


def _parquet(path: Path, n: int) -> None:
    subjects = _orgs(300)
    pq.write_table(pa.table({
        "subject": [subjects[i % 300] for i in range(n)],
        "type": ["tax.late_filing"] * n,
        "occurred": pa.array([date(2024, 1, 1)] * n),
        "decided": pa.array([date(2024, 1, 2)] * n),
        "document": [f"D-{i}" for i in range(n)],
    }), path, row_group_size=5_000)


def test_sigkill_mid_ingest_on_postgres_leaves_whole_batches(stores: Stores, tmp_path: Path) -> None:
    if stores.backend != "postgres":
        pytest.skip("the DuckDB case is tests/service/test_ingest.py")
    n, url, data = 100_000, stores.url(), tmp_path / "big.parquet"
    _parquet(data, n)
    from xinyong.service.registry import Registry

    with open_store(url) as s:
        Registry(s, actor="office").publish([ROOT / "policies"])
    child = subprocess.Popen(ingest_child(url, data, 5_000), stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    seen = 0
    for _line in child.stdout:
        seen += 1
        if seen == 3:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert seen == 3, "the child finished or failed before it could be killed"
    with open_store(url) as s:
        batches = dict(s._query("SELECT batch, count(*) FROM records GROUP BY batch"))
        audited = {json.loads(d)["batch"]: json.loads(d)["new"]
                   for (d,) in s._query("SELECT detail FROM audit_log WHERE action = 'ingest'")}
        assert batches and all(audited.get(b) == c for b, c in batches.items())
        assert sum(batches.values()) % 5_000 == 0 and sum(batches.values()) < n
        assert verify(s.audit_entries()).ok
    rerun = subprocess.run(ingest_child(url, data, 5_000), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with open_store(url) as s:
        assert s.record_count() == n and verify(s.audit_entries()).ok


def test_sigkill_of_a_worker_under_writes_loses_no_acknowledged_write(stores: Stores) -> None:
    if stores.backend != "postgres":
        pytest.skip("the DuckDB server case is tests/web/test_audit_and_server.py")
    url = stores.url("served")
    store = build_store(url)
    keys = make_keys(store)
    store.close()
    port = free_port()
    proc = serve(url, port, "--as-of", AS_OF.isoformat())
    base, acked = f"http://127.0.0.1:{port}", []
    subjects = [f"cn.uscc:{s}" for s in _orgs(40)]
    try:
        wait_ready(proc, base)
        with httpx.Client(base_url=base, timeout=10) as c:
            for i in range(40):
                row = {"subject": subjects[i], "type": "court.refuse_perform", "occurred": "2025-11-01",
                       "decided": "2026-01-10", "document": f"(2026) K {i}"}
                r = c.post("/v1/records", json={"records": [row]}, headers=auth(keys["court"]))
                assert r.status_code in (200, 201), r.text
                acked.append(r.json()["results"][0]["id"])
                c.post("/v1/decisions", json={"subject": subjects[i], "action": "transport.flight.purchase",
                                              "purpose": "t"}, headers=auth(keys["airline"]))
    finally:
        stop(proc, signal.SIGKILL)
    with open_store(url) as s:
        assert set(acked) <= {r[0] for r in s._query("SELECT id FROM records")}
        assert verify(s.audit_entries()).ok
