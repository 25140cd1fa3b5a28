"""The reference evaluator and decide, rule by rule, on small policies written inline.

Each test states one clause of the semantics in evaluate.py's docstring and checks it at the boundary
(the last day something holds and the first day it does not).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from xinyong.model.assessment import Assessment, CapAdjustment, Effect
from xinyong.model.errors import CharterViolation
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.decide import PolicyState, action_covers, applied_measures, decide, decide_states
from xinyong.policy.evaluate import evaluate, rule_points
from xinyong.policy.explain import describe
from xinyong.policy.loader import LoadedPolicy, load_policy_text
from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    NotCondition,
    RecordCondition,
    ScoreRule,
    TierCondition,
)

ORG = "cn.uscc:914403001922038216"
PERSON = "cn.ric:11010519491231002X"
D0 = date(2025, 3, 1)

CATALOGUE = """\
kind: catalogue
record_types:
  - {id: t.fine, name: Fine, category: administrative_penalty, legal_basis: Law 1,
     default_validity_days: 365, amount_unit: CNY}
  - {id: t.breach, name: Breach, category: contract_performance, legal_basis: Law 2,
     default_validity_days: 730}
  - {id: t.good, name: Good deed, category: volunteering, polarity: positive, legal_basis: Law 3,
     default_validity_days: 730}
  - {id: t.other, name: Unscored, category: taxation, legal_basis: Law 4, default_validity_days: 365}
sources:
  - {id: s.agency, name: Agency, may_submit: [t.fine, t.breach, t.good, t.other]}
"""

HEADER = """\
kind: policy
id: p
version: "1"
title: Test policy
catalogue: catalogue.yaml
"""


def load(body: str) -> LoadedPolicy:
    return load_policy_text(HEADER + body, CATALOGUE, "p.yaml")


def rec(type_: str, decided: date, amount: str | None = None, *, subject: str = ORG,
        doc: str = "doc") -> Record:
    return Record(subject=subject, source="s.agency", type=type_, occurred=decided, decided=decided,
                  document=doc, amount=None if amount is None else Decimal(amount))


def amend(record: Record, kind: AmendmentKind, effective: date, amount: str | None = None,
          reason: str = "reason") -> Amendment:
    return Amendment(record=record.id, kind=kind, effective=effective, reason=reason, document="a-doc",
                     amount=None if amount is None else Decimal(amount))


def run(lp: LoadedPolicy, records: list[Record], as_of: date, amendments: list[Amendment] | None = None,
        subject: str = ORG) -> Assessment:
    return evaluate(lp, subject, records, amendments or [], as_of)


SCORED = load("""
scoring:
  base: 100
  rules:
    - {type: t.fine, points_per_unit: -1, unit: 1000, max_points: 20}
    - {type: t.breach, points: -10, counts_for_days: 100}
    - {type: t.good, points: 5}
