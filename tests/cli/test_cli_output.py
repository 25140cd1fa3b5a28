"""What a person sees on the command line: batch manifests, markup, public lists, whole ids, exit codes.

Each test builds its store and its files here (a published policy set and a one-line court file).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .conftest import ROOT, Run

PERSON = "11010519491231002X"
COMPANY = "914403001922038216"
BOTH = "110105196001014114"  # a valid resident id and a valid USCC: ambiguous bare
FLIGHT = "transport.flight.purchase"
AS_OF = "2026-03-01"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    import sys

    d = tmp_path_factory.mktemp("out")
    path = str(d / "r.duckdb")

    def run(*args: str) -> None:
        res = subprocess.run([sys.executable, "-m", "xinyong", *args, "--db", path], cwd=ROOT, text=True,
                             capture_output=True, timeout=300)
        assert res.returncode == 0, res.stderr

    run("publish", str(ROOT / "policies"))
    csv = d / "court.csv"
    csv.write_text("subject,type,occurred,decided,document,amount\n"
                   f"{PERSON},court.refuse_perform,2025-11-01,2026-01-10,(2026) Jing 0105 Zhi 123,250000\n")
    run("ingest", str(csv), "--source", "court.enforcement", "--as-of", "2026-01-10")
    run("evaluate", "--as-of", AS_OF)
    return path


def copy_of(db: str, tmp_path: Path) -> str:
    out = tmp_path / "copy.duckdb"
    out.write_bytes(Path(db).read_bytes())
    return str(out)


def manifest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "manifest.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


MANIFEST = f"""# passengers for flight CA 1234
{PERSON}

cn.uscc:{COMPANY}   # the travel agency
11010519491231002Y
  {BOTH}
