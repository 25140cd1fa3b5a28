"""A seeded synthetic population: subjects, their fairness attributes, and their records, as Parquet.

Used by ``xinyong demo``, the policy lab and the benchmarks. Three files are written:

- ``subjects.parquet``: ``id`` (canonical key ``cn.uscc:…`` / ``cn.ric:…``), ``scheme``, ``kind``,
  ``name`` (synthetic company names; person names family name first, e.g. "Wang Wei");
- ``attributes.parquet``: ``subject``, ``region``, ``urban_rural``, ``sector`` and ``size``
  (organisations), ``age_band`` (persons). These are kept *apart* from the records (charter rule 3):
  they exist for fairness analysis, and no record column carries them, so no rule can read them;
- ``records.parquet``: ``subject``, ``source``, ``type``, ``occurred``, ``decided``, ``document``,
  ``amount`` (decimal(18,2) or null), ordered by subject.

How records are drawn. Each record type has a rate (:data:`xinyong.lab.profiles.PROFILES`, overridable
with ``rates``): the expected number of records per *eligible* subject (the type's ``subject_kinds``)
at the reference density. All rates are scaled together so that the population averages
``records_per_subject`` records, so ``rates`` are relative. The count of records of a type for a
subject is Poisson with mean rate × scale × a subject multiplier: negative types share one gamma
"misconduct" multiplier per subject (shape 0.5, mean 1), so findings are rare and concentrate on few
subjects as they do in reality — with the defaults about 4 % of persons ever get a shixin-ground
court record and about 2 % are on the shixin list at the as-of date; positive types share a milder
"engagement" multiplier (shape 2). tax.* and customs.* are for organisations only and civic.* for
persons only because the catalogue says so. The source of a record is the first registered source
that may submit its type. Decisions fall in the four years before ``as_of``; the conduct occurred a
type-specific number of days earlier. Documents look like ``(2025) Jing 0105 Zhi 123`` (courts, using
the subject's local court code) or ``Jing 0105 Shi Jian Fa [2025] 123`` (agencies).

The deliberate disparity. Rural persons get volunteering records at
:data:`~xinyong.lab.profiles.RURAL_VOLUNTEERING_FACTOR` (35 %) of the urban rate — the documented
observation that rural residents have fewer opportunities to earn positive points (REFERENCE.md). It
is there so that the policy lab's fairness report has something real to find: any policy that rewards
``civic.volunteering`` scores rural persons lower for reasons that are not their conduct.

Generation is vectorised (numpy; identifiers with their check characters computed as arrays) and
streamed: subjects are processed in chunks and each chunk's rows are written as one row group, so
memory is bounded by the chunk, not the population. The same arguments and seed give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xinyong.lab.columns import F64, RECORDS_SCHEMA, TypePlan, build_plan, lookup, record_columns
from xinyong.lab.identifiers import Bools, key_array
from xinyong.lab.profiles import (
    AGE_BANDS,
    ENGAGEMENT_SHAPE,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MISCONDUCT_SHAPE,
    REGIONS,
    RURAL_VOLUNTEERING_FACTOR,
    SECTORS,
    SIZES,
    TRADE_SYLLABLES_A,
    TRADE_SYLLABLES_B,
)
from xinyong.lab.subjects import (
    CODE_REGION,
    ENTITY_TYPES,
    REGION_WEIGHTS,
    URBAN_SHARE,
    Subjects,
    days,
    draw_subjects,
)
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput

VOLUNTEERING = "civic.volunteering"
ROWS_PER_CHUNK = 1_000_000

SUBJECTS_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("scheme", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("name", pa.string()),
])
ATTRIBUTES_SCHEMA = pa.schema([
    pa.field("subject", pa.string(), nullable=False),
    pa.field("region", pa.string(), nullable=False),
    pa.field("urban_rural", pa.string(), nullable=False),
    pa.field("sector", pa.string()),
    pa.field("size", pa.string()),
    pa.field("age_band", pa.string()),
])

_ORG_SUFFIX = {91: "Co., Ltd.", 92: "Store", 93: "Farmers' Cooperative"}


@dataclass(frozen=True)
class PopulationSummary:
    """What was written: counts and paths."""

    subjects: int
    persons: int
    organisations: int
    records: int
    records_by_type: dict[str, int]
    subjects_path: Path
    attributes_path: Path
    records_path: Path
    seed: int
    as_of: date
    rural_persons: int
    rate_scale: float


def generate_population(
    catalogue: Catalogue,
    out_dir: Path,
    *,
    subjects: int,
    records_per_subject: float = 10.0,
    seed: int = 0,
    as_of: date,
    person_share: float = 0.6,
    rates: dict[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PopulationSummary:
    """Write ``subjects.parquet``, ``attributes.parquet`` and ``records.parquet`` into ``out_dir``.

    ``progress(done, total)`` is called with subject counts after each chunk. Raises
    :class:`InvalidInput` for a negative count, a share outside [0, 1] or a rate for an unknown type.
    """
    _check(subjects=subjects, records_per_subject=records_per_subject, person_share=person_share)
    plan = build_plan(catalogue, rates)
    out_dir.mkdir(parents=True, exist_ok=True)
    pop = draw_subjects(_rng(seed, 0), subjects, person_share=person_share, as_of=as_of)
    scale = _scale(plan, person_share, records_per_subject)
    chunk = int(min(131_072, max(1_024, ROWS_PER_CHUNK // max(records_per_subject, 1.0))))
    by_type = np.zeros(len(plan), dtype=np.int64)
    rural = 0
    paths = (out_dir / "subjects.parquet", out_dir / "attributes.parquet", out_dir / "records.parquet")
    with (
        pq.ParquetWriter(paths[0], SUBJECTS_SCHEMA) as subjects_out,
        pq.ParquetWriter(paths[1], ATTRIBUTES_SCHEMA) as attributes_out,
        pq.ParquetWriter(paths[2], RECORDS_SCHEMA) as records_out,
    ):
        for number, start in enumerate(range(0, subjects, chunk)):
            rng = _rng(seed, 1, number)
            part = slice(start, min(start + chunk, subjects))
            is_person = pop.is_person[part]
            keys = key_array(pop.ids[part], is_person)
            urban = rng.random(len(keys)) < URBAN_SHARE[CODE_REGION[pop.code[part]]]
            rural += int(np.count_nonzero(is_person & ~urban))
            sector = _draw_sectors(rng, pop, part)
            subjects_out.write_table(_subjects_table(rng, pop, part, keys, sector))
            attributes_out.write_table(_attributes_table(rng, pop, part, keys, urban, sector))
            type_idx, owner = _draw_counts(rng, plan, scale, is_person, urban)
            by_type += np.bincount(type_idx, minlength=len(plan))
            columns = record_columns(rng, plan, type_idx, pop.code[part][owner], days(as_of))
            columns["subject"] = keys.take(pa.array(owner))
            records_out.write_table(pa.Table.from_pydict(columns, schema=RECORDS_SCHEMA))
            if progress is not None:
                progress(part.stop, subjects)
    persons = int(np.count_nonzero(pop.is_person))
    return PopulationSummary(
        subjects=subjects, persons=persons, organisations=subjects - persons,
        records=int(by_type.sum()),
        records_by_type={t: int(c) for t, c in zip(plan.ids, by_type, strict=True) if c},
        subjects_path=paths[0], attributes_path=paths[1], records_path=paths[2],
        seed=seed, as_of=as_of, rural_persons=rural, rate_scale=scale,
    )


def _check(*, subjects: int, records_per_subject: float, person_share: float) -> None:
    if subjects < 0:
        raise InvalidInput("must be zero or more", field="subjects")
    if not records_per_subject >= 0:
        raise InvalidInput("must be zero or more", field="records_per_subject")
    if not 0.0 <= person_share <= 1.0:
        raise InvalidInput("must be between 0 and 1", field="person_share")


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per purpose and chunk, derived from the seed (reproducible)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream))


def _rural_volunteering_mean() -> float:
    """Mean volunteering multiplier of persons: urban 1, rural the disparity factor."""
    urban = float((REGION_WEIGHTS * URBAN_SHARE).sum())
    return urban + (1.0 - urban) * RURAL_VOLUNTEERING_FACTOR


def _scale(plan: TypePlan, person_share: float, records_per_subject: float) -> float:
    """Factor on all rates so that the expected records per subject is ``records_per_subject``."""
    person_mult = np.where(np.array(plan.ids) == VOLUNTEERING, _rural_volunteering_mean(), 1.0)
    expected = float((plan.rate * (plan.person_ok * person_share * person_mult
                                   + plan.org_ok * (1.0 - person_share))).sum())
    return records_per_subject / expected if expected > 0 else 0.0


def _draw_counts(rng: np.random.Generator, plan: TypePlan, scale: float, is_person: Bools,
                 urban: Bools) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int64]]:
    """Record types and owners (subject positions in the chunk), ordered by owner."""
    m = len(is_person)
    misconduct: F64 = rng.gamma(MISCONDUCT_SHAPE, 1.0 / MISCONDUCT_SHAPE, m)
    engagement: F64 = rng.gamma(ENGAGEMENT_SHAPE, 1.0 / ENGAGEMENT_SHAPE, m)
    rural_factor = np.where(is_person & ~urban, RURAL_VOLUNTEERING_FACTOR, 1.0)
    positions = np.arange(m, dtype=np.int64)
    owners: list[npt.NDArray[np.int64]] = []
    types: list[npt.NDArray[np.int16]] = []
    for t, type_id in enumerate(plan.ids):
        if plan.rate[t] <= 0:
            continue
        eligible = np.where(is_person, plan.person_ok[t], plan.org_ok[t])
        mean = scale * plan.rate[t] * eligible * (engagement if plan.positive[t] else misconduct)
        if type_id == VOLUNTEERING:
            mean = mean * rural_factor
        counts = rng.poisson(mean)
        owners.append(np.repeat(positions, counts))
        types.append(np.full(int(counts.sum()), t, dtype=np.int16))
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    type_idx = np.concatenate(types) if types else np.zeros(0, dtype=np.int16)
    order = np.argsort(owner, kind="stable")
    return type_idx[order], owner[order]


def _weights(table: tuple[tuple[str, float], ...] | tuple[tuple[str, float, str], ...]) -> F64:
    w = np.array([row[1] for row in table], dtype=np.float64)
    result: F64 = w / w.sum()
    return result


def _subjects_table(rng: np.random.Generator, pop: Subjects, part: slice, keys: pa.Array,
                    sector: npt.NDArray[np.int64]) -> pa.Table:
    is_person = pop.is_person[part]
    m = len(is_person)
    kind_no = is_person.astype(np.int8)
    family = lookup([f for f, _ in FAMILY_NAMES], rng.choice(len(FAMILY_NAMES), m, p=_weights(FAMILY_NAMES)))
    given = lookup(GIVEN_NAMES, rng.integers(0, len(GIVEN_NAMES), m))
    person_name = pc.binary_join_element_wise(family, given, " ")
    trade = pc.binary_join_element_wise(
        lookup(TRADE_SYLLABLES_A, rng.integers(0, len(TRADE_SYLLABLES_A), m)),
        lookup(TRADE_SYLLABLES_B, rng.integers(0, len(TRADE_SYLLABLES_B), m)), "")
    region = lookup([r.name for r in REGIONS], CODE_REGION[pop.code[part]])
    entity = np.where(is_person, 0, pop.entity[part])
    suffix = lookup([_ORG_SUFFIX[int(e)] for e in ENTITY_TYPES], entity)
    org_name = pc.binary_join_element_wise(
        region, trade, lookup([s[2] for s in SECTORS], sector), suffix, " ")
    return pa.Table.from_pydict({
        "id": keys,
        "scheme": lookup(["cn.uscc", "cn.ric"], kind_no),
        "kind": lookup(["organisation", "person"], kind_no),
        "name": pc.if_else(pa.array(is_person), person_name, org_name),
    }, schema=SUBJECTS_SCHEMA)


def _draw_sectors(rng: np.random.Generator, pop: Subjects, part: slice) -> npt.NDArray[np.int64]:
    """Sector of each subject of the chunk (used for organisations only); cooperatives farm."""
    sector = rng.choice(len(SECTORS), len(pop.is_person[part]), p=_weights(SECTORS))
    agriculture = [s[0] for s in SECTORS].index("agriculture")
    is_coop = ENTITY_TYPES[np.maximum(pop.entity[part], 0)] == 93
    result: npt.NDArray[np.int64] = np.where(is_coop & ~pop.is_person[part], agriculture, sector)
    return result


def _attributes_table(rng: np.random.Generator, pop: Subjects, part: slice, keys: pa.Array,
                      urban: Bools, sector: npt.NDArray[np.int64]) -> pa.Table:
    is_person = pop.is_person[part]
    m = len(is_person)
    org_mask = pa.array(is_person)          # null where the attribute does not apply
    person_mask = pa.array(~is_person)
    size = rng.choice(len(SIZES), m, p=_weights(SIZES))
    band = np.maximum(pop.age_band[part], 0)
    return pa.Table.from_pydict({
        "subject": keys,
        "region": lookup([r.name for r in REGIONS], CODE_REGION[pop.code[part]]),
        "urban_rural": lookup(["rural", "urban"], urban.astype(np.int8)),
        "sector": pc.if_else(org_mask, pa.nulls(m, pa.string()), lookup([s[0] for s in SECTORS], sector)),
        "size": pc.if_else(org_mask, pa.nulls(m, pa.string()), lookup([s[0] for s in SIZES], size)),
        "age_band": pc.if_else(person_mask, pa.nulls(m, pa.string()),
                               lookup([b[0] for b in AGE_BANDS], band)),
    }, schema=ATTRIBUTES_SCHEMA)