""")


# --- counting ---------------------------------------------------------------------------------------


def test_no_records_gives_the_base() -> None:
    a = run(SCORED, [], D0)
    assert (a.score, a.tier, a.listings, a.contributions, a.caps) == (100, None, [], [], [])
    assert (a.policy, a.policy_version, a.subject, a.as_of) == ("p", "1", ORG, D0)


def test_counts_for_days_ends_counting_but_not_activity() -> None:
    r = rec("t.breach", D0)
    assert run(SCORED, [r], D0).score == 90                        # counts from its decision day
    assert run(SCORED, [r], D0 + timedelta(days=99)).score == 90
    last = run(SCORED, [r], D0 + timedelta(days=100))
    assert last.score == 100
    (c,) = last.contributions
    assert not c.counted and c.points == 0 and "until 2025-06-09" in c.note


def test_without_counts_for_days_a_record_counts_for_its_type_validity() -> None:
    r = rec("t.good", D0)
    assert run(SCORED, [r], D0 + timedelta(days=729)).score == 105
    gone = run(SCORED, [r], D0 + timedelta(days=730))
    assert gone.score == 100
    assert "no longer active since 2027-03-01 (validity 730 days)" in gone.contributions[0].note


def test_points_per_unit_counts_whole_units_only() -> None:
    assert run(SCORED, [rec("t.fine", D0, "12999.99")], D0).score == 100 - 12
    assert run(SCORED, [rec("t.fine", D0, "999.99")], D0).score == 100
    assert run(SCORED, [rec("t.fine", D0, None)], D0).score == 100   # no amount, no units


def test_max_points_clamps_each_record() -> None:
    a = run(SCORED, [rec("t.fine", D0, "50000", doc="1"), rec("t.fine", D0, "21000", doc="2")], D0)
    assert a.score == 100 - 20 - 20
    assert sorted(c.points for c in a.contributions) == [-20, -20]


@pytest.mark.parametrize(
    ("rule", "amount", "points"),
    [
        (ScoreRule(type="x", points=-7), None, -7),
        (ScoreRule(type="x", points=-70, max_points=30), None, -30),
        (ScoreRule(type="x", points=70, max_points=30), None, 30),
        (ScoreRule(type="x", points_per_unit=-2, unit=100), Decimal("350.99"), -6),
        (ScoreRule(type="x", points_per_unit=3, unit=100, max_points=7), Decimal("999"), 7),
        (ScoreRule(type="x", points_per_unit=-2, unit=100, max_points=7), Decimal("999"), -7),
        (ScoreRule(type="x", points_per_unit=-1, unit=1), Decimal("0.99"), 0),
    ],
)
def test_rule_points(rule: ScoreRule, amount: Decimal | None, points: int) -> None:
    assert rule_points(rule, amount) == points


def test_unscored_and_unknown_types_do_not_count() -> None:
    odd = Record(subject=ORG, source="s.agency", type="t.not_in_catalogue", occurred=D0, decided=D0,
                 document="x")
    a = run(SCORED, [rec("t.other", D0), odd], D0)
    assert a.score == 100
    (c,) = a.contributions                              # the unknown type is not even known
    assert c.type == "t.other" and not c.counted and "does not score" in c.note


def test_duplicated_records_count_once() -> None:
    r = rec("t.breach", D0)
    assert run(SCORED, [r, r, r], D0).score == 90


def test_records_decided_after_as_of_are_ignored() -> None:
    r = rec("t.breach", D0)
    a = run(SCORED, [r], D0 - timedelta(days=1))
    assert a.score == 100 and a.contributions == []


def test_records_of_another_subject_are_refused() -> None:
    other = rec("t.breach", D0, subject=PERSON)
    with pytest.raises(CharterViolation) as exc:
        run(SCORED, [rec("t.breach", D0), other], D0)
    assert exc.value.field == "records"
    assert PERSON in str(exc.value) and "charter rule 1" in str(exc.value)


# --- caps -------------------------------------------------------------------------------------------


def test_cap_per_year_clamps_each_calendar_year() -> None:
    lp = load("""
scoring:
  base: 0
  rules:
    - {type: t.good, points: 10}
    - {type: t.breach, points: -1}
  caps:
    - {types: [t.good], max: 15, per: year}
""")
    goods = [rec("t.good", date(2024, m, 1), doc=f"g{m}") for m in (3, 6, 9)]
    goods += [rec("t.good", date(2025, 1, 10), doc="h")]
    a = run(lp, [*goods, rec("t.breach", date(2025, 1, 5))], date(2025, 2, 1))
    # 2024: raw 30 capped at 15; 2025: 10 (under the cap); the breach is not capped
    assert a.score == 15 + 10 - 1
    assert a.caps == [CapAdjustment(cap=0, period="2024", raw=30, capped=15)]
    counted = sum(c.points for c in a.contributions if c.counted)
    assert a.score == 0 + counted + sum(x.capped - x.raw for x in a.caps)


def test_overall_cap_with_min_and_max() -> None:
    lp = load("""
scoring:
  base: 100
  rules:
    - {type: t.breach, points: -10}
    - {type: t.fine, points: -10}
    - {type: t.good, points: 10}
  caps:
    - {types: [t.breach, t.fine], min: -25}
    - {types: [t.good], min: 0, max: 10, per: all}
