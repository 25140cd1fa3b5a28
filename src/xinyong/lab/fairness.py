"""Fairness of a policy's outcomes across groups: selection rates, the four-fifths rule, bootstrap CIs.

Input is one row per subject (the compiled policy's result joined to the population's fairness
attributes after evaluation: no rule ever reads them, charter rule 3) and boolean *outcomes*: being on
each list, being in each tier, being under each action's measures.

The figures come from fairlearn's ``MetricFrame`` with ``selection_rate``: per group, the ratio
between the least and the most selected group (the demographic parity ratio, which is also the
four-fifths figure) and the difference. ``MetricFrame`` works row by row in pandas, and its bootstrap
rebuilds the frame per replicate, which does not scale to whole populations; so the rows are first
counted into cells (outcome x group x selected, the outcome a control feature) and the frame is given
the counts as ``sample_weight``: the same rates, exactly, from one small frame per attribute. The bootstrap draws
the cell counts from a multinomial with the observed cell shares, which *is* the row bootstrap for any
statistic of the counts (every rate here is one), vectorised over all replicates at once.

Which group is "most favoured" depends on the outcome: for a red list or a tier that brings benefits
it is the group selected most, for a black list or a tier with restrictions the group selected least.
Either way the ratio of the worst-off group to it is min rate / max rate; a ratio under 0.8 fails the
four-fifths rule (EEOC Uniform Guidelines, 29 CFR 1607.4(D)). A population is a sample of people, so
an outcome *fails* only when even the upper end of the ratio's 95 % bootstrap interval is under 0.8,
and is not judged at all when fewer than ``min_selected`` subjects are selected in total (four
listings spread over fifteen regions say nothing about any region); outcomes with no measure attached
are reported but not judged either. Groups smaller than ``min_group`` subjects are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from fairlearn.metrics import MetricFrame, selection_rate

from xinyong.model.errors import Problem
from xinyong.model.identifiers import SubjectKind
from xinyong.policy.loader import LoadedPolicy

FOUR_FIFTHS = 0.8
MIN_SELECTED = 30
ATTRIBUTES = ("kind", "region", "urban_rural", "sector", "size", "age_band", "sex")
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Outcome:
    """One yes/no outcome of a policy for each subject, and whether being selected is good for them
    (None: no measure attached, so not judged by the four-fifths rule)."""

    name: str
    favourable: bool | None
    selected: Bools
    applies: Bools


@dataclass(frozen=True)
class GroupRate:
    value: str
    n: int
    selected: int
    rate: float
    ci: tuple[float, float]
    ratio_to_most_favoured: float


@dataclass(frozen=True)
class Disparity:
    """One outcome across the groups of one attribute."""

    outcome: str
    attribute: str
    favourable: bool | None
    groups: list[GroupRate]
    most_favoured: str
    least_favoured: str
    ratio: float
    ratio_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]
    passes_four_fifths: bool | None
    left_out: list[str] = field(default_factory=list)


def policy_outcomes(lp: LoadedPolicy, table: pa.Table, prefix: str = "") -> list[Outcome]:
    """Each list and each tier of ``lp`` as an outcome over ``table`` (columns ``{prefix}tier``,
    ``{prefix}l_<list>`` as written by the population engine), among the subjects it applies to."""
    policy = lp.policy
    kinds = pa.array(sorted({SubjectKind(k).value for k in policy.applies_to}))
    applies = pc.is_in(table.column("kind"), value_set=kinds).to_numpy(zero_copy_only=False)
    applies = np.asarray(applies, dtype=np.bool_)
    out = []
    for lst in policy.lists:
        column = table.column(f"{prefix}l_{lst.id}").to_numpy(zero_copy_only=False).astype(np.bool_)
        out.append(Outcome(f"list:{lst.id}", lst.kind.value == "red", column, applies))
    if policy.scoring is not None and policy.tiers:
        tiers = table.column(f"{prefix}tier")
        for tier in policy.tiers:
            effects = {m.effect.value for m in policy.measures if m.tiers and tier.name in m.tiers}
            favourable = None if not effects else effects == {"benefit"}
            sel = pc.fill_null(pc.equal(tiers, tier.name), False).to_numpy(zero_copy_only=False)
            out.append(Outcome(f"tier:{tier.name}", favourable, np.asarray(sel, dtype=np.bool_), applies))
    for action, mask in measure_masks(lp, table, prefix).items():
        out.append(Outcome(f"measure:{action}", action.endswith("(benefit)"), mask, applies))
    return out


def bools(table: pa.Table, column: str) -> Bools:
    if column not in table.column_names:
        return np.zeros(table.num_rows, dtype=np.bool_)
    return np.asarray(pc.fill_null(table.column(column), False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def measure_masks(lp: LoadedPolicy, table: pa.Table, prefix: str = "") -> dict[str, Bools]:
    """Per ``action (effect)``: the subjects at least one of the policy's measures applies to."""
    tiers = table.column(f"{prefix}tier")
    out: dict[str, Bools] = {}
    for m in lp.policy.measures:
        if m.on_list is not None:
            mask = bools(table, f"{prefix}l_{m.on_list}")
        else:
            chosen = pc.fill_null(pc.is_in(tiers, value_set=pa.array(list(m.tiers or []), pa.string())), False)
            mask = np.asarray(chosen.to_numpy(zero_copy_only=False), dtype=np.bool_)
        key = f"{m.action} ({m.effect.value})"
        out[key] = out[key] | mask if key in out else mask
    return out


