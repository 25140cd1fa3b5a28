"""Properties of the reference evaluator on random records and amendments over the sample policies.

These hold for every input, not just the chosen cases: the score is explained exactly by its
contributions and cap adjustments; ended or expired records never count; the order of the input and
duplicate submissions do not matter.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from xinyong.model.assessment import Assessment
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.evaluate import ENDING_KINDS, evaluate
from xinyong.policy.loader import LoadedPolicy, load_policy, policy_conditions
from xinyong.policy.schema import RecordCondition

ROOT = Path(__file__).resolve().parents[2]
POLICIES = {
    "corporate": ("cn.uscc:914403001922038216", load_policy(ROOT / "policies/corporate.yaml")),
    "rongcheng": ("cn.ric:11010519491231002X", load_policy(ROOT / "policies/rongcheng.yaml")),
}
FIRST, LAST = date(2023, 6, 1), date(2026, 12, 31)
AS_OF = st.dates(min_value=date(2024, 6, 1), max_value=LAST)
AMOUNTS = st.one_of(st.none(), st.decimals(min_value=0, max_value=3_000_000, places=2))


def policy_types(lp: LoadedPolicy) -> list[str]:
    """The record types a policy scores or lists on: random records of other types would mostly be
    noise."""
    found = {rule.type for rule in lp.policy.scoring.rules} if lp.policy.scoring else set()
    for cond, _ in policy_conditions(lp.policy):
        if isinstance(cond, RecordCondition):
            found |= set(cond.types)
    return sorted(found)


@st.composite
def histories(draw: st.DrawFn, lp: LoadedPolicy, subject: str
              ) -> tuple[list[Record], list[Amendment]]:
    types = [*policy_types(lp), "court.refuse_perform"]      # and one type the policy does not read
    records = []
    for _ in range(draw(st.integers(0, 16))):
        decided = draw(st.dates(min_value=FIRST, max_value=LAST))
        records.append(Record(
            subject=subject, source="any.source", type=draw(st.sampled_from(types)),
            occurred=decided - timedelta(days=draw(st.integers(0, 90))), decided=decided,
            document=draw(st.sampled_from(["d1", "d2", "d3"])), amount=draw(AMOUNTS),
        ))
    amendments = []
    if records:
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(list(AmendmentKind)))
            amendments.append(Amendment(
                record=draw(st.sampled_from(records)).id, kind=kind,
                effective=draw(st.dates(min_value=FIRST, max_value=LAST)),
                reason=draw(st.sampled_from(["objection upheld", "paid"])), document="amend",
                amount=draw(st.decimals(min_value=0, max_value=3_000_000, places=2))
                if kind is AmendmentKind.CORRECT else None,
            ))
    return records, amendments


def cases(name: str) -> st.SearchStrategy[tuple[list[Record], list[Amendment], date]]:
    subject, lp = POLICIES[name]
    return st.tuples(histories(lp, subject), AS_OF).map(lambda t: (*t[0], t[1]))


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# finding one example is enough: no shrinking, no example database
FIND = settings(max_examples=3000, deadline=None, database=None, derandomize=True, phases=[Phase.generate])


def assess(name: str, records: list[Record], amendments: list[Amendment], as_of: date) -> Assessment:
    subject, lp = POLICIES[name]
    return evaluate(lp, subject, records, amendments, as_of)


def check_score_is_explained(name: str, records: list[Record], amendments: list[Amendment],
                             as_of: date) -> None:
    a = assess(name, records, amendments, as_of)
    base = POLICIES[name][1].policy.scoring.base  # type: ignore[union-attr]
    counted = sum(c.points for c in a.contributions if c.counted)
    assert all(c.points == 0 for c in a.contributions if not c.counted)
    assert a.score == base + counted + sum(x.capped - x.raw for x in a.caps)


def check_ended_records_never_count(name: str, records: list[Record], amendments: list[Amendment],
                                    as_of: date) -> None:
    _, lp = POLICIES[name]
    validity = {rt.id: rt.default_validity_days for rt in lp.catalogue.record_types}
    ended = {a.record for a in amendments if a.kind in ENDING_KINDS and a.effective <= as_of}
    expired = {r.id for r in records if as_of >= r.decided + timedelta(days=validity[r.type])}
    future = {r.id for r in records if r.decided > as_of}
    a = assess(name, records, amendments, as_of)
    for c in a.contributions:
        if c.record in ended or c.record in expired:
            assert not c.counted and c.points == 0
        assert c.record not in future
    gone = ended | expired | future
    for x in a.listings:
        assert not gone & set(x.triggered_by)
        assert x.since <= as_of < x.until


def check_order_and_duplicates_do_not_matter(name: str, records: list[Record],
                                             amendments: list[Amendment], as_of: date,
                                             seed: int) -> None:
    a = assess(name, records, amendments, as_of)
    rnd = random.Random(seed)
    shuffled_r, shuffled_a = records[:], amendments[:]
    rnd.shuffle(shuffled_r)
    rnd.shuffle(shuffled_a)
    assert assess(name, shuffled_r, shuffled_a, as_of) == a
    doubled = shuffled_r + [r.model_copy() for r in records[: rnd.randint(0, len(records))]]
    assert assess(name, doubled, amendments + amendments, as_of) == a


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_score_is_base_plus_contributions_plus_cap_adjustments(name: str) -> None:
    @SETTINGS
    @given(cases(name))
    def prop(case: tuple[list[Record], list[Amendment], date]) -> None:
        check_score_is_explained(name, *case)

    prop()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_expired_annulled_repaired_records_never_count(name: str) -> None:
    @SETTINGS
    @given(cases(name))
    def prop(case: tuple[list[Record], list[Amendment], date]) -> None:
        check_ended_records_never_count(name, *case)

    prop()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_order_and_duplicates_do_not_change_the_assessment(name: str) -> None:
    @SETTINGS
    @given(cases(name), st.integers(0, 2**32))
    def prop(case: tuple[list[Record], list[Amendment], date], seed: int) -> None:
        check_order_and_duplicates_do_not_matter(name, *case, seed)

    prop()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_strategies_reach_the_interesting_cases(name: str) -> None:
    """The properties are not vacuous: random histories do produce caps, counted points and
    records ended by amendments (Hypothesis finds an example of each)."""
    def with_caps(c: tuple[list[Record], list[Amendment], date]) -> bool:
        return bool(assess(name, *c).caps)

    def with_ended_record(c: tuple[list[Record], list[Amendment], date]) -> bool:
        notes = [x.note for x in assess(name, *c).contributions]
        return any(n.startswith(("annul", "repair", "expire")) for n in notes)

    def with_listing(c: tuple[list[Record], list[Amendment], date]) -> bool:
        return bool(assess(name, *c).listings)

    for predicate in (with_caps, with_ended_record, with_listing):
        example = find(cases(name), predicate, settings=FIND)
        assert predicate(example)
