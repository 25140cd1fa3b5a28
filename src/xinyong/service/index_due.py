"""Due process over a decision index: take out the run listings that are not in force yet.

The compiled SQL knows a listing's entry and duration, not due process (``policy/procedure.py``): a
listing on a list that takes effect after notice is *proposed* until the notice period from the start of
its episode has run, and *suspended* while an objection against it is open. Due process only ever takes
a listing out of force, and a list no measure reads changes no decision, so the work is narrowed with
set queries and no subject's file is read unless an objection is open:

1. per run, one query names the candidates (``subjects_to_recheck`` over the after-notice lists some
   measure reads: a listing that began within the notice period, or an open objection); the index keeps
   those whose state holds such a list;
2. for each listing they hold on such a list, the question is whether its episode began within the
   notice period. The walk of ``policy/procedure.episode_start`` (from the listing's since, step to the
   since of the listing in force the day before, until there is none or the first day is passed) is
   taken for all of them at once: the compiled query is run as of each day of the notice period over
   only the candidates' files, in one store call (``RunStates.replay_listings``), and the walks step
   through its answers;
3. a subject with an open objection needs the records behind its listing, so only such a subject's
   file is read and evaluated as of the date itself, with ``episode_start`` and ``blocking_cases``.

The verdicts are those of ``policy/procedure.listing_statuses``; a differential test holds the index
to ``Registry.check`` subject by subject, and another holds the set-based walk to ``episode_start``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from xinyong.engines.plan import plan_replay
from xinyong.model.case import CaseKind, CaseView
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.record import Amendment, Record
from xinyong.policy.casework import notice_period_lists
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import blocking_cases, episode_start
from xinyong.service.decisions import DecisionIndex
from xinyong.store.protocol import AssessmentRun, FullStore

_DAY = timedelta(days=1)
#: Notice periods this long or longer are not replayed day by day (one compiled query per day of the
#: period): their candidates' files are read and walked one subject at a time, as for an objection.
MAX_REPLAY_DAYS = 64


def apply_due_process(index: DecisionIndex, store: FullStore, runs: Sequence[AssessmentRun], as_of: date,
                      schemes: SchemeRegistry, *, max_replay_days: int = MAX_REPLAY_DAYS) -> int:
    """Take the listings not in force as of ``as_of`` out of ``index``; returns how many subjects were
    looked at (the candidates holding a list due process can change). A policy whose notice period is
    ``max_replay_days`` or longer has its candidates' files walked one subject at a time instead."""
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
    # no list named, so only the subjects with an objection open as of the date
    by_file = set(recheck) & set(store.cases.subjects_to_recheck(runs[0].run, [], as_of, as_of))
    for i, held in enumerate(watched):
        if (as_of - first_day[i]).days >= max_replay_days:  # a long notice period: one query per day would
            by_file |= {s for s in recheck if held & index.state(s)[i][1]}  # cost more than the files
    out: dict[str, list[set[str]]] = {s: [set() for _ in runs] for s in recheck}
    amended = store.has_amendments(as_of)
    for i, lp in enumerate(index.policies):
        pairs = [(s, x) for s in recheck if s not in by_file for x in sorted(watched[i] & index.state(s)[i][1])]
        for s, x in began_after(store, lp, pairs, first_day[i], as_of, amended=amended):
            out[s][i].add(x)
    for key, (records, amendments, views) in store.cases.files_of(sorted(by_file)).items():
        for i, (lp, held) in enumerate(zip(index.policies, watched, strict=True)):
            lists = held & index.state(key)[i][1]
            if lists:
                out[key][i] |= _not_in_force(lp, key, lists, records, amendments, views, first_day[i], as_of,
                                             schemes)
    for key, gone in out.items():
        if any(gone):
            index.set_state(key, [(tier, lists - g) for (tier, lists), g in zip(index.state(key), gone,
                                                                               strict=True)])
    return len(recheck)


def began_after(store: FullStore, lp: LoadedPolicy, held: Collection[tuple[str, str]], first_day: date,
                as_of: date, *, amended: bool) -> set[tuple[str, str]]:
    """Of the (subject, list) pairs ``held`` (listings the snapshot as of ``as_of`` holds), those whose
    episode started after ``first_day``: ``episode_start(..., stop_at=first_day) > first_day`` for all of
    them at once.

    The walk only ever asks what the list held on a day from ``first_day`` to ``as_of`` (the listing's
    own since, then the day before each start it reaches), so the compiled query is run once for each of
    those days over only these subjects' files, in one store call; then each walk steps back through
    the answers until the day before its start holds no listing (or none earlier: the episode starts
    within the notice period) or its start reaches ``first_day``. A pair the file as it stands now does
    not list as of ``as_of`` was written about after the snapshot, which the caller re-assesses; it is
    left alone. ``amended``: some amendment is effective by ``as_of``."""
    keys = set(held)
    if not keys:
        return set()
    days = [first_day + timedelta(days=i) for i in range((as_of - first_day).days + 1)]
    tag = uuid.uuid4().hex[:12]
    tables = {"records": f"xy_replay_r_{tag}", "subjects": f"xy_replay_s_{tag}"}
    rows = store.replay_listings(sorted({s for s, _ in keys}), tables["records"], tables["subjects"],
                                 [plan_replay(lp, d, store.dialect, amended=amended, **tables) for d in days])
    listed = {(d, s, x): since for d, found in zip(days, rows, strict=True) for s, x, since in found
              if (s, x) in keys}
    proposed: set[tuple[str, str]] = set()
    for key in keys:
        start = listed.get((as_of, *key))
        while start is not None and start > first_day:
            prev = listed.get((start - _DAY, *key))
            if prev is None or prev >= start:
                proposed.add(key)  # the episode starts on ``start``, within the notice period
                break
            start = prev
    return proposed


def _not_in_force(lp: LoadedPolicy, subject: str, lists: frozenset[str], records: list[Record],
                  amendments: list[Amendment], views: list[CaseView], first_day: date, as_of: date,
                  schemes: SchemeRegistry) -> set[str]:
    """Of ``lists`` (after-notice lists the snapshot holds the subject on), those not in force as of
    ``as_of`` from the subject's file: not listed, proposed, or suspended (``listing_statuses``' stages)."""
    found = {x.list_id: x for x in evaluate(lp, subject, records, amendments, as_of, schemes).listings}
    objected = any(v.case.kind is CaseKind.OBJECTION and v.is_open(as_of) for v in views)
    out = set()
    for list_id in lists:
        listing = found.get(list_id)
        if (listing is None
                or episode_start(lp, subject, records, amendments, listing, schemes, stop_at=first_day) > first_day
                or (objected and blocking_cases(listing, views, as_of))):
            out.add(list_id)
    return out
