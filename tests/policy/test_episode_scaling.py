"""Finding where a listing's episode started stays cheap on a file renewed daily for years, and finds
exactly the day the renewal-by-renewal walk finds.

The walk (copied below as the reference, as it was before it learned to jump) makes one full evaluation
per renewal; ``episode_start`` jumps over many renewals at once when the list's entry is monotone over the
file, and walks otherwise. Hypothesis compares the two on generated histories (bursts of renewals, gaps,
amendments that annul, repair, expire or correct records) under every sample policy, and the large files
count evaluations instead of timing them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.model.assessment import Listing
from xinyong.model.errors import OverBudget
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy import procedure
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy, load_policy, policy_conditions
from xinyong.policy.procedure import episode_start, listing_statuses
from xinyong.policy.schema import RecordCondition
from xinyong.service import status as status_module
from xinyong.service.status import subject_status

ROOT = Path(__file__).resolve().parents[2]
ORG = "cn.uscc:914403001922038216"
PERSON = "cn.ric:11010519491231002X"
POLICIES = {name: load_policy(ROOT / f"policies/{name}.yaml") for name in ("corporate", "rongcheng", "shixin")}
SUBJECTS = {"corporate": ORG, "rongcheng": PERSON, "shixin": PERSON}
FIRST, LAST = date(2023, 1, 1), date(2026, 6, 30)


def reference_episode_start(lp: LoadedPolicy, subject: str, records: Sequence[Record],
                            amendments: Sequence[Amendment], listing: Listing,
                            schemes: SchemeRegistry | None = None,
                            tick: Callable[[], None] | None = None) -> date:
    """The episode start as defined before: walk back one renewal at a time."""
    start = listing.since
    for _ in range(1000):
        if tick is not None:
            tick()
        before = evaluate(lp, subject, records, amendments, start - timedelta(days=1), schemes)
        prev = next((x for x in before.listings if x.list_id == listing.list_id), None)
        if prev is None or prev.since >= start:
            return start
        start = prev.since
    return start


def policy_types(lp: LoadedPolicy) -> list[str]:
    found = {rule.type for rule in lp.policy.scoring.rules} if lp.policy.scoring else set()
    for cond, _ in policy_conditions(lp.policy):
        if isinstance(cond, RecordCondition):
            found |= set(cond.types)
    return sorted(found)


@st.composite
def files(draw: st.DrawFn, name: str) -> tuple[list[Record], list[Amendment], list[date]]:
    """Bursts of renewals of one type (steps of days, sometimes a gap of months), a few stray records,
    amendments dated on or after their record, and a few as-of dates near the records. Half the files
    only deduct (no type that adds points, no correction), as the jump over a tier needs."""
    lp, subject = POLICIES[name], SUBJECTS[name]
    types = policy_types(lp)
    kinds = list(AmendmentKind)
    if draw(st.booleans()):
        adds = {r.type for r in lp.policy.scoring.rules if (r.points or r.points_per_unit or 0) > 0} \
            if lp.policy.scoring else set()
        types = [t for t in types if t not in adds]
        kinds = [k for k in kinds if k is not AmendmentKind.CORRECT]
    records: list[Record] = []
    for burst in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(types))
        day = draw(st.dates(min_value=FIRST, max_value=LAST))
        for i in range(draw(st.integers(1, 14))):
            other = draw(st.sampled_from([kind, kind, kind, *types]))
            records.append(Record(subject=subject, source="any.source", type=other, occurred=day,
                                  decided=day, document=f"b{burst}-{i}",
                                  amount=draw(st.sampled_from([None, 5_000, 60_000, 900_000]))))
            day += timedelta(days=draw(st.one_of(st.integers(0, 40), st.integers(100, 800))))
    amendments = []
    for _ in range(draw(st.integers(0, 5))):
        target = draw(st.sampled_from(records))
        kind = draw(st.sampled_from(kinds))
        amendments.append(Amendment(
            record=target.id, kind=kind, effective=target.decided + timedelta(days=draw(st.integers(0, 900))),
            reason="objection upheld", document="amend",
            amount=draw(st.sampled_from([0, 70_000, 2_000_000])) if kind is AmendmentKind.CORRECT else None))
    near = [r.decided + timedelta(days=draw(st.integers(0, 500))) for r in draw(
        st.lists(st.sampled_from(records), min_size=1, max_size=3))]
    return records, amendments, near


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(POLICIES))
@SETTINGS
@given(data=st.data())
def test_episode_start_agrees_with_the_walk(name: str, data: st.DataObject) -> None:
    lp, subject = POLICIES[name], SUBJECTS[name]
    records, amendments, days = data.draw(files(name))
    for as_of in days:
        for listing in evaluate(lp, subject, records, amendments, as_of).listings:
            expected = reference_episode_start(lp, subject, records, amendments, listing)
            assert episode_start(lp, subject, records, amendments, listing) == expected, (listing.list_id, as_of)


def _entry(lp: LoadedPolicy, list_id: str) -> object:
    return lp.policy.list_def(list_id).entry


def _record(subject: str, type_: str, decided: date, i: int) -> Record:
    return Record(subject=subject, source="any.source", type=type_, occurred=decided, decided=decided,
                  document=f"D{i}")


def test_which_entries_jump_and_which_walk() -> None:
    """The jump is taken only where it is provably the walk: record conditions, and the worst tiers over
    a file that only deducts; ``not``, and a tier over a file with additions, are walked."""
    corporate, rongcheng = POLICIES["corporate"], POLICIES["rongcheng"]
    deduction = [_record(PERSON, "court.breach_finding", FIRST, 0)]
    addition = [*deduction, _record(PERSON, "civic.volunteering", FIRST, 1)]
    mono = procedure._Monotony
    assert mono(POLICIES["shixin"], deduction, []).holds(POLICIES["shixin"].policy.lists[0].entry)
    assert mono(rongcheng, deduction, []).holds(rongcheng.policy.lists[0].entry)
    assert not mono(rongcheng, addition, []).holds(rongcheng.policy.lists[0].entry)
    fix = Amendment(record=deduction[0].id, kind=AmendmentKind.CORRECT, effective=FIRST, reason="r", document="d",
                    amount=1)
    assert not mono(rongcheng, deduction, [fix]).holds(rongcheng.policy.lists[0].entry)
    lists = {x.id: x.entry for x in corporate.policy.lists}
    org = [_record(ORG, "tax.evasion", FIRST, 0)]
    assert not mono(corporate, org, []).holds(lists["customs_aeo"])  # all [..., not ...]
    assert mono(corporate, org, []).holds(lists["customs_untrustworthy"])
    assert mono(corporate, org, []).holds(lists["procurement_blacklist"])  # any [record, tier D]


# --- a file renewed daily for years ---------------------------------------------------------------

AS_OF = date(2026, 3, 1)
RENEWALS = 1_500


def _daily(subject: str, type_: str, n: int = RENEWALS) -> list[Record]:
    return [_record(subject, type_, AS_OF - timedelta(days=i), i) for i in range(n)]


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: object, **kw: object) -> object:
        self.calls += 1
        return evaluate(*args, **kw)  # type: ignore[arg-type]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    counter = _Counter()
    for module in (procedure, status_module):
        monkeypatch.setattr(module, "evaluate", counter)
    return counter


@pytest.mark.parametrize(("name", "type_", "list_id", "first"), [
    # listed from the first finding: the episode is the whole history
    ("shixin", "court.refuse_perform", "shixin", AS_OF - timedelta(days=RENEWALS - 1)),
    # tier D (below 600 from 1000) from the ninth finding of -50 on
    ("rongcheng", "court.breach_finding", "rongcheng_untrustworthy", AS_OF - timedelta(days=RENEWALS - 9)),
])
def test_a_daily_renewed_file_costs_few_evaluations(counted: _Counter, name: str, type_: str, list_id: str,
                                                     first: date) -> None:
    lp = POLICIES[name]
    records = _daily(PERSON, type_)
    listing = next(x for x in evaluate(lp, PERSON, records, [], AS_OF).listings if x.list_id == list_id)
    counted.calls = 0
    assert episode_start(lp, PERSON, records, [], listing) == first
    # the walk evaluates once per renewal (it stops after 1 000, short of the first day)
    assert counted.calls < 150, counted.calls


def test_a_daily_renewed_file_gets_a_status_with_few_evaluations(counted: _Counter) -> None:
    """The whole status of a person renewed daily on two lists (shixin, and rongcheng's tier D)."""
    records = [*_daily(PERSON, "court.refuse_perform", RENEWALS // 2),
               *_daily(PERSON, "court.breach_finding", RENEWALS // 2)]
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    status = subject_status(list(POLICIES.values()), PERSON, records, [], [], AS_OF, default_schemes(), tick=tick)
    started = {s.list_id: s.started for p in status.policies for s in p.listings}
    assert started == {"shixin": AS_OF - timedelta(days=RENEWALS // 2 - 1),
                       "rongcheng_untrustworthy": AS_OF - timedelta(days=RENEWALS // 2 - 9)}
    assert counted.calls < 300, counted.calls
    assert ticks >= counted.calls  # the budget is asked before every evaluation


def test_the_budget_still_stops_the_search() -> None:
    lp = POLICIES["shixin"]
    records = _daily(PERSON, "court.refuse_perform", 300)
    a = evaluate(lp, PERSON, records, [], AS_OF)
    calls = 0

    def tick() -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise OverBudget("spent", budget=0.0, field="budget")

    with pytest.raises(OverBudget):
        listing_statuses(lp, a, records, [], [], tick=tick)
