"""Real processes for the tests that need one: a `xinyong serve` on a free port, waiting for it to be
ready, and a child that ingests a file (to be killed mid-way).

One copy of each, so that every crash, worker and contract test starts and waits for a server the same
way, and a change to how the server starts is made once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: str | Path, port: int, *extra: str, stdout: int | None = subprocess.DEVNULL,
          cwd: Path = ROOT) -> subprocess.Popen[str]:
    """`xinyong serve` over ``db`` as a child process (no access log unless asked: tests read stderr for
    failures only). ``extra`` are further options, e.g. ``--as-of``."""
    args = [sys.executable, "-m", "xinyong", "serve", "--db", str(db), "--port", str(port), *extra]
    if not any(a.startswith("--access-log") or a == "--no-access-log" for a in extra):
        args.append("--no-access-log")
    return subprocess.Popen(args, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})


def wait_ready(proc: subprocess.Popen[str], base: str, timeout: float = 90.0) -> None:
    """Poll ``/readyz`` until the server answers 200; fail with its stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}):\n"
                                 + (proc.stderr.read() if proc.stderr else ""))
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT, timeout: float = 30.0) -> None:
    """Signal the server and wait for it (SIGINT/SIGTERM: a clean shutdown; SIGKILL: a crash)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(db: str | Path, *extra: str, sig: int = signal.SIGINT) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A ready server over ``db`` and its base URL; stopped with ``sig`` on the way out."""
    port = free_port()
    proc = serve(db, port, *extra)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base)
        yield proc, base
    finally:
        stop(proc, sig)


#: A child process that ingests one file (argv: store URL, data file, catalogue, batch rows) and prints
#: the rows read after each batch, so a test can kill it at a known point.
INGEST_CHILD = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.loader import load_catalogue
    from xinyong.service.ingest import ingest_files
    from xinyong.store import open_store
    cat = load_catalogue(Path(sys.argv[3]))[0]
    store = open_store(sys.argv[1])
    ingest_files(store, [Path(sys.argv[2])], "tax.bureau", cat, default_schemes(), date(2025, 1, 1),
                 batch_rows=int(sys.argv[4]), progress=lambda p: print(p.rows_read, flush=True),
                 write_reports=False)
    print("done", flush=True)
""")


def ingest_child(db: str | Path, data: Path, batch_rows: int) -> list[str]:
    """The argv of :data:`INGEST_CHILD` over ``db`` and ``data`` with the sample catalogue."""
    return [sys.executable, "-c", INGEST_CHILD, str(db), str(data), str(ROOT / "policies" / "catalogue.yaml"),
            str(batch_rows)]