""")
    breaches = [rec("t.breach", D0, doc=str(i)) for i in range(2)] + [rec("t.fine", D0)]
    a = run(lp, breaches, D0)
    assert a.score == 75
    assert a.caps == [CapAdjustment(cap=0, period="all", raw=-30, capped=-25)]
    two = run(lp, breaches[:2], D0)
    assert two.score == 80 and two.caps == []                     # within bounds: no adjustment
    goods = [rec("t.good", D0 - timedelta(days=400 * i), doc=str(i)) for i in range(2)]
    a = run(lp, goods, D0)
    assert a.score == 110
    assert a.caps == [CapAdjustment(cap=1, period="all", raw=20, capped=10)]


# --- amendments -------------------------------------------------------------------------------------


def test_corrections_latest_effective_wins_and_only_from_its_date() -> None:
    r = rec("t.fine", D0, "10000")
    early = amend(r, AmendmentKind.CORRECT, D0 + timedelta(days=10), "3000")
    late = amend(r, AmendmentKind.CORRECT, D0 + timedelta(days=20), "5000")
    amendments = [late, early]
    assert run(SCORED, [r], D0 + timedelta(days=9), amendments).score == 90
    assert run(SCORED, [r], D0 + timedelta(days=10), amendments).score == 97
    assert run(SCORED, [r], D0 + timedelta(days=20), amendments).score == 95


def test_corrections_on_the_same_day_are_broken_by_amendment_id() -> None:
    r = rec("t.fine", D0, "10000")
    day = D0 + timedelta(days=5)
    a1 = amend(r, AmendmentKind.CORRECT, day, "1000", reason="first")
    a2 = amend(r, AmendmentKind.CORRECT, day, "2000", reason="second")
    winner = max((a1, a2), key=lambda a: a.id)
    expected = 100 - int(winner.amount or 0) // 1000
    assert run(SCORED, [r], day, [a1, a2]).score == expected
    assert run(SCORED, [r], day, [a2, a1]).score == expected


@pytest.mark.parametrize("kind", [AmendmentKind.ANNUL, AmendmentKind.REPAIR, AmendmentKind.EXPIRE])
def test_ending_amendments_act_from_their_effective_date(kind: AmendmentKind) -> None:
    r = rec("t.breach", D0)
    end = amend(r, kind, D0 + timedelta(days=30), reason="why")
    assert run(SCORED, [r], D0 + timedelta(days=29), [end]).score == 90
    a = run(SCORED, [r], D0 + timedelta(days=30), [end])
    assert a.score == 100
    (c,) = a.contributions
    assert not c.counted and c.note == f"{kind.value} on {D0 + timedelta(days=30)}: why"


def test_the_earliest_ending_amendment_is_reported() -> None:
    r = rec("t.breach", D0)
    ends = [amend(r, AmendmentKind.REPAIR, D0 + timedelta(days=9)),
            amend(r, AmendmentKind.ANNUL, D0 + timedelta(days=3))]
    (c,) = run(SCORED, [r], D0 + timedelta(days=10), ends).contributions
    assert c.note.startswith("annul on 2025-03-04")


def test_amendments_of_other_records_change_nothing() -> None:
    r, s = rec("t.breach", D0, doc="1"), rec("t.breach", D0, doc="2")
    a = run(SCORED, [r], D0 + timedelta(days=1), [amend(s, AmendmentKind.ANNUL, D0)])
    assert a.score == 90


# --- applies_to and policies without scoring ---------------------------------------------------------


def test_a_policy_for_persons_does_not_assess_organisations() -> None:
    lp = load("applies_to: [person]\nscoring: {base: 10, rules: [{type: t.breach, points: -1}]}\n"
              "tiers: [{name: A, min: 10}, {name: B}]\n")
    a = run(lp, [rec("t.breach", D0)], D0)
    assert (a.score, a.tier, a.listings, a.contributions) == (None, None, [], [])
    p = run(lp, [rec("t.breach", D0, subject=PERSON)], D0, subject=PERSON)
    assert (p.score, p.tier) == (9, "B")


def test_without_scoring_records_are_active_but_not_counted() -> None:
    lp = load("""
lists:
  - {id: l, name: L, kind: black, legal_basis: Law, max_duration_days: 100, entry: {types: [t.breach]}}
""")
    a = run(lp, [rec("t.breach", D0)], D0)
    assert a.score is None and a.tier is None
    assert a.contributions[0].note == "active; no scoring"
    assert a.listed_on() == {"l"}


# --- conditions and lists ---------------------------------------------------------------------------

LISTS = load("""
scoring:
  base: 100
  rules:
    - {type: t.breach, points: -30}
    - {type: t.good, points: 5}
tiers:
  - {name: A, min: 100}
  - {name: B, min: 50}
  - {name: D}
