"""Fairness figures: fairlearn's rates and ratios against a hand computation."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio
from tests.lab.conftest import LAB_AS_OF, ROOT

from xinyong.engines.population import PopulationPaths, assess
from xinyong.lab.fairness import Outcome, disparity, fairness, lint_warnings
from xinyong.lab.impact import to_records
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import load_policy

POINTS = ROOT / "examples" / "lab" / "rongcheng-points.yaml"


def _outcome(selected: list[bool], favourable: bool | None = True) -> Outcome:
    n = len(selected)
    return Outcome("list:x", favourable, np.array(selected), np.ones(n, dtype=bool))


def test_rates_ratio_and_difference_by_hand() -> None:
    # urban: 3 of 6 selected (0.5); rural: 1 of 4 (0.25)
    groups = pa.array(["urban"] * 6 + ["rural"] * 4)
    selected = [True, True, True, False, False, False, True, False, False, False]
    d = disparity(_outcome(selected), "urban_rural", groups, min_group=1, min_selected=1, n_boot=0)
    assert d is not None
    rates = {g.value: (g.n, g.selected, g.rate) for g in d.groups}
    assert rates == {"urban": (6, 3, 0.5), "rural": (4, 1, 0.25)}
    assert d.ratio == pytest.approx(0.5) and d.difference == pytest.approx(0.25)
    assert (d.most_favoured, d.least_favoured, d.passes_four_fifths) == ("urban", "rural", False)
    # the same as fairlearn's demographic parity functions over the raw rows
    y = np.array(selected, dtype=int)
    assert d.ratio == pytest.approx(demographic_parity_ratio(y, y, sensitive_features=groups.to_pylist()))
    assert d.difference == pytest.approx(demographic_parity_difference(y, y, sensitive_features=groups.to_pylist()))


def test_adverse_outcome_most_favoured_is_least_selected() -> None:
    groups = pa.array(["a"] * 10 + ["b"] * 10)
    selected = [True] * 1 + [False] * 9 + [True] * 4 + [False] * 6
    d = disparity(_outcome(selected, favourable=False), "g", groups, min_group=1, n_boot=0)
    assert d is not None
    assert (d.most_favoured, d.least_favoured) == ("a", "b")
    assert d.ratio == pytest.approx(0.25)
    assert {g.value: g.ratio_to_most_favoured for g in d.groups} == {"a": 1.0, "b": pytest.approx(0.25)}


def test_bootstrap_interval_covers_the_estimate_and_narrows_with_size() -> None:
    rng = np.random.default_rng(3)
    widths = []
    for n in (400, 40_000):
        groups = pa.array(np.where(rng.random(n) < 0.5, "urban", "rural"))
        selected = rng.random(n) < np.where(np.asarray(groups) == "urban", 0.3, 0.2)
        d = disparity(_outcome(list(selected)), "urban_rural", groups, n_boot=300, seed=1)
        assert d is not None
        assert d.ratio_ci[0] <= d.ratio <= d.ratio_ci[1]
        for g in d.groups:
            assert g.ci[0] <= g.rate <= g.ci[1]
        widths.append(d.ratio_ci[1] - d.ratio_ci[0])
    assert widths[1] < widths[0] / 3


def test_small_groups_are_left_out() -> None:
    groups = pa.array(["big"] * 100 + ["big2"] * 100 + ["tiny"] * 3)
    d = disparity(_outcome([True] * 203), "g", groups, min_group=50, n_boot=0)
    assert d is not None and d.left_out == ["tiny"] and [g.value for g in d.groups] == ["big", "big2"]


def test_population_rates_equal_the_reference_evaluator(lab_population: PopulationPaths) -> None:
    """Tier rates by urban/rural from the compiled SQL + fairlearn equal a hand count of the reference
    evaluator's tiers, subject by subject, on the same small population."""
    lp = load_policy(POINTS)
    table = assess(lab_population, lp, LAB_AS_OF)
    found = {(d.outcome, g.value): (g.n, g.selected) for d in fairness(lp, table, n_boot=0, min_group=1)
             if d.attribute == "urban_rural" for g in d.groups}
    records = to_records(pq.read_table(lab_population.records))
    attributes = {r["subject"]: r["urban_rural"] for r in pq.read_table(lab_population.attributes).to_pylist()}
    persons = [r["id"] for r in pq.read_table(lab_population.subjects).to_pylist() if r["kind"] == "person"]
    by_hand: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for subject in persons:
        tier = evaluate(lp, subject, records.get(subject, []), [], LAB_AS_OF).tier
        for t in lp.policy.tiers:
            cell = by_hand[(f"tier:{t.name}", attributes[subject])]
            cell[0] += 1
            cell[1] += tier == t.name
    for key, (n, k) in by_hand.items():
        assert found[key] == (n, k), key
    assert by_hand[("tier:AAA", "urban")][1] > 0


def test_lint_warning_names_the_line_of_the_failing_tier(lab_population: PopulationPaths) -> None:
    lp = load_policy(POINTS)
    warnings = lint_warnings(lp, fairness(lp, assess(lab_population, lp, LAB_AS_OF), n_boot=50))
    assert warnings and all(w.code == "XF001" for w in warnings)
    text = POINTS.read_text(encoding="utf-8").splitlines()
    aaa = next(w for w in warnings if "tier:AAA" in w.message and "urban_rural" in w.message)
    assert text[aaa.line - 1].strip() == "- name: AAA"


def test_too_few_selected_or_an_uncertain_ratio_is_not_a_failure() -> None:
    # 1 of 100 rural and 0 of 100 urban on a black list: ratio 0, but two listings say nothing
    groups = pa.array(["rural"] * 100 + ["urban"] * 100)
    d = disparity(_outcome([True] + [False] * 199, favourable=False), "g", groups, n_boot=200)
    assert d is not None and d.ratio == 0.0 and d.passes_four_fifths is None
    # enough selected, but the interval reaches above four fifths: not a failure either
    selected = [True] * 20 + [False] * 80 + [True] * 23 + [False] * 77
    d = disparity(_outcome(selected), "g", groups, n_boot=300, seed=2)
    assert d is not None and d.ratio < 0.9 and d.ratio_ci[1] >= 0.8 and d.passes_four_fifths is True
