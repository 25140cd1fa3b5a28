"""The lab commands from the command line: lint-impact warnings, simulate then stats until refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.lab.conftest import ROOT
from typer.testing import CliRunner

from xinyong.cli.app import app
from xinyong.engines.population import PopulationPaths

runner = CliRunner()


def test_lint_impact_warns_without_failing(lab_population: PopulationPaths) -> None:
    where = str(lab_population.subjects.parent)
    points = ROOT / "examples" / "lab" / "rongcheng-points.yaml"
    revised = ROOT / "examples" / "lab" / "rongcheng-revised.yaml"
    result = runner.invoke(app, ["lab", "lint-impact", str(points), str(revised), "--population-dir", where,
                                 "--as-of", "2026-07-01"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " XF001 " in line]
    assert lines and all(line.startswith(f"{points}:") for line in lines)   # the revision is clean
    assert any("urban_rural: rural" in line for line in lines)


def test_simulate_then_stats_until_the_budget_is_spent(lab_population: PopulationPaths, tmp_path: Path) -> None:
    where = str(lab_population.subjects.parent)
    out = tmp_path / "sim"
    result = runner.invoke(app, ["lab", "simulate", str(ROOT / "policies" / "shixin.yaml"), "--years", "1",
                                 "--population-dir", where, "--as-of", "2026-07-01", "--out", str(out), "--no-png"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.with_suffix(".json").read_text())
    assert len(data["monthly"]["listed"]) == 12
    listings = out.with_name("sim-listings.parquet")
    stats = ["stats", str(listings), "--budget", "1", "--from", "2026-07", "--to", "2027-06",
             "--out", str(tmp_path / "stats.json")]
    assert runner.invoke(app, [*stats, "--epsilon", "0.6"]).exit_code == 0
    release = json.loads((tmp_path / "stats.json").read_text())
    assert release["epsilon"] == 0.6 and len(release["counts"]) == 15 * 12   # regions x months (one list)
    refused = runner.invoke(app, [*stats, "--epsilon", "0.6"])
    assert refused.exit_code != 0 and "budget" in str(refused.exception or refused.output)
    ledger = json.loads((tmp_path / "privacy-ledger.json").read_text())
    assert [r["epsilon"] for d in ledger["datasets"].values() for r in d["releases"]] == [0.6]


def test_policy_lint_impact_adds_warnings_but_keeps_the_exit_code() -> None:
    points = ROOT / "examples" / "lab" / "rongcheng-points.yaml"
    result = runner.invoke(app, ["policy", "lint", str(points), "--impact", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found and all(f["code"] == "XF001" for f in found)


def test_publish_preview_reports_the_impact_and_publishes_nothing(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from xinyong.store import open_store

    db = str(tmp_path / "r.duckdb")
    assert runner.invoke(app, ["publish", str(ROOT / "policies"), "--db", db]).exit_code == 0
    new = tmp_path / "v2"
    new.mkdir()
    shutil.copy(ROOT / "policies/catalogue.yaml", new / "catalogue.yaml")
    text = (ROOT / "policies/shixin.yaml").read_text(encoding="utf-8")
    (new / "shixin.yaml").write_text(text.replace('version: "2026.1"', 'version: "2026.2"')
                                     .replace("max_duration_days: 730 ", "max_duration_days: 365 ")
                                     .replace("      days: 730", "      days: 365"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["publish", str(new / "shixin.yaml"), "--db", db, "--preview",
                                 "--population", "3000"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lab-report" / "preview-shixin.html").exists() and "shixin 2026.2" in result.output
    with open_store(db) as store:
        assert {(v.policy, v.version) for v in store.policy_versions()} == {
            ("corporate", "2026.1"), ("rongcheng", "2026.1"), ("shixin", "2026.1")}