lists:
  - id: within
    name: Two fines within 30 days
    kind: black
    legal_basis: Law W
    max_duration_days: 365
    entry: {types: [t.fine], at_least: 2, within_days: 30}
  - id: amount
    name: Fines totalling 10000
    kind: black
    legal_basis: Law M
    max_duration_days: 365
    entry: {types: [t.fine], amount_at_least: 10000}
  - id: both
    name: A breach and a fine
    kind: black
    legal_basis: Law B
    max_duration_days: 365
    entry: {all: [{types: [t.breach]}, {types: [t.fine]}]}
  - id: either
    name: A breach or an unscored record
    kind: black
    legal_basis: Law E
    max_duration_days: 365
    entry: {any: [{types: [t.breach]}, {types: [t.other]}]}
  - id: good_no_breach
    name: A good deed and no breach
    kind: red
    legal_basis: Law G
    max_duration_days: 365
    entry: {all: [{types: [t.good]}, {not: {types: [t.breach]}}]}
  - id: only_not
    name: No breach at all
    kind: red
    legal_basis: Law N
    max_duration_days: 365
    entry: {not: {types: [t.breach]}}
  - id: low_tier
    name: Tier D
    kind: black
    legal_basis: Law T
    max_duration_days: 200
    entry: {tier_in: [D]}
""")


def listing(a: Assessment, list_id: str) -> tuple[date, date, list[str]]:
    (x,) = [x for x in a.listings if x.list_id == list_id]
    return x.since, x.until, x.triggered_by


def test_within_days_excludes_the_boundary_day() -> None:
    as_of = D0 + timedelta(days=30)
    old, new = rec("t.fine", D0, doc="1"), rec("t.fine", D0 + timedelta(days=20), doc="2")
    assert "within" not in run(LISTS, [old, new], as_of).listed_on()   # D0 = as_of - 30: outside
    nearer = rec("t.fine", D0 + timedelta(days=1), doc="3")
    a = run(LISTS, [nearer, new], as_of)
    assert listing(a, "within") == (new.decided, new.decided + timedelta(days=365),
                                    sorted([nearer.id, new.id]))


def test_amount_at_least_sums_corrected_amounts() -> None:
    r1, r2 = rec("t.fine", D0, "4000", doc="1"), rec("t.fine", D0 + timedelta(days=100), "5999.99", doc="2")
    as_of = D0 + timedelta(days=200)
    assert "amount" not in run(LISTS, [r1, r2], as_of).listed_on()
    bump = amend(r1, AmendmentKind.CORRECT, D0 + timedelta(days=150), "4000.01")
    assert listing(run(LISTS, [r1, r2], as_of, [bump]), "amount")[0] == r2.decided
    assert "amount" not in run(LISTS, [r1, r2], D0 + timedelta(days=149), [bump]).listed_on()


def test_all_takes_the_latest_trigger_of_its_parts() -> None:
    b, f = rec("t.breach", D0), rec("t.fine", D0 + timedelta(days=40))
    a = run(LISTS, [b, f], D0 + timedelta(days=50))
    assert listing(a, "both") == (f.decided, f.decided + timedelta(days=365), sorted([b.id, f.id]))
    assert "both" not in run(LISTS, [b], D0 + timedelta(days=50)).listed_on()


def test_any_takes_the_latest_trigger_of_the_parts_that_hold() -> None:
    b, o = rec("t.breach", D0), rec("t.other", D0 + timedelta(days=10))
    assert listing(run(LISTS, [b], D0 + timedelta(days=50)), "either")[0] == D0
    since, _, by = listing(run(LISTS, [b, o], D0 + timedelta(days=50)), "either")
    assert since == o.decided and by == sorted([b.id, o.id])
    assert "either" not in run(LISTS, [rec("t.fine", D0)], D0).listed_on()


def test_not_contributes_no_trigger_and_alone_lists_nobody() -> None:
    g = rec("t.good", D0)
    a = run(LISTS, [g], D0 + timedelta(days=5))
    assert listing(a, "good_no_breach") == (D0, D0 + timedelta(days=365), [g.id])
    assert "only_not" not in a.listed_on()           # no finding, no since date: nobody is listed
    b = rec("t.breach", D0 + timedelta(days=1))
    assert "good_no_breach" not in run(LISTS, [g, b], D0 + timedelta(days=5)).listed_on()


def test_a_newer_record_renews_the_listing() -> None:
    first, second = rec("t.fine", D0, "10000", doc="1"), rec("t.fine", D0 + timedelta(days=300), doc="2")
    end_first = D0 + timedelta(days=365)
    assert "amount" in run(LISTS, [first], end_first - timedelta(days=1)).listed_on()
    assert "amount" not in run(LISTS, [first], end_first).listed_on()       # until is exclusive
    # the second fine renews the period (the first is no longer active after 365 days of validity,
    # so check before that): since moves to the newer decision
    renewed = run(LISTS, [first, second], end_first - timedelta(days=1))
    assert listing(renewed, "amount")[:2] == (second.decided, second.decided + timedelta(days=365))


def test_tier_list_starts_at_the_latest_counted_record() -> None:
    breaches = [rec("t.breach", D0 + timedelta(days=10 * i), doc=str(i)) for i in range(2)]
    a = run(LISTS, breaches, D0 + timedelta(days=30))
    assert (a.score, a.tier) == (40, "D")
    since, until, by = listing(a, "low_tier")
    assert since == breaches[1].decided and until == since + timedelta(days=200)
    assert by == sorted(r.id for r in breaches)
    after = run(LISTS, breaches, since + timedelta(days=200))
    assert after.tier == "D" and "low_tier" not in after.listed_on()   # the listing has a maximum


def test_tier_list_needs_a_record_behind_it() -> None:
    lp = load("""
