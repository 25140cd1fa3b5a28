"""A full disk under a real store: one clear error at every edge, nothing stored changed, and recovery
once space is freed.

The store lives on a small tmpfs mounted for the test (root only; skipped with the reason otherwise), so
the fault is the kernel's ENOSPC, not a simulation. The command line exits 2 naming the storage fault;
the server answers writes 503 with Retry-After, keeps answering reads only while their audit entries
can wait (``--audit-max-lag``), then refuses them too; freed, it writes the backlog and answers again.
PostgreSQL's equivalent that a test can cause for real is a read-only database (a hot standby, or
``default_transaction_read_only``): the same error class, the same exit code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from tests.helpers.server import ROOT, free_port, serve, stop, wait_ready
from tests.web.conftest import AS_OF, DEBTOR, FLIGHT, auth, build_store, debt, make_keys

from xinyong.audit import verify
from xinyong.model.errors import StorageFault
from xinyong.store import open_store

from ..conftest import Stores

NEW = "cn.ric:110105198001010016"
ROW = {"subject": NEW, "type": "court.refuse_perform", "occurred": "2025-11-01", "decided": "2026-01-10",
       "document": "(2026) Jing 0105 Zhi 404"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs: room for a sample store and little else."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True,
                         text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {out.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path) -> Path:
    """Write zeros until the kernel says ENOSPC, in ever smaller pieces, so not a block is left."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def _state(db: Path | str) -> tuple[int, int, str]:
    with open_store(db, read_only=True) as s:
        entries = list(s.audit_entries())
        assert verify(entries).ok
        return s.record_count(), len(entries), entries[-1].hash if entries else ""


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xinyong", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200", **(env or {})})


def _csv(path: Path) -> Path:
    path.write_text(",".join(ROW) + "\n" + ",".join(f'"{v}"' for v in ROW.values()) + "\n", encoding="utf-8")
    return path


def test_a_full_disk_is_exit_2_on_the_cli_and_nothing_changes(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "x.duckdb"
    build_store(tmp_path / "seed.duckdb").close()
    shutil.copy(tmp_path / "seed.duckdb", db)
    before = _state(db)
    filler = _fill(small_disk)
    out = _cli("ingest", str(_csv(tmp_path / "one.csv")), "--source", "court.enforcement", "--db", str(db),
               "--as-of", AS_OF.isoformat())
    assert out.returncode == 2, out.stdout + out.stderr
    assert "storage fault" in out.stderr and os.strerror(errno.ENOSPC) in out.stderr
    assert "Traceback" not in out.stderr
    assert _state(db) == before  # read back on the full disk: nothing stored, the chain whole
    filler.unlink()
    again = _cli("ingest", str(tmp_path / "one.csv"), "--source", "court.enforcement", "--db", str(db),
                 "--as-of", AS_OF.isoformat())
    assert again.returncode == 0, again.stderr
    assert _state(db)[0] == before[0] + 1


def test_a_full_disk_under_the_server_is_503_then_recovers(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "x.duckdb"
    seed = build_store(tmp_path / "seed.duckdb")
    keys = make_keys(seed)
    seed.close()
    shutil.copy(tmp_path / "seed.duckdb", db)
    records_before = _state(db)[0]
    port = free_port()
    proc = serve(db, port, "--as-of", AS_OF.isoformat(), "--audit-interval", "0.05", "--audit-max-lag", "1")
    base = f"http://127.0.0.1:{port}"
    answered_on_full_disk = []
    try:
        wait_ready(proc, base)
        with httpx.Client(base_url=base, timeout=10) as c:
            filler = _fill(small_disk)
            w = c.post("/v1/records", json={"records": [ROW]}, headers=auth(keys["court"]))
            assert w.status_code == 503, w.text
            assert w.headers["retry-after"] and w.headers["content-type"].startswith("application/problem+json")
            assert w.json()["title"] == "storage fault" and os.strerror(errno.ENOSPC) in w.json()["detail"]
            # reads go on only while their audit entries can wait, then stop
            deadline, status = time.monotonic() + 10, 200
            while status == 200 and time.monotonic() < deadline:
                r = c.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT,
                                                  "purpose": f"full-{len(answered_on_full_disk)}"},
                           headers=auth(keys["airline"]))
                status = r.status_code
                if status == 200:
                    answered_on_full_disk.append(r.json())
                time.sleep(0.01)
            assert status == 503 and r.headers["retry-after"], r.text
            filler.unlink()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the backlog is written, reads resume
                r = c.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "after"},
                           headers=auth(keys["airline"]))
                if r.status_code == 200:
                    break
                time.sleep(0.05)
            assert r.status_code == 200, r.text
    finally:
        stop(proc, signal.SIGINT)
    assert proc.returncode in (0, -signal.SIGINT), proc.stderr.read() if proc.stderr else ""
    with open_store(db, read_only=True) as s:
        entries = list(s.audit_entries())
        assert verify(entries).ok
        purposes = {c.entry.purpose for c in entries if c.entry.action == "decide"}
        assert s.record_count() == records_before  # the refused write left nothing
        assert not s.records_of(NEW)
    assert answered_on_full_disk and {f"full-{i}" for i in range(len(answered_on_full_disk))} <= purposes


def test_a_read_only_postgres_is_the_same_fault(stores: Stores, tmp_path: Path) -> None:
    if stores.backend != "postgres":
        pytest.skip("DuckDB's storage faults are the full disk above")
    url = stores.url("ro")
    build_store(url).close()
    before = _state(url)
    read_only = url + ("&" if "?" in url else "?") + "options=" + quote("-cdefault_transaction_read_only=on")
    if "options=" in url:  # one options parameter holding both settings
        read_only = url.replace("options=", "options=" + quote("-cdefault_transaction_read_only=on "), 1)
    with open_store(read_only, migrate=False) as s, pytest.raises(StorageFault, match="read-only"):
        s.add_records([debt(NEW, "(2026) Jing 0105 Zhi 405")], actor="court")
    out = _cli("ingest", str(_csv(tmp_path / "one.csv")), "--source", "court.enforcement", "--db", read_only,
               "--as-of", AS_OF.isoformat())
    assert out.returncode == 2 and "storage fault" in out.stderr and "read-only" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert _state(url) == before
