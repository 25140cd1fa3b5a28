"""The record types to generate and the vectorised record columns shared by the population and bulk
generators: dates, document numbers, amounts, and the Arrow schemas of the files written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.lab.identifiers import I64, Bools
from xinyong.lab.profiles import DECIDED_WINDOW_DAYS, FALLBACK_RATES, PROFILES, REGIONS
from xinyong.lab.subjects import CODE_REGION, CODES
from xinyong.model.catalogue import Catalogue, Polarity
from xinyong.model.errors import InvalidInput

F64 = npt.NDArray[np.float64]
_DEFAULT_AMOUNT = (10_000.0, 1.0)

RECORDS_SCHEMA = pa.schema([
    pa.field("subject", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("type", pa.string(), nullable=False),
    pa.field("occurred", pa.date32(), nullable=False),
    pa.field("decided", pa.date32(), nullable=False),
    pa.field("document", pa.string(), nullable=False),
    pa.field("amount", pa.decimal128(18, 2)),
])


@dataclass(frozen=True)
class TypePlan:
    """The record types to generate, as parallel arrays indexed by type number."""

    ids: list[str]
    sources: list[str]
    person_ok: Bools
    org_ok: Bools
    rate: F64
    positive: Bools
    lag_lo: I64
    lag_hi: I64
    words: list[str]
    court_style: Bools
    has_amount: Bools
    amount_median: F64
    amount_sigma: F64

    def __len__(self) -> int:
        return len(self.ids)


def build_plan(catalogue: Catalogue | None, rates: dict[str, float] | None,
               types: Sequence[str] | None = None) -> TypePlan:
    """Types of the catalogue (or of the built-in profiles) with their source, kinds and rate.

    A type no source may submit cannot be generated validly and gets rate 0; asking for it is an error.
    """
    rows: list[tuple[str, str, bool, bool, float, bool, str, bool, float, float, tuple[int, int]]] = []
    if catalogue is None:
        for type_id, p in PROFILES.items():
            median, sigma = p.amount or (0.0, 0.0)
            rows.append((type_id, p.source, "person" in p.kinds, "organisation" in p.kinds, p.rate,
                         p.positive, p.word, p.amount is not None, median, sigma, p.lag))
    else:
        for rt in catalogue.record_types:
            submitters = [s.id for s in catalogue.sources if rt.id in s.may_submit]
            profile = PROFILES.get(rt.id)
            positive = rt.polarity is Polarity.POSITIVE
            if profile is not None:
                rate, word, lag = profile.rate, profile.word, profile.lag
                median, sigma = profile.amount or _DEFAULT_AMOUNT
            else:
                rate = FALLBACK_RATES["positive" if positive else rt.severity.value]
                word = rt.id.split(".")[0].title() + " Jue"
                lag, (median, sigma) = (14, 365), _DEFAULT_AMOUNT
            kinds = {k.value for k in rt.subject_kinds}
            rows.append((rt.id, submitters[0] if submitters else "", "person" in kinds,
                         "organisation" in kinds, rate if submitters else 0.0, positive, word,
                         rt.amount_unit is not None, median, sigma, lag))
    known = {r[0] for r in rows}
    for type_id, value in (rates or {}).items():
        if type_id not in known:
            raise InvalidInput(f"record type {type_id!r} is not in the catalogue", field="rates")
        if not value >= 0:
            raise InvalidInput(f"rate of {type_id!r} must be a non-negative number", field="rates")
    if types is not None:
        for type_id in types:
            if type_id not in known:
                raise InvalidInput(f"record type {type_id!r} is not in the catalogue", field="types")
        wanted = set(types)
        rows = [r for r in rows if r[0] in wanted]
    final_rates = [float((rates or {}).get(r[0], r[4])) for r in rows]
    for r, rate in zip(rows, final_rates, strict=True):
        if rate > 0 and not r[1]:
            raise InvalidInput(f"no registered source may submit record type {r[0]!r}", field="rates")
    return TypePlan(
        ids=[r[0] for r in rows],
        sources=[r[1] for r in rows],
        person_ok=np.array([r[2] for r in rows], dtype=np.bool_),
        org_ok=np.array([r[3] for r in rows], dtype=np.bool_),
        rate=np.array(final_rates, dtype=np.float64),
        positive=np.array([r[5] for r in rows], dtype=np.bool_),
        lag_lo=np.array([r[10][0] for r in rows], dtype=np.int64),
        lag_hi=np.array([r[10][1] for r in rows], dtype=np.int64),
        words=[r[6] for r in rows],
        court_style=np.array([r[0].startswith("court.") for r in rows], dtype=np.bool_),
        has_amount=np.array([r[7] for r in rows], dtype=np.bool_),
        amount_median=np.array([r[8] for r in rows], dtype=np.float64),
        amount_sigma=np.array([r[9] for r in rows], dtype=np.float64),
    )


def date_array(day_numbers: I64) -> pa.Array:
    """Arrow date32 from days since the epoch, without a Python loop."""
    data = day_numbers.astype(np.int32)
    return pa.Array.from_buffers(pa.date32(), len(data), [None, pa.py_buffer(data)])


def decimal_array(cents: I64, valid: Bools) -> pa.Array:
    """Arrow decimal128(18, 2) from non-negative integer cents, null where not ``valid``."""
    n = len(cents)
    words = np.zeros((n, 2), dtype=np.int64)   # little-endian 128-bit: low word, high word (0)
    words[:, 0] = np.where(valid, cents, 0)
    nulls = int(n - np.count_nonzero(valid))
    validity = None if nulls == 0 else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)], null_count=nulls)


def lookup(values: Sequence[str], index: npt.NDArray[np.integer]) -> pa.Array:
    """``values[index]`` as an Arrow string array (a take from a small dictionary)."""
    return pa.array(values, pa.string()).take(pa.array(index.astype(np.int32)))


_ABBR = [REGIONS[r].abbr for r in CODE_REGION]
_COURT_CODE = [code[2:6] for code in CODES]


def record_columns(rng: np.random.Generator, plan: TypePlan, type_idx: npt.NDArray[np.int16],
                   code_idx: npt.NDArray[np.int16], as_of_day: int) -> dict[str, pa.Array]:
    """Source, type, dates, document and amount columns for records of the given types whose
    subjects carry the given region codes (the court or agency is the subject's local one)."""
    n = len(type_idx)
    decided = as_of_day - rng.integers(0, DECIDED_WINDOW_DAYS, size=n, dtype=np.int64)
    lo, hi = plan.lag_lo[type_idx], plan.lag_hi[type_idx]
    occurred = decided - lo - np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    year = decided.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    first_year = int(year.min()) if n else 2000
    years = range(first_year, int(year.max()) + 1 if n else 2001)
    year_idx = year - first_year
    court = plan.court_style[type_idx]
    paren = lookup([f"({y})" for y in years], year_idx)
    bracket = lookup([f"[{y}]" for y in years], year_idx)
    abbr = lookup(_ABBR, code_idx)
    court_code = lookup(_COURT_CODE, code_idx)
    word = lookup(plan.words, type_idx)
    number = pc.cast(pa.array(rng.integers(1, 20_000, size=n, dtype=np.int32)), pa.string())
    mask = pa.array(court)
    document = pc.binary_join_element_wise(
        pc.if_else(mask, paren, abbr), pc.if_else(mask, abbr, court_code),
        pc.if_else(mask, court_code, word), pc.if_else(mask, word, bracket), number, " ",
    )
    has_amount = plan.has_amount[type_idx]
    yuan = plan.amount_median[type_idx] * np.exp(plan.amount_sigma[type_idx] * rng.standard_normal(n))
    cents = np.round(np.minimum(yuan, 1e13) * 100).astype(np.int64)
    cents = np.where(court, cents, cents // 100 * 100)    # penalties and taxes in whole yuan
    return {
        "source": lookup(plan.sources, type_idx),
        "type": lookup(plan.ids, type_idx),
        "occurred": date_array(occurred),
        "decided": date_array(decided),
        "document": document,
        "amount": decimal_array(np.maximum(cents, 1), has_amount),
    }
