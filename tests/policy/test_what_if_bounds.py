""""What would change my status" is bounded: O(log n) evaluations per goal (bisection), each answer
re-checked by the evaluator, and refused with a clear error beyond a documented number of records."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from xinyong.model.errors import InvalidInput
from xinyong.model.record import Record
from xinyong.policy import counterfactual
from xinyong.policy.counterfactual import MAX_WHAT_IF_RECORDS, what_if
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
SHIXIN = load_policy(ROOT / "policies/shixin.yaml")
PERSON = "cn.ric:11010519491231002X"
AS_OF = date(2026, 3, 1)


def _records(n: int) -> list[Record]:
    return [Record(subject=PERSON, source="court.enforcement", type="court.refuse_perform",
                   occurred=date(2020, 1, 1), decided=AS_OF - timedelta(days=i % 700), document=f"D{i}")
            for i in range(n)]


def test_a_large_file_is_answered_with_few_evaluations(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = counterfactual.evaluate

    def counting(*args: object, **kw: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(counterfactual, "evaluate", counting)
    records = _records(600)
    changes = what_if(SHIXIN, PERSON, records, [], AS_OF)
    expiry = [c for c in changes if c.how == "expiry"]
    assert expiry and expiry[0].on == AS_OF + timedelta(days=730)  # the newest finding ends last
    # linear search over ~600 x offsets change dates would evaluate thousands of times
    assert calls < 80, calls
    # what it says is true: off the list on that day, not the day before
    assert "shixin" not in evaluate(SHIXIN, PERSON, records, [], expiry[0].on).listed_on()
    assert "shixin" in evaluate(SHIXIN, PERSON, records, [], expiry[0].on - timedelta(days=1)).listed_on()


def test_beyond_the_limit_it_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_WHAT_IF_RECORDS:,} records") as info:
        what_if(SHIXIN, PERSON, _records(MAX_WHAT_IF_RECORDS + 1), [], AS_OF)
    assert info.value.field == "what_if"
