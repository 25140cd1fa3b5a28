"""The DuckDB store on real files: migrations, catalogue, policies, records, runs, transactions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xinyong.audit import verify
from xinyong.model.errors import InvalidInput, NotFound
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.loader import load_catalogue
from xinyong.store import DuckDBStore, Store, StoreError
from xinyong.store.migrate import migrations

ROOT = Path(__file__).resolve().parents[2]
ORG = "cn.uscc:91110000600037341L"
PERSON = "cn.ric:360426199101010071"


def _rec(subject: str = ORG, document: str = "D-1", amount: str | None = "12.5") -> Record:
    return Record(subject=subject, source="market.regulation", type="admin.penalty_minor",
                  occurred=date(2024, 1, 2), decided=date(2024, 2, 3), document=document,
                  amount=None if amount is None else Decimal(amount))


def test_open_migrates_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with DuckDBStore.open(path) as store:
        assert isinstance(store, Store)
        assert store.schema_version() == migrations()[-1].version
    with DuckDBStore.open(path) as store:
        rows = store.connection.execute("SELECT count(*) FROM schema_migrations").fetchone()
        assert rows == (len(migrations()),)
    with DuckDBStore.open(path, read_only=True) as ro:
        assert ro.record_count() == 0
    with pytest.raises(StoreError):
        DuckDBStore.open(tmp_path / "missing.duckdb", read_only=True)


def test_catalogue_and_policy_versions(tmp_path: Path) -> None:
    cat, _ = load_catalogue(ROOT / "policies" / "catalogue.yaml")
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        store.put_catalogue(cat)
        store.put_catalogue(cat)  # idempotent: no second audit entry
        assert store.connection.execute("SELECT count(*) FROM record_types").fetchone() == (
            len(cat.record_types),)
        assert [e.entry.action for e in store.audit_entries()] == ["catalogue"]
        assert store.publish_policy("shixin", "1", "p: 1\n", "c: 1\n")
        assert not store.publish_policy("shixin", "1", "p: 1\n", "c: 1\n")
        with pytest.raises(InvalidInput):
            store.publish_policy("shixin", "1", "p: 2\n", "c: 1\n")
        assert [(v.policy, v.version) for v in store.policy_versions("shixin")] == [("shixin", "1")]
        assert verify(store.audit_entries()).ok


def test_records_are_content_addressed_and_read_back(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        a, b = _rec(), _rec(document="D-2", amount=None)
        added = store.add_records([a, b, a])
        assert added.new == [a.id, b.id] and added.existing == [a.id]
        again = store.add_records([a])
        assert again.new == [] and again.existing == [a.id]
        assert store.records_of(ORG) == [a, b]
        assert {r.id for r in store.records_of(ORG)} == {a.id, b.id}
        assert store.subject_count() == 1 and store.subjects()[0].kind == "organisation"
        am = Amendment(record=a.id, kind=AmendmentKind.REPAIR, effective=date(2024, 6, 1),
                       reason="paid", document="R-1")
        assert store.add_amendments([am]).new == [am.id]
        assert store.amendments_of(ORG) == [am]
        assert store.amendments_of(PERSON) == []
        with pytest.raises(NotFound):
            store.add_amendments([am.model_copy(update={"record": "0" * 32})])
        assert verify(store.audit_entries()).ok


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.add_records([_rec()])
            raise RuntimeError("crash")
        assert store.record_count() == 0 and list(store.audit_entries()) == []


def test_run_readers(tmp_path: Path) -> None:
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        con = store.connection
        with store.transaction():  # what the SQL engine does
            for run, as_of, created in [("r1", "2025-01-01", "2025-01-01 10:00"),
                                        ("r2", "2025-02-01", "2025-02-01 10:00")]:
                con.execute("INSERT INTO assessment_runs VALUES (?, 'shixin', '1', ?, ?, 2, 3, 0.1)",
                            [run, as_of, created])
            con.execute("INSERT INTO assessments VALUES ('r2', ?, 900, 'B'), ('r2', ?, 1000, 'A')",
                        [ORG, PERSON])
            con.execute("INSERT INTO listings VALUES ('r2', ?, 'dishonest', 'black', '2025-01-10', "
                        "'2027-01-10'), ('r2', ?, 'dishonest', 'black', '2023-01-01', '2025-01-01')",
                        [ORG, PERSON])
        latest = store.latest_run("shixin")
        assert latest is not None and latest.run == "r2"
        by_date = store.latest_run("shixin", date(2025, 1, 1))
        assert by_date is not None and by_date.run == "r1"
        assert store.latest_run("other") is None
        assert [x.subject for x in store.listings_in_force("dishonest", "r2")] == [ORG]
        got = store.assessment_of(ORG, "r2")
        assert got is not None and got.score == 900 and got.listings[0].list_id == "dishonest"
        assert store.assessment_of("cn.uscc:nobody", "r2") is None
        assert [r.run for r in store.runs("shixin")] == ["r1", "r2"]


def test_writes_are_in_the_access_log_of_the_subject_written_about(tmp_path: Path) -> None:
    """Each subject sees which source wrote about it (one audit entry per subject, not per batch)."""
    store = DuckDBStore.open(tmp_path / "log.duckdb")
    a, b = _rec(document="(2026) 1"), _rec(PERSON, document="(2026) 2")
    store.add_records([a, b, a], actor="court")
    store.add_amendments([Amendment(record=a.id, kind=AmendmentKind.ANNUL, effective=date(2026, 3, 1),
                                    reason="error", document="ruling")], actor="court")
    entries = [c.entry for c in store.audit_entries()]
    writes = {(e.action, e.subject) for e in entries if e.action.startswith("add_")}
    assert writes == {("add_records", ORG), ("add_records", PERSON), ("add_amendments", ORG)}
    assert [e.detail["ids"] for e in entries if e.subject == PERSON] == [[b.id]]
    assert verify(store.audit_entries()).ok
