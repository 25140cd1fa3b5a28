"""Due process as pure rules: deadlines, the lifecycle of a listing, and repair eligibility.

The reference evaluator (``evaluate.py``) and the compiled SQL say *whether the entry of a list holds*
and give the listing's ``since``; they do not read ``procedure``. Due process is a layer on top, so the
two executions keep one semantics and stay held equal by the differential test:

- a listing *episode* starts on the first day of an unbroken run of listings (a newer finding renews a
  listing, it does not start a new episode, so nobody is "proposed" again while already listed);
- after-notice lists take effect ``procedure.notice_days`` after the episode starts (the notice period);
  until then the listing is *proposed*: notified, open to objection, without measures;
- while an objection against the listing, or against a record behind it, is open, an after-notice
  listing is *suspended* (not in force); a list that ``takes_effect: immediately`` (court lists) stays
  in force and the objection is decided on the expedited deadline instead; a repeated objection (filed
  after one against the same target was decided: the next step is an appeal) suspends nothing;
- an upheld objection or a granted repair becomes an amendment (annul / correct / repair) that both
  engines already apply, so the listing ends from the decision date on and history stays recomputable.

No clock: every function takes its dates.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from enum import StrEnum

from pydantic import Field

from xinyong.model.assessment import Assessment, Listing
from xinyong.model.base import Frozen
from xinyong.model.case import CaseKind, CaseView
from xinyong.model.catalogue import Severity
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.calendar import DEFAULT_CALENDAR, WorkingCalendar, load_calendar
from xinyong.policy.evaluate import ENDING_KINDS, evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    Condition,
    ListDef,
    NotCondition,
    RecordCondition,
    ScoreRule,
    TierCondition,
)

# --- deadlines ------------------------------------------------------------------------------------
# Every deadline function takes the calendar as a parameter (a policy names its own:
# ``procedure.calendar``, see :func:`policy_calendar`); without one, China's official calendar applies.
# A day outside the years the calendar covers raises ``CalendarNotCovered``: refused, never guessed.


def _cal(calendar: WorkingCalendar | None) -> WorkingCalendar:
    return calendar if calendar is not None else load_calendar(DEFAULT_CALENDAR)


def policy_calendar(lp: LoadedPolicy) -> WorkingCalendar:
    """The working-day calendar the policy names (``procedure.calendar``)."""
    return load_calendar(lp.policy.procedure.calendar)


def is_working_day(day: date, calendar: WorkingCalendar | None = None) -> bool:
    """An official working day: public holidays are rest days, make-up weekend days (调休) are not."""
    return _cal(calendar).is_working_day(day)


def add_working_days(start: date, days: int, calendar: WorkingCalendar | None = None) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    With ``days == 0`` the result is ``start`` if it is a working day, else the next working day.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    cal = _cal(calendar)
    day = start
    while days:
        day += timedelta(days=1)
        days -= cal.is_working_day(day)
    return cal.next_working_day(day)


def working_days_between(start: date, end: date, calendar: WorkingCalendar | None = None) -> int:
    """Working days in (start, end]: the inverse of :func:`add_working_days` on working days."""
    cal = _cal(calendar)
    return sum(cal.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


def calendar_days_deadline(start: date, days: int, calendar: WorkingCalendar | None = None) -> date:
    """The last day of a window of ``days`` calendar days from ``start`` (objection, appeal).

    A window that would end on a rest day ends on the next working day instead, as Chinese procedural law
    counts periods (a period whose last day is a statutory rest day ends on the first day after it): a
    subject told "object until Sunday" may still object on Monday.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    return _cal(calendar).next_working_day(start + timedelta(days=days))


# --- the lifecycle of a listing ---------------------------------------------------------------------


class Stage(StrEnum):
    PROPOSED = "proposed"  # notified, in its notice period: no measures yet
    SUSPENDED = "suspended"  # an objection is open and the list does not take effect immediately
    IN_FORCE = "in_force"


