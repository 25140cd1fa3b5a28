"""The shipped working-day calendars: each year cites its notice and agrees with a maintained library."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from xinyong.model.errors import PolicyError
from xinyong.policy import calendar as cal_mod
from xinyong.policy.calendar import CalendarNotCovered, calendar_names, load_calendar
from xinyong.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
CN = load_calendar("cn")


@pytest.mark.parametrize("year", sorted(CN.years))
def test_every_day_of_a_covered_year_agrees_with_chinese_calendar(year: int) -> None:
    if CN.years[year].startswith("provisional"):
        pytest.skip(f"{year} is provisional (statutory holidays only) until the State Council's notice")
    day, wrong = date(year, 1, 1), []
    while day.year == year:
        if CN.is_working_day(day) != chinese_calendar.is_workday(day):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []


def test_each_year_cites_the_state_council_notice() -> None:
    assert {2021, 2022, 2023, 2024, 2025, 2026} <= set(CN.years)
    assert "国办发明电〔2024〕12号" in CN.years[2025]
    assert all("国办发明电" in notice and str(year) in notice for year, notice in CN.years.items()
               if not notice.startswith("provisional"))


def test_a_provisional_year_never_ends_a_window_earlier_than_the_law_allows() -> None:
    """2027 before its notice: every statutory holiday (and its weekday make-up) is a rest day, and
    there are no make-up working weekends, so a window ending on a rest day moves later, not earlier."""
    notice = CN.years[2027]
    assert notice.startswith("provisional") and "795" in notice
    for day in (date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10),
                date(2027, 4, 5), date(2027, 5, 3), date(2027, 5, 4), date(2027, 6, 9), date(2027, 9, 15),
                date(2027, 10, 1), date(2027, 10, 4), date(2027, 10, 5)):
        assert not CN.is_working_day(day), day
    assert CN.is_working_day(date(2027, 2, 11)) and not CN.is_working_day(date(2027, 2, 13))  # a Saturday
    assert "cn" in calendar_names()


def test_a_year_not_covered_is_refused_with_the_file_to_add() -> None:
    with pytest.raises(CalendarNotCovered, match=r"cn-2099\.yaml"):
        CN.is_working_day(date(2099, 1, 5))
    with pytest.raises(CalendarNotCovered, match="no working-day calendar named 'mars'"):
        load_calendar("mars")


def test_a_broken_calendar_file_is_refused_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xx-2026.yaml").write_text(
        "kind: working_day_calendar\ncalendar: xx\nyear: 2026\nnotice: n\nnotice_ref: r\npublished: 2025-11-04\n"
        "holidays:\n  - {name: h, from: 2026-05-01, to: 2026-05-05}\nworking_days:\n"
        "  - {date: 2026-05-06, for: h}\n", encoding="utf-8")
    monkeypatch.setattr(cal_mod, "_calendar_dir", lambda: tmp_path)
    with pytest.raises(PolicyError) as err:
        cal_mod.load_calendar.__wrapped__("xx")
    assert "is not a Saturday or Sunday" in str(err.value.problems[0])


def test_a_policy_naming_an_unknown_calendar_does_not_load(tmp_path: Path) -> None:
    text = (ROOT / "policies/shixin.yaml").read_text(encoding="utf-8")
    assert "  calendar: cn " in text
    text = text.replace("  calendar: cn ", "  calendar: atlantis ", 1)
    (tmp_path / "catalogue.yaml").write_text((ROOT / "policies/catalogue.yaml").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(tmp_path / "p.yaml")
    [problem] = err.value.problems
    assert problem.code == "XS107" and "atlantis" in problem.message
