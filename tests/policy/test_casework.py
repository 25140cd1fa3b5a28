"""The rules of case work on plain values, no store: deadlines, repeats, outcomes, notice texts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from xinyong.model.case import Case, CaseEvent, CaseKind, CaseStatus, CaseView, NoticeKind
from xinyong.model.record import AmendmentKind
from xinyong.policy.casework import (
    appeal_deadline,
    decision_notice,
    filed_notice,
    notice_period_lists,
    objection_deadline,
    outcome_amendments,
    repeat_objection,
    review_deadline,
)
from xinyong.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
SHIXIN = load_policy(ROOT / "policies/shixin.yaml")
CORPORATE = load_policy(ROOT / "policies/corporate.yaml")
PERSON = "cn.ric:11010519491231002X"
R1, R2 = "a" * 32, "b" * 32


def _objection(target: str, filed: date, deadline: date = date(2026, 3, 1)) -> Case:
    return Case(kind=CaseKind.OBJECTION, subject=PERSON, target=target, filed=filed, filed_by="subject",
                text="not mine", evidence=[], deadline=deadline, expedited=False)


def test_expedited_cases_are_decided_sooner_on_the_official_calendar() -> None:
    proc = SHIXIN.policy.procedure
    assert proc.expedited_review_working_days < proc.review_working_days
    # 2026-09-30 + 3 working days crosses the National Day holiday to the make-up Saturday 2026-10-10
    normal = review_deadline(date(2026, 9, 30), [SHIXIN], expedited=False)
    fast = review_deadline(date(2026, 9, 30), [SHIXIN], expedited=True)
    assert fast < normal and fast.month == 10 and fast.day >= 9


def test_windows_end_on_a_working_day() -> None:
    # a window that would end on a rest day ends on the next working day
    for decided in (date(2026, 1, 10), date(2026, 9, 20)):
        for end in (objection_deadline(decided, [CORPORATE]), appeal_deadline(decided, [CORPORATE])):
            assert end.weekday() < 5 or end == date(2026, 10, 10)


def test_one_objection_per_matter() -> None:
    first = _objection(f"record:{R1}", date(2026, 2, 1))
    open_view = CaseView(case=first, events=[])
    covers = lambda c: {c.target_id} if c.target_kind == "record" else {R1, R2}  # noqa: E731
    until = lambda c, d: date(2026, 4, 1)  # noqa: E731
    how = lambda case_id: f"appeal {case_id}"  # noqa: E731
    why = repeat_objection("list:shixin", {R1, R2}, [open_view], date(2026, 2, 5), covers, until, how)
    assert why is not None and "still open" in why and first.id in why
    decided = CaseView(case=first, events=[CaseEvent(case=first.id, at=date(2026, 2, 10), actor="reviewer:li",
                                                     outcome=CaseStatus.REJECTED, reasons="no", amendments=[])])
    why = repeat_objection("list:shixin", {R1, R2}, [decided], date(2026, 2, 12), covers, until, how)
    assert why is not None and "already decided" in why and f"appeal {first.id}" in why and f"record:{R2}" in why
    assert repeat_objection(f"record:{R2}", {R2}, [decided], date(2026, 2, 12), covers, until, how) is None


def test_outcomes_become_amendments_dated_on_the_decision() -> None:
    day = date(2026, 3, 2)
    listing_case = _objection("list:shixin", date(2026, 2, 1))
    annul = outcome_amendments(listing_case, "c1", CaseStatus.UPHELD, "wrong person", day, None, [R1, R2])
    assert [(a.record, a.kind, a.effective) for a in annul] == [(R1, AmendmentKind.ANNUL, day),
                                                                (R2, AmendmentKind.ANNUL, day)]
    record_case = _objection(f"record:{R1}", date(2026, 2, 1))
    fix = outcome_amendments(record_case, "c2", CaseStatus.UPHELD, "typo", day, Decimal("10"), [])
    assert fix[0].kind is AmendmentKind.CORRECT and fix[0].amount == Decimal("10")
    assert outcome_amendments(record_case, "c2", CaseStatus.REJECTED, "no", day, None, []) == []
    repair = Case(kind=CaseKind.REPAIR, subject=PERSON, target=f"record:{R1}", filed=day, filed_by="subject",
                  text="paid", evidence=["receipt"], deadline=day, expedited=True)
    assert outcome_amendments(repair, "c3", CaseStatus.GRANTED, "paid", day, None, [])[0].kind is AmendmentKind.REPAIR


def test_notice_texts_read_as_sentences() -> None:
    case = _objection(f"record:{R1}", date(2026, 2, 1))
    filed = filed_notice(case)
    assert filed.kind is NoticeKind.CASE_FILED and filed.body.endswith(".") and str(case.deadline) in filed.body
    decided = decision_notice(case, CaseStatus.REJECTED, "the receipt is for another debt", date(2026, 2, 9),
                              date(2026, 3, 11), "POST /v1/cases/x/appeal")
    assert "another debt. You may appeal" in decided.body and decided.act_by == date(2026, 3, 11)


def test_notice_period_lists() -> None:
    assert notice_period_lists(SHIXIN)[0] == []  # court lists take effect at once
    lists, days = notice_period_lists(CORPORATE)
    assert lists and days == CORPORATE.policy.procedure.notice_days
