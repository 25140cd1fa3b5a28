"""Differentially private counts: the stated epsilon, the per-dataset budget, refusal when spent."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from xinyong.lab.stats import BudgetSpent, Ledger, dataset_id, release, release_counts
from xinyong.model.errors import InvalidInput

CELLS = [(r, "shixin", m) for r in ("Beijing", "Gansu") for m in ("2026-07", "2026-08")]


def _rows() -> pa.Table:
    return pa.table({"subject": ["a", "a", "a", "b", "c"],
                     "region": ["Beijing", "Beijing", "Beijing", "Gansu", "Gansu"],
                     "list": ["shixin"] * 5,
                     "month": ["2026-07", "2026-07", "2026-08", "2026-07", "2026-08"]})


def test_budget_is_spent_release_by_release_and_then_refused(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "privacy-ledger.json")
    first = release(_rows(), CELLS, dataset="d1", ledger=ledger, epsilon=0.5, budget=1.0, max_per_subject=2,
                    note="first")
    assert (first.spent, first.budget, first.epsilon) == (0.5, 1.0, 0.5)
    second = release(_rows(), CELLS, dataset="d1", ledger=Ledger(tmp_path / "privacy-ledger.json"), epsilon=0.5,
                     budget=99.0, max_per_subject=2, note="second")
    assert (second.spent, second.budget) == (1.0, 1.0)   # the budget is fixed by the first release
    reloaded = Ledger(tmp_path / "privacy-ledger.json")
    with pytest.raises(BudgetSpent, match="0 of 1 left"):
        release(_rows(), CELLS, dataset="d1", ledger=reloaded, epsilon=0.01, budget=1.0, max_per_subject=2,
                note="third")
    saved = json.loads((tmp_path / "privacy-ledger.json").read_text())
    # the refusal recorded nothing
    assert [r["release"] for r in saved["datasets"]["d1"]["releases"]] == ["first", "second"]
    # another dataset has its own budget
    assert release(_rows(), CELLS, dataset="d2", ledger=reloaded, epsilon=1.0, budget=1.0, max_per_subject=1,
                   note="x").spent == 1.0


def test_sensitivity_bound_and_scale() -> None:
    counts, scale, dropped = release_counts(_rows(), CELLS, epsilon=2.0, max_per_subject=2)
    assert scale == 1.0 and dropped == 1          # subject a had three rows; its latest is dropped
    assert [(c["region"], c["month"]) for c in counts] == [(r, m) for r, _, m in CELLS]
    assert all(c["count"] >= 0 for c in counts)


def test_noise_is_calibrated() -> None:
    rows = pa.table({"subject": [f"s{i}" for i in range(200)], "region": ["Beijing"] * 200,
                     "list": ["shixin"] * 200, "month": ["2026-07"] * 200})
    cells = [("Beijing", "shixin", "2026-07")]
    draws = [release_counts(rows, cells, epsilon=1.0, max_per_subject=1)[0][0]["count"] for _ in range(300)]
    assert 195 < sum(draws) / len(draws) < 205     # unbiased around the true 200
    assert len(set(draws)) > 3                     # and actually noisy


def test_invalid_epsilon_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="greater than zero"):
        Ledger(tmp_path / "l.json").charge("d", 0.0, 1.0, "x")


def test_dataset_id_is_the_content(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    assert dataset_id(tmp_path / "a") == dataset_id(tmp_path / "b")
