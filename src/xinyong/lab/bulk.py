"""Bulk records for benchmarks: 10 M-100 M valid records streamed to Parquet in bounded memory.

Unlike :func:`xinyong.lab.population.generate_population` there are no names, attributes or
per-subject heterogeneity: the point is volume with realistic values. Subjects are drawn uniformly
(each with a unique, valid identifier); a record's type is drawn, given the subject's kind, among the
requested types that kind may have, in proportion to the default rates; its source is one that may
submit the type. With ``clustered=True`` each subject's records are contiguous in the file (the
best case for a GROUP BY); otherwise subjects come in random order (the worst case).

Memory: the subject identifiers (18 bytes and a little more per subject) plus one row group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.lab.columns import RECORDS_SCHEMA, TypePlan, build_plan, record_columns
from xinyong.lab.identifiers import key_array
from xinyong.lab.subjects import days, draw_subjects
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput

ROW_GROUP = 1_000_000


@dataclass(frozen=True)
class BulkSummary:
    path: Path
    records: int
    subjects: int
    row_groups: int
    clustered: bool
    seed: int
    as_of: date
    records_by_type: dict[str, int]


def generate_bulk_records(
    out_path: Path,
    *,
    records: int,
    subjects: int,
    seed: int = 0,
    as_of: date,
    types: Sequence[str] | None = None,
    clustered: bool = False,
    catalogue: Catalogue | None = None,
    person_share: float = 0.6,
    row_group_size: int = ROW_GROUP,
    progress: Callable[[int, int], None] | None = None,
) -> BulkSummary:
    """Write ``records`` records about ``subjects`` subjects to one Parquet file (records schema).

    ``types`` restricts the record types (default: all); ``catalogue`` gives types, sources and
    subject kinds (default: the built-in profiles, which mirror ``policies/catalogue.yaml``).
    ``progress(done, total)`` is called with record counts after each row group.
    """
    if records < 0:
        raise InvalidInput("must be zero or more", field="records")
    if subjects < 1:
        raise InvalidInput("must be one or more", field="subjects")
    if row_group_size < 1:
        raise InvalidInput("must be one or more", field="row_group_size")
    if not 0.0 <= person_share <= 1.0:
        raise InvalidInput("must be between 0 and 1", field="person_share")
    plan = build_plan(catalogue, None, types)
    person_w = plan.rate * plan.person_ok
    org_w = plan.rate * plan.org_ok
    if person_w.sum() <= 0 and org_w.sum() <= 0:
        raise InvalidInput("no record type to generate", field="types")
    pop = draw_subjects(_rng(seed, 0), subjects, person_share=person_share, as_of=as_of)
    kind_ok = np.where(pop.is_person, person_w.sum() > 0, org_w.sum() > 0)
    eligible = np.flatnonzero(kind_ok)
    if len(eligible) == 0 and records > 0:
        raise InvalidInput("no subject of a kind the requested types allow; add subjects or types",
                           field="types")
    by_type = np.zeros(len(plan), dtype=np.int64)
    as_of_day = days(as_of)
    groups = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(out_path, RECORDS_SCHEMA) as out:
        owners = _clustered_owners if clustered else _random_owners
        for number, owner in enumerate(owners(seed, eligible, records, row_group_size)):
            rng = _rng(seed, 2, number)
            type_idx = _draw_types(rng, plan, pop.is_person[owner], person_w, org_w)
            by_type += np.bincount(type_idx, minlength=len(plan))
            columns = record_columns(rng, plan, type_idx, pop.code[owner], as_of_day)
            columns["subject"] = key_array(pop.ids[owner], pop.is_person[owner])
            out.write_table(pa.Table.from_pydict(columns, schema=RECORDS_SCHEMA),
                            row_group_size=len(owner))
            groups += 1
            if progress is not None:
                progress(int(by_type.sum()), records)
    return BulkSummary(
        path=out_path, records=int(by_type.sum()), subjects=subjects, row_groups=groups,
        clustered=clustered, seed=seed, as_of=as_of,
        records_by_type={t: int(c) for t, c in zip(plan.ids, by_type, strict=True) if c},
    )


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream))


def _random_owners(seed: int, eligible: npt.NDArray[np.intp], records: int,
                   group: int) -> Iterator[npt.NDArray[np.int64]]:
    """Row groups of subject indices drawn uniformly at random."""
    for number, start in enumerate(range(0, records, group)):
        rng = _rng(seed, 1, number)
        yield eligible[rng.integers(0, len(eligible), min(group, records - start))].astype(np.int64)


def _clustered_owners(seed: int, eligible: npt.NDArray[np.intp], records: int,
                      group: int) -> Iterator[npt.NDArray[np.int64]]:
    """Row groups of subject indices where each subject's records are contiguous.

    The number of records per subject is multinomial (uniform over subjects), drawn once; a row
    group ends at the first subject boundary at or after ``group`` rows.
    """
    if records == 0:
        return
    n = len(eligible)
    counts = _rng(seed, 1).multinomial(records, np.full(n, 1.0 / n))
    ends = np.cumsum(counts)
    first, done = 0, 0
    while done < records:
        last = min(int(np.searchsorted(ends, done + group, side="left")), n - 1)
        yield np.repeat(eligible[first: last + 1].astype(np.int64), counts[first: last + 1])
        first, done = last + 1, int(ends[last])


def _draw_types(rng: np.random.Generator, plan: TypePlan, is_person: npt.NDArray[np.bool_],
                person_w: npt.NDArray[np.float64], org_w: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """A type per record, among those the record's subject kind may have, by weight."""
    u = rng.random(len(is_person))
    result = np.zeros(len(is_person), dtype=np.int16)
    for mask, weights in ((is_person, person_w), (~is_person, org_w)):
        if weights.sum() <= 0:
            continue
        cumulative = np.cumsum(weights)
        last = int(np.flatnonzero(weights > 0)[-1])    # never a zero-weight type, even on rounding
        picked = np.minimum(np.searchsorted(cumulative, u[mask] * cumulative[-1], side="right"), last)
        result[mask] = picked.astype(np.int16)
    return result
