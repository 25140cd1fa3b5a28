"""Impact preview: what a new policy version would change, for whom, and which rules cause it.

The whole population is compared from one table (the compiled SQL of both versions over the same
synthetic population, joined to the fairness attributes afterwards): who enters and leaves each list,
the tier transition matrix, the subjects newly under a measure per action, and rates per group. Only
the few subjects sampled to *explain* the largest changes go through the reference evaluator, whose
contributions say which rules moved them; whole-population work never builds one object per subject.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.lab.fairness import ATTRIBUTES, bools, counts, encode, fairness, four_fifths_failures, measure_masks
from xinyong.model.assessment import Assessment
from xinyong.model.record import Record
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy

RecordsOf = Callable[[Sequence[str]], pa.Table]
"""Fetches the records (population schema) of a few subjects, for the explained sample."""
Bools = npt.NDArray[np.bool_]
NONE = "(none)"


Encoded = dict[str, tuple[list[str], npt.NDArray[np.int64]]]


def _by_group(encoded: Encoded, masks: dict[str, Bools]) -> dict[str, dict[str, dict[str, Any]]]:
    """For each mask: count and rate among all subjects for each value of each attribute."""
    out: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in masks}
    everyone = np.ones(len(next(iter(encoded.values()))[1]) if encoded else 0, dtype=np.bool_)
    for attribute, (names, codes) in encoded.items():
        counted = counts(codes, len(names), [everyone, *masks.values()])
        n = counted[0]
        for row, name in zip(counted[1:], masks, strict=True):
            out[name][attribute] = {g: {"count": int(row[i]), "of": int(n[i]), "rate": float(row[i] / n[i])}
                                    for i, g in enumerate(names) if n[i]}
    return out


def impact(old: LoadedPolicy, new: LoadedPolicy, table: pa.Table, as_of: date, records_of: RecordsOf | None = None,
           *, attributes: Sequence[str] = ATTRIBUTES, explain: int = 5, sample: int = 20, n_boot: int = 200,
           seed: int = 0) -> dict[str, Any]:
    """The impact report as plain data (JSON-ready). ``table`` has ``old_``/``new_`` columns."""
    encoded = {a: encode(table.column(a)) for a in attributes if a in table.column_names}
    changes: list[tuple[int, str, Bools]] = []
    lists: dict[str, Any] = {}
    list_ids = list(dict.fromkeys([lst.id for lst in old.policy.lists] + [lst.id for lst in new.policy.lists]))
    for lid in list_ids:
        before, after = bools(table, f"old_l_{lid}"), bools(table, f"new_l_{lid}")
        entered, left = after & ~before, before & ~after
        grouped = _by_group(encoded, {"entered": entered, "left": left})
        lists[lid] = {"before": int(before.sum()), "after": int(after.sum()), "entered": int(entered.sum()),
                      "left": int(left.sum()),
                      "entered_by_group": grouped["entered"], "left_by_group": grouped["left"]}
        changes += [(int(entered.sum()), f"enter list {lid}", entered), (int(left.sum()), f"leave list {lid}", left)]
    (old_names, old_t), (new_names, new_t) = (encode(pc.fill_null(table.column(c), NONE))
                                              for c in ("old_tier", "new_tier"))
    pair = old_t * len(new_names) + new_t
    seen = np.bincount(pair, minlength=len(old_names) * len(new_names))
    matrix = []
    for code in np.flatnonzero(seen):
        was, now = old_names[code // len(new_names)], new_names[code % len(new_names)]
        matrix.append({"from": was, "to": now, "subjects": int(seen[code])})
        if was != now:
            changes.append((int(seen[code]), f"tier {was} -> {now}", pair == code))
    measures: dict[str, Any] = {}
    before_m, after_m = measure_masks(old, table, "old_"), measure_masks(new, table, "new_")
    nothing = np.zeros(table.num_rows, dtype=np.bool_)
    actions = sorted(set(before_m) | set(after_m))
    newly = {x: after_m.get(x, nothing) & ~before_m.get(x, nothing) for x in actions}
    newly_by_group = _by_group(encoded, newly)
    for action in actions:
        b = before_m.get(action, nothing)
        a = after_m.get(action, nothing)
        measures[action] = {"before": int(b.sum()), "after": int(a.sum()), "newly": int(newly[action].sum()),
                            "no_longer": int((b & ~a).sum()), "newly_by_group": newly_by_group[action]}
    changes.sort(key=lambda c: (-c[0], c[1]))
    top = [c for c in changes if c[0] > 0][:explain]
    subjects = [_sample(table, mask, sample, seed) for _count, _name, mask in top]
    wanted = sorted({s for group in subjects for s in group})
    # the few sampled subjects' records are read by the engine (a scan of the records file, outside the
    # GIL) while the fairness figures are computed here
    with ThreadPoolExecutor(max_workers=1) as pool:
        fetched = pool.submit(records_of, wanted) if records_of is not None else None
        old_fair = fairness(old, table, prefix="old_", attributes=attributes, n_boot=n_boot, seed=seed,
                            encoded=encoded)
        new_fair = fairness(new, table, prefix="new_", attributes=attributes, n_boot=n_boot, seed=seed,
                            encoded=encoded)
        records = to_records(fetched.result()) if fetched is not None else None
    explained = [_explain(old, new, name, count, chosen, as_of, records)
                 for (count, name, _mask), chosen in zip(top, subjects, strict=True)]
    return {
        "old": {"policy": old.policy.id, "version": old.policy.version},
        "new": {"policy": new.policy.id, "version": new.policy.version},
        "as_of": as_of.isoformat(), "subjects": table.num_rows,
        "lists": lists, "tier_transitions": matrix, "measures": measures,
        "largest_changes": explained,
        "fairness": {"old": [asdict(d) for d in old_fair], "new": [asdict(d) for d in new_fair]},
        "four_fifths_failures": {"old": [_failure(d) for d in four_fifths_failures(old_fair)],
                                 "new": [_failure(d) for d in four_fifths_failures(new_fair)]},
    }


def _sample(table: pa.Table, mask: Bools, size: int, seed: int) -> list[str]:
    """Up to ``size`` subjects of ``mask``: those whose ``draw`` (a hash of the key) mixed with the seed
    is smallest, so the sample is the same whatever order the rows came in."""
    positions = np.flatnonzero(mask)
    if "draw" in table.column_names:
        draw = np.asarray(table.column("draw").to_numpy(zero_copy_only=False), dtype=np.uint64)[positions]
        key = draw ^ np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        chosen = positions[np.argsort(key, kind="stable")[:size]]
    else:
        chosen = np.random.default_rng(seed).choice(positions, size=min(size, len(positions)), replace=False)
    subjects = table.column("subject").take(pa.array(np.sort(chosen), pa.int64())).to_pylist()
    return sorted(str(s) for s in subjects)


def _failure(d: Any) -> dict[str, Any]:
    return {"outcome": d.outcome, "attribute": d.attribute, "ratio": d.ratio,
            "most_favoured": d.most_favoured, "least_favoured": d.least_favoured}


def to_records(rows: pa.Table) -> dict[str, list[Record]]:
    """Population rows as the domain's records, grouped by subject."""
    out: dict[str, list[Record]] = defaultdict(list)
    for r in rows.to_pylist():
        amount = r.get("amount")
        out[r["subject"]].append(Record(subject=r["subject"], source=r["source"], type=r["type"],
                                        occurred=r["occurred"], decided=r["decided"], document=r["document"],
                                        amount=Decimal(amount) if amount is not None else None))
    return out


