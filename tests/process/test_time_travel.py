"""A walk through time, day by day: listings through objection, appeal window, repair and expiry,
across the 2026 Spring Festival and National Day holidays, with the public list checked on every day
against the reference evaluator's listings in force (due process and the publication window applied)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from xinyong.model.case import CaseStatus
from xinyong.service.publication import published_rows
from xinyong.service.registry import Registry
from xinyong.store import FullStore

from .conftest import COMPANY, OTHER_PERSON, PERSON, People, record


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _reference(reg: Registry, list_id: str, subjects: list[str], day: date) -> list[tuple[str, date]]:
    lp = next(lp for lp in reg.policies(day) if any(x.id == list_id for x in lp.policy.lists))
    window = lp.policy.list_def(list_id).publication.days
    out = []
    for key in subjects:
        for plp, a in reg.assess_in_force(key, day):
            if plp.policy.id == lp.policy.id:
                out += [(key, x.since) for x in a.listings
                        if x.list_id == list_id and (window is None or day < x.since + timedelta(days=window))]
    return sorted(out)


def test_the_public_list_is_right_on_every_day_of_a_listing(people: People, store: FullStore) -> None:
    if store.dialect != "duckdb":  # the rule is above the store; the walk is long: one backend suffices
        pytest.skip("walked on DuckDB; the publication logic is the same on every backend")
    debt = record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) Jing 0105 Zhi 9")
    old = record(OTHER_PERSON, "court.refuse_perform", date(2024, 3, 1), "(2024) Jing 0105 Zhi 1")  # expires
    fraud = record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 9", source="finance.procurement")
    store.add_records([debt, old, fraud])
    subjects = [PERSON, OTHER_PERSON, COMPANY]
    reg = people.registry("public")
    # the debtor objects and is refused before the Spring Festival; the company objects during its
    # notice period (the listing is suspended) and is refused after the holiday
    debtor_case = people.cases("subject").object(PERSON, "list:shixin", "paid", date(2026, 1, 12),
                                                 evidence=["receipt"])
    company_case = people.cases("subject").object(COMPANY, "list:procurement_blacklist", "not ours",
                                                  date(2026, 2, 5), evidence=["contract"])
    assert company_case.case.deadline == date(2026, 2, 26)  # 10 working days across the Spring Festival
    people.cases("reviewer:li").decide(debtor_case.id, CaseStatus.REJECTED, "another debt", date(2026, 1, 16))
    people.cases("reviewer:li").decide(company_case.id, CaseStatus.REJECTED, "the bid was theirs", date(2026, 2, 26))
    # the debtor performs after the National Day holiday and is repaired
    repair = people.cases("subject").repair(PERSON, debt.id, "paid in full", date(2026, 10, 8), evidence=["bank"])
    people.cases("reviewer:wang").decide(repair.id, CaseStatus.GRANTED, "the court confirms", date(2026, 10, 8))

    walk = _days(date(2026, 1, 5), date(2026, 3, 10)) + _days(date(2026, 9, 25), date(2026, 10, 15))
    seen: dict[str, set[str]] = {"shixin": set(), "procurement_blacklist": set()}
    for day in walk:
        for list_id in seen:
            _, rows = published_rows(reg, list_id, day)
            got = sorted((r.subject, r.since) for r in rows)
            assert got == _reference(reg, list_id, subjects, day), (list_id, day)
            seen[list_id] |= {s for s, _ in got}
    # the walk saw each listing published, and each end: expiry, suspension, repair
    assert seen == {"shixin": {PERSON, OTHER_PERSON}, "procurement_blacklist": {COMPANY}}
    on = {day: {r.subject for r in published_rows(reg, "shixin", day)[1]} for day in
          (date(2026, 2, 28), date(2026, 3, 1), date(2026, 10, 7), date(2026, 10, 8))}
    assert OTHER_PERSON in on[date(2026, 2, 28)] and OTHER_PERSON not in on[date(2026, 3, 1)]  # expiry
    assert PERSON in on[date(2026, 10, 7)] and PERSON not in on[date(2026, 10, 8)]  # repaired that day
    company = {day: COMPANY in {r.subject for r in published_rows(reg, "procurement_blacklist", day)[1]}
               for day in (date(2026, 2, 12), date(2026, 2, 25), date(2026, 2, 26))}
    assert company == {date(2026, 2, 12): False, date(2026, 2, 25): False, date(2026, 2, 26): True}