# end
"""


def test_a_manifest_with_comments_blank_lines_and_bad_lines(xinyong: Run, db: str, tmp_path: Path) -> None:
    db = copy_of(db, tmp_path)
    path = manifest(tmp_path, MANIFEST)
    res = xinyong("check", "--batch", path, FLIGHT, "--purpose", "boarding", "--db", db, "--as-of", AS_OF,
                  "--json")
    assert res.returncode == 2, res.stderr  # some lines could not be decided: an input error
    out = json.loads(res.stdout)
    assert [x["line"] for x in out] == [2, 4, 5, 6]  # every subject line, in file order
    assert out[0]["subject"] == f"cn.ric:{PERSON}" and out[0]["effect"] == "deny"
    assert out[1]["subject"] == f"cn.uscc:{COMPANY}" and out[1]["effect"] == "allow"
    assert out[2]["input"] == "11010519491231002Y" and "not a valid identifier" in out[2]["error"]
    assert "effect" not in out[2]
    assert "ambiguous" in out[3]["error"] and f"cn.uscc:{BOTH}" in out[3]["error"] \
        and f"cn.ric:{BOTH}" in out[3]["error"]
    # text: decisions on stdout, each bad line on stderr with the file and line number
    res = xinyong("check", "--batch", path, FLIGHT, "--purpose", "boarding", "--db", db, "--as-of", AS_OF)
    assert res.returncode == 2
    assert [ln.split("\t")[:2] for ln in res.stdout.splitlines()] == [[f"cn.ric:{PERSON}", "deny"],
                                                                     [f"cn.uscc:{COMPANY}", "allow"]]
    assert f"{path}:5: invalid identifier: " in res.stderr and f"{path}:6: invalid identifier: " in res.stderr


def test_strict_stops_at_the_first_bad_line_and_decides_nothing(xinyong: Run, db: str, tmp_path: Path) -> None:
    db = copy_of(db, tmp_path)
    path = manifest(tmp_path, MANIFEST)
    res = xinyong("check", "--batch", path, FLIGHT, "--purpose", "boarding", "--strict", "--db", db,
                  "--as-of", AS_OF, "--json")
    assert res.returncode == 2 and res.stdout == ""
    assert f"{path}:5: " in res.stderr and ":6:" not in res.stderr
    audit = xinyong("audit", "verify", "--db", db, "--json")
    assert audit.returncode == 0


def test_a_clean_manifest_exits_by_its_decisions(xinyong: Run, db: str, tmp_path: Path) -> None:
    db = copy_of(db, tmp_path)
    allowed = manifest(tmp_path, f"# only the agency\n\n{COMPANY}\n")
    res = xinyong("check", "--batch", allowed, FLIGHT, "--purpose", "boarding", "--db", db, "--as-of", AS_OF)
    assert res.returncode == 0 and res.stdout.split("\t")[1] == "allow"
    denied = manifest(tmp_path, f"{COMPANY}\n{PERSON}\n")
    res = xinyong("check", "--batch", denied, FLIGHT, "--purpose", "boarding", "--db", db, "--as-of", AS_OF)
    assert res.returncode == 1  # a denial among them
    missing = xinyong("check", "--batch", str(tmp_path / "nope.txt"), FLIGHT, "--purpose", "x", "--db", db)
    assert missing.returncode == 2 and "nope.txt" in missing.stderr and "Traceback" not in missing.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(f"{COMPANY}\n# caf\xe9\n".encode("latin-1"))
    res = xinyong("check", "--batch", str(latin1), FLIGHT, "--purpose", "x", "--db", db)
    assert res.returncode == 2 and f"{latin1}:2: not UTF-8" in res.stderr.replace("\n", "")


def test_explain_keeps_square_brackets(xinyong: Run, db: str) -> None:
    res = xinyong("explain", PERSON, "--db", db, "--as-of", AS_OF)
    assert res.returncode == 0, res.stderr
    assert "[court.refuse_perform" in res.stdout  # the rule text, not eaten as Rich markup


def test_an_error_message_with_brackets_is_printed_whole(xinyong: Run, db: str) -> None:
    res = xinyong("check", "[bold]x[/bold]", FLIGHT, "--purpose", "x", "--db", db)
    assert res.returncode == 2 and "'[bold]x[/bold]'" in res.stderr


def test_lists_public_shows_masked_name_and_the_subjects_own_reason(xinyong: Run, db: str,
                                                                   tmp_path: Path) -> None:
    import duckdb

    db = copy_of(db, tmp_path)
    with duckdb.connect(db) as con:
        con.execute("UPDATE subjects SET name = 'Wang Wei' WHERE id = ?", [f"cn.ric:{PERSON}"])
    res = xinyong("lists", "public", "shixin", "--db", db, "--as-of", AS_OF, "--json")
    assert res.returncode == 0, res.stderr
    [entry] = json.loads(res.stdout)
    assert entry["name"] == "Wang*" and entry["subject"] is None
    assert entry["reason"].startswith("Refusal") or "(court.refuse_perform)" in entry["reason"]
    assert "(court.refuse_perform); rule: " in entry["reason"]
    text = xinyong("lists", "public", "shixin", "--db", db, "--as-of", AS_OF, env={"COLUMNS": "200"})
    assert "Wang*" in text.stdout and "court.refuse_perform" in text.stdout and PERSON not in text.stdout
    assert "[court.refuse_perform," in text.stdout  # the rule's brackets survive in the table

    # the same reason over HTTP: one function computes it for both edges
    from xinyong.service.online import Online
    from xinyong.store import open_store
    from xinyong.web import create_app

    store = open_store(db)
    try:
        from datetime import date

        with TestClient(create_app(Online(store, as_of=date.fromisoformat(AS_OF)))) as client:
            http = client.get("/v1/lists/shixin").json()["entries"]
    finally:
        store.close()
    assert [e["reason"] for e in http] == [entry["reason"]]


def test_tables_never_cut_ids_on_a_narrow_terminal(xinyong: Run, db: str, tmp_path: Path) -> None:
    db = copy_of(db, tmp_path)
    case = json.loads(xinyong("object", PERSON, "list:shixin", "--text", "paid [in full]", "--evidence", "r",
                              "--actor", "subject", "--as-of", "2026-01-12", "--db", db, "--json").stdout)
    res = xinyong("cases", "list", "--db", db, "--as-of", "2026-01-16", env={"COLUMNS": "60"})
    assert res.returncode == 0, res.stderr
    assert case["id"] in res.stdout and f"cn.ric:{PERSON}" in res.stdout
    shown = xinyong("cases", "show", case["id"], "--db", db, "--as-of", "2026-01-16")
    assert "paid [in full]" in shown.stdout
    listed = xinyong("lists", "show", "shixin", "--db", db, "--as-of", AS_OF, env={"COLUMNS": "30"})
    assert f"cn.ric:{PERSON}" in listed.stdout


COMMANDS = ["publish", "ingest", "evaluate", "check", "explain", "demo", "serve", "object", "notices", "status",
            "lists show", "lists public", "audit verify", "cases list", "cases show", "cases decide",
            "cases appeal", "repair apply", "repair check", "keys create", "keys list", "keys revoke",
            "policy lint", "policy test", "policy schema"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_states_the_exit_codes(xinyong: Run, command: str) -> None:
    res = xinyong(*command.split(), "--help", env={"COLUMNS": "300"})
    assert res.returncode == 0, res.stderr
    text = re.sub(r"\s+", " ", res.stdout)
    assert "Exit codes: 0 done;" in text and "2 a usage error" in text
    assert ("; 1 " in text) == (command in {"check", "ingest", "audit verify", "notices", "policy lint",
                                            "policy test", "demo"})


def test_the_readme_lists_the_exit_codes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Exit codes" in readme
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for command in ("check", "ingest", "audit verify", "notices", "policy lint", "policy test"):
        assert f"`{command}`" in section
