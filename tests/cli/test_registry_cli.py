"""The registry commands end to end in a subprocess: demo, check, explain, lists, ingest, audit."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    root = Path(__file__).resolve().parents[2]
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    res = subprocess.run([sys.executable, "-m", "xinyong", "demo", "--db", str(db), "--subjects", "3000",
                          "--json", "--no-serve"], cwd=root, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["audit"]["ok"] and out["subjects"] == 3000
    effects = {d["effect"] for d in out["decisions"]}
    assert {"deny", "allow"} <= effects
    return db


def test_check_and_lists_on_the_demo(xinyong: Run, demo_db: Path) -> None:
    res = xinyong("lists", "show", "shixin", "--db", str(demo_db), "--as-of", "2026-07-01", "--json")
    assert res.returncode == 0, res.stderr
    listed = json.loads(res.stdout)
    assert listed and all(x["list"] == "shixin" for x in listed)
    subject = listed[0]["subject"]
    res = xinyong("check", subject, "transport.flight.purchase", "--purpose", "ticket sale",
                  "--db", str(demo_db), "--as-of", "2026-07-01", "--json")
    d = json.loads(res.stdout)
    assert d["effect"] == "deny" and d["legal_basis"] and "score" not in d
    res = xinyong("check", subject, "transport.flight.purchase", "--db", str(demo_db))
    assert res.returncode == 2 and "purpose" in res.stderr
    res = xinyong("explain", subject, "--db", str(demo_db), "--as-of", "2026-07-01", "--json")
    files = json.loads(res.stdout)
    assert any(x["listings"] for x in files) and any(x["contributions"] for x in files)


def test_batch_check_from_a_manifest(xinyong: Run, demo_db: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM subjects ORDER BY id LIMIT 50").fetchall()]
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("\n".join(ids) + "\n")
    res = xinyong("check", "--batch", str(manifest), "transport.flight.purchase", "--purpose",
                  "manifest", "--db", str(demo_db), "--as-of", "2026-07-01", "--json")
    out = json.loads(res.stdout)
    assert [d["subject"] for d in out] == ids and [d["line"] for d in out] == list(range(1, 51))
    assert res.returncode == (1 if any(d["effect"] == "deny" for d in out) else 0), res.stderr


def test_ingest_reports_bad_rows_and_audit_detects_tampering(xinyong: Run, demo_db: Path,
                                                             tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(demo_db.read_bytes())
    csv = tmp_path / "court.csv"
    csv.write_text("subject,type,occurred,decided,document,amount\n"
                   "11010519491231002X,court.refuse_perform,2026-01-01,2026-02-01,(2026) J 9,100\n"
                   "11010519491231002Y,court.refuse_perform,2026-01-01,2026-02-01,(2026) J 10,\n")
    res = xinyong("ingest", str(csv), "--source", "court.enforcement", "--db", str(db),
                  "--as-of", "2026-07-01", "--json")
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    assert summary["rejects"][0]["row"] == 2 and summary["rejects"][0]["field"] == "subject"
    assert xinyong("audit", "verify", "--db", str(db)).returncode == 0
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3")
    res = xinyong("audit", "verify", "--db", str(db), "--json")
    assert res.returncode == 1
    assert json.loads(res.stdout)["first_bad_seq"] == 3
