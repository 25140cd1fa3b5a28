"""Time travel over one subject: the timeline of its listings, and "what would change my status".

Both are computed with the reference evaluator only (pure), by evaluating the subject on the dates where
something can change. An assessment changes only on such dates: a record is decided, leaves a
``within_days`` window, stops counting or being active, a listing reaches its maximum duration or the end
of its notice period, an amendment takes effect, or a case is filed or decided. Those dates are offsets
from records' decision dates, so they are found without searching day by day.

The counterfactual tries, per listing and for the tier, (a) doing nothing (expiry) and (b) repairing the
records behind it, each on the earliest day the policy allows (``procedure.repair_min_days``), adding
records in that order until the listing ends or the tier improves. Every answer is checked by evaluating
the amended file, so what it says is true; with several records the greedy order may miss a cheaper
combination, which it then does not claim to have found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Literal

from pydantic import Field

from xinyong.model.assessment import Assessment, ListKind
from xinyong.model.base import Frozen
from xinyong.model.case import CaseView
from xinyong.model.errors import InvalidInput
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import ListingStatus, listing_statuses, repair_earliest
from xinyong.policy.schema import AllCondition, AnyCondition, Condition, NotCondition, RecordCondition


def _within_days(cond: Condition | None) -> Iterator[int]:
    if isinstance(cond, RecordCondition) and cond.within_days is not None:
        yield cond.within_days
    elif isinstance(cond, AllCondition | AnyCondition):
        for c in cond.all if isinstance(cond, AllCondition) else cond.any:
            yield from _within_days(c)
    elif isinstance(cond, NotCondition):
        yield from _within_days(cond.not_)


def change_offsets(lp: LoadedPolicy) -> set[int]:
    """Day offsets from a decision date at which an assessment may change."""
    p = lp.policy
    out = {0, p.procedure.notice_days or 0}
    out |= {rt.default_validity_days for rt in lp.catalogue.record_types}
    if p.scoring is not None:
        out |= {r.counts_for_days for r in p.scoring.rules if r.counts_for_days}
    for lst in p.lists:
        out |= set(_within_days(lst.entry))
        if lst.max_duration_days:
            out.add(lst.max_duration_days)
    for t in p.tiers:
        out |= set(_within_days(t.when))
    return out


def change_dates(lp: LoadedPolicy, records: Sequence[Record], amendments: Sequence[Amendment],
                 cases: Sequence[CaseView] = ()) -> list[date]:
    """Every date on which the subject's assessment or listing stages may change, sorted."""
    offsets = change_offsets(lp)
    days = {r.decided + timedelta(days=k) for r in records for k in offsets}
    days |= {a.effective for a in amendments}
    days |= {c.case.filed for c in cases} | {e.at for c in cases for e in c.events}
    return sorted(days)


# --- the timeline ---------------------------------------------------------------------------------


class Transition(Frozen):
    """A listing changed stage on ``on``: proposed, in force, suspended, or ended (with why)."""

    on: date
    policy: str
    list_id: str = Field(alias="list")
    stage: Literal["proposed", "suspended", "in_force", "ended"]
    started: date
    why: str
    status: ListingStatus | None = None


def timeline(lp: LoadedPolicy, subject: str, records: Sequence[Record], amendments: Sequence[Amendment],
             cases: Sequence[CaseView], as_of: date, schemes: SchemeRegistry | None = None,
             after: date | None = None) -> list[Transition]:
    """Every stage change of the subject's listings up to and including ``as_of``, oldest first; with
    ``after``, only those after that date (the state on the last change date up to ``after`` is the
    starting point, so a daily sweep evaluates a few dates, not the whole history)."""
    out: list[Transition] = []
    current: dict[str, ListingStatus] = {}
    days = [d for d in change_dates(lp, records, amendments, cases) if d <= as_of]
    if after is not None:
        earlier = [d for d in days if d <= after]
        days = earlier[-1:] + [d for d in days if d > after]
    for day in days:
        a = evaluate(lp, subject, records, amendments, day, schemes)
        now = {s.list_id: s for s in listing_statuses(lp, a, records, amendments, cases, schemes)}
        if after is not None and day <= after:
            current = now
            continue
        for list_id, before in current.items():
            then = now.get(list_id)
            if then is None or then.started != before.started:
                out.append(Transition(on=day, policy=lp.policy.id, list_id=list_id, stage="ended",
                                      started=before.started, why=_why_ended(before, amendments, day)))
        for list_id, then in now.items():
            before_s = current.get(list_id)
            if before_s is None or before_s.started != then.started or before_s.stage != then.stage:
                out.append(Transition(on=day, policy=lp.policy.id, list_id=list_id, stage=then.stage.value,
                                      started=then.started, why=then.reason, status=then))
        current = now
    return out


def _why_ended(before: ListingStatus, amendments: Sequence[Amendment], day: date) -> str:
    acts = sorted({a.kind.value for a in amendments if a.record in before.triggered_by and a.effective == day})
    if "annul" in acts:
        return "annulled: a record behind it was annulled"
    if "repair" in acts:
        return "ended by credit repair (obligation performed)"
    if acts:
        return f"ended: a record behind it was amended ({', '.join(acts)})"
    if day >= before.until:
        return f"expired: maximum duration reached on {before.until}"
    return "expired: the records behind it are no longer active"


# --- what would change my status ------------------------------------------------------------------


