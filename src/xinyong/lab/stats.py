"""Published statistics that protect individuals: counts of listings with differential privacy.

"Data available but not visible": a count of listings by region, list and month tells the public how
a policy is used, but an exact count in a small county can reveal that one named person was listed.
Each release adds noise calibrated by OpenDP to a stated epsilon, and every dataset has a privacy
budget: releases are recorded in a small JSON ledger next to the output, and a release that would
spend more than what is left is refused before anything is computed.

Sensitivity. One subject may appear in several cells (several lists, several months). Each subject's
rows are cut to ``max_per_subject`` (the earliest are kept; how many were dropped is published), so
adding or removing one subject changes the vector of counts by at most that much in L1 distance, and
OpenDP's discrete Laplace mechanism with scale ``max_per_subject / epsilon`` is epsilon-DP. The set of
cells (regions x lists x months) comes from public facts (the policy's lists, the region list, the
months of the release), not from the data, so which cells exist discloses nothing either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import opendp.prelude as dp
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.model.errors import InvalidInput

dp.enable_features("contrib")


class BudgetSpent(InvalidInput):
    """The release would spend more privacy budget than the dataset has left."""


@dataclass(frozen=True)
class Release:
    counts: list[dict[str, Any]]
    epsilon: float
    scale: float
    max_per_subject: int
    dropped_rows: int
    spent: float
    budget: float


def dataset_id(path: Path) -> str:
    """The dataset's identity for the ledger: a digest of its bytes (a renamed copy is the same data)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:32]


class Ledger:
    """Privacy budget per dataset, kept in a JSON file: each release appends what it spent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {"datasets": {}}

    def spent(self, dataset: str) -> float:
        entry = self.data["datasets"].get(dataset, {})
        return float(sum(r["epsilon"] for r in entry.get("releases", [])))

    def charge(self, dataset: str, epsilon: float, budget: float, note: str) -> float:
        """Record a release of ``epsilon``; refuse (nothing recorded) if it would exceed ``budget``."""
        if not epsilon > 0:
            raise InvalidInput("must be greater than zero", field="epsilon")
        entry = self.data["datasets"].setdefault(dataset, {"budget": budget, "releases": []})
        budget = float(entry["budget"])
        left = budget - self.spent(dataset)
        if epsilon > left + 1e-12:
            raise BudgetSpent(f"privacy budget spent: this dataset has {left:.4g} of {budget:g} left, the "
                              f"release asks for {epsilon:g}", field="epsilon")
        entry["releases"].append({"epsilon": epsilon, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "release": note})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        return self.spent(dataset)


def _bounded(rows: pa.Table, max_per_subject: int) -> tuple[pa.Table, int]:
    """At most ``max_per_subject`` rows per subject (the earliest months first)."""
    ordered = rows.sort_by([("subject", "ascending"), ("month", "ascending")])
    subject = ordered.column("subject").combine_chunks()
    n = len(subject)
    if n == 0:
        return ordered, 0
    first = np.ones(n, dtype=bool)
    first[1:] = pc.not_equal(subject.slice(1), subject.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(first)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    keep = rank < max_per_subject
    return ordered.filter(pa.array(keep)), int((~keep).sum())


def release_counts(rows: pa.Table, cells: list[tuple[str, str, str]], *, epsilon: float, max_per_subject: int
                   ) -> tuple[list[dict[str, Any]], float, int]:
    """Noisy counts of ``rows`` (``subject, region, list, month``) in each public cell (region, list,
    month). Returns the counts, the noise scale and how many rows the per-subject bound dropped."""
    if max_per_subject < 1:
        raise InvalidInput("must be at least 1", field="max_per_subject")
    bounded, dropped = _bounded(rows, max_per_subject)
    index = {c: i for i, c in enumerate(cells)}
    exact = np.zeros(len(cells), dtype=np.int64)
    for key, count in _grouped(bounded).items():
        if key in index:
            exact[index[key]] = count
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    scale = max_per_subject / epsilon
    meas = space >> dp.m.then_laplace(scale=scale)
    if meas.map(d_in=max_per_subject) > epsilon + 1e-9:
        raise InvalidInput("the mechanism does not meet the stated epsilon", field="epsilon")
    noisy = meas([int(x) for x in exact])
    counts = [{"region": r, "list": lst, "month": m, "count": max(int(v), 0)}
              for (r, lst, m), v in zip(cells, noisy, strict=True)]
    return counts, scale, dropped


def _grouped(rows: pa.Table) -> dict[tuple[str, str, str], int]:
    agg = rows.group_by(["region", "list", "month"]).aggregate([("subject", "count")])
    return {(str(r), str(lst), str(m)): int(c) for r, lst, m, c in zip(
        agg.column("region").to_pylist(), agg.column("list").to_pylist(), agg.column("month").to_pylist(),
        agg.column("subject_count").to_pylist(), strict=True)}


def release(rows: pa.Table, cells: list[tuple[str, str, str]], *, dataset: str, ledger: Ledger, epsilon: float,
            budget: float, max_per_subject: int, note: str) -> Release:
    """Charge the ledger, then compute the release (refused whole when the budget is spent)."""
    spent = ledger.charge(dataset, epsilon, budget, note)
    counts, scale, dropped = release_counts(rows, cells, epsilon=epsilon, max_per_subject=max_per_subject)
    return Release(counts, epsilon, scale, max_per_subject, dropped, spent,
                   float(ledger.data["datasets"][dataset]["budget"]))