scoring: {base: 10}
tiers: [{name: A, min: 50}, {name: D}]
lists:
  - {id: d, name: D, kind: black, legal_basis: L, max_duration_days: 10, entry: {tier_in: [D]}}
""")
    a = run(lp, [], D0)
    assert a.tier == "D" and a.listings == []


def test_a_good_deed_does_not_renew_a_tier_black_listing() -> None:
    breaches = [rec("t.breach", D0, doc=str(i)) for i in range(2)]
    good = rec("t.good", D0 + timedelta(days=100))
    a = run(LISTS, [*breaches, good], D0 + timedelta(days=150))
    assert (a.score, a.tier) == (45, "D")
    assert listing(a, "low_tier")[0] == D0


def test_tier_condition_in_a_tier_and_tiers_best_first() -> None:
    lp = load("""
scoring:
  base: 100
  rules: [{type: t.breach, points: -10}, {type: t.good, points: 1}]
tiers:
  - {name: NEW, min: 95, when: {all: [{types: [t.good], within_days: 30}, {not: {types: [t.breach]}}]}}
  - {name: A, min: 100}
  - {name: B, min: 90}
  - {name: C}
""")
    g = rec("t.good", D0)
    assert run(lp, [g], D0 + timedelta(days=29)).tier == "NEW"
    assert run(lp, [g], D0 + timedelta(days=30)).tier == "A"
    b = rec("t.breach", D0)
    assert run(lp, [g, b], D0 + timedelta(days=1)).tier == "B"
    assert run(lp, [b, rec("t.breach", D0, doc="2")], D0).tier == "C"


def test_a_list_without_maximum_duration_is_refused_when_it_would_list() -> None:
    lp = load("lists: [{id: l, name: L, kind: black, legal_basis: L, entry: {types: [t.breach]}}]\n")
    assert run(lp, [], D0).listings == []
    with pytest.raises(CharterViolation, match="maximum duration"):
        run(lp, [rec("t.breach", D0)], D0)


def test_conditions_on_others_or_on_attributes_are_refused() -> None:
    lp = load("lists: [{id: l, name: L, kind: black, legal_basis: L, max_duration_days: 9,"
              " entry: {types: [t.breach], subject: spouse_of_subject}}]\n")
    with pytest.raises(CharterViolation, match="charter rule 1"):
        run(lp, [], D0)
    lp = load("lists: [{id: l, name: L, kind: black, legal_basis: L, max_duration_days: 9,"
              " entry: {attribute: region, in: [north]}}]\n")
    with pytest.raises(CharterViolation, match="charter rule 3"):
        run(lp, [], D0)


# --- explanations -----------------------------------------------------------------------------------


def test_describe_renders_conditions_in_words() -> None:
    cond = AllCondition(all=[
        RecordCondition(types=["a", "b"], at_least=2, within_days=30, amount_at_least=Decimal(100)),
        AnyCondition(any=[TierCondition(tier_in=["C", "D"]),
                          NotCondition.model_validate({"not": {"types": ["c"]}})]),
        AttributeCondition.model_validate({"attribute": "region", "in": ["x"]}),
    ])
    assert describe(cond) == (
        "all of (at least 2 of [a, b] decided within 30 days with amounts totalling at least 100; "
        "any of (tier in [C, D]; not (a record of [c])); attribute region in [x])"
    )
    a = run(LISTS, [rec("t.breach", D0)], D0)
    (x,) = [x for x in a.listings if x.list_id == "either"]
    assert x.rule == "any of (a record of [t.breach]; a record of [t.other])" and x.legal_basis == "Law E"


# --- decisions --------------------------------------------------------------------------------------

MEASURES = load("""
scoring: {base: 0, rules: [{type: t.good, points: 1}]}
tiers: [{name: GOOD, min: 1}, {name: PLAIN}]
lists:
  - {id: deny_l, name: Deny, kind: black, legal_basis: L1, max_duration_days: 99,
     entry: {types: [t.breach]}}
  - {id: review_l, name: Review, kind: black, legal_basis: L2, max_duration_days: 99,
     entry: {types: [t.fine]}}
