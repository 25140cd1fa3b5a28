"""Drawing the subjects of a synthetic population: kind, region, birth date or entity type, identifier.

Identifiers are drawn for the whole population at once (an int64 body per subject, a few bytes each)
because uniqueness is a property of the whole population; everything heavier is drawn per chunk by
the callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from xinyong.lab.identifiers import I64, U8, Bools, id_matrix, make_unique, org_body, person_body
from xinyong.lab.profiles import AGE_BANDS, REGIONS

EPOCH = date(1970, 1, 1)

CODES: tuple[str, ...] = tuple(code for region in REGIONS for code in region.codes)
CODE_REGION = np.array([i for i, region in enumerate(REGIONS) for _ in region.codes], dtype=np.int16)
CODE_VALUE = np.array([int(code) for code in CODES], dtype=np.int64)
_CODE_START = np.cumsum([0] + [len(r.codes) for r in REGIONS[:-1]]).astype(np.int64)
_CODE_COUNT = np.array([len(r.codes) for r in REGIONS], dtype=np.int64)
REGION_WEIGHTS = np.array([r.weight for r in REGIONS], dtype=np.float64) / sum(r.weight for r in REGIONS)
URBAN_SHARE = np.array([r.urban_share for r in REGIONS], dtype=np.float64)

# Registering authority 9 (market regulation) with entity type 1 (enterprise), 2 (individual
# business) or 3 (farmers' cooperative), and their shares.
ENTITY_TYPES = np.array([91, 92, 93], dtype=np.int64)
ENTITY_SHARES = np.array([0.86, 0.11, 0.03])


@dataclass(frozen=True)
class Subjects:
    """Subject-level arrays of a population, one row per subject, in subject order."""

    is_person: Bools
    code: npt.NDArray[np.int16]       # index into CODES (the region code inside the identifier)
    age_band: npt.NDArray[np.int8]    # index into AGE_BANDS; -1 for organisations
    entity: npt.NDArray[np.int8]      # index into ENTITY_TYPES; -1 for persons
    ids: U8                           # (n, 18) ASCII identifiers

    def __len__(self) -> int:
        return len(self.is_person)

    @property
    def region(self) -> npt.NDArray[np.int16]:
        result: npt.NDArray[np.int16] = CODE_REGION[self.code]
        return result


def days(d: date) -> int:
    """Days since 1970-01-01 (the date32 representation)."""
    return (d - EPOCH).days


def years_before(d: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29 February without a leap year)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def yyyymmdd(day_numbers: I64) -> I64:
    """Days since the epoch to integers YYYYMMDD, vectorised."""
    d = day_numbers.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    result: I64 = year * 10_000 + month * 100 + day
    return result


def birth_range(as_of: date, band: int) -> tuple[int, int]:
    """Inclusive range of birth days (since the epoch) of a person in age band ``band`` at ``as_of``."""
    _, lo, hi, _ = AGE_BANDS[band]
    earliest = years_before(as_of, hi + 1) + timedelta(days=1)
    latest = years_before(as_of, lo)
    return days(earliest), days(latest)


def draw_codes(rng: np.random.Generator, n: int) -> npt.NDArray[np.int16]:
    """Region codes by population weight of the region, uniform among the region's codes."""
    region = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)
    offset = np.floor(rng.random(n) * _CODE_COUNT[region]).astype(np.int64)
    result: npt.NDArray[np.int16] = (_CODE_START[region] + offset).astype(np.int16)
    return result


def draw_subjects(rng: np.random.Generator, n: int, *, person_share: float, as_of: date) -> Subjects:
    """Kinds, regions and unique valid identifiers for ``n`` subjects."""
    is_person = rng.random(n) < person_share
    code = draw_codes(rng, n)
    body = np.zeros(n, dtype=np.int64)
    age_band = np.full(n, -1, dtype=np.int8)
    entity = np.full(n, -1, dtype=np.int8)

    persons = np.flatnonzero(is_person)
    bands = rng.choice(len(AGE_BANDS), size=len(persons), p=[b[3] for b in AGE_BANDS]).astype(np.int8)
    ranges = np.array([birth_range(as_of, b) for b in range(len(AGE_BANDS))], dtype=np.int64)
    lo, hi = ranges[bands, 0], ranges[bands, 1]
    birth = lo + np.floor(rng.random(len(persons)) * (hi - lo + 1)).astype(np.int64)
    stem = person_body(CODE_VALUE[code[persons]], yyyymmdd(birth), np.zeros(len(persons), np.int64))
    seq = rng.integers(0, 1000, size=len(persons), dtype=np.int64)
    body[persons] = make_unique(stem + seq, lambda pos: stem[pos] + rng.integers(0, 1000, size=len(pos)))
    age_band[persons] = bands

    orgs = np.flatnonzero(~is_person)
    kinds = rng.choice(len(ENTITY_TYPES), size=len(orgs), p=ENTITY_SHARES).astype(np.int8)
    stem = org_body(ENTITY_TYPES[kinds], CODE_VALUE[code[orgs]], np.zeros(len(orgs), np.int64))
    org_code = rng.integers(0, 10**8, size=len(orgs), dtype=np.int64)
    body[orgs] = make_unique(stem + org_code, lambda pos: stem[pos] + rng.integers(0, 10**8, size=len(pos)))
    entity[orgs] = kinds

    return Subjects(is_person, code, age_band, entity, id_matrix(is_person, body))
