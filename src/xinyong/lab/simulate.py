"""Simulation over time: records arrive, listings start, are objected to, repaired, and expire.

Two halves, both vectorised. *Arrivals* (:func:`future_records`): each subject's yearly rate of a
record type is the gamma-Poisson posterior mean given its own history in the population (the same
frailty model the population was drawn from: ``(shape + n) / (shape / mean + years)``), so a subject
with findings keeps getting them at a higher rate and rural persons keep their fewer volunteering
certificates; counts over the horizon are Poisson, decision days uniform. The policy itself (the
compiled SQL, evaluated as of each month end by the caller) says which listings are in force.

*Due process* (:func:`due_process`) acts on the listing episodes that evaluation found: a listing of an
after-notice list takes effect ``notice_days`` after it starts; a share of subjects object within the
objection window and a share of objections are upheld (the listing ends at the decision); a share of
subjects apply for credit repair once the list's minimum period has passed and the listing ends when it
is granted; otherwise it ends when the policy no longer lists the subject or at its maximum duration.
An upheld objection or a repair ends the episode only; later records start new ones, as in the registry.
The shares are parameters (:class:`Process`), not findings: the lab shows what they imply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.lab.columns import build_plan, date_array, decimal_array, lookup
from xinyong.lab.profiles import DECIDED_WINDOW_DAYS, ENGAGEMENT_SHAPE, MISCONDUCT_SHAPE
from xinyong.model.catalogue import Catalogue
from xinyong.policy.loader import LoadedPolicy

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
HISTORY_YEARS = DECIDED_WINDOW_DAYS / 365.0
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Process:
    """How subjects use due process (shares of listings, and delays in days)."""

    object_share: float = 0.10
    upheld_share: float = 0.30
    repair_share: float = 0.25
    repair_delay_days: int = 90  # how long after eligibility a repair is granted, at most (uniform)
    review_days: int = 20         # objection filed to decided


def month_ends(start: date, months: int) -> list[date]:
    """The last day of each of ``months`` calendar months from ``start``'s month."""
    out = []
    y, m = start.year, start.month
    for _ in range(months):
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append(date(y, m, 1) - timedelta(days=1))
    return out


def _day(d: date) -> int:
    return (d - EPOCH).days


def future_records(catalogue: Catalogue, subjects: pa.Table, history: pa.Table, types: list[str], start: date,
                   years: float, seed: int = 0) -> pa.Table:
    """Records decided in ``(start, start + years]``: ``subject, type, decided, amount``.

    ``subjects``: ``subject, kind`` (every subject); ``history``: ``subject, type, n`` (the population's
    counts, non-zero only)."""
    plan = build_plan(catalogue, None, types)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    keys = subjects.column("subject").combine_chunks()
    index = pa.table({"subject": keys, "i": pa.array(np.arange(len(keys), dtype=np.int64))})
    hist = history.join(index, "subject", join_type="inner")
    is_person = np.asarray(pc.equal(subjects.column("kind"), "person").to_numpy(zero_copy_only=False), dtype=bool)
    owners: list[I64] = []
    type_idx: list[I64] = []
    horizon = round(years * 365)
    for t, type_id in enumerate(plan.ids):
        eligible = np.where(is_person, plan.person_ok[t], plan.org_ok[t])
        mine = hist.filter(pc.equal(hist.column("type"), type_id))
        n = np.zeros(len(keys), dtype=np.float64)
        n[np.asarray(mine.column("i").to_numpy())] = np.asarray(mine.column("n").to_numpy(), dtype=np.float64)
        mean = n[eligible].sum() / max(int(eligible.sum()), 1) / HISTORY_YEARS
        if mean <= 0:
            continue
        shape = ENGAGEMENT_SHAPE if plan.positive[t] else MISCONDUCT_SHAPE
        rate = np.where(eligible, (shape + n) / (shape / mean + HISTORY_YEARS), 0.0)
        counts = rng.poisson(rate * years)
        owners.append(np.repeat(np.arange(len(keys), dtype=np.int64), counts))
        type_idx.append(np.full(int(counts.sum()), t, dtype=np.int64))
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    kind = np.concatenate(type_idx) if type_idx else np.zeros(0, dtype=np.int64)
    decided = _day(start) + 1 + rng.integers(0, max(horizon, 1), size=len(owner), dtype=np.int64)
    yuan = plan.amount_median[kind] * np.exp(plan.amount_sigma[kind] * rng.standard_normal(len(owner)))
    cents = np.round(np.minimum(yuan, 1e13) * 100).astype(np.int64)
    return pa.table({
        "subject": keys.take(pa.array(owner)),
        "type": lookup(plan.ids, kind),
        "decided": date_array(decided),
        "amount": decimal_array(np.maximum(cents, 1), plan.has_amount[kind]),
    })


