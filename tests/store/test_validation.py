"""RecordValidator: the checked batch contract, ids equal to Record.id, strict dates, and readers that
turn any bytes into rows plus unreadable parts or one InvalidInput (fuzzed)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput
from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Record
from xinyong.policy.loader import load_catalogue
from xinyong.store.protocol import CHECKED_SCHEMA
from xinyong.store.validation import RecordValidator

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 1, 1)
ORG = "91110000600037341L"
KEY = "cn.uscc:" + ORG
HEADER = "subject,type,occurred,decided,document,amount\n"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]


@pytest.fixture
def validator(catalogue: Catalogue) -> RecordValidator:
    return RecordValidator(catalogue, "tax.bureau", AS_OF, default_schemes())


def _row(doc: str, **kw: str | None) -> dict[str, str | None]:
    return {"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
            "document": doc, "amount": "100.5", **kw}


def _read_all(v: RecordValidator, path: Path, batch_rows: int = 1000) -> tuple[list[pa.Table], list[str]]:
    batches = list(v.read(path, batch_rows))
    return batches, [f"{r.row}:{r.reason}" for r in v.take_unreadable()]


def test_checked_batch_matches_the_schema_and_record_ids(validator: RecordValidator) -> None:
    rows = [_row("T-1"), _row("T-2", subject="cn.uscc:" + ORG.lower(), amount=None), _row("T-1"),
            _row("T-3", occurred="2024-13-01")]
    out = validator.validate(validator.table_from_rows(rows), "request", with_ids=True)
    assert out.checked.schema.equals(CHECKED_SCHEMA)
    assert (out.rows, out.valid, out.rejected_rows) == (4, 3, 1)
    assert sorted(out.checked.column("row").to_pylist()) == [1, 2]  # unique by id, the first row kept
    for r in out.checked.to_pylist():
        assert r["subject"] == KEY and r["scheme"] == "cn.uscc" and r["kind"] == "organisation"
        rec = Record(subject=r["subject"], source="tax.bureau", type=r["type"], occurred=r["occurred"],
                     decided=r["decided"], document=r["document"], amount=r["amount"])
        assert r["id"] == rec.id
    assert out.checked.sort_by("row").column("amount").to_pylist() == [Decimal("100.50"), None]
    assert out.ids is not None and out.ids.column("row").to_pylist() == [1, 2, 3]
    assert [(r.row, r.field) for r in out.rejects] == [(4, "occurred")]


@pytest.mark.parametrize("text", ["2025/02/03", "2025-2-3", "2024-02-03T00:00:00", "20240203", "24-02-03",
                                  "2024-02-30"])
def test_dates_iso_only_with_row_and_column(validator: RecordValidator, text: str) -> None:
    out = validator.validate(validator.table_from_rows([_row("T-1"), _row("T-2", decided=text)]), "f")
    assert [(r.row, r.field) for r in out.rejects] == [(2, "decided")]
    assert "is not a date (YYYY-MM-DD)" in out.rejects[0].reason


def test_typed_parquet_dates_are_fine(validator: RecordValidator, tmp_path: Path) -> None:
    p = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"subject": [ORG], "type": ["tax.arrears"], "occurred": [date(2024, 1, 2)],
                             "decided": [date(2024, 2, 3)], "document": ["T-1"]}), p)
    (batch,), unreadable = _read_all(validator, p)
    out = validator.validate(batch, str(p))
    assert not unreadable and not out.rejects and out.checked.num_rows == 1


def test_timestamp_typed_parquet_dates_are_refused(validator: RecordValidator, tmp_path: Path) -> None:
    from datetime import datetime
    p = tmp_path / "ts.parquet"
    pq.write_table(pa.table({"subject": [ORG], "type": ["tax.arrears"], "occurred": [datetime(2024, 1, 2)],
                             "decided": [date(2024, 2, 3)], "document": ["T-1"]}), p)
    (batch,), _ = _read_all(validator, p)
    assert [(r.row, r.field) for r in validator.validate(batch, str(p)).rejects] == [(1, "occurred")]


def test_typed_dates_out_of_range_are_refused_as_text(validator: RecordValidator, tmp_path: Path) -> None:
    """A corrupt or odd writer may store any day number; years outside 1-9999 are not dates."""
    p = tmp_path / "odd.parquet"
    days = pa.array([19000, 2**31 - 1, 19001], pa.int32()).cast(pa.date32())
    pq.write_table(pa.table({"subject": [ORG] * 3, "type": ["tax.arrears"] * 3, "occurred": days,
                             "decided": days, "document": ["T-1", "T-2", "T-3"]}), p, row_group_size=1)
    batches, unreadable = _read_all(validator, p)
    out = validator.validate(batches[0], str(p))
    assert not unreadable and out.checked.num_rows == 2
    assert {(r.row, r.field) for r in out.rejects} == {(2, "occurred"), (2, "decided")}


def test_an_empty_optional_column_does_not_change_the_id(validator: RecordValidator, tmp_path: Path) -> None:
    plain = tmp_path / "a.csv"
    plain.write_text("subject,type,occurred,decided,document\n"
                     f"{ORG},tax.arrears,2024-01-02,2024-02-03,T-1\n", encoding="utf-8")
    wider = tmp_path / "b.csv"
    wider.write_text("subject,type,occurred,decided,document,amount,source\n"
                     f"{ORG},tax.arrears,2024-01-02,2024-02-03,T-1,,\n", encoding="utf-8")
    jl = tmp_path / "c.jsonl"
    jl.write_text(json.dumps({"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02",
                              "decided": "2024-02-03", "document": "T-1", "amount": None, "source": ""}) + "\n",
                  encoding="utf-8")
    ids = set()
    for p in (plain, wider, jl):
        (batch,), _ = _read_all(validator, p)
        out = validator.validate(batch, str(p))
        assert not out.rejects
        ids.add(out.checked.column("id")[0].as_py())
    rec = Record(subject=KEY, source="tax.bureau", type="tax.arrears", occurred=date(2024, 1, 2),
                 decided=date(2024, 2, 3), document="T-1")
    assert ids == {rec.id}


def test_validator_never_touches_a_store(catalogue: Catalogue) -> None:
    """It owns its own in-memory engine: two validators side by side share nothing."""
    a = RecordValidator(catalogue, "tax.bureau", AS_OF, default_schemes())
    b = RecordValidator(catalogue, "tax.bureau", AS_OF, default_schemes())
    out_a = a.validate(a.table_from_rows([_row("T-1")]), "a")
    out_b = b.validate(b.table_from_rows([_row("T-2"), _row("T-3")]), "b")
    assert (out_a.checked.num_rows, out_b.checked.num_rows) == (1, 2)
    assert a._con is not b._con
    a.close()
    b.close()


# -- readers: the place of what cannot be read --------------------------------------------------------


def test_csv_bad_bytes_and_long_line_are_unreadable_parts(validator: RecordValidator, tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    good = f"{ORG},tax.arrears,2024-01-02,2024-02-03,T-{{}},1\n"
    p.write_bytes(HEADER.encode() + good.format(1).encode() + b"\xff\xfe,x,y,z,w,1\n"
                  + f"{ORG},tax.arrears,2024-01-02,2024-02-03,{'x' * 3_000_000},1\n".encode()
                  + good.format(4).encode())
    batches, unreadable = _read_all(validator, p)
    assert len(unreadable) == 2
    assert unreadable[0].startswith("2:line 3 (byte ") and "invalid UTF-8" in unreadable[0]
    assert unreadable[1].startswith("3:line 4 (byte ") and "longer than" in unreadable[1]
    assert all(len(u) < 300 for u in unreadable)
    assert [b.column("row").to_pylist() for b in batches] == [[1, 4]]


def test_csv_stop_mode_raises_at_the_first_unreadable_part(validator: RecordValidator, tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(HEADER.encode() + b"a,b,c,d,\xff,1\n")
    with pytest.raises(InvalidInput, match=r"bad\.csv: line 2 \(byte 46\): invalid UTF-8"):
        list(validator.read(p, 100, on_error="stop"))


def test_csv_structural_errors_keep_row_numbers(validator: RecordValidator, tmp_path: Path) -> None:
    p = tmp_path / "cols.csv"
    good = f"{ORG},tax.arrears,2024-01-02,2024-02-03,T-{{}},1\n"
    p.write_text(HEADER + good.format(1) + "a,b,c,d,e,f,g,h\n" + good.format(3), encoding="utf-8")
    batches, unreadable = _read_all(validator, p)
    assert len(unreadable) == 1 and unreadable[0].startswith("2:row 2") and "too many columns" in unreadable[0]
    assert [b.column("row").to_pylist() for b in batches] == [[1, 3]]


def test_jsonl_lines_that_are_not_objects(validator: RecordValidator, tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    obj = json.dumps(_row("T-1"))
    p.write_text(f"{obj}\n42\n[1, 2]\n{{\"subject\": \n\n{obj}\n", encoding="utf-8")
    batches, unreadable = _read_all(validator, p)
    assert [u.split(" (byte")[0] for u in unreadable] == ["2:line 2", "3:line 3", "4:line 4"]
    assert "not a number" in unreadable[0] and "not an array" in unreadable[1]
    assert "not valid JSON" in unreadable[2]
    assert [b.column("row").to_pylist() for b in batches] == [[1, 6]]


def test_jsonl_bigger_than_a_batch_is_checked_before_any_row(validator: RecordValidator,
                                                               tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    lines = [json.dumps(_row(f"T-{i}")) for i in range(5)] + [json.dumps({**_row("T-9"), "amuont": "5"})]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = validator.read(p, 2)
    with pytest.raises(InvalidInput, match=r"`amuont`: unknown column; did you mean `amount`\?"):
        next(reader)
    p.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    batches, _ = _read_all(validator, p, batch_rows=2)
    assert [b.num_rows for b in batches] == [2, 2, 1]


def test_parquet_corrupt_row_group_is_named_and_the_others_read(validator: RecordValidator,
                                                                  tmp_path: Path) -> None:
    p = tmp_path / "rg.parquet"
    n = 300
    pq.write_table(pa.table({"subject": [ORG] * n, "type": ["tax.arrears"] * n,
                             "occurred": ["2024-01-02"] * n, "decided": ["2024-02-03"] * n,
                             "document": [f"T-{i}-" + "x" * 40 for i in range(n)]}),
                   p, row_group_size=100, compression="snappy")
    col = pq.ParquetFile(p).metadata.row_group(1).column(4)
    data = bytearray(p.read_bytes())
    start = col.dictionary_page_offset or col.data_page_offset
    data[start + 20: start + col.total_compressed_size - 5] = b"\xff" * (col.total_compressed_size - 25)
    p.write_bytes(bytes(data))
    batches, unreadable = _read_all(validator, p)
    assert len(unreadable) == 1 and unreadable[0].startswith("101:row group 1 (rows 101-200): cannot be read")
    rows = [r for b in batches for r in b.column("row").to_pylist()]
    assert rows == list(range(1, 101)) + list(range(201, 301))


# -- fuzz: any bytes give rows + unreadable parts, or one InvalidInput --------------------------------

_FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_CSV_ALPHABET = st.sampled_from([b",", b"\n", b"\r", b'"', b"\xff", b"\xc3", b"\x00", b"a", b"1", b"-",
                                 b"subject", b"type", b"occurred", b"decided", b"document", b"2024-01-02",
                                 ORG.encode(), b"tax.arrears", b"{", b"}", b"[", b":", b" ",
                                 b'{"document": "\\ud800"}', b'{"subject": 1e999, "amount": [1]}'])


def _fuzz_once(v: RecordValidator, path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        for batch in v.read(path, 7):
            v.validate(batch, str(path))
    except InvalidInput as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
    finally:
        v.take_unreadable()


@_FUZZ
@given(head=st.sampled_from([b"", HEADER.encode()]), body=st.lists(_CSV_ALPHABET, max_size=60).map(b"".join))
def test_fuzz_csv(validator: RecordValidator, tmp_path: Path, head: bytes, body: bytes) -> None:
    _fuzz_once(validator, tmp_path / "f.csv", head + body)


@_FUZZ
@given(st.lists(st.one_of(_CSV_ALPHABET, st.binary(max_size=8)), max_size=60).map(b"".join))
def test_fuzz_jsonl(validator: RecordValidator, tmp_path: Path, data: bytes) -> None:
    _fuzz_once(validator, tmp_path / "f.jsonl", data)


@_FUZZ
@given(cut=st.integers(min_value=0, max_value=2000), flips=st.lists(st.tuples(st.integers(0, 2000),
                                                                               st.integers(0, 255)), max_size=4))
def test_fuzz_parquet(validator: RecordValidator, tmp_path: Path, cut: int, flips: list[tuple[int, int]]) -> None:
    src = tmp_path / "src.parquet"
    if not src.exists():
        pq.write_table(pa.table({"subject": [ORG] * 20, "type": ["tax.arrears"] * 20,
                                 "occurred": [date(2024, 1, 2)] * 20, "decided": ["2024-02-03"] * 20,
                                 "document": [f"T-{i}" for i in range(20)]}), src, row_group_size=5,
                       compression="snappy")
    data = bytearray(src.read_bytes())
    for pos, byte in flips:
        data[pos % len(data)] = byte
    _fuzz_once(validator, tmp_path / "f.parquet", bytes(data[: len(data) - cut % len(data)]))
