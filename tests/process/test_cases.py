"""Due process end to end on a real DuckDB store, with explicit as-of dates (time travel)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from xinyong.model.assessment import Effect
from xinyong.model.case import CaseStatus, NoticeKind
from xinyong.model.errors import Forbidden, InvalidInput
from xinyong.service.notices import NoticeService
from xinyong.service.publication import published_rows
from xinyong.store import FullStore

from .conftest import COMPANY, OTHER_COMPANY, PERSON, People, record

FLIGHT = "transport.flight.purchase"
BID = "procurement.bid"


def effect(people: People, subject: str, action: str, day: date) -> Effect:
    return people.registry("airline").check(subject, action, "ticket sale", day).effect


def test_shixin_flight_case_repair_allows_the_same_day(people: People, store: FullStore) -> None:
    debt = record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) Jing 0105 Zhi 123", amount=250000)
    store.add_records([debt])
    assert effect(people, PERSON, FLIGHT, date(2026, 1, 9)) is Effect.ALLOW
    assert effect(people, PERSON, FLIGHT, date(2026, 1, 10)) is Effect.DENY  # court list: no notice period
    case = people.cases("subject").repair(PERSON, debt.id, "paid in full", date(2026, 3, 1),
                                          evidence=["bank transfer (2026) 0301"])
    assert case.case.expedited and case.case.deadline == date(2026, 3, 4)  # 3 working days from a Sunday
    assert effect(people, PERSON, FLIGHT, date(2026, 3, 1)) is Effect.DENY  # applied, not yet granted
    people.cases("reviewer:wang").decide(case.id, CaseStatus.GRANTED, "the court confirms performance",
                                         date(2026, 3, 1))
    assert effect(people, PERSON, FLIGHT, date(2026, 3, 1)) is Effect.ALLOW
    assert effect(people, PERSON, FLIGHT, date(2026, 2, 28)) is Effect.DENY  # history is unchanged
    kinds = [n.kind for n in NoticeService(people.registry("subject")).notices(PERSON, date(2026, 3, 1))]
    assert NoticeKind.LISTING_ENDED in kinds and NoticeKind.CASE_DECIDED in kinds


def test_a_proposed_listing_annulled_on_objection_never_takes_effect(people: People, store: FullStore) -> None:
    fraud = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement")
    control = record(OTHER_COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 8", source="finance.procurement")
    store.add_records([fraud, control])
    case = people.cases("subject").object(COMPANY, "list:procurement_blacklist", "the bid was not ours",
                                          date(2026, 2, 5), evidence=["contract 12"])
    assert not case.case.expedited
    assert case.case.deadline == date(2026, 2, 26)  # 10 official working days: the Spring Festival holiday
    # (15-23 February) does not count, the make-up Saturday 14 February does
    people.cases("reviewer:li").decide(case.id, CaseStatus.UPHELD, "the finding named the wrong supplier",
                                       date(2026, 2, 19))
    for n in range(0, 60):
        day = date(2026, 2, 2) + timedelta(days=n)
        assert effect(people, COMPANY, BID, day) is not Effect.DENY, day
    # the same finding without an objection takes effect after 10 days' notice
    assert effect(people, OTHER_COMPANY, BID, date(2026, 2, 11)) is not Effect.DENY
    assert effect(people, OTHER_COMPANY, BID, date(2026, 2, 12)) is Effect.DENY
    notices = NoticeService(people.registry("subject")).notices(COMPANY, date(2026, 3, 1))
    kinds = [n.kind for n in notices]
    assert NoticeKind.LISTING_PROPOSED in kinds and NoticeKind.LISTING_IN_FORCE not in kinds
    ended = next(n for n in notices if n.kind is NoticeKind.LISTING_ENDED)
    assert ended.issued == date(2026, 2, 19) and "annulled" in ended.body
    proposed = next(n for n in notices if n.kind is NoticeKind.LISTING_PROPOSED)
    assert proposed.act_by == date(2026, 3, 4) and "2026-02-12" in proposed.body


def test_batch_decisions_and_the_public_list_respect_due_process(people: People, store: FullStore) -> None:
    fraud = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement")
    control = record(OTHER_COMPANY, "procurement.fraud", date(2026, 1, 20), "Cai Ku 8", source="finance.procurement")
    store.add_records([fraud, control])
    reg = people.registry("bank")
    day = date(2026, 2, 6)
    batch = {d.subject: d.effect for d in reg.check_batch([COMPANY, OTHER_COMPANY], BID, "tender", day)}
    assert batch == {COMPANY: reg.check(COMPANY, BID, "tender", day).effect,
                     OTHER_COMPANY: Effect.DENY}
    assert batch[COMPANY] is not Effect.DENY  # proposed: in its notice period
    assert [r.subject for r in published_rows(reg, "procurement_blacklist", day)[1]] == [OTHER_COMPANY]
    people.cases("subject").object(OTHER_COMPANY, f"record:{control.id}", "wrong supplier", day)
    reg.evaluate(day)  # a fresh run does not know about objections: due process filters it
    assert reg.check_batch([OTHER_COMPANY], BID, "tender", day)[0].effect is not Effect.DENY
    assert published_rows(reg, "procurement_blacklist", day)[1] == []


def test_an_appeal_by_the_same_reviewer_is_refused(people: People, store: FullStore) -> None:
    fraud = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement")
    store.add_records([fraud])
    first = people.cases("subject").object(COMPANY, f"record:{fraud.id}", "not ours", date(2026, 2, 3))
    with pytest.raises(Forbidden):
        people.cases("subject").decide(first.id, CaseStatus.REJECTED, "own case", date(2026, 2, 4))
    with pytest.raises(InvalidInput, match="reasons"):
        people.cases("reviewer:li").decide(first.id, CaseStatus.REJECTED, " ", date(2026, 2, 4))
    with pytest.raises(InvalidInput, match="granted"):
        people.cases("reviewer:li").decide(first.id, CaseStatus.GRANTED, "x", date(2026, 2, 4))
    people.cases("reviewer:li").decide(first.id, CaseStatus.REJECTED, "the documents match", date(2026, 2, 10))
    assert effect(people, COMPANY, BID, date(2026, 2, 12)) is Effect.DENY  # in force after the rejection
    appeal = people.cases("subject").appeal(first.id, "the reviewer ignored the contract", date(2026, 2, 20))
    with pytest.raises(Forbidden, match="different reviewer"):
        people.cases("reviewer:li").decide(appeal.id, CaseStatus.UPHELD, "on reflection", date(2026, 2, 25))
    decided = people.cases("reviewer:zhao").decide(appeal.id, CaseStatus.UPHELD, "contract 12 shows another "
                                                   "supplier", date(2026, 2, 25))
    assert decided.status(date(2026, 2, 25)) is CaseStatus.UPHELD
    assert decided.status(date(2026, 2, 24)) is CaseStatus.OPEN
    assert effect(people, COMPANY, BID, date(2026, 2, 24)) is Effect.DENY
    assert effect(people, COMPANY, BID, date(2026, 2, 25)) is not Effect.DENY
    with pytest.raises(InvalidInput, match="window to appeal closed"):
        people.cases("subject").appeal(first.id, "again", date(2026, 6, 1))


def test_a_serious_penalty_cannot_be_repaired_before_its_minimum_window(people: People, store: FullStore) -> None:
    fraud = record(COMPANY, "procurement.fraud", date(2025, 3, 1), "Cai Ku 1", source="finance.procurement")
    store.add_records([fraud])
    subject = people.cases("subject")
    with pytest.raises(InvalidInput, match="may be repaired from 2026-03-01"):
        subject.repair(COMPANY, fraud.id, "fine paid, compliance programme", date(2026, 2, 28), evidence=["receipt"])
    case = subject.repair(COMPANY, fraud.id, "fine paid, compliance programme", date(2026, 3, 1), evidence=["receipt"])
    assert effect(people, COMPANY, BID, date(2026, 3, 2)) is Effect.DENY
    people.cases("reviewer:li").decide(case.id, CaseStatus.GRANTED, "obligations met", date(2026, 3, 2))
    assert effect(people, COMPANY, BID, date(2026, 3, 2)) is not Effect.DENY


def test_expiry_ends_measures_without_any_action(people: People, store: FullStore) -> None:
    debt = record(PERSON, "court.refuse_perform", date(2024, 1, 10), "(2024) Jing 0105 Zhi 7")
    store.add_records([debt])
    assert effect(people, PERSON, FLIGHT, date(2026, 1, 8)) is Effect.DENY
    assert effect(people, PERSON, FLIGHT, date(2026, 1, 9)) is Effect.ALLOW  # 730 days (2024 is a leap year)
    notices = NoticeService(people.registry("subject")).notices(PERSON, date(2026, 2, 1))
    ended = [n for n in notices if n.kind is NoticeKind.LISTING_ENDED]
    assert [n.issued for n in ended] == [date(2026, 1, 9)] and ended[0].body.startswith("Expired")


def test_objections_are_refused_outside_the_window_and_cases_are_audited(people: People, store: FullStore) -> None:
    debt = record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 9")
    store.add_records([debt])
    # 15 days from 10 January end on Sunday 25 January: the window runs to Monday the 26th
    with pytest.raises(InvalidInput, match="closed on 2026-01-26"):
        people.cases("subject").object(PERSON, "list:shixin", "late", date(2026, 1, 27))
    case = people.cases("subject").object(PERSON, "list:shixin", "paid before the decision", date(2026, 1, 20))
    assert case.case.expedited and case.case.deadline == date(2026, 1, 23)
    assert effect(people, PERSON, FLIGHT, date(2026, 1, 21)) is Effect.DENY  # court list stays in force
    with pytest.raises(InvalidInput, match="already filed"):
        people.cases("subject").object(PERSON, "list:shixin", "paid before the decision", date(2026, 1, 20))
    actions = [e.entry.action for e in store.audit_entries()]
    assert "case_filed" in actions and "notice" in actions
    assert people.registry("auditor").verify_audit().ok


def test_an_objection_to_an_amount_is_upheld_as_a_correction(people: People, store: FullStore) -> None:
    arrears = record(COMPANY, "tax.arrears", date(2026, 1, 5), "Shui Chu 3", source="tax.bureau", amount=300000)
    store.add_records([arrears])
    reg = people.registry("bank")
    before = next(a for lp, a in reg.assess(COMPANY, date(2026, 2, 1)) if lp.policy.id == "corporate")
    case = people.cases("subject").object(COMPANY, arrears.id, "we owed 50 000, not 300 000", date(2026, 1, 20))
    assert case.case.target == f"record:{arrears.id}"
    people.cases("reviewer:li").decide(case.id, CaseStatus.UPHELD, "the tax decision was amended",
                                       date(2026, 2, 1), amount=Decimal(50000))
    (fix,) = store.amendments_of(COMPANY)
    assert (fix.kind.value, fix.amount, fix.effective) == ("correct", Decimal(50000), date(2026, 2, 1))
    after = next(a for lp, a in reg.assess(COMPANY, date(2026, 2, 1)) if lp.policy.id == "corporate")
    assert before.score is not None and after.score is not None and after.score > before.score
    shown = people.cases("anyone").case(case.id)
    assert shown.decision(date(2026, 2, 1)) is not None and shown.events[0].amendments == [fix.id]


def test_repeated_objections_cannot_keep_a_listing_suspended(people: People, store: FullStore) -> None:
    """The exploit: object, be rejected, object again with other words, and so on for the whole window."""
    fraud = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement")
    store.add_records([fraud])
    subject, li = people.cases("subject"), people.cases("reviewer:li")
    assert effect(people, COMPANY, BID, date(2026, 2, 12)) is Effect.DENY  # in force after 10 days' notice
    first = subject.object(COMPANY, "list:procurement_blacklist", "the bid was not ours", date(2026, 2, 13))
    assert effect(people, COMPANY, BID, date(2026, 2, 13)) is not Effect.DENY  # suspended: the first objection
    with pytest.raises(InvalidInput, match=r"still open.*duplicate") as dup:
        subject.object(COMPANY, f"record:{fraud.id}", "the record is wrong too", date(2026, 2, 14))
    assert dup.value.field == "target" and first.id in dup.value.message
    li.decide(first.id, CaseStatus.REJECTED, "the documents match", date(2026, 2, 16))
    assert effect(people, COMPANY, BID, date(2026, 2, 16)) is Effect.DENY
    # every further objection to the same matter, against the listing or the record behind it, is refused
    # for the rest of the objection window (until 2026-03-04), and the listing stays in force
    for n, day in enumerate([date(2026, 2, 17), date(2026, 2, 24), date(2026, 3, 4)]):
        for target in ("list:procurement_blacklist", f"record:{fraud.id}"):
            with pytest.raises(InvalidInput, match=f"already decided.*appeal.*until 2026-04-17: xinyong cases "
                                                   f"appeal {first.id}") as refused:
                subject.object(COMPANY, target, f"objection number {n + 1}", day)
            assert refused.value.field == "target"
        assert effect(people, COMPANY, BID, day) is Effect.DENY, day
    assert [v.id for v in subject.cases(COMPANY)] == [first.id]
    with pytest.raises(InvalidInput, match="window to object closed"):
        subject.object(COMPANY, "list:procurement_blacklist", "late", date(2026, 3, 5))
    # the appeal is the next step, and it is unaffected (it does not suspend the listing)
    appeal = subject.appeal(first.id, "the reviewer ignored the contract", date(2026, 3, 5))
    assert effect(people, COMPANY, BID, date(2026, 3, 5)) is Effect.DENY
    people.cases("reviewer:zhao").decide(appeal.id, CaseStatus.UPHELD, "contract 12 shows another supplier",
                                         date(2026, 3, 9))
    assert effect(people, COMPANY, BID, date(2026, 3, 9)) is not Effect.DENY


def test_a_first_objection_to_another_record_behind_the_listing_is_still_heard(people: People,
                                                                              store: FullStore) -> None:
    one = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement")
    two = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 9", source="finance.procurement")
    store.add_records([one, two])
    subject = people.cases("subject")
    first = subject.object(COMPANY, f"record:{one.id}", "not ours", date(2026, 2, 13))
    people.cases("reviewer:li").decide(first.id, CaseStatus.REJECTED, "the documents match", date(2026, 2, 16))
    # the listing is the same matter as the record behind it: refused, naming the record not yet heard
    with pytest.raises(InvalidInput, match=f"cases appeal {first.id}.*record:{two.id}"):
        subject.object(COMPANY, "list:procurement_blacklist", "not ours either", date(2026, 2, 17))
    # the other finding has its own first objection (charter: every record may be objected to once)
    other = subject.object(COMPANY, f"record:{two.id}", "Cai Ku 9 names another supplier", date(2026, 2, 17))
    assert other.is_open(date(2026, 2, 17))
