"""Due process over a decision index: take out the run listings that are not in force yet.

The compiled SQL knows a listing's entry and duration, not due process (``policy/procedure.py``): a
listing on a list that takes effect after notice is *proposed* until the notice period from the start of
its episode has run, and *suspended* while an objection against it is open. Due process only ever takes
a listing out of force, and a list no measure reads changes no decision, so the work is narrowed with
set queries before any file is read:

1. per run, one query names the candidates (``subjects_to_recheck`` over the after-notice lists some
   measure reads: a listing that began within the notice period, or an open objection); the index keeps
   those whose state holds such a list;
2. one query per such list gives each member's ``since`` from the snapshot;
3. the candidates' files are read in one go, and for each held listing only the question due process
   asks is answered: did the episode start within the notice period? ``policy/procedure.episode_start``
   walks back one renewal at a time with the reference evaluator (nothing in a snapshot records when an
   episode began); the walk stops as soon as it passes the notice period's first day, usually after
   one evaluation. An open objection needs the listing's records, so only a subject with one is
   evaluated as of the date itself.

The verdicts are those of ``policy/procedure.listing_statuses``; a differential test holds the index
to ``Registry.check`` subject by subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from xinyong.model.case import CaseKind, CaseView
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.policy.casework import notice_period_lists
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import blocking_cases
from xinyong.service.decisions import DecisionIndex
from xinyong.store.protocol import AssessmentRun, Store


def apply_due_process(index: DecisionIndex, store: Store, runs: Sequence[AssessmentRun], as_of: date,
                      schemes: SchemeRegistry) -> int:
    """Take the listings not in force as of ``as_of`` out of ``index``; returns how many subjects were
    looked at (the candidates holding a list due process can change)."""
    watched: list[frozenset[str]] = []
    first_day: list[date] = []  # an episode started on or before it has served its notice period
    candidates: set[str] = set()
    for lp, reads, run in zip(index.policies, index.reads, runs, strict=True):
        after_notice, notice = notice_period_lists(lp)
        read = frozenset(after_notice) & reads.lists
        watched.append(read)
        first_day.append(as_of - timedelta(days=notice))
        if read:
            candidates |= set(store.cases.subjects_to_recheck(run.run, sorted(read), first_day[-1], as_of))
    recheck = sorted(s for s in candidates
                     if any(w & lists for w, (_, lists) in zip(watched, index.state(s), strict=True)))
    if not recheck:
        return 0
    wanted = set(recheck)
    since: dict[tuple[str, str], list[date]] = {}
    for w, run in zip(watched, runs, strict=True):
        for list_id in sorted(w):
            for row in store.listings_in_force(list_id, run.run):
                if row.subject in wanted:
                    since.setdefault((row.subject, list_id), []).append(row.since)
    for key, (records, amendments, views) in store.cases.files_of(recheck).items():
        per = list(index.state(key))
        for i, (lp, held) in enumerate(zip(index.policies, watched, strict=True)):
            tier, lists = per[i]
            out = {x for x in held & lists
                   if not _in_force(lp, key, x, since.get((key, x), []), records, amendments, views,
                                    first_day[i], as_of, schemes)}
            per[i] = (tier, lists - out)
        index.set_state(key, per)
    return len(recheck)


def _in_force(lp: LoadedPolicy, subject: str, list_id: str, sinces: list[date], records: list[Record],
              amendments: list[Amendment], views: list[CaseView], first_day: date, as_of: date,
              schemes: SchemeRegistry) -> bool:
    """Whether the subject's listing on an after-notice list is in force (``listing_statuses``' stage)."""
    if len(sinces) != 1:  # the snapshot holds no single listing: decide from the evaluator's own
        sinces = [x.since for x in evaluate(lp, subject, records, amendments, as_of, schemes).listings
                  if x.list_id == list_id][:1]
        if not sinces:
            return False
    if _started_after(lp, subject, list_id, sinces[0], records, amendments, first_day, schemes):
        return False  # proposed: in its notice period
    if not any(v.case.kind is CaseKind.OBJECTION and v.is_open(as_of) for v in views):
        return True
    listing = next(x for x in evaluate(lp, subject, records, amendments, as_of, schemes).listings
                   if x.list_id == list_id)
    return not blocking_cases(listing, views, as_of)  # suspended while an objection is open


def _started_after(lp: LoadedPolicy, subject: str, list_id: str, since: date, records: list[Record],
                   amendments: list[Amendment], first_day: date, schemes: SchemeRegistry) -> bool:
    """``episode_start(...) > first_day``, walking back only as far as ``first_day``."""
    start = since
    for _ in range(1000):
        if start <= first_day:
            return False
        before = evaluate(lp, subject, records, amendments, start - timedelta(days=1), schemes)
        prev = next((x for x in before.listings if x.list_id == list_id), None)
        if prev is None or prev.since >= start:
            return True
        start = prev.since
    return start > first_day