class ListingStatus(Frozen):
    """Where a listing stands in due process as of a date."""

    policy: str
    list_id: str = Field(alias="list")
    stage: Stage
    since: date
    until: date
    started: date = Field(description="First day of the unbroken listing episode (the notice date)")
    effective: date = Field(description="Day the episode takes effect (after the notice period)")
    objection_by: date = Field(description="Last day to object to the listing")
    triggered_by: list[str]
    open_cases: list[str] = Field(default_factory=list)
    reason: str


def effective_date(lst: ListDef, lp: LoadedPolicy, started: date) -> date:
    if lst.takes_effect == "immediately":
        return started
    return started + timedelta(days=lp.policy.procedure.notice_days or 0)


def episode_start(lp: LoadedPolicy, subject: str, records: Sequence[Record], amendments: Sequence[Amendment],
                  listing: Listing, schemes: SchemeRegistry | None = None,
                  tick: Callable[[], None] | None = None, *, stop_at: date | None = None) -> date:
    """The first day of the unbroken run of listings that ``listing`` belongs to.

    ``stop_at``: the caller only asks whether the episode started after that day (is a listing still in
    its notice period?), so the search ends as soon as its start reaches that day or an earlier one and
    returns that start, not necessarily the first day of the episode. An answer after ``stop_at`` is
    exact.

    The episode is defined by walking back one renewal at a time (:func:`_walk_back`): if the list held
    the day before ``since``, the episode started at (or before) that listing's since. Walked literally,
    a file renewed daily for years costs one full evaluation per renewal, each linear in the file.

    When the list's entry is *monotone* over the file (:class:`_Monotony`), the same day is found with a
    logarithmic number of evaluations per jump over many renewals instead (:func:`_jump_back`). Otherwise
    the walk is kept: under a ``not``, or a tier over a file that also adds points, the list can hold
    again after a day it did not, and only the walk says which of those days the episode reaches. The
    walk gives up after 1 000 renewals (its answer is then later than the true start); the jump needs no
    such limit. ``tick`` (the caller's time budget) is called before every evaluation either way.
    """
    entry = lp.policy.list_def(listing.list_id).entry
    if _Monotony(lp, records, amendments).holds(entry):
        return _jump_back(lp, subject, records, amendments, listing, schemes, tick, stop_at)
    return _walk_back(lp, subject, records, amendments, listing, schemes, tick, stop_at)


def _reached(start: date, stop_at: date | None) -> bool:
    return stop_at is not None and start <= stop_at


def _walk_back(lp: LoadedPolicy, subject: str, records: Sequence[Record], amendments: Sequence[Amendment],
               listing: Listing, schemes: SchemeRegistry | None, tick: Callable[[], None] | None,
               stop_at: date | None = None) -> date:
    """The episode start by its definition: from ``since``, step to the since of the listing in force the
    day before, until there is none (or ``stop_at`` is reached). One evaluation per renewal (at most
    1 000 steps)."""
    start = listing.since
    for _ in range(1000):
        if _reached(start, stop_at):
            return start
        if tick is not None:
            tick()
        before = evaluate(lp, subject, records, amendments, start - timedelta(days=1), schemes)
        prev = next((x for x in before.listings if x.list_id == listing.list_id), None)
        if prev is None or prev.since >= start:
            return start
        start = prev.since
    return start


