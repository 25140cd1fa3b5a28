"""Where a subject stands: each policy's score and tier, the due-process stage of each listing, open
cases, and (optionally) what would change it. One function for every edge (the HTTP status endpoint and
``xinyong status``), computed from the subject's file read once; callers audit the read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.model.assessment import Assessment
from xinyong.model.case import CaseView
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.policy.counterfactual import Change, what_if
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import ListingStatus, listing_statuses


@dataclass(frozen=True)
class PolicyStatus:
    """One policy's view of the subject: score, tier, where each listing stands, and what would change it."""

    policy: str
    assessment: Assessment
    listings: list[ListingStatus]
    what_if: list[Change]


@dataclass(frozen=True)
class SubjectStatus:
    subject: str
    as_of: date
    policies: list[PolicyStatus]
    open_cases: list[CaseView]


def subject_status(policies: Sequence[LoadedPolicy], key: str, records: Sequence[Record],
                   amendments: Sequence[Amendment], cases: Sequence[CaseView], day: date,
                   schemes: SchemeRegistry, *, with_what_if: bool = False,
                   tick: Callable[[], None] | None = None) -> SubjectStatus:
    """Pure over the file it is given (no store, no lock: the what-if is bounded but not free);
    ``tick`` is called between evaluations (a time budget that may stop the work)."""
    out = []
    for lp in policies:
        if tick is not None:
            tick()
        a = evaluate(lp, key, records, amendments, day, schemes)
        statuses = listing_statuses(lp, a, records, amendments, cases, schemes, tick)
        changes = what_if(lp, key, records, amendments, day, schemes, tick) if with_what_if else []
        out.append(PolicyStatus(lp.policy.ref, a, statuses, changes))
    return SubjectStatus(key, day, out, [v for v in cases if v.is_open(day)])
