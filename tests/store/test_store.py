"""The store on every backend (DuckDB files, PostgreSQL schemas): migrations, catalogue, policies,
records, runs, transactions, append-only, the audit chain under concurrent writers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xinyong.audit import verify
from xinyong.model.errors import InvalidInput, NotFound, StoreError
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.loader import load_catalogue
from xinyong.store import Store, open_store
from xinyong.store.migrate import migrations

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
ORG = "cn.uscc:91110000600037341L"
PERSON = "cn.ric:360426199101010071"


def _rec(subject: str = ORG, document: str = "D-1", amount: str | None = "12.5") -> Record:
    return Record(subject=subject, source="market.regulation", type="admin.penalty_minor",
                  occurred=date(2024, 1, 2), decided=date(2024, 2, 3), document=document,
                  amount=None if amount is None else Decimal(amount))


def test_open_migrates_once_and_reopens(stores: Stores, tmp_path: Path) -> None:
    with stores.open() as store:
        assert isinstance(store, Store)
        assert store.schema_version() == migrations(store.dialect)[-1].version
    with stores.open() as store:
        assert store._scalar("SELECT count(*) FROM schema_migrations") == len(migrations(store.dialect))
    with stores.open(read_only=True) as ro:
        assert ro.record_count() == 0
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "typo.duckdb", create=False)
    assert not (tmp_path / "typo.duckdb").exists()


def test_catalogue_and_policy_versions(stores: Stores) -> None:
    cat, _ = load_catalogue(ROOT / "policies" / "catalogue.yaml")
    with stores.open() as store:
        store.put_catalogue(cat)
        store.put_catalogue(cat)  # idempotent: no second audit entry
        assert store._scalar("SELECT count(*) FROM record_types") == len(cat.record_types)
        assert [e.entry.action for e in store.audit_entries()] == ["catalogue"]
        assert store.publish_policy("shixin", "1", "p: 1\n", "c: 1\n")
        assert not store.publish_policy("shixin", "1", "p: 1\n", "c: 1\n")
        with pytest.raises(InvalidInput):
            store.publish_policy("shixin", "1", "p: 2\n", "c: 1\n")
        assert [(v.policy, v.version) for v in store.policy_versions("shixin")] == [("shixin", "1")]
        assert verify(store.audit_entries()).ok


def test_records_are_content_addressed_and_read_back(stores: Stores) -> None:
    with stores.open() as store:
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


def test_transaction_rolls_back_everything(stores: Stores) -> None:
    with stores.open() as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.add_records([_rec()])
            raise RuntimeError("crash")
        assert store.record_count() == 0 and list(store.audit_entries()) == []


def test_run_readers(stores: Stores) -> None:
    with stores.open() as store:
        with store.transaction():  # what the SQL engine does
            for run, as_of, created in [("r1", "2025-01-01", "2025-01-01 10:00"),
                                        ("r2", "2025-02-01", "2025-02-01 10:00")]:
                store._run("INSERT INTO assessment_runs (run, policy, version, as_of, created_at, subjects, records, "
                           "seconds) VALUES (?, 'shixin', '1', CAST(? AS DATE), "
                           "CAST(? AS TIMESTAMP), 2, 3, 0.1)", [run, as_of, created])
            store._run("INSERT INTO assessments VALUES ('r2', ?, 900, 'B'), ('r2', ?, 1000, 'A')",
                       [ORG, PERSON])
            store._run("INSERT INTO listings VALUES ('r2', ?, 'dishonest', 'black', DATE '2025-01-10', "
                       "DATE '2027-01-10'), ('r2', ?, 'dishonest', 'black', DATE '2023-01-01', DATE '2025-01-01')",
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


def test_writes_are_in_the_access_log_of_the_subject_written_about(stores: Stores) -> None:
    """Each subject sees which source wrote about it (one audit entry per subject, not per batch)."""
    store = stores.open()
    a, b = _rec(document="(2026) 1"), _rec(PERSON, document="(2026) 2")
    store.add_records([a, b, a], actor="court")
    store.add_amendments([Amendment(record=a.id, kind=AmendmentKind.ANNUL, effective=date(2026, 3, 1),
                                    reason="error", document="ruling")], actor="court")
    entries = [c.entry for c in store.audit_entries()]
    writes = {(e.action, e.subject) for e in entries if e.action.startswith("add_")}
    assert writes == {("add_records", ORG), ("add_records", PERSON), ("add_amendments", ORG)}
    assert [e.detail["ids"] for e in entries if e.subject == PERSON] == [[b.id]]
    assert verify(store.audit_entries()).ok
    assert [(s, t, ls) for s, t, ls in store.run_states("none")] == []
    store.close()


def test_append_only_is_enforced_by_the_database(stores: Stores) -> None:
    """PostgreSQL refuses UPDATE/DELETE/TRUNCATE on the append-only tables whoever asks (a trigger);
    the embedded file has one writer, the platform, which has no such call."""
    if stores.backend != "postgres":
        pytest.skip("enforced by triggers on PostgreSQL only")
    with stores.open() as store:
        store.add_records([_rec()], actor="court")
        for sql in ("UPDATE records SET amount = 0", "DELETE FROM audit_log", "TRUNCATE amendments"):
            with pytest.raises(Exception, match="append-only"):
                store._run(sql)
        assert store.record_count() == 1 and verify(store.audit_entries()).ok


def test_concurrent_writers_keep_one_audit_chain(stores: Stores) -> None:
    """Two processes' worth of writers (threads on separate connections; on PostgreSQL separate pools)
    append at once: the chain stays whole and gap-free."""
    import threading

    if stores.backend != "postgres":
        pytest.skip("one writer per DuckDB file")
    url = stores.url()
    open_store(url).close()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with open_store(url) as s:
                for i in range(15):
                    s.add_records([_rec(document=f"W{worker}-{i}")], actor=f"worker{worker}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_store(url) as s:
        result = verify(s.audit_entries())
        assert result.ok and result.checked == 45 and s.record_count() == 45


def test_unreachable_postgres_is_one_clear_line() -> None:
    with pytest.raises(StoreError) as info:
        open_store("postgresql://nobody@127.0.0.1:1/nodb")
    text = str(info.value)
    assert "127.0.0.1:1/nodb" in text and "\n" not in text and "Traceback" not in text


def test_a_nul_character_is_refused_clearly_and_never_blocks_the_audit_log(stores: Stores) -> None:
    """PostgreSQL text cannot hold U+0000: a value with one is the caller's bad input (InvalidInput), and an
    audit entry carrying one (a purpose typed by a caller) is stored with U+FFFD on every backend, so an
    audit group is never refused."""
    from xinyong.audit import AuditEntry, utc_now
    from xinyong.store import KeyRow

    with stores.open() as store:
        store.append_audit([AuditEntry(0, utc_now(), "relying_party:x", "decide", ORG, "ticket\x00sale",
                                       {"a": "b\x00"})])
        (entry,) = [c.entry for c in store.audit_entries()]
        assert entry.purpose == "ticket\ufffdsale" and entry.detail == {"a": "b\ufffd"}
        assert verify(store.audit_entries()).ok
        if stores.backend == "postgres":
            with pytest.raises(InvalidInput, match="NUL"):
                store.keys.add(KeyRow("k1", "bad\x00name", "reviewer", None, None, (), "h", utc_now(), "test"))