class _Monotony:
    """Whether a list's entry, over this file, only grows with the records behind it and back in time, so
    that :func:`_jump_back` finds what :func:`_walk_back` finds.

    - A record condition on the subject's own records is monotone: a record active and within the window
      on a day was so on every earlier day since its decision (validity, windows and ending amendments
      only ever end a record), and more records give more hits (amounts are never negative). Not
      ``amount_at_least`` once a ``correct`` amendment exists: an amount may be lower on an earlier day.
    - A tier condition is monotone when its tiers are the worst ones from some tier on, every better tier
      has a ``min`` and those with a ``when`` are above the lowest ``min`` of those without one (so being
      in them means exactly "score below that ``min``"), and no record of the file can add points (no
      rule of its type gives more than zero, no cap turns a deduction into an addition, no
      ``correct`` amendment changes an amount): more records, or an earlier day within the listing, then
      only lower the score, and every counted record is behind the listing.
    - ``all`` and ``any`` of monotone parts are monotone; ``not`` never is (a record leaving can start
      it), nor is anything else. Not monotone means walked, which is always right.
    """

    def __init__(self, lp: LoadedPolicy, records: Sequence[Record], amendments: Sequence[Amendment]) -> None:
        self.lp = lp
        self.corrected = any(a.kind is AmendmentKind.CORRECT for a in amendments)
        scoring = lp.policy.scoring
        if scoring is None:
            self.deducts_only = False
            return
        rules = {r.type: r for r in scoring.rules}
        present = {r.type for r in records} & set(rules)
        self.deducts_only = (not self.corrected
                             and all(_at_most_zero(rules[t]) for t in present)
                             and all((c.min is None or c.min <= 0) and (c.max is None or c.max >= 0)
                                     for c in scoring.caps))

    def holds(self, cond: Condition) -> bool:
        if isinstance(cond, RecordCondition):
            return cond.subject == "self" and (cond.amount_at_least is None or not self.corrected)
        if isinstance(cond, TierCondition):
            return self.deducts_only and self._worst_tiers(set(cond.tier_in))
        if isinstance(cond, AllCondition):
            return all(self.holds(c) for c in cond.all)
        if isinstance(cond, AnyCondition):
            return all(self.holds(c) for c in cond.any)
        return False

    def _worst_tiers(self, names: set[str]) -> bool:
        tiers = self.lp.policy.tiers
        k = len(tiers) - len(names)
        if k < 1 or {t.name for t in tiers[k:]} != names or tiers[-1].min is not None or tiers[-1].when is not None:
            return False
        better = tiers[:k]
        if any(t.min is None for t in better):
            return False
        floors = [t.min for t in better if t.when is None and t.min is not None]
        return bool(floors) and all(t.min is not None and t.min >= min(floors) for t in better if t.when is not None)


def _at_most_zero(rule: ScoreRule) -> bool:
    """Whether a score rule never gives points (amounts are never negative)."""
    return (rule.points if rule.points is not None else rule.points_per_unit or 0) <= 0


def _jump_back(lp: LoadedPolicy, subject: str, records: Sequence[Record], amendments: Sequence[Amendment],
               listing: Listing, schemes: SchemeRegistry | None, tick: Callable[[], None] | None,
               stop_at: date | None = None) -> date:
    """:func:`_walk_back` for a monotone entry, jumping over many renewals per step.

    For a monotone entry two facts hold (``listed(K, d)``: the list holds on day ``d`` evaluated over the
    records ``K``): (1) more records never unlist: ``K ⊆ K'`` and ``listed(K, d)`` give ``listed(K', d)``;
    (2) a listing holds on every day back to its since: ``listed(K, d)`` with since ``t`` gives
    ``listed(K, x)`` for ``t <= x <= d`` (the records behind it were already decided, active and within
    their windows, and the listing's end only moves later). So the walk's days are all listed, and the
    episode is the unbroken run of listed days that ends on ``as_of``: the walk stops at the day after
    the last day not listed.

    From a start ``s`` (listed on every day from ``s`` on), the step evaluates the day before, ``s - 1``,
    over only the records decided up to a cutoff ``c``. By (1) that is listed for every cutoff from some
    smallest ``c*`` on, so ``c*`` is found by galloping then bisecting over the decision dates; by (2),
    with (1) to add the records decided after ``c*``, every day from that listing's since up to ``s - 1``
    is listed with the whole file, so the start moves there at once. A file renewed daily moves back by
    a whole listing period (the shortest of validity, window and maximum duration) per step, each step
    costing a logarithmic number of evaluations; with no listing the day before, the episode starts on
    ``s`` (the same evaluation the walk makes first).
    """
    asc = sorted({r.decided for r in records})
    start = listing.since

    def listed(cutoff: int, day: date) -> Listing | None:
        if tick is not None:
            tick()
        known = [r for r in records if r.decided <= asc[cutoff]]
        out = evaluate(lp, subject, known, amendments, day, schemes)
        return next((x for x in out.listings if x.list_id == listing.list_id), None)

    while not _reached(start, stop_at):
        top = bisect_left(asc, start) - 1  # the last decision date before the start
        if top < 0:
            return start  # nothing decided before: nothing listed
        day = start - timedelta(days=1)
        found = listed(top, day)  # == the walk's evaluation of the day before (same known records)
        if found is None:
            return start
        # the smallest cutoff index in [0, top] still listed: gallop down from ``top``, then bisect
        good, bad, step = top, -1, 1
        while good - step >= 0:
            probe = listed(good - step, day)
            if probe is None:
                bad = good - step
                break
            good, found, step = good - step, probe, step * 2
        else:
            if good > 0:
                probe = listed(0, day)
                if probe is None:
                    bad = 0
                else:
                    good, found = 0, probe
        while good - bad > 1:
            mid = (good + bad) // 2
            probe = listed(mid, day)
            if probe is None:
                bad = mid
            else:
                good, found = mid, probe
        assert found.since < start  # a since is a decision date <= day < start: the walk moves back
        start = found.since
    return start


