"""Subject numbers and whole-id dedup keys (migration 011), on every backend: a store migrated with records
in it numbers them all; every writer numbers what it writes; a re-run is recognised by the exact key."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Record
from xinyong.policy.loader import load_catalogue
from xinyong.store.migrate import migrations
from xinyong.store.validation import RecordValidator

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
ORG = "cn.uscc:91110000600037341L"
PERSON = "cn.ric:360426199101010071"


def _rec(subject: str, document: str) -> Record:
    return Record(subject=subject, source="market.regulation", type="admin.penalty_minor",
                  occurred=date(2024, 1, 2), decided=date(2024, 2, 3), document=document, amount=Decimal("1.5"))


def _numbered(store: object) -> tuple[int, int]:
    """(records, records whose number is their subject's)."""
    total = store._scalar("SELECT count(*) FROM records")  # type: ignore[attr-defined]
    same = store._scalar("SELECT count(*) FROM records r JOIN subjects s ON s.id = r.subject "  # type: ignore[attr-defined]
                         "WHERE r.sid = s.sid")
    return total, same


def test_migration_numbers_the_records_already_stored(stores: Stores) -> None:
    with stores.open(migrate=None) as store:
        store._run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "applied_at TIMESTAMP NOT NULL)")
        for m in migrations(store.dialect):
            if m.version >= 11:
                break
            with store.transaction():
                for stmt in m.statements():
                    store._run(stmt)
                store._run("INSERT INTO schema_migrations VALUES (?, ?)", [m.version, datetime(2025, 1, 1)])
        records = [_rec(ORG, "D-1"), _rec(ORG, "D-2"), _rec(PERSON, "D-3")]
        store._insert("subjects", ("id", "scheme", "kind"), [(ORG, "cn.uscc", "organisation"),
                                                             (PERSON, "cn.ric", "person")])
        store._insert("records", ("id", "subject", "source", "type", "occurred", "decided", "document", "amount",
                                  "batch", "received_at"),
                      [(r.id, r.subject, r.source, r.type, r.occurred, r.decided, r.document, r.amount, "b",
                        datetime(2025, 1, 1)) for r in records])
        store.migrate()
        assert _numbered(store) == (3, 3)
        assert store._scalar("SELECT count(DISTINCT sid) FROM subjects") == 2
        if store.dialect == "duckdb":
            assert store._scalar("SELECT count(*) FROM record_keys k JOIN records r "
                                 "ON k.key = CAST('0x' || r.id AS UHUGEINT)") == 3
        added = store.add_records([*records, _rec(PERSON, "D-4")])
        assert (len(added.new), len(added.existing)) == (1, 3)
        assert _numbered(store) == (4, 4)


def test_every_writer_numbers_its_subjects_and_a_rerun_adds_nothing(stores: Stores) -> None:
    cat, _ = load_catalogue(ROOT / "policies" / "catalogue.yaml")
    rows = [{"subject": s, "type": "admin.penalty_minor", "occurred": "2024-01-02", "decided": "2024-02-03",
             "document": f"D-{i}", "amount": "3"} for i, s in enumerate([ORG, PERSON, ORG, "bad"])]
    with stores.open() as store, RecordValidator(cat, "market.regulation", date(2025, 1, 1),
                                                 default_schemes()) as validator:
        store.put_catalogue(cat)
        store.add_records([_rec(ORG, "D-9")])
        checked = validator.validate(validator.table_from_rows(rows), "rows")
        assert [r.row for r in checked.rejects] == [4]
        first = store.append_checked(checked.checked, source="market.regulation", batch_id="b1", actor="t",
                                     detail={})
        assert (first.accepted, first.duplicates) == (3, 0)
        assert first.new_ids == frozenset(checked.checked.column("id").to_pylist())
        assert first.subjects == {ORG, PERSON}
        again = store.append_checked(checked.checked, source="market.regulation", batch_id="b2", actor="t",
                                     detail={})
        assert (again.accepted, again.duplicates, again.new_ids) == (0, 3, frozenset())
        assert _numbered(store) == (4, 4)
        assert store._scalar("SELECT count(DISTINCT sid) FROM subjects") == 2
