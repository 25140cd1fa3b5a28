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

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from enum import StrEnum

from pydantic import Field

from xinyong.model.assessment import Assessment, Listing
from xinyong.model.base import Frozen
from xinyong.model.case import CaseKind, CaseView
from xinyong.model.catalogue import Severity
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.policy.calendar import DEFAULT_CALENDAR, WorkingCalendar, load_calendar
from xinyong.policy.evaluate import ENDING_KINDS, evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import AllCondition, AnyCondition, Condition, ListDef, NotCondition, RecordCondition

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
                  tick: Callable[[], None] | None = None) -> date:
    """The first day of the unbroken run of listings that ``listing`` belongs to.

    Walks back one renewal at a time: if the list was in force the day before ``since``, the episode
    started at (or before) that listing's since. Usually one extra evaluation; a file renewed daily for
    years costs one evaluation per renewal, so ``tick`` (the caller's time budget) is called before each.
    """
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
