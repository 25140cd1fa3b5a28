"""The lake end to end on every backend: export → DuckDB over the lake → import-snapshot equals the
store's own run; re-exporting an unchanged register writes nothing; a changed or foreign snapshot is
refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from xinyong.cli.app import app
from xinyong.model.errors import InvalidInput
from xinyong.model.record import Amendment, AmendmentKind
from xinyong.service.demo import build_demo
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 6, 30)
runner = CliRunner()


def cli(*args: str) -> Any:
    res = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _rows(store: Any, run: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    a = set(store._query("SELECT subject, score, tier FROM assessments WHERE run = ?", [run]))
    ls = set(store._query("SELECT subject, list, kind, since, until FROM listings WHERE run = ?", [run]))
    return a, ls


def _register(stores: Stores, tmp_path: Path, name: str = "store", subjects: int = 300) -> str:
    url = stores.url(name)
    build_demo(url if stores.backend == "postgres" else Path(url), ROOT / "policies", subjects=subjects, seed=11,
               as_of=AS_OF, data_dir=tmp_path / f"{name}-data")
    return url


def _amend(url: str, stores: Stores) -> None:
    """Amendments effective by the date (an annulment, a correction), so the lake's join is exercised."""
    with stores.open(create=False) as store:
        subject = next(s for s in (r.id for r in store.subjects(limit=300)) if store.records_of(s))
        rec = store.records_of(subject)[0]
        store.add_amendments([
            Amendment(record=rec.id, kind=AmendmentKind.ANNUL, effective=date(2026, 1, 5), reason="set aside",
                      document="annul-1"),
        ])


def test_lake_round_trip_equals_the_store_run(stores: Stores, tmp_path: Path) -> None:
    url = _register(stores, tmp_path)
    _amend(url, stores)
    lake = tmp_path / "lake"
    exported = cli("export", "--parquet", str(lake), "--db", url)
    assert [e["table"] for e in exported] == ["records", "amendments", "subjects"]
    assert all(e["written"] for e in exported) and exported[1]["rows"] == 1
    # sorted by subject inside every bucket file, one file per bucket
    table = pq.read_table(next((lake / "records").glob("bucket=*/part-0.parquet")))
    keys = list(zip(table.column("subject").to_pylist(), table.column("id").to_pylist(), strict=True))
    assert keys == sorted(keys)

    with stores.open(create=False) as store:
        own = {s.policy: s.run for s in Registry(store, actor="test").evaluate(AS_OF)}
        audit_before = sum(1 for _ in store.audit_entries(0))
    snaps = cli("evaluate", "--engine", "duckdb", "--lake", str(lake), "--db", url, "--as-of", AS_OF.isoformat())
    assert {s["policy"] for s in snaps} == set(own)
    imported = cli("import-snapshot", str(lake / "snapshots"), "--db", url)
    assert all(i["imported"] for i in imported)

    manifest = json.loads((lake / "records" / "_manifest.json").read_text())
    with stores.open(create=False) as store:
        for s in snaps:
            assert _rows(store, s["run"]) == _rows(store, own[s["policy"]]), s["policy"]
            latest = store.latest_run(s["policy"], AS_OF)
            assert latest is not None and latest.run == s["run"]  # decisions and lists read it now
            assert store.run_audit_seq(s["run"]) == min(
                json.loads((lake / t / "_manifest.json").read_text())["source_audit_seq"]
                for t in ("records", "amendments", "subjects"))
        entry = next(e for e in store.audit_entries(manifest["audit"]["seq"] - 1))
        assert entry.entry.action == "export" and entry.hash == manifest["audit"]["hash"]
        audit_after_import = sum(1 for _ in store.audit_entries(0))
    assert audit_after_import == audit_before + len(snaps)

    again = cli("export", "--parquet", str(lake), "--db", url)
    assert not any(e["written"] for e in again)  # nothing changed: nothing written, nothing audited
    assert json.loads((lake / "records" / "_manifest.json").read_text()) == manifest
    assert not any(i["imported"] for i in cli("import-snapshot", str(lake / "snapshots"), "--db", url))


def test_changed_or_foreign_snapshots_are_refused(stores: Stores, tmp_path: Path) -> None:
    url = _register(stores, tmp_path, subjects=120)
    lake = tmp_path / "lake"
    cli("export", "--parquet", str(lake), "--db", url)
    (snap,) = [s for s in cli("evaluate", "--lake", str(lake), "--db", url, "--as-of", AS_OF.isoformat())
               if s["policy"] == "shixin"]
    other = _register(stores, tmp_path, "other", subjects=120)
    with stores.open("other", create=False) as store, pytest.raises(InvalidInput, match="another register"):
        store.import_snapshot(Path(snap["snapshot"]))
    part = next((Path(snap["snapshot"]) / "assessments").glob("*.parquet"))
    part.write_bytes(part.read_bytes() + b"x")
    with stores.open(create=False) as store, pytest.raises(InvalidInput, match="changed since"):
        store.import_snapshot(Path(snap["snapshot"]))
    assert other


def test_a_new_record_changes_the_lake(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    build_demo(db, ROOT / "policies", subjects=60, seed=3, as_of=AS_OF, data_dir=tmp_path / "data")
    lake = tmp_path / "lake"
    first = cli("export", "records", "--parquet", str(lake), "--db", str(db), "--buckets", "4")
    from xinyong.store import open_store

    with open_store(db) as store:
        rec = store.records_of(store.subjects(limit=1)[0].id)[0]
        store.add_records([rec.model_copy(update={"document": "new-judgment"})])
    second = cli("export", "records", "--parquet", str(lake), "--db", str(db), "--buckets", "4")
    assert second[0]["written"] and second[0]["rows"] == first[0]["rows"] + 1
    assert second[0]["content_hash"] != first[0]["content_hash"]
    assert len(list((lake / "records").glob("bucket=*"))) <= 4
    assert not [p for p in lake.iterdir() if p.name.startswith(".")]  # no staging left behind
