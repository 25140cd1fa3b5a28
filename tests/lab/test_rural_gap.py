"""The seeds' rural gap: a points scheme rewarding volunteering favours urban residents; the revised
policy (points only for adjudicated conduct) closes the gap. The lab examples ship with this test."""

from __future__ import annotations

from functools import partial

from tests.lab.conftest import LAB_AS_OF, ROOT

from xinyong.engines.population import PopulationPaths, compare, records_of
from xinyong.lab.impact import impact
from xinyong.policy.lint import lint
from xinyong.policy.loader import load_policy

POINTS = ROOT / "examples" / "lab" / "rongcheng-points.yaml"
REVISED = ROOT / "examples" / "lab" / "rongcheng-revised.yaml"
FAST_TRACK = "measure:public_services.permit.fast_track (benefit)"


def test_examples_lint_clean() -> None:
    for path in (POINTS, REVISED):
        assert list(lint(load_policy(path))) == []


def test_revision_shrinks_the_rural_gap(lab_population: PopulationPaths) -> None:
    old, new = load_policy(POINTS), load_policy(REVISED)
    table = compare(lab_population, old, new, LAB_AS_OF)
    data = impact(old, new, table, LAB_AS_OF, partial(records_of, lab_population), n_boot=100, sample=10)

    def urban_rural(side: str) -> dict[str, object]:
        return next(d for d in data["fairness"][side] if d["outcome"] == FAST_TRACK and d["attribute"] == "urban_rural")

    before, after = urban_rural("old"), urban_rural("new")
    rates = {g["value"]: g["rate"] for g in before["groups"]}  # type: ignore[attr-defined]
    assert rates["urban"] > rates["rural"]                       # the disparity, as the seeds describe
    assert before["passes_four_fifths"] is False
    assert after["ratio"] > before["ratio"] + 0.3                 # the repair: the gap shrinks ...
    assert after["difference"] < before["difference"]
    assert after["passes_four_fifths"] is True                    # ... below the four-fifths threshold
    assert len(data["four_fifths_failures"]["new"]) < len(data["four_fifths_failures"]["old"])
    # the largest change is explained by the volunteering rule the revision dropped
    top = data["largest_changes"][0]
    assert top["mean_points_change_by_rule"][0]["rule"] == "civic.volunteering"
    assert top["mean_points_change_by_rule"][0]["mean_change"] < 0
