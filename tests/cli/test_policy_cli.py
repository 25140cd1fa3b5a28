from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


def test_policy_test_passes_on_shipped_policies(xinyong: Run) -> None:
    res = xinyong("policy", "test", "policies/")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "shixin.tests.yaml" in res.stdout


def test_policy_test_reports_failing_case_with_line(xinyong: Run, tmp_path: Path) -> None:
    (tmp_path / "p.tests.yaml").write_text(
        f"kind: policy-test\npolicy: {ROOT / 'policies/shixin.yaml'}\ncases:\n"
        "  - name: wrong expectation\n    as_of: 2026-01-01\n    expect:\n      lists: [shixin]\n"
    )
    res = xinyong("policy", "test", str(tmp_path / "p.tests.yaml"), "--json")
    assert res.returncode == 1
    out = json.loads(res.stdout)
    case = out[0]["cases"][0]
    assert case["passed"] is False and case["line"] == 4
    assert "lists: expected ['shixin'], got []" in case["failures"][0]


def test_lint_clean_and_rejected(xinyong: Run) -> None:
    clean = xinyong("policy", "lint", "policies/")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    bad = xinyong("policy", "lint", "policies/examples/rejected/", "--json")
    assert bad.returncode == 1
    codes = {p["code"] for p in json.loads(bad.stdout)}
    assert {"XC101", "XC201", "XC301", "XC402", "XC501", "XC601", "XC701"} <= codes


def test_lint_reports_yaml_error_with_file_and_line(xinyong: Run, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: policy\nid: x\nlists:\n  - id: a\n   name: b\n")
    res = xinyong("policy", "lint", str(bad))
    assert res.returncode == 1
    assert f"{bad}:5: XS001" in res.stdout


def test_schema_export_is_json_schema(xinyong: Run) -> None:
    res = xinyong("policy", "schema")
    assert res.returncode == 0
    schema = json.loads(res.stdout)
    assert schema["$id"] == "urn:xinyong:schema:policy:1"
    assert "lists" in schema["properties"]


def test_explain_from_records_file(xinyong: Run) -> None:
    res = xinyong("explain", "11010519491231002X", "--policy", "policies/shixin.yaml", "--records",
                  "tests/fixtures/explain/debtor.yaml", "--as-of", "2026-03-01", "--json")
    assert res.returncode == 0, res.stderr
    a = json.loads(res.stdout)
    assert a["subject"] == "cn.ric:11010519491231002X"
    assert [x["list"] for x in a["listings"]] == ["shixin"]
    assert a["listings"][0]["since"] == "2026-01-10"


def test_explain_bad_subject_names_the_field(xinyong: Run) -> None:
    res = xinyong("explain", "11010519491231002Y", "--records", "tests/fixtures/explain/debtor.yaml",
                  "--as-of", "2026-03-01")
    assert res.returncode == 2
    assert "subject" in res.stderr and "not a valid" in res.stderr


def test_explain_requires_as_of(xinyong: Run) -> None:
    res = xinyong("explain", "11010519491231002X", "--records", "tests/fixtures/explain/debtor.yaml")
    assert res.returncode == 2
    assert "--as-of" in res.stderr
