"""The pure due-process rules over the sample policies: deadlines, listing stages, repair, what-if, timeline."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.model.case import Case, CaseEvent, CaseKind, CaseStatus, CaseView
from xinyong.model.record import Amendment, AmendmentKind
from xinyong.policy.calendar import CalendarNotCovered, WorkingCalendar, load_calendar
from xinyong.policy.counterfactual import timeline, what_if
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy, load_policy
from xinyong.policy.procedure import (
    Stage,
    add_working_days,
    calendar_days_deadline,
    in_force_only,
    is_working_day,
    listing_statuses,
    policy_calendar,
    repair_eligibility,
    working_days_between,
)

from .conftest import COMPANY, PERSON, ROOT, record

CORPORATE = load_policy(ROOT / "policies/corporate.yaml")
RONGCHENG = load_policy(ROOT / "policies/rongcheng.yaml")
SHIXIN = load_policy(ROOT / "policies/shixin.yaml")

# deadlines count China's official working days; the shipped calendar covers 2021 to 2026
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 30))
MON_TO_FRI = WorkingCalendar("weekdays", {2026: "test"}, frozenset(), frozenset())


@given(days, st.integers(min_value=1, max_value=100))
def test_working_day_deadlines_land_on_working_days_and_count_exactly(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert is_working_day(end)
    assert working_days_between(start, end) == n
    assert working_days_between(start, end - timedelta(days=1)) == n - 1  # the first day it is reached
    assert (end - start).days <= n // 5 * 7 + 7 + 20  # 100 working days span at most two long holidays


@given(days, st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=50))
def test_more_working_days_never_end_earlier(start: date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert add_working_days(start, lo) <= add_working_days(start, hi)


@given(days, st.integers(min_value=0, max_value=60))
def test_a_calendar_day_window_ends_on_a_working_day_at_most_a_holiday_late(start: date, n: int) -> None:
    end = calendar_days_deadline(start, n)
    assert is_working_day(end) and start + timedelta(days=n) <= end <= start + timedelta(days=n + 9)


def test_ten_working_days_from_a_monday_is_two_weeks_later() -> None:
    assert add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Saturday -> Monday
    assert add_working_days(date(2026, 3, 1), 3) == date(2026, 3, 4)  # from a Sunday


def test_holidays_do_not_count_and_make_up_working_days_do() -> None:
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)  # National Day; Saturday 10th works
    assert add_working_days(date(2026, 9, 30), 3, MON_TO_FRI) == date(2026, 10, 5)  # what Mon-Fri said
    assert add_working_days(date(2026, 2, 28), 0) == date(2026, 2, 28)  # a make-up Saturday
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)  # Spring Festival 15-23 February
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert not is_working_day(date(2026, 1, 1)) and is_working_day(date(2026, 1, 4))  # Sunday 4 Jan works


def test_a_window_in_calendar_days_that_ends_on_a_rest_day_moves_to_the_next_working_day() -> None:
    assert calendar_days_deadline(date(2026, 1, 10), 15) == date(2026, 1, 26)  # Sunday 25th -> Monday
    assert calendar_days_deadline(date(2026, 9, 24), 7) == date(2026, 10, 8)  # into National Day
    assert calendar_days_deadline(date(2026, 1, 12), 15) == date(2026, 1, 27)  # a Tuesday stays
    assert calendar_days_deadline(date(2026, 2, 13), 1) == date(2026, 2, 14)  # a make-up Saturday counts


def test_a_year_without_an_official_notice_is_refused_not_guessed() -> None:
    # 2027 is covered provisionally (statutory holidays only, tests/policy/test_calendar.py); 2028 is not
    with pytest.raises(CalendarNotCovered, match=r"no official notice for 2028.*cn-2028.yaml"):
        add_working_days(date(2027, 12, 28), 10)
    with pytest.raises(CalendarNotCovered, match="2019"):
        is_working_day(date(2019, 12, 30))  # the calendars start with 2020
    with pytest.raises(CalendarNotCovered):
        calendar_days_deadline(date(2027, 12, 20), 15)


def test_the_policy_names_its_calendar() -> None:
    assert CORPORATE.policy.procedure.calendar == "cn"
    assert policy_calendar(CORPORATE) is load_calendar("cn")
    assert set(policy_calendar(CORPORATE).years) >= {2024, 2025, 2026}


def fraud(decided: date = date(2026, 2, 1)):  # type: ignore[no-untyped-def]
    return record(COMPANY, "procurement.fraud", decided, "Cai Ku 7", source="finance.procurement")


def statuses(lp: LoadedPolicy, recs, amends, cases, as_of: date):  # type: ignore[no-untyped-def]
    a = evaluate(lp, recs[0].subject, recs, amends, as_of)
    return a, listing_statuses(lp, a, recs, amends, cases)


def test_an_after_notice_listing_is_proposed_during_the_notice_period_then_in_force() -> None:
    recs = [fraud()]
    a, (s,) = statuses(CORPORATE, recs, [], [], date(2026, 2, 10))
    assert (s.stage, s.started, s.effective, s.objection_by) == (
        Stage.PROPOSED, date(2026, 2, 1), date(2026, 2, 11), date(2026, 3, 3))
    assert in_force_only(a, [s]).listings == []
    _, (s,) = statuses(CORPORATE, recs, [], [], date(2026, 2, 11))
    assert s.stage is Stage.IN_FORCE


def objection(target: str, filed: date, events: list[CaseEvent] | None = None, subject: str = COMPANY) -> CaseView:
    case = Case(kind=CaseKind.OBJECTION, subject=subject, target=target, filed=filed, filed_by="subject",
                text="wrong", deadline=filed + timedelta(days=14))
    return CaseView(case=case, events=events or [])


def test_an_open_objection_suspends_an_after_notice_listing_until_decided() -> None:
    recs = [fraud()]
    c = objection(f"record:{recs[0].id}", date(2026, 2, 5),
                  [CaseEvent(case="x", at=date(2026, 2, 20), actor="r", outcome=CaseStatus.REJECTED, reasons="no")])
    _, (s,) = statuses(CORPORATE, recs, [], [c], date(2026, 2, 15))
    assert s.stage is Stage.SUSPENDED and s.open_cases == [c.id]
    _, (s,) = statuses(CORPORATE, recs, [], [c], date(2026, 2, 20))
    assert s.stage is Stage.IN_FORCE


def test_a_repeated_objection_does_not_suspend_the_listing_again() -> None:
    recs = [fraud()]
    rejected = [CaseEvent(case="x", at=date(2026, 2, 16), actor="r", outcome=CaseStatus.REJECTED, reasons="no")]
    first = objection("list:procurement_blacklist", date(2026, 2, 12), rejected)
    again = objection("list:procurement_blacklist", date(2026, 2, 17))  # after the decision: appeal instead
    _, (s,) = statuses(CORPORATE, recs, [], [first, again], date(2026, 2, 13))
    assert s.stage is Stage.SUSPENDED and s.open_cases == [first.id]
    _, (s,) = statuses(CORPORATE, recs, [], [first, again], date(2026, 2, 17))
    assert s.stage is Stage.IN_FORCE and s.open_cases == []
    # an objection filed while the first was still open is not a repeat here (the service refuses it)
    early = objection("list:procurement_blacklist", date(2026, 2, 14))
    _, (s,) = statuses(CORPORATE, recs, [], [first, early], date(2026, 2, 17))
    assert s.stage is Stage.SUSPENDED and s.open_cases == [early.id]


def test_a_court_list_stays_in_force_while_an_objection_is_open() -> None:
    recs = [record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 1")]
    c = objection("list:shixin", date(2026, 1, 12), subject=PERSON)
    _, (s,) = statuses(SHIXIN, recs, [], [c], date(2026, 1, 13))
    assert s.stage is Stage.IN_FORCE and s.open_cases == [c.id] and "expedited" in s.reason


def test_a_renewal_does_not_start_a_new_notice_period() -> None:
    viol = [record(COMPANY, "customs.declaration_violation", d, f"G {i}", source="customs.gacc")
            for i, d in enumerate([date(2025, 3, 1), date(2025, 6, 1), date(2025, 9, 1), date(2026, 1, 5)])]
    _, (s,) = statuses(CORPORATE, viol, [], [], date(2026, 1, 6))
    assert s.since == date(2026, 1, 5) and s.started == date(2025, 9, 1)
    assert s.stage is Stage.IN_FORCE  # already in force since 2025-09-11, not proposed again


def test_a_serious_record_is_repairable_only_after_its_minimum_period() -> None:
    rec = fraud(date(2025, 3, 1))
    a = evaluate(CORPORATE, COMPANY, [rec], [], date(2026, 2, 28))
    listings = [(CORPORATE, x) for x in a.listings]
    early = repair_eligibility([CORPORATE], rec, [], listings, date(2026, 2, 28))
    assert not early.eligible and early.earliest == date(2026, 3, 1) and "serious" in early.reason
    assert repair_eligibility([CORPORATE], rec, [], listings, date(2026, 3, 1)).eligible
    # shixin: performance ends the listing at once (minimum 0 days for every severity)
    debt = record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 1")
    assert repair_eligibility([SHIXIN], debt, [], [], date(2026, 1, 10)).eligible


def test_repair_is_refused_where_the_list_does_not_admit_it_or_the_record_already_ended() -> None:
    rec = fraud(date(2024, 3, 1))
    strict = dataclasses.replace(CORPORATE, policy=CORPORATE.policy.model_copy(update={"lists": [
        x.model_copy(update={"exit": ["expiry", "annulment"]}) for x in CORPORATE.policy.lists]}))
    a = evaluate(strict, COMPANY, [rec], [], date(2026, 2, 1))
    verdict = repair_eligibility([strict], rec, [], [(strict, x) for x in a.listings], date(2026, 2, 1))
    assert not verdict.eligible and "not by repair" in verdict.reason
    done = [Amendment(record=rec.id, kind=AmendmentKind.ANNUL, effective=date(2025, 1, 1), reason="r", document="d")]
    assert "already ended" in repair_eligibility([CORPORATE], rec, done, [], date(2026, 2, 1)).reason
    assert not repair_eligibility([CORPORATE], fraud(date(2027, 1, 1)), [], [], date(2026, 2, 1)).eligible


def test_what_if_gives_expiry_and_the_earliest_repair_and_both_are_true() -> None:
    rec = fraud(date(2025, 6, 1))
    as_of = date(2026, 1, 15)
    changes = {c.how: c for c in what_if(CORPORATE, COMPANY, [rec], [], as_of)
               if c.goal == "off list procurement_blacklist"}
    assert changes["expiry"].on == date(2028, 5, 31)  # 1095 days after the decision
    assert changes["repair"].on == date(2026, 6, 1) and changes["repair"].records == [rec.id]
    fix = Amendment(record=rec.id, kind=AmendmentKind.REPAIR, effective=date(2026, 6, 1), reason="r", document="d")
    assert "procurement_blacklist" not in evaluate(CORPORATE, COMPANY, [rec], [fix], date(2026, 6, 1)).listed_on()
    assert "procurement_blacklist" in evaluate(CORPORATE, COMPANY, [rec], [], date(2028, 5, 30)).listed_on()


def test_what_if_never_suggests_leaving_a_red_list() -> None:
    aeo = record(COMPANY, "customs.aeo_certification", date(2025, 1, 1), "AEO 1", source="customs.gacc")
    assert "customs_aeo" in evaluate(CORPORATE, COMPANY, [aeo], [], date(2026, 1, 1)).listed_on()
    assert not [c for c in what_if(CORPORATE, COMPANY, [aeo], [], date(2026, 1, 1)) if "customs_aeo" in c.goal]


def test_what_if_finds_the_way_up_a_tier() -> None:
    damage = [record(PERSON, "admin.damage_public_utilities", date(2025, 11, d), f"R {d}", source="city.credit_office")
              for d in (1, 2, 3, 4, 5)]
    as_of = date(2026, 1, 1)
    now = evaluate(RONGCHENG, PERSON, damage, [], as_of)
    assert now.tier == "D"
    ups = [c for c in what_if(RONGCHENG, PERSON, damage, [], as_of) if c.goal.startswith("tier D")]
    assert {c.how for c in ups} == {"expiry", "repair"}
    for c in ups:
        fixes = [Amendment(record=r, kind=AmendmentKind.REPAIR, effective=c.on, reason="r", document="d")
                 for r in c.records]
        assert evaluate(RONGCHENG, PERSON, damage, fixes, c.on).tier != "D"
    expiry = next(c for c in ups if c.how == "expiry")
    assert expiry.on == date(2027, 11, 1) and damage[0].id[:12] in expiry.explanation  # validity 730 days
    repair = next(c for c in ups if c.how == "repair")
    # 500 points; repairing the oldest finding gives 600 (C), 90 days (general) after its decision
    assert repair.on == date(2026, 1, 30) and repair.records == [damage[0].id]


def test_timeline_of_a_tier_listing_proposed_in_force_and_expired() -> None:
    damage = [record(PERSON, "admin.damage_public_utilities", date(2025, 11, d), f"R {d}", source="city.credit_office")
              for d in (1, 2, 3, 4, 5)]
    steps = timeline(RONGCHENG, PERSON, damage, [], [], date(2027, 1, 1))
    assert [(t.on, t.stage) for t in steps] == [
        (date(2025, 11, 5), "proposed"),  # the fifth finding: 500 points, tier D
        (date(2025, 11, 20), "in_force"),  # after 15 days' notice
        (date(2026, 11, 5), "ended"),  # at most one year
    ]
    assert "maximum duration" in steps[-1].why


decisions = st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 30)), min_size=1, max_size=4)
TYPES = st.sampled_from(["customs.declaration_violation", "procurement.fraud", "customs.smuggling_penalty"])


@settings(max_examples=40, deadline=None)
@given(decisions, st.lists(TYPES, min_size=4, max_size=4), st.dates(min_value=date(2024, 1, 1),
                                                                     max_value=date(2027, 1, 1)))
def test_stages_follow_the_notice_period_and_what_if_claims_hold(found: list[date], types: list[str],
                                                                  as_of: date) -> None:
    source = {"procurement.fraud": "finance.procurement"}
    recs = [record(COMPANY, t, d, f"doc {i}", source=source.get(t, "customs.gacc"))
            for i, (d, t) in enumerate(zip(found, types, strict=False))]
    a, stats = statuses(CORPORATE, recs, [], [], as_of)
    assert [s.list_id for s in stats] == [x.list_id for x in a.listings]
    for s in stats:
        lst = CORPORATE.policy.list_def(s.list_id)
        assert s.started <= s.since <= as_of
        before = evaluate(CORPORATE, COMPANY, recs, [], s.started - timedelta(days=1))
        assert s.list_id not in before.listed_on()  # the episode really starts there
        if lst.takes_effect == "immediately":
            assert s.stage is Stage.IN_FORCE
        else:
            assert (s.stage is Stage.PROPOSED) == (as_of < s.started + timedelta(days=10))
    for change in what_if(CORPORATE, COMPANY, recs, [], as_of):
        fixes = [Amendment(record=r, kind=AmendmentKind.REPAIR, effective=change.on, reason="r", document="d")
                 for r in change.records]
        after = evaluate(CORPORATE, COMPANY, recs, fixes, change.on)
        if change.goal.startswith("off list "):
            assert change.goal.removeprefix("off list ") not in after.listed_on()
        assert change.on > as_of or change.how == "repair"


@settings(max_examples=30, deadline=None)
@given(decisions, st.lists(TYPES, min_size=4, max_size=4), st.dates(min_value=date(2024, 1, 1),
                                                                     max_value=date(2027, 6, 1)))
def test_a_timeline_from_a_date_is_the_tail_of_the_whole_timeline(found: list[date], types: list[str],
                                                                   after: date) -> None:
    source = {"procurement.fraud": "finance.procurement"}
    recs = [record(COMPANY, t, d, f"doc {i}", source=source.get(t, "customs.gacc"))
            for i, (d, t) in enumerate(zip(found, types, strict=False))]
    end = date(2029, 1, 1)
    whole = timeline(CORPORATE, COMPANY, recs, [], [], end)
    assert timeline(CORPORATE, COMPANY, recs, [], [], end, after=after) == [t for t in whole if t.on > after]