def due_process(lp: LoadedPolicy, episodes: pa.Table, ends: list[date], process: Process, seed: int = 0
                ) -> pa.Table:
    """Episodes (``subject, list, since, first, last`` month indexes) with ``start``, ``end`` (dates:
    in force from ``start`` until the day before ``end``) and ``reason`` (how it ended or ``open``)."""
    lists = {lst.id: lst for lst in lp.policy.lists}
    proc = lp.policy.procedure
    n = episodes.num_rows
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    since = np.asarray(pc.cast(episodes.column("since"), pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    last = np.asarray(episodes.column("last").to_numpy(zero_copy_only=False), dtype=np.int64)
    list_ids = [str(x) for x in episodes.column("list").to_pylist()]
    notice = np.array([(proc.notice_days or 0) if _after_notice(lists[x]) else 0 for x in list_ids], dtype=np.int64)
    duration = np.array([lists[x].max_duration_days or 0 for x in list_ids], dtype=np.int64)
    repair_min = np.array([_repair_min(lp, lists[x]) for x in list_ids], dtype=np.int64)
    end_days = np.array([_day(d) + 1 for d in ends], dtype=np.int64)
    horizon_end = end_days[-1] if len(end_days) else 0
    start = since + notice
    seen_end = np.where(last + 1 < len(end_days), end_days[np.minimum(last, len(end_days) - 1)], horizon_end + 1)
    natural = np.minimum(since + duration, seen_end)
    objected = rng.random(n) < process.object_share
    upheld = objected & (rng.random(n) < process.upheld_share)
    objection_end = since + rng.integers(0, (proc.objection_days or 0) + 1, n) + process.review_days
    repaired = rng.random(n) < process.repair_share
    repair_end = since + repair_min + rng.integers(0, process.repair_delay_days + 1, n)
    end = natural.copy()
    reason = np.where(natural == since + duration, "expiry", "no longer listed").astype(object)
    reason[natural > horizon_end] = "open"
    for mask, when, why in ((upheld, objection_end, "objection upheld"), (repaired, repair_end, "repaired")):
        earlier = mask & (when < end)
        end[earlier] = when[earlier]
        reason[earlier] = why
    end = np.maximum(end, start)  # ended during the notice period: never in force
    return episodes.append_column("start", date_array(start)).append_column("end", date_array(end)).append_column(
        "reason", pa.array(reason.tolist(), pa.string()))


def _after_notice(lst: Any) -> bool:
    return str(getattr(lst.takes_effect, "value", lst.takes_effect)) == "after_notice"


def _repair_min(lp: LoadedPolicy, lst: Any) -> int:
    severity = str(getattr(lst.severity, "value", lst.severity) or "general")
    return int(getattr(lp.policy.procedure.repair_min_days, severity, 0) or 0)


def monthly(episodes: pa.Table, ends: list[date], groups: pa.Table, attribute: str = "urban_rural") -> dict[str, Any]:
    """Per month: listed count, flows in and out, and mean days listed per group of ``attribute``
    (``groups``: ``subject`` and the attribute)."""
    start = np.asarray(pc.cast(episodes.column("start"), pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    end = np.asarray(pc.cast(episodes.column("end"), pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    joined = episodes.select(["subject"]).append_column("row", pa.array(np.arange(episodes.num_rows))).join(
        groups.select(["subject", attribute]), "subject", join_type="left outer").sort_by("row")
    group = np.asarray(pc.fill_null(joined.column(attribute), "(none)").to_numpy(zero_copy_only=False), dtype=object)
    days = np.array([_day(d) for d in ends], dtype=np.int64)
    prev = np.concatenate([[days[0] - 31], days[:-1]]) if len(days) else days
    listed = (start[None, :] <= days[:, None]) & (days[:, None] < end[None, :])       # months x episodes
    inflow = (start[None, :] > prev[:, None]) & (start[None, :] <= days[:, None]) & (end > start)[None, :]
    outflow = (end[None, :] > prev[:, None]) & (end[None, :] <= days[:, None]) & (end > start)[None, :]
    elapsed = np.where(listed, days[:, None] - start[None, :], 0)
    by_group: dict[str, list[float | None]] = {}
    for g in sorted(set(group.tolist())):
        m = group == g
        count = listed[:, m].sum(axis=1)
        total = elapsed[:, m].sum(axis=1)
        by_group[str(g)] = [round(float(t) / float(c), 1) if c else None for t, c in zip(total, count, strict=True)]
    return {
        "months": [d.isoformat() for d in ends],
        "listed": listed.sum(axis=1).astype(int).tolist(),
        "inflow": inflow.sum(axis=1).astype(int).tolist(),
        "outflow": outflow.sum(axis=1).astype(int).tolist(),
        "mean_days_listed": {"attribute": attribute, "by_group": by_group},
        "ended_by": dict(sorted((str(k), int(v)) for k, v in zip(
            *np.unique(np.asarray(episodes.column("reason").to_pylist(), dtype=object), return_counts=True),
            strict=True))),
    }