measures:
  - {id: m.deny, list: deny_l, action: travel.flight, effect: deny, agency: CAAC, legal_basis: Basis D}
  - {id: m.deny2, list: deny_l, action: travel, effect: deny, agency: Rail, legal_basis: Basis D}
  - {id: m.review, list: review_l, action: travel.flight.purchase, effect: review, agency: CAAC,
     legal_basis: Basis R}
  - {id: m.benefit, tiers: [GOOD], action: travel.flight, effect: benefit, agency: CAAC,
     legal_basis: Basis B, description: Priority boarding}
""")


def decision(records: list[Record], action: str) -> Effect:
    a = run(MEASURES, records, D0)
    return decide([(MEASURES.policy, a)], action, "test", D0).effect


@pytest.mark.parametrize(
    ("types", "effect"),
    [
        ([], Effect.ALLOW),
        (["t.good"], Effect.BENEFIT),
        (["t.good", "t.fine"], Effect.REVIEW),
        (["t.good", "t.fine", "t.breach"], Effect.DENY),
        (["t.fine", "t.breach"], Effect.DENY),
    ],
)
def test_precedence_deny_review_benefit_allow(types: list[str], effect: Effect) -> None:
    records = [rec(t, D0) for t in types]
    assert decision(records, "travel.flight.purchase") is effect


def test_action_prefix_matching() -> None:
    assert action_covers("travel.flight", "travel.flight")
    assert action_covers("travel.flight", "travel.flight.purchase.economy")
    assert not action_covers("travel.flight", "travel.flights")
    assert not action_covers("travel.flight", "travel")
    good = [rec("t.good", D0)]
    assert decision(good, "travel.flight.purchase") is Effect.BENEFIT
    assert decision(good, "travel.flightx") is Effect.ALLOW
    assert decision([rec("t.fine", D0)], "travel.flight") is Effect.ALLOW   # review is narrower
    assert decision([rec("t.breach", D0)], "travel.rail") is Effect.DENY    # m.deny2 covers travel.*


def test_decision_carries_winning_measures_and_bases_only() -> None:
    a = run(MEASURES, [rec("t.breach", D0), rec("t.fine", D0), rec("t.good", D0)], D0)
    d = decide([(MEASURES.policy, a)], "travel.flight.purchase", "ticket sale", D0)
    assert d.effect is Effect.DENY
    assert [m.measure for m in d.measures] == ["m.deny", "m.deny2"]
    assert [m.because for m in d.measures] == ["list:deny_l", "list:deny_l"]
    assert d.legal_basis == ["Basis D"]                   # deduplicated
    assert d.policy_versions == ["p@1"]
    assert d.id == decide([(MEASURES.policy, a)], "travel.flight.purchase", "ticket sale", D0).id
    assert d.id != decide([(MEASURES.policy, a)], "travel.flight", "ticket sale", D0).id
    benefit = applied_measures(PolicyState(MEASURES.policy, "GOOD", frozenset()), "travel.flight")
    assert [(m.measure, m.because, m.description) for m in benefit] == [
        ("m.benefit", "tier:GOOD", "Priority boarding")]
    assert applied_measures(PolicyState(MEASURES.policy, None, frozenset()), "travel.flight") == []


def test_decide_combines_policies_and_checks_dates() -> None:
    a = run(MEASURES, [rec("t.fine", D0)], D0)
    other = load("measures: []\n").policy.model_copy(update={"version": "2"})
    d = decide_states(ORG, [PolicyState.of(MEASURES.policy, a), PolicyState(other, None, frozenset())],
                      "travel.flight.purchase", "p", D0)
    assert d.effect is Effect.REVIEW and d.policy_versions == ["p@1", "p@2"]
    with pytest.raises(ValueError, match="as of"):
        decide([(MEASURES.policy, a)], "travel", "p", D0 + timedelta(days=1))
    empty = decide([], "travel", "p", D0)
    assert empty.effect is Effect.ALLOW and empty.measures == [] and empty.subject == ""
