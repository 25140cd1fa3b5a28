"""`xinyong demo` ends by serving: its printed airline key gets a deny with the legal basis for the listed
debtor and an allow for a clean subject, as the issue's "done when" says; Ctrl-C flushes the audit log."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.helpers.server import free_port, wait_ready
from tests.web.conftest import ROOT

from xinyong.audit import verify
from xinyong.store import open_store


def test_the_demo_serves_with_ready_keys_and_curl_lines(tmp_path: Path) -> None:
    db, port = tmp_path / "demo.duckdb", free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xinyong", "demo", "--db", str(db), "--subjects", "2000", "--port", str(port),
         "--policies", str(ROOT / "policies")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while sum("/v1/decisions" in ln for ln in lines) < 2:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(lines[-20:])
            lines.append(line)
        key = re.findall(r"xy_\S+", next(ln for ln in lines if ln.startswith("airline")))[0]
        asks = [json.loads(re.findall(r"-d '(\{.*\})'", ln)[0]) for ln in lines if "/v1/decisions" in ln]
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base, timeout=max(1.0, deadline - time.monotonic()))
        answers = [httpx.post(f"{base}/v1/decisions", json=a, headers={"Authorization": f"Bearer {key}"},
                              timeout=5).json() for a in asks]
        assert answers[0]["effect"] == "deny" and answers[0]["legal_basis"]
        assert answers[1]["effect"] == "allow"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    with open_store(db, read_only=True) as store:
        entries = list(store.audit_entries())
    assert verify(entries).ok
    assert sum(c.entry.action == "decide" and c.entry.actor.startswith("relying_party:") for c in entries) == 2