def blocking_cases(listing: Listing, cases: Iterable[CaseView], as_of: date) -> list[CaseView]:
    """Objections open as of ``as_of`` against the listing or a record behind it.

    A repeated objection does not block: one filed after an objection against the same target was
    decided (the next step was an appeal). The case service refuses those, and more (a listing and the
    records behind it are one matter); this keeps any that exist from suspending a listing again.
    """
    targets = {f"list:{listing.list_id}", *(f"record:{r}" for r in listing.triggered_by)}
    objections = [c for c in cases if c.case.kind is CaseKind.OBJECTION and c.case.target in targets]

    def repeated(c: CaseView) -> bool:
        return any(o.id != c.id and o.case.target == c.case.target and o.decision(c.case.filed) is not None
                   for o in objections)

    return [c for c in objections if c.is_open(as_of) and not repeated(c)]


def listing_statuses(lp: LoadedPolicy, assessment: Assessment, records: Sequence[Record],
                     amendments: Sequence[Amendment], cases: Sequence[CaseView],
                     schemes: SchemeRegistry | None = None, tick: Callable[[], None] | None = None
                     ) -> list[ListingStatus]:
    """The due-process stage of every listing the evaluator found (in the assessment's order); ``tick``
    as in :func:`episode_start`."""
    out = []
    proc = lp.policy.procedure
    as_of = assessment.as_of
    for listing in assessment.listings:
        lst = lp.policy.list_def(listing.list_id)
        started = episode_start(lp, assessment.subject, records, amendments, listing, schemes, tick)
        effective = effective_date(lst, lp, started)
        blocking = blocking_cases(listing, cases, as_of)
        if lst.takes_effect != "immediately" and as_of < effective:
            stage, reason = Stage.PROPOSED, f"notified on {started}; takes effect on {effective}"
        elif lst.takes_effect != "immediately" and blocking:
            stage, reason = Stage.SUSPENDED, "an objection is open: not in force until it is decided"
        else:
            stage = Stage.IN_FORCE
            reason = (f"in force since {max(effective, started)}" if not blocking else
                      "in force: this list takes effect immediately; the objection is decided on the "
                      "expedited deadline")
        out.append(ListingStatus(policy=lp.policy.id, list_id=listing.list_id, stage=stage, since=listing.since,
                                 until=listing.until, started=started, effective=effective,
                                 objection_by=calendar_days_deadline(started, proc.objection_days or 0,
                                                                     policy_calendar(lp)),
                                 triggered_by=listing.triggered_by, open_cases=[c.id for c in blocking],
                                 reason=reason))
    return out


