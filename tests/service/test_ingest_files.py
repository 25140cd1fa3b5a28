"""Files that break the row contract or cannot be read: one test per case, files made here.

Every case ends as one InvalidInput naming the file and the place (``xinyong ingest`` exits 2), or, in
``on_error="skip"`` mode, the good rows stored and the unreadable part in the rejects file; never a
reader's traceback, never the input echoed back.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput
from xinyong.model.identifiers import default_schemes
from xinyong.policy.loader import load_catalogue
from xinyong.service.ingest import IngestSummary, ingest_files
from xinyong.store.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 1, 1)
ORG = "91110000600037341L"
HEADER = "subject,type,occurred,decided,document,amount\n"


def _line(doc: str, amount: str = "1") -> str:
    return f"{ORG},tax.arrears,2024-01-02,2024-02-03,{doc},{amount}\n"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    s = DuckDBStore.open(tmp_path / "x.duckdb")
    yield s  # type: ignore[misc]
    s.close()


def _ingest(store: DuckDBStore, path: Path, cat: Catalogue, **kw: object) -> IngestSummary:
    return ingest_files(store, [path], "tax.bureau", cat, default_schemes(), AS_OF, **kw)  # type: ignore[arg-type]


def _rejects(path: Path) -> list[dict[str, str]]:
    with open(f"{path}.rejects.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ingested(store: DuckDBStore) -> int:
    return int(store.connection.execute("SELECT count(*) FROM audit_log WHERE action = 'ingest'").fetchall()[0][0])


def _refused(store: DuckDBStore, path: Path, cat: Catalogue, pattern: str, **kw: object) -> str:
    with pytest.raises(InvalidInput, match=pattern) as info:
        _ingest(store, path, cat, **kw)
    text = str(info.value)
    assert str(path) in text and "\n" not in text and len(text) < 400
    return text


def test_misspelled_column_refuses_the_file_before_storing(store: DuckDBStore, catalogue: Catalogue,
                                                            tmp_path: Path) -> None:
    p = tmp_path / "typo.csv"
    p.write_text("subject,type,occurred,decided,document,amuont\n" + _line("T-1", "2500000"), encoding="utf-8")
    text = _refused(store, p, catalogue, "unknown column")
    assert text.endswith("`amuont`: unknown column; did you mean `amount`?")
    assert store.record_count() == 0 and _ingested(store) == 0
    # fixing the header stores the record once, with its amount
    p.write_text(HEADER + _line("T-1", "2500000"), encoding="utf-8")
    assert _ingest(store, p, catalogue).accepted == 1
    assert _ingest(store, p, catalogue).duplicates == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_misspelled_column_in_jsonl_and_parquet(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path,
                                                suffix: str) -> None:
    row = {"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
           "document": "T-1", "amuont": "5"}
    p = tmp_path / f"typo{suffix}"
    if suffix == ".jsonl":
        p.write_text(json.dumps(row) + "\n", encoding="utf-8")
    else:
        pq.write_table(pa.table({k: [v] for k, v in row.items()}), p)
    _refused(store, p, catalogue, "`amuont`: unknown column; did you mean `amount`\\?")
    assert store.record_count() == 0


def test_invalid_utf8(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "latin1.csv"
    p.write_bytes(HEADER.encode() + _line("T-1").encode() + _line("T-é").encode("latin-1") + _line("T-3").encode())
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (2, 1)
    (rej,) = _rejects(p)
    assert rej["row"] == "2" and rej["reason"].startswith("line 3 (byte ") and "invalid UTF-8" in rej["reason"]
    _refused(store, p, catalogue, r"latin1\.csv: line 3 \(byte \d+\): invalid UTF-8", on_error="stop")


def test_line_over_the_limit(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text(HEADER + _line("T-1") + _line("D" * 10_000_000) + _line("T-3"), encoding="utf-8")
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (2, 1)
    (rej,) = _rejects(p)
    assert "longer than" in rej["reason"] and len(rej["value"] or "") < 100
    text = _refused(store, p, catalogue, r"long\.csv: line 3 \(byte \d+\): line longer than", on_error="stop")
    assert "DDDD" not in text


def test_broken_json_line(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "broken.jsonl"
    good = json.dumps({"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
                       "document": "T-1"})
    p.write_text(good + '\n{"subject": "x", "type": \n' + good.replace("T-1", "T-3") + "\n", encoding="utf-8")
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (2, 1)
    (rej,) = _rejects(p)
    assert rej["row"] == "2" and rej["reason"].startswith("line 2 (byte ") and "not valid JSON" in rej["reason"]


@pytest.mark.parametrize(("line", "kind"), [("42", "a number"), ("[1, 2]", "an array"), ('"x"', "a string")])
def test_json_lines_that_are_not_objects(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path,
                                         line: str, kind: str) -> None:
    p = tmp_path / "shapes.jsonl"
    good = json.dumps({"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
                       "document": "T-1"})
    p.write_text(f"{good}\n{line}\n", encoding="utf-8")
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (1, 1)
    (rej,) = _rejects(p)
    assert rej["row"] == "2" and rej["reason"].endswith(f"must be a JSON object with the record's fields, not {kind}")


def test_truncated_parquet(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "cut.parquet"
    pq.write_table(pa.table({"subject": [ORG], "type": ["tax.arrears"], "occurred": [date(2024, 1, 2)],
                             "decided": [date(2024, 2, 3)], "document": ["T-1"]}), p)
    p.write_bytes(p.read_bytes()[:-30])
    _refused(store, p, catalogue, r"cut\.parquet: not a readable Parquet file")


def test_missing_file(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    _refused(store, tmp_path / "nope.csv", catalogue, "nope.csv: no such file")


def test_directory(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    d = tmp_path / "dir.csv"
    d.mkdir()
    _refused(store, d, catalogue, "dir.csv: is a directory")


def test_permission_denied(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "secret.csv"
    p.write_text(HEADER + _line("T-1"), encoding="utf-8")
    p.chmod(0)
    if os.geteuid() == 0:  # root reads every file: let the file system say no as it would to anyone else
        real_open = Path.open

        def deny(self: Path, *args: object, **kw: object) -> object:
            if self == p:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", deny)
    try:
        _refused(store, p, catalogue, "secret.csv: permission denied")
    finally:
        p.chmod(0o600)


def test_row_problem_in_stop_mode(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "dates.csv"
    p.write_text(HEADER + _line("T-1") + _line("T-2").replace("2024-02-03", "2024/02/03"), encoding="utf-8")
    _refused(store, p, catalogue, r"dates\.csv: row 2, decided: '2024/02/03' is not a date", on_error="stop")
    assert store.record_count() == 0


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xinyong", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def test_cli_exit_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    assert _cli("publish", str(ROOT / "policies"), "--db", db, cwd=tmp_path).returncode == 0
    typo = tmp_path / "typo.csv"
    typo.write_text("subject,type,occurred,decided,document,amuont\n" + _line("T-1"), encoding="utf-8")
    out = _cli("ingest", str(typo), "--source", "tax.bureau", "--db", db, "--as-of", "2025-01-01", cwd=tmp_path)
    assert out.returncode == 2
    assert "`amuont`: unknown column; did you mean `amount`?" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe{]\n")
    out = _cli("ingest", str(bad), "--source", "tax.bureau", "--db", db, "--on-error", "stop", cwd=tmp_path)
    assert out.returncode == 2 and "line 1 (byte 0): invalid UTF-8" in out.stderr and "Traceback" not in out.stderr


def test_bom_crlf_and_quoted_commas_still_read(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "excel.csv"
    body = HEADER + _line('"T-1, part 2"') + _line("T-2")
    p.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (2, 0)
    assert {r.document for r in store.records_of("cn.uscc:" + ORG)} == {"T-1, part 2", "T-2"}


def test_json_line_with_a_lone_surrogate(store: DuckDBStore, catalogue: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "sur.jsonl"
    good = json.dumps({"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
                       "document": "T-1"})
    p.write_text(good + "\n" + good.replace("T-1", "T-\\ud800") + "\n", encoding="utf-8")
    s = _ingest(store, p, catalogue)
    assert (s.accepted, s.rejected) == (1, 1)
    (rej,) = _rejects(p)
    assert rej["row"] == "2" and "lone surrogate" in rej["reason"]