def encode(column: pa.Array | pa.ChunkedArray) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Distinct values (sorted) and each row's index into them, -1 where null: counting per group is
    then a ``bincount``, the same cost for every outcome however many there are."""
    encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(np.array(names, dtype=object)) if names else np.zeros(0, dtype=np.int64)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    raw = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    codes = np.where(raw >= 0, rank[np.maximum(raw, 0)] if len(names) else raw, -1)
    return sorted(names), codes


def counts(codes: npt.NDArray[np.int64], size: int, masks: Sequence[Bools]) -> npt.NDArray[np.int64]:
    """Rows of each mask in each group (masks x groups; rows with no group left out), for all masks at
    once as one matrix product (masks x rows) @ (rows x groups, one-hot): a BLAS call instead of a pass
    over the rows per mask. Counts stay exact in float32 up to 2**24 (16.7 million) rows per group."""
    if not masks:
        return np.zeros((0, size), dtype=np.int64)
    valid = codes >= 0
    onehot = np.zeros((len(codes), size), dtype=np.float32)
    onehot[np.flatnonzero(valid), codes[valid]] = 1.0
    stacked = np.stack(masks).astype(np.float32)
    product: npt.NDArray[np.float32] = stacked @ onehot
    return np.rint(product).astype(np.int64)


def _metric_frame(outcomes: Sequence[str], names: Sequence[str], n: npt.NDArray[np.int64],
                  k: npt.NDArray[np.int64]) -> MetricFrame:
    """fairlearn's MetricFrame over counted cells: one row per (outcome, group, selected), weighted by
    its count, with the outcome as a control feature so that one frame gives every outcome's rates,
    ratio and difference (``n``, ``k``: subjects and selected, shape outcomes x groups)."""
    rows = [(o, g, y) for o in outcomes for g in names for y in (0, 1)]
    y = np.array([r[2] for r in rows])
    weight = np.stack([n - k, k], axis=-1).ravel()
    return MetricFrame(metrics=selection_rate, y_true=y, y_pred=y,
                       sensitive_features=pd.Series([r[1] for r in rows], name="group"),
                       control_features=pd.Series([r[0] for r in rows], name="outcome"),
                       sample_params={"sample_weight": weight})


def disparities(outcomes: Sequence[Outcome], attribute: str, groups: pa.Array, *, n_boot: int = 200,
                seed: int = 0, min_group: int = 50, min_selected: int = MIN_SELECTED,
                encoded: tuple[list[str], npt.NDArray[np.int64]] | None = None) -> list[Disparity]:
    """Each outcome across one attribute's groups (none when fewer than two groups are large enough).

    The outcomes must share ``applies`` (those of one policy), so they share their groups."""
    if not outcomes:
        return []
    every, codes = encoded or encode(groups)
    applies = outcomes[0].applies
    counted = counts(codes, len(every), [applies, *(o.selected & applies for o in outcomes)])
    n = np.stack([counted[0] for _ in outcomes])
    k = counted[1:]
    present = n[0] > 0
    names = [g for g, p in zip(every, present, strict=True) if p]
    n, k = n[:, present], k[:, present]
    big = n[0] >= min_group
    left_out = [g for g, b in zip(names, big, strict=True) if not b]
    names = [g for g, b in zip(names, big, strict=True) if b]
    n, k = n[:, big], k[:, big]
    if len(names) < 2:
        return []
    mf = _metric_frame([o.name for o in outcomes], names, n, k)
    by_group, ratios, differences = mf.by_group, mf.ratio(), mf.difference()
    out = []
    for i, outcome in enumerate(outcomes):
        rates = np.array([float(by_group[(outcome.name, g)]) for g in names])
        # nobody selected in any group: no disparity (fairlearn's 0/0 is NaN)
        ratio = float(ratios[outcome.name]) if rates.max() > 0 else 1.0
        out.append(_disparity(outcome, attribute, names, n[i], k[i], rates, ratio,
                              float(differences[outcome.name]), left_out, n_boot, seed, min_selected))
    return out


def disparity(outcome: Outcome, attribute: str, groups: pa.Array, *, n_boot: int = 200, seed: int = 0,
              min_group: int = 50, min_selected: int = MIN_SELECTED) -> Disparity | None:
    """One outcome across one attribute's groups; None when fewer than two groups are large enough."""
    found = disparities([outcome], attribute, groups, n_boot=n_boot, seed=seed, min_group=min_group,
                        min_selected=min_selected)
    return found[0] if found else None


