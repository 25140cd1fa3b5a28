"""Bulk ingest on real DuckDB files: every rejection reason, formats, idempotence, crash safety."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.cn import uscc
from tests.helpers.server import ingest_child

from xinyong.audit import verify
from xinyong.model.catalogue import Catalogue
from xinyong.model.identifiers import default_schemes, org_code_check_char
from xinyong.model.record import Record
from xinyong.policy.loader import load_catalogue
from xinyong.service.ingest import ingest_files
from xinyong.store.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parents[2]
MIXED = ROOT / "tests" / "fixtures" / "ingest" / "mixed.csv"
AS_OF = date(2025, 1, 1)
ORG = "cn.uscc:91110000600037341L"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]


def _ingest(store: DuckDBStore, paths: list[Path], cat: Catalogue, **kw: object):  # type: ignore[no-untyped-def]
    return ingest_files(store, paths, "tax.bureau", cat, default_schemes(), AS_OF, **kw)  # type: ignore[arg-type]


def test_each_rejection_reason_names_file_row_and_field(tmp_path: Path, catalogue: Catalogue) -> None:
    src = tmp_path / "mixed.csv"
    src.write_bytes(MIXED.read_bytes())
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        s = _ingest(store, [src], catalogue, batch_rows=4)  # several mixed good/bad batches
        got = {(r.row, r.field) for r in s.rejects}
        assert got == {(3, "subject"), (4, "subject"), (5, "type"), (6, "type"), (7, "occurred"),
                       (8, "decided"), (9, "decided"), (10, "document"), (11, "amount"), (12, "amount"),
                       (13, "source")}
        reasons = {r.row: r.reason for r in s.rejects}
        assert "checksum" in reasons[3].lower() or "not a valid" in reasons[3]
        assert "organisation" in reasons[4] and "person" in reasons[4]
        assert "not in the catalogue" in reasons[5] and "may not submit" in reasons[6]
        assert "before occurred" in reasons[8] and "as-of" in reasons[9] and "negative" in reasons[11]
        assert all(r.file == str(src) for r in s.rejects)
        assert (s.rows_read, s.accepted, s.duplicates, s.rejected) == (15, 3, 1, 11)
        # the rejects file and the summary next to the input
        with open(f"{src}.rejects.csv", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert {(int(r["row"]), r["field"]) for r in rows} == got
        summary = json.loads(Path(f"{src}.summary.json").read_text(encoding="utf-8"))
        assert summary["accepted"] == 3 and summary["rejected"] == 11
        # bare, prefixed and dashed forms are one subject
        assert store.subject_count() == 1
        assert len(store.records_of(ORG)) == 3
        assert verify(store.audit_entries()).ok
        assert store.connection.execute("SELECT count(*) FROM audit_log WHERE action = 'ingest'"
                                        ).fetchone() == (4,)


def test_record_ids_computed_in_sql_equal_record_id(tmp_path: Path, catalogue: Catalogue) -> None:
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        _ingest(store, [MIXED], catalogue, write_reports=False)
        rows = store.connection.execute("SELECT id, subject, source, type, occurred, decided, document, "
                                        "amount FROM records").fetchall()
        assert rows
        for rid, subject, source, type_, occ, dec, doc, amount in rows:
            rec = Record(subject=subject, source=source, type=type_, occurred=occ, decided=dec,
                         document=doc, amount=None if amount is None else Decimal(str(amount)))
            assert rec.id == rid
        api = store.add_records([Record(subject=ORG, source="tax.bureau", type="tax.arrears",
                                        occurred=date(2024, 1, 2), decided=date(2024, 2, 3),
                                        document="T-1", amount=Decimal("100.5"))])
        assert api.new == []  # the API path sees the ingested record as the same record


def test_rerun_adds_nothing(tmp_path: Path, catalogue: Catalogue) -> None:
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        first = _ingest(store, [MIXED], catalogue, write_reports=False, batch_rows=5)
        second = _ingest(store, [MIXED], catalogue, write_reports=False, batch_rows=3)
        assert first.accepted == 3 and second.accepted == 0 and second.duplicates == 4
        assert store.record_count() == 3
        assert store.connection.execute("SELECT count(*) FROM record_keys").fetchone() == (3,)


def _rows() -> list[dict[str, object]]:
    with MIXED.open(encoding="utf-8") as fh:
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(fh)]


def test_json_lines_and_parquet(tmp_path: Path, catalogue: Catalogue) -> None:
    jl = tmp_path / "mixed.jsonl"
    jl.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    good = [r for r in _rows() if r["document"] in ("T-1", "T-2", "T-15")]
    pqf = tmp_path / "good.parquet"
    pq.write_table(pa.table({
        "subject": [r["subject"] for r in good], "type": [r["type"] for r in good],
        "occurred": pa.array([date.fromisoformat(str(r["occurred"])) for r in good]),
        "decided": pa.array([date.fromisoformat(str(r["decided"])) for r in good]),
        "document": [r["document"] for r in good],
        "amount": pa.array([None if r["amount"] is None else Decimal(str(r["amount"])) for r in good],
                           pa.decimal128(18, 2)),
    }), pqf)
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        s = _ingest(store, [jl], catalogue)
        assert (s.rows_read, s.accepted, s.rejected) == (15, 3, 11)
        assert {(r.row, r.field) for r in s.rejects} >= {(3, "subject"), (11, "amount")}
        p = _ingest(store, [pqf], catalogue)
        assert (p.rows_read, p.accepted, p.duplicates, p.rejected) == (4, 0, 4, 0)


def test_missing_column_and_unknown_source(tmp_path: Path, catalogue: Catalogue) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,type\nx,y\n", encoding="utf-8")
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        from xinyong.model.errors import InvalidInput, NotFound
        with pytest.raises(InvalidInput, match="occurred"):
            _ingest(store, [bad], catalogue)
        with pytest.raises(NotFound):
            ingest_files(store, [MIXED], "nobody", catalogue, default_schemes(), AS_OF)


def _big_parquet(path: Path, n: int) -> None:
    subjects = []
    for i in range(500):
        body = f"91{i:06d}{i:08d}"
        body += org_code_check_char(body[8:])  # the embedded organisation code's own check character
        subjects.append(body + uscc.calc_check_digit(body))
    pq.write_table(pa.table({
        "subject": [subjects[i % 500] for i in range(n)],
        "type": ["tax.late_filing"] * n,
        "occurred": pa.array([date(2024, 1, 1)] * n),
        "decided": pa.array([date(2024, 1, 2)] * n),
        "document": [f"D-{i}" for i in range(n)],
    }), path, row_group_size=5_000)


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_whole_batches(tmp_path: Path, catalogue: Catalogue) -> None:
    n = 200_000
    data, db = tmp_path / "big.parquet", tmp_path / "x.duckdb"
    _big_parquet(data, n)
    child = subprocess.Popen(ingest_child(db, data, 10_000), stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    seen = 0
    for _line in child.stdout:
        seen += 1
        if seen == 3:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert seen == 3, "the child finished or failed before it could be killed"

    con = duckdb.connect(str(db))
    batches = dict(con.execute("SELECT batch, count(*) FROM records GROUP BY batch").fetchall())
    audited = {json.loads(d)["batch"]: json.loads(d)["new"]
               for (d,) in con.execute("SELECT detail FROM audit_log WHERE action = 'ingest'").fetchall()}
    con.close()
    assert batches and all(audited.get(b) == c for b, c in batches.items())
    assert sum(batches.values()) % 10_000 == 0 and sum(batches.values()) < n

    with DuckDBStore.open(db) as store:
        assert verify(store.audit_entries()).ok
        s = ingest_files(store, [data], "tax.bureau", catalogue, default_schemes(), AS_OF,
                         batch_rows=50_000, write_reports=False)
        assert s.accepted + s.duplicates == n and s.duplicates == sum(batches.values())
        assert store.record_count() == n and store.subject_count() == 500
        assert verify(store.audit_entries()).ok


def test_typed_parquet_checks_like_text(tmp_path: Path, catalogue: Catalogue) -> None:
    """Typed Parquet columns (DATE, DECIMAL) skip the text round trip but are checked the same way."""
    org = ORG.split(":")[1]
    rows = [  # subject, decided, document, amount
        (org.lower(), date(2024, 2, 3), "P-1", Decimal("1.50")),           # lower case: same subject
        ("cn.uscc:" + org, date(2024, 2, 3), "P-2", None),
        ("cn.ric:" + org, date(2024, 2, 3), "P-3", Decimal("1")),          # wrong scheme prefix
        (org, date(2025, 6, 1), "P-4", Decimal("1")),                      # after the as-of date
        (org, date(2024, 2, 3), "P-5\x07", Decimal("1")),                 # control character
        (org, date(2024, 2, 3), "P-6", Decimal("-5")),                     # negative
        (None, date(2024, 2, 3), "P-7", Decimal("1")),                     # missing subject
    ]
    pqf = tmp_path / "typed.parquet"
    pq.write_table(pa.table({
        "subject": [r[0] for r in rows], "type": ["tax.arrears"] * len(rows),
        "occurred": pa.array([date(2024, 1, 2)] * len(rows)), "decided": pa.array([r[1] for r in rows]),
        "document": [r[2] for r in rows], "amount": pa.array([r[3] for r in rows], pa.decimal128(18, 2)),
    }), pqf)
    with DuckDBStore.open(tmp_path / "x.duckdb") as store:
        s = _ingest(store, [pqf], catalogue, write_reports=False)
        assert {(r.row, r.field) for r in s.rejects} == {(3, "subject"), (4, "decided"), (5, "document"),
                                                         (6, "amount"), (7, "subject")}
        reasons = {r.row: r.reason for r in s.rejects}
        assert "negative" in reasons[6] and "control" in reasons[5] and "missing" in reasons[7]
        assert (s.accepted, s.rejected) == (2, 5)
        assert {r.document for r in store.records_of(ORG)} == {"P-1", "P-2"}
        assert store.subject_count() == 1