class Change(Frozen):
    """One way the subject's status would change, and the earliest date it would."""

    policy: str
    goal: str = Field(description="e.g. 'off list shixin' or 'tier C -> B'")
    how: Literal["expiry", "repair"]
    records: list[str] = Field(description="Records to repair (empty for expiry)")
    on: date
    explanation: str


def _tier_rank(lp: LoadedPolicy, tier: str | None) -> int:
    names = [t.name for t in lp.policy.tiers]
    return names.index(tier) if tier in names else len(names)


def _off_list(list_id: str) -> Callable[[Assessment], bool]:
    return lambda a: list_id not in a.listed_on()


#: The most records a "what would change my status" answer considers. Each evaluation of a file is
#: linear in its records and the search below makes O(log n) of them per goal; beyond this size the
#: answer is refused with a clear error instead of tying up a worker (a reviewer can still answer it).
MAX_WHAT_IF_RECORDS = 2_000


def _first(days: Sequence[date], holds: Callable[[date], bool]) -> date | None:
    """The first day in ``days`` where ``holds`` is true, by bisection: with the records fixed, time only
    ends things (records stop counting, windows pass, listings reach their duration), so a goal that holds
    keeps holding. The day found is checked; if an odd policy breaks monotony the answer may be later
    than the true first day, never false."""
    lo, hi = 0, len(days)
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(days[mid]):
            hi = mid
        else:
            lo = mid + 1
    return days[lo] if lo < len(days) and holds(days[lo]) else None


def what_if(lp: LoadedPolicy, subject: str, records: Sequence[Record], amendments: Sequence[Amendment],
            as_of: date, schemes: SchemeRegistry | None = None, tick: Callable[[], None] | None = None
            ) -> list[Change]:
    """For every black listing and for the tier: the earliest date by expiry, and by repairing records.

    Bounded: O(log n) evaluations per goal, each linear in the file; refused beyond
    :data:`MAX_WHAT_IF_RECORDS` records. ``tick`` is called before each evaluation (the caller's time
    budget: it may raise to stop the search; this module reads no clock)."""
    if len(records) > MAX_WHAT_IF_RECORDS:
        raise InvalidInput(f"what-if considers at most {MAX_WHAT_IF_RECORDS:,} records; this file has "
                           f"{len(records):,}: ask a reviewer", field="what_if")
    now = evaluate(lp, subject, records, amendments, as_of, schemes)
    future = [d for d in change_dates(lp, records, amendments) if d > as_of]
    by_id = {r.id: r for r in records}
    out: list[Change] = []
    seen: dict[tuple[date, tuple[str, ...]], Assessment] = {}

    def evaluated(day: date, extra: Sequence[Amendment] = ()) -> Assessment:
        key = (day, tuple(a.record for a in extra))
        if key not in seen:
            if tick is not None:
                tick()
            seen[key] = evaluate(lp, subject, records, [*amendments, *extra], day, schemes)
        return seen[key]

    goals: list[tuple[str, list[str], Callable[[Assessment], bool]]] = []
    for x in now.listings:
        if x.kind is not ListKind.BLACK:  # nobody wants off a red list
            continue
        goals.append((f"off list {x.list_id}", x.triggered_by, _off_list(x.list_id)))
    rank = _tier_rank(lp, now.tier)
    if now.tier is not None and rank > 0:
        better = lp.policy.tiers[rank - 1].name
        deductions = [c.record for c in now.contributions if c.counted and c.points < 0]
        goals.append((f"tier {now.tier} -> {better} or better", deductions,
                      lambda a: _tier_rank(lp, a.tier) < rank))
    for goal, behind, check in goals:
        day = _first(future, lambda d, check=check: check(evaluated(d)))  # type: ignore[misc]
        if day is not None:
            still = {c.record for c in evaluated(day).contributions if c.counted or c.note.startswith("active")}
            gone = sorted(set(behind) - still)
            why = (f"records {', '.join(g[:12] for g in gone)} stop counting or expire" if gone
                   else "the listing reaches its maximum duration")
            out.append(Change(policy=lp.policy.id, goal=goal, how="expiry", records=[], on=day,
                              explanation=f"without any action, {goal} on {day}: {why}"))
        if goal.startswith("off list ") and not {"repair", "obligation_fulfilled"} & set(
                lp.policy.list_def(goal.removeprefix("off list ")).exit):
            continue
        order = sorted((r for r in (by_id.get(i) for i in behind) if r is not None),
                       key=lambda r: (repair_earliest(lp, r), r.decided, r.id))
        def repaired(k: int, check: Callable[[Assessment], bool] = check, order: list[Record] = order
                     ) -> tuple[bool, date]:
            """Whether repairing the first ``k`` records of ``order`` reaches the goal, and on which day."""
            chosen = order[:k]
            when = max(as_of, *(repair_earliest(lp, r) for r in chosen))
            fixes = [Amendment(record=r.id, kind=AmendmentKind.REPAIR, effective=when, reason="what if",
                               document="what if") for r in chosen]
            return check(evaluated(when, fixes)), when

        # repairing more records never undoes the goal: bisect on how many, then confirm
        lo, hi = 1, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            if repaired(mid)[0]:
                hi = mid
            else:
                lo = mid + 1
        if order:
            ok, when = repaired(lo)
            if ok and (day is None or when < day):  # else doing nothing is as quick
                chosen = order[:lo]
                out.append(Change(policy=lp.policy.id, goal=goal, how="repair", records=[r.id for r in chosen],
                                  on=when, explanation=f"repairing {len(chosen)} record(s) "
                                  f"({', '.join(r.type for r in chosen)}) on {when}: {goal}"))
    return out