def _disparity(outcome: Outcome, attribute: str, names: Sequence[str], n: npt.NDArray[np.int64],
               k: npt.NDArray[np.int64], rates: npt.NDArray[np.float64], ratio: float, difference: float,
               left_out: list[str], n_boot: int, seed: int, min_selected: int) -> Disparity:
    boot = _bootstrap(n, k, n_boot, seed)
    favoured = int(np.argmax(rates)) if outcome.favourable is not False else int(np.argmin(rates))
    worst = int(np.argmin(rates)) if outcome.favourable is not False else int(np.argmax(rates))
    lo, hi = (np.quantile(boot, [0.025, 0.975], axis=0) if n_boot else (rates, rates))
    with np.errstate(divide="ignore", invalid="ignore"):
        to_best = rates / rates[favoured] if outcome.favourable is not False else rates[favoured] / rates
    to_best = np.nan_to_num(to_best, nan=1.0, posinf=0.0)
    b_ratio, b_diff = _ratio_difference(boot) if n_boot else (np.array([ratio]), np.array([difference]))
    group_rates = [GroupRate(g, int(n[i]), int(k[i]), float(rates[i]), (float(lo[i]), float(hi[i])),
                             float(to_best[i])) for i, g in enumerate(names)]
    return Disparity(
        outcome=outcome.name, attribute=attribute, favourable=outcome.favourable, groups=group_rates,
        most_favoured=names[favoured], least_favoured=names[worst], ratio=ratio,
        ratio_ci=_interval(b_ratio), difference=difference, difference_ci=_interval(b_diff),
        passes_four_fifths=_judge(outcome.favourable, int(k.sum()), min_selected,
                                  _interval(b_ratio)[1] if n_boot else ratio),
        left_out=left_out)


def _judge(favourable: bool | None, selected: int, min_selected: int, ratio_high: float) -> bool | None:
    """Fails only when even the upper end of the ratio's 95 % interval is under four fifths, and only
    with enough selected subjects to say anything (else None: not judged)."""
    if favourable is None or selected < min_selected:
        return None
    return bool(ratio_high >= FOUR_FIFTHS)


def _bootstrap(n: npt.NDArray[np.int64], k: npt.NDArray[np.int64], n_boot: int, seed: int
               ) -> npt.NDArray[np.float64]:
    """Rates per group in ``n_boot`` bootstrap replicates (rows: replicates, columns: groups)."""
    if n_boot <= 0:
        return np.zeros((0, len(n)))
    cells = np.column_stack([n - k, k]).ravel()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(cells.sum()), cells / cells.sum(), size=n_boot).reshape(n_boot, len(n), 2)
    total = draws.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates: npt.NDArray[np.float64] = np.where(total > 0, draws[:, :, 1] / np.maximum(total, 1), np.nan)
    return rates