def in_force_only(assessment: Assessment, statuses: Sequence[ListingStatus]) -> Assessment:
    """The assessment that decisions read: only listings in force carry measures."""
    keep = {s.list_id for s in statuses if s.stage is Stage.IN_FORCE}
    return assessment.model_copy(update={"listings": [x for x in assessment.listings if x.list_id in keep]})


# --- repair -----------------------------------------------------------------------------------------


class Eligibility(Frozen):
    """Whether a record may be repaired as of a date, the earliest date it may, and why."""

    record: str
    eligible: bool
    earliest: date | None
    reason: str


def _severity(lp: LoadedPolicy, record: Record) -> Severity:
    return lp.catalogue.record_type(record.type).severity


def _types(cond: Condition | None) -> Iterator[str]:
    if isinstance(cond, RecordCondition):
        yield from cond.types
    elif isinstance(cond, AllCondition | AnyCondition):
        for c in cond.all if isinstance(cond, AllCondition) else cond.any:
            yield from _types(c)
    elif isinstance(cond, NotCondition):
        yield from _types(cond.not_)


def uses_type(lp: LoadedPolicy, type_id: str) -> bool:
    """Whether the policy scores the type or names it in a list or tier condition."""
    p = lp.policy
    if p.scoring is not None and any(r.type == type_id for r in p.scoring.rules):
        return True
    return any(type_id in set(_types(c)) for c in [*(x.entry for x in p.lists), *(t.when for t in p.tiers)])


def relevant_policies(policies: Sequence[LoadedPolicy], type_id: str) -> list[LoadedPolicy]:
    """The policies that use a record type; if none does, those whose catalogue knows it."""
    using = [lp for lp in policies if uses_type(lp, type_id)]
    return using or [lp for lp in policies if any(rt.id == type_id for rt in lp.catalogue.record_types)]


def repair_earliest(lp: LoadedPolicy, record: Record) -> date:
    """The decision date plus the policy's minimum period for the record type's severity."""
    days = getattr(lp.policy.procedure.repair_min_days, _severity(lp, record).value)
    return record.decided + timedelta(days=int(days))


def repair_eligibility(policies: Sequence[LoadedPolicy], record: Record, amendments: Sequence[Amendment],
                       listings: Sequence[tuple[LoadedPolicy, Listing]], as_of: date) -> Eligibility:
    """May ``record`` be repaired as of ``as_of``?

    The minimum period is the longest among the policies that use the type (minor, general, serious:
    ``procedure.repair_min_days``); a record behind a listing whose ``exit`` admits neither
    ``repair`` nor ``obligation_fulfilled`` cannot end that listing by repair.
    """
    rid = record.id
    if record.decided > as_of:
        return Eligibility(record=rid, eligible=False, earliest=None, reason="the record is not decided yet")
    ended = [a for a in amendments if a.record == rid and a.kind in ENDING_KINDS and a.effective <= as_of]
    if ended:
        return Eligibility(record=rid, eligible=False, earliest=None,
                           reason=f"the record already ended ({ended[0].kind.value} on {ended[0].effective})")
    for lp, listing in listings:
        lst = lp.policy.list_def(listing.list_id)
        if rid in listing.triggered_by and not {"repair", "obligation_fulfilled"} & set(lst.exit):
            return Eligibility(record=rid, eligible=False, earliest=None,
                               reason=f"list {lst.id!r} ends only by {', '.join(lst.exit)}, not by repair")
    knowing = relevant_policies(policies, record.type)
    if not knowing:
        return Eligibility(record=rid, eligible=False, earliest=None,
                           reason=f"no policy knows the record type {record.type!r}")
    earliest = max(repair_earliest(lp, record) for lp in knowing)
    severity = _severity(knowing[0], record).value
    if as_of < earliest:
        return Eligibility(record=rid, eligible=False, earliest=earliest,
                           reason=f"a {severity} record may be repaired from {earliest} "
                                  f"({(earliest - record.decided).days} days after its decision)")
    return Eligibility(record=rid, eligible=True, earliest=earliest,
                       reason=f"a {severity} record may be repaired from {earliest}: the minimum period has passed")