def _points_by_rule(a: Assessment) -> dict[str, int]:
    by: dict[str, int] = defaultdict(int)
    for c in a.contributions:
        if c.counted:
            by[c.type] += c.points
    for cap in a.caps:
        by[f"cap {cap.cap} ({cap.period})"] += cap.capped - cap.raw
    return by


def _explain(old: LoadedPolicy, new: LoadedPolicy, name: str, count: int, subjects: list[str], as_of: date,
             records: dict[str, list[Record]] | None) -> dict[str, Any]:
    """Evaluate a seeded sample of the changed subjects under both versions with the reference evaluator:
    the mean change in points per rule, and the entry rules behind the listings that appeared or went."""
    out: dict[str, Any] = {"change": name, "subjects": count}
    if records is None or not subjects:
        return out
    delta: dict[str, int] = defaultdict(int)
    entry_rules: Counter[str] = Counter()
    for subject in subjects:
        a = evaluate(old, subject, records.get(subject, []), [], as_of)
        b = evaluate(new, subject, records.get(subject, []), [], as_of)
        pa_, pb = _points_by_rule(a), _points_by_rule(b)
        for rule in set(pa_) | set(pb):
            delta[rule] += pb.get(rule, 0) - pa_.get(rule, 0)
        was = {x.list_id: x for x in a.listings}
        now = {x.list_id: x for x in b.listings}
        for lid in set(was) ^ set(now):
            x = now.get(lid) or was[lid]
            entry_rules[f"{'new' if lid in now else 'old'} {lid}: {x.rule}"] += 1
    n = len(subjects)
    rules = sorted(((r, d / n) for r, d in delta.items() if d), key=lambda x: -abs(x[1]))
    out.update({"sample": n, "sampled_subjects": subjects[:5],
                "mean_points_change_by_rule": [{"rule": r, "mean_change": round(v, 2)} for r, v in rules[:5]],
                "listing_rules": [{"rule": r, "subjects": k} for r, k in entry_rules.most_common(5)]})
    return out