def _ratio_difference(rates: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    hi = np.nanmax(rates, axis=1)
    lo = np.nanmin(rates, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 1.0)
    return ratio, hi - lo


def _interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    lo, hi = np.quantile(values, [0.025, 0.975])
    return float(lo), float(hi)


def fairness(lp: LoadedPolicy, table: pa.Table, *, prefix: str = "", attributes: Sequence[str] = ATTRIBUTES,
             n_boot: int = 200, seed: int = 0, min_group: int = 50, min_selected: int = MIN_SELECTED,
             encoded: dict[str, tuple[list[str], npt.NDArray[np.int64]]] | None = None) -> list[Disparity]:
    """Every outcome of the policy across every attribute the table carries."""
    outcomes = policy_outcomes(lp, table, prefix)
    found: dict[tuple[str, str], Disparity] = {}
    for attribute in attributes:
        if attribute in table.column_names:
            for d in disparities(outcomes, attribute, table.column(attribute).combine_chunks(), n_boot=n_boot,
                                 seed=seed, min_group=min_group, min_selected=min_selected,
                                 encoded=(encoded or {}).get(attribute)):
                found[(d.outcome, attribute)] = d
    return [found[(o.name, a)] for o in outcomes for a in attributes if (o.name, a) in found]


def four_fifths_failures(disparities: Sequence[Disparity]) -> list[Disparity]:
    """Judged outcomes whose worst-off group gets under four fifths of the most favoured group's rate."""
    return [d for d in disparities if d.passes_four_fifths is False]


def rule_gaps(points: pa.Table, groups: pa.Table, applies: Bools, *, attributes: Sequence[str] = ATTRIBUTES,
              top: int = 5, min_group: int = 50) -> list[dict[str, Any]]:
    """The scoring rules whose mean points per subject differ most between the groups of an attribute.

    ``points``: ``subject, type, points`` (a rule's points per subject before caps); ``groups``: one row
    per subject with ``subject`` and the attributes; ``applies``: the subjects the policy applies to.
    """
    base = groups.filter(pa.array(applies))
    joined = points.join(base, "subject", join_type="inner")
    out: list[dict[str, Any]] = []
    for attribute in attributes:
        if attribute not in base.column_names:
            continue
        sizes = base.group_by(attribute).aggregate([("subject", "count")])
        size = {v: n for v, n in zip(sizes.column(attribute).to_pylist(), sizes.column("subject_count").to_pylist(),
                                     strict=True) if v is not None and n >= min_group}
        if len(size) < 2:
            continue
        sums = joined.group_by([attribute, "type"]).aggregate([("points", "sum")])
        means: dict[str, dict[str, float]] = {}
        for v, t, s in zip(sums.column(attribute).to_pylist(), sums.column("type").to_pylist(),
                           sums.column("points_sum").to_pylist(), strict=True):
            if v in size:
                means.setdefault(t, dict.fromkeys(size, 0.0))[v] = float(s) / size[v]
        for t, by in means.items():
            hi = max(by, key=lambda g: by[g])
            lo = min(by, key=lambda g: by[g])
            out.append({"rule": t, "attribute": attribute, "gap": by[hi] - by[lo], "highest": hi, "lowest": lo,
                        "mean_points": {g: round(m, 3) for g, m in sorted(by.items())}})
    out.sort(key=lambda r: -abs(float(r["gap"])))
    return out[:top]


LINT_CODE = "XF001"


def lint_warnings(lp: LoadedPolicy, disparities: Sequence[Disparity]) -> list[Problem]:
    """``XF001`` warnings, located at the list, tier or measure, for each outcome that fails the
    four-fifths rule on the population the disparities were computed on. A warning, not a charter
    violation: a disparity on a synthetic population is a reason to look, not proof of unfairness."""
    policy = lp.policy
    where: dict[str, tuple[str | int, ...]] = {f"list:{x.id}": ("lists", i) for i, x in enumerate(policy.lists)}
    where.update({f"tier:{t.name}": ("tiers", i) for i, t in enumerate(policy.tiers)})
    for i, m in enumerate(policy.measures):
        where.setdefault(f"measure:{m.action} ({m.effect.value})", ("measures", i))
    out = []
    for d in four_fifths_failures(disparities):
        worst = next(g for g in d.groups if g.value == d.least_favoured)
        best = next(g for g in d.groups if g.value == d.most_favoured)
        out.append(lp.doc.problem(where.get(d.outcome, ()), LINT_CODE, (
            f"{d.outcome} fails the four-fifths rule by {d.attribute}: {d.least_favoured} {100 * worst.rate:.2f} % "
            f"vs {d.most_favoured} {100 * best.rate:.2f} % (ratio {d.ratio:.2f}, 95 % CI {d.ratio_ci[0]:.2f}-"
            f"{d.ratio_ci[1]:.2f}) on the lab's reference population")))
    return out
