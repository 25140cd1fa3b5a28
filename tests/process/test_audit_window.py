"""Honest durability of the read audit: a real server, SIGKILLed under load, loses only read entries
younger than its configured window; and when the audit log cannot be written, reads are refused rather
than answered unrecorded.

Decisions are reads: the server answers them before their audit entries reach the store (the entries are
appended in groups every ``--audit-interval``). The promise to a subject is that whoever asked about them
is in their access log; a crash may only cost the last moments, and a stalled log may cost nothing more
than ``--audit-max-lag`` seconds of answers. The client below stamps each answer with the time it was
received (after the server made the entry), so an entry's true age at the kill is at least the one measured.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.helpers.server import ROOT, free_port, serve, stop, wait_ready
from tests.web.conftest import AS_OF, CLEAN, DEBTOR, FLIGHT, auth, build_store, make_keys

from xinyong.audit import verify
from xinyong.store import open_store

from ..conftest import Stores

INTERVAL = 0.05      # --audit-interval: one group commit every 50 ms
MAX_LAG = 1.0        # --audit-max-lag: reads refused once the oldest waiting entry is this old
#: What a kill may cost: entries of the group being gathered (one interval), of the group being written
#: (its commit), and the flusher's wake-up delay on a busy machine. The measured worst case is in the
#: README ("Durability window"); this bound is what the test holds the server to.
WINDOW = 4 * INTERVAL + 0.2
CLIENTS = 4
LOAD_SECONDS = 2.0


class Load:
    """Client threads asking for decisions; each answer is kept with the time it was acknowledged."""

    def __init__(self, base: str, key: str, tag: str) -> None:
        self.base, self.key, self.tag = base, key, tag
        self.acked: dict[str, float] = {}      # purpose -> monotonic time the answer was received
        self.refused: list[httpx.Response] = []  # 503s
        self.other: list[int] = []
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(CLIENTS)]

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.base, timeout=10, headers=auth(self.key)) as c:
            i = 0
            while not self._stop.is_set():
                purpose = f"{self.tag}-{n}-{i}"
                i += 1
                try:
                    r = c.post("/v1/decisions", json={"subject": DEBTOR if i % 2 else CLEAN, "action": FLIGHT,
                                                      "purpose": purpose})
                except httpx.HTTPError:
                    return  # the server is gone
                at = time.monotonic()
                with self._mutex:
                    if r.status_code == 200:
                        self.acked[purpose] = at
                    elif r.status_code == 503:
                        self.refused.append(r)
                    else:
                        self.other.append(r.status_code)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=15)

    def count(self) -> int:
        with self._mutex:
            return len(self.acked)

    def wait_for(self, what: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what():
                return True
            time.sleep(0.01)
        return False


def _audited_purposes(url: str) -> set[str]:
    with open_store(url) as s:
        entries = list(s.audit_entries())
        assert verify(entries).ok
        return {c.entry.purpose for c in entries if c.entry.action == "decide" and c.entry.purpose}


def _start(url: str) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    store = build_store(url)
    keys = make_keys(store)
    store.close()
    port = free_port()
    proc = serve(url, port, "--as-of", AS_OF.isoformat(), "--audit-interval", str(INTERVAL),
                 "--audit-max-lag", str(MAX_LAG))
    base = f"http://127.0.0.1:{port}"
    wait_ready(proc, base)
    return proc, base, keys


def test_a_kill_under_load_loses_no_decision_older_than_the_window(stores: Stores) -> None:
    url = stores.url("served")
    proc, base, keys = _start(url)
    try:
        with Load(base, keys["airline"], "k") as load:
            assert load.wait_for(lambda: load.count() >= 50, 20), "no load reached the server"
            time.sleep(LOAD_SECONDS)
            killed_at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
    finally:
        stop(proc, signal.SIGKILL)
    assert not load.other and not load.refused
    audited = _audited_purposes(url)
    lost = {p: killed_at - at for p, at in load.acked.items() if p not in audited}
    worst = max(lost.values(), default=0.0)
    print(f"\n[{stores.backend}] acknowledged {len(load.acked)} decisions in ~{LOAD_SECONDS:.0f} s; "
          f"lost at the kill {len(lost)}, the oldest acknowledged {worst * 1000:.0f} ms before it")
    assert len(load.acked) >= 200
    assert worst <= WINDOW, f"{len(lost)} decisions lost, the oldest answered {worst:.3f} s before the kill"
    # nothing audited that was not answered (a refused or unanswered request may be audited: it was asked)
    assert len(audited) >= len(load.acked) - len(lost)


def test_a_blocked_audit_log_stops_decisions_instead_of_losing_them(stores: Stores) -> None:
    """PostgreSQL: another session holds the lock every audit append takes (as a long CLI ingest
    would); the flusher waits on it, entries pile up, and after ``--audit-max-lag`` the server
    answers 503 with Retry-After. Released, the backlog is written and answers resume; a kill after that
    loses nothing answered while the log was blocked."""
    if stores.backend != "postgres":
        pytest.skip("a DuckDB file has one process: its stall is the full disk of tests/process/"
                    "test_storage_faults.py")
    import psycopg

    url = stores.url("served")
    proc, base, keys = _start(url)
    holder = psycopg.connect(url, autocommit=False)
    try:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))")
        blocked_at = time.monotonic()
        with Load(base, keys["airline"], "b") as load:
            assert load.wait_for(lambda: bool(load.refused), MAX_LAG + 10), "decisions never refused"
            first_refusal = time.monotonic() - blocked_at
            answered_while_blocked = load.count()
            holder.rollback()  # the "ingest" ends: the flusher gets the lock
            released_at = time.monotonic()
            n = load.count()
            assert load.wait_for(lambda: load.count() > n + 50, 20), "answers did not resume"
            time.sleep(4 * INTERVAL + 0.2)
            proc.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
    finally:
        holder.close()
        stop(proc, signal.SIGKILL)
    refusal = load.refused[0]
    assert refusal.headers.get("retry-after") and refusal.headers["content-type"].startswith(
        "application/problem+json") and "audit" in refusal.json()["detail"]
    audited = _audited_purposes(url)
    lost = {p: at for p, at in load.acked.items() if p not in audited}
    print(f"\n[{stores.backend}] blocked: {answered_while_blocked} answered, first 503 after "
          f"{first_refusal:.2f} s (max lag {MAX_LAG} s); {len(load.refused)} refused; released "
          f"{released_at - blocked_at:.2f} s after the block; lost at the kill {len(lost)}")
    assert first_refusal <= MAX_LAG + 1.0
    assert all(at > released_at and killed_at - at <= WINDOW for at in lost.values())
    assert not load.other


def test_the_window_is_what_serve_is_told(tmp_path: Path) -> None:
    """The settings are checked at the edge: a lag no longer than the interval would refuse every read."""
    db = tmp_path / "x.duckdb"
    build_store(db).close()
    out = subprocess.run([sys.executable, "-m", "xinyong", "serve", "--db", str(db),
                          "--audit-interval", "1", "--audit-max-lag", "0.5"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "--audit-max-lag" in out.stderr
