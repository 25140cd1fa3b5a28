"""The synthetic population: valid identifiers, catalogue-respecting records, determinism, the disparity."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from xinyong.lab import generate_bulk_records, generate_population
from xinyong.lab.identifiers import (
    USCC_ALPHABET,
    id_strings,
    key_array,
    org_ids,
    person_ids,
    ric_check_chars,
    uscc_check_chars,
)
from xinyong.lab.population import PopulationSummary
from xinyong.lab.profiles import AGE_BANDS, PROFILES, REGIONS
from xinyong.model.catalogue import Catalogue, Polarity
from xinyong.model.errors import InvalidInput
from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Record
from xinyong.policy.loader import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 6, 30)
SHIXIN_GROUNDS = {"court.refuse_perform", "court.obstruct_enforcement", "court.evade_enforcement",
                  "court.breach_property_report", "court.breach_consumption_order",
                  "court.refuse_settlement"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]


@pytest.fixture(scope="module")
def population(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory) -> PopulationSummary:
    return generate_population(catalogue, tmp_path_factory.mktemp("pop"), subjects=20_000, seed=7,
                               as_of=AS_OF)


def _tables(summary: PopulationSummary) -> tuple[pa.Table, pa.Table, pa.Table]:
    return (pq.read_table(summary.subjects_path), pq.read_table(summary.attributes_path),
            pq.read_table(summary.records_path))


def test_counts(population: PopulationSummary) -> None:
    subjects, attributes, records = _tables(population)
    assert subjects.num_rows == attributes.num_rows == population.subjects == 20_000
    assert population.persons + population.organisations == population.subjects
    assert 0.57 < population.persons / population.subjects < 0.63
    assert records.num_rows == population.records == sum(population.records_by_type.values())
    assert abs(records.num_rows / population.subjects - 10.0) < 0.5
    counted = pc.value_counts(records["type"]).to_pylist()
    assert {c["values"]: c["counts"] for c in counted} == population.records_by_type
    assert subjects["id"].to_pylist() == attributes["subject"].to_pylist()


def test_identifiers_are_valid_unique_and_of_the_right_kind(population: PopulationSummary) -> None:
    subjects, attributes, _ = _tables(population)
    ids = subjects["id"].to_pylist()
    assert len(set(ids)) == len(ids)
    schemes = default_schemes()
    bands = {b[0]: (b[1], b[2]) for b in AGE_BANDS}
    for key, scheme, kind, band in zip(ids, subjects["scheme"].to_pylist(), subjects["kind"].to_pylist(),
                                       attributes["age_band"].to_pylist(), strict=True):
        ref = schemes.parse(key)
        assert (ref.key, ref.scheme, ref.kind.value) == (key, scheme, kind)
        if kind == "person":
            assert ric.is_valid(ref.value)
            born = ric.get_birth_date(ref.value)
            age = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
            lo, hi = bands[band]
            assert lo <= age <= hi, (key, band)
        else:
            assert uscc.is_valid(ref.value) and band is None


def test_names(population: PopulationSummary) -> None:
    subjects = pq.read_table(population.subjects_path).slice(0, 500).to_pylist()
    for row in subjects:
        if row["kind"] == "person":
            family, given_name = row["name"].split(" ")
            assert family[0].isupper() and given_name[0].isupper()
        else:
            assert row["name"].endswith(("Co., Ltd.", "Store", "Cooperative"))


def test_records_respect_the_catalogue(population: PopulationSummary, catalogue: Catalogue) -> None:
    subjects, _, records = _tables(population)
    kind_of = dict(zip(subjects["id"].to_pylist(), subjects["kind"].to_pylist(), strict=True))
    pairs = pc.unique(pc.binary_join_element_wise(records["subject"], records["type"],
                                                  records["source"], "|")).to_pylist()
    seen_types = set()
    for pair in pairs:
        subject, type_id, source = pair.split("|")
        rt = catalogue.record_type(type_id)
        assert kind_of[subject] in {k.value for k in rt.subject_kinds}, pair
        assert type_id in catalogue.source(source).may_submit, pair
        seen_types.add(type_id)
    assert {t for t in seen_types if t.startswith(("tax.", "customs."))}
    assert all(kind_of[s] == "organisation" for s, t, _ in (p.split("|") for p in pairs)
               if t.startswith(("tax.", "customs.")))
    assert all(kind_of[s] == "person" for s, t, _ in (p.split("|") for p in pairs) if t.startswith("civic."))


def test_dates_documents_and_amounts(population: PopulationSummary, catalogue: Catalogue) -> None:
    records = pq.read_table(population.records_path)
    assert not records.schema.field("decided").nullable
    occurred = records["occurred"].to_numpy()
    decided = records["decided"].to_numpy()
    assert (occurred <= decided).all()
    assert (decided <= np.datetime64(AS_OF)).all()
    assert (decided > np.datetime64(AS_OF - timedelta(days=4 * 366))).all()
    assert records.schema.field("amount").type == pa.decimal128(18, 2)
    with_amount = {rt.id for rt in catalogue.record_types if rt.amount_unit}
    sample = records.slice(0, 3000).to_pylist()
    for row in sample:
        record = Record.model_validate(row)         # the domain model accepts every generated record
        assert (record.amount is not None) == (record.type in with_amount)
        assert record.amount is None or record.amount > Decimal(0)
        if record.type.startswith("court."):
            assert record.document.startswith(f"({record.decided.year}) ")
        else:
            assert f"[{record.decided.year}]" in record.document


def test_attributes_are_kept_apart_from_records(population: PopulationSummary) -> None:
    _, attributes, records = _tables(population)
    assert records.column_names == ["subject", "source", "type", "occurred", "decided", "document", "amount"]
    assert not set(attributes.column_names[1:]) & set(records.column_names)
    assert set(pc.unique(attributes["urban_rural"]).to_pylist()) == {"urban", "rural"}
    assert set(pc.unique(attributes["region"]).to_pylist()) <= {r.name for r in REGIONS}


def test_rural_persons_get_fewer_volunteering_records(population: PopulationSummary) -> None:
    _, attributes, records = _tables(population)
    persons = attributes.filter(pc.is_valid(attributes["age_band"]))
    area = dict(zip(persons["subject"].to_pylist(), persons["urban_rural"].to_pylist(), strict=True))
    volunteering = records.filter(pc.equal(records["type"], "civic.volunteering"))
    per_area: dict[str, int] = defaultdict(int)
    for subject in volunteering["subject"].to_pylist():
        per_area[area[subject]] += 1
    people = {a: sum(1 for v in area.values() if v == a) for a in ("urban", "rural")}
    rural_rate = per_area["rural"] / people["rural"]
    urban_rate = per_area["urban"] / people["urban"]
    assert rural_rate < 0.5 * urban_rate
    assert population.rural_persons == people["rural"]


def test_shixin_share_is_realistic(population: PopulationSummary) -> None:
    _, attributes, records = _tables(population)
    persons = set(attributes.filter(pc.is_valid(attributes["age_band"]))["subject"].to_pylist())
    listed = records.filter(pc.and_(
        pc.is_in(records["type"], pa.array(sorted(SHIXIN_GROUNDS))),
        pc.greater(records["decided"], pa.scalar(AS_OF - timedelta(days=730), pa.date32()))))
    share = len(set(listed["subject"].to_pylist()) & persons) / len(persons)
    assert 0.01 <= share <= 0.03


def test_same_seed_same_tables_other_seed_other_tables(catalogue: Catalogue, tmp_path: Path) -> None:
    a = generate_population(catalogue, tmp_path / "a", subjects=3000, seed=3, as_of=AS_OF)
    b = generate_population(catalogue, tmp_path / "b", subjects=3000, seed=3, as_of=AS_OF)
    c = generate_population(catalogue, tmp_path / "c", subjects=3000, seed=4, as_of=AS_OF)
    for left, right in zip(_tables(a), _tables(b), strict=True):
        assert left.equals(right)
    assert not _tables(a)[0].equals(_tables(c)[0])
    assert a.records_path.read_bytes() == b.records_path.read_bytes()


def test_rates_progress_and_errors(catalogue: Catalogue, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xinyong.lab.population.ROWS_PER_CHUNK", 10_000)   # several chunks
    calls: list[tuple[int, int]] = []
    summary = generate_population(catalogue, tmp_path, subjects=2500, records_per_subject=20,
                                  as_of=AS_OF, rates={"civic.volunteering": 0.0},
                                  progress=lambda d, t: calls.append((d, t)))
    assert "civic.volunteering" not in summary.records_by_type
    assert calls == [(1024, 2500), (2048, 2500), (2500, 2500)]
    assert pq.ParquetFile(summary.records_path).metadata.num_row_groups == 3
    assert abs(summary.records / 2500 - 20) < 2
    with pytest.raises(InvalidInput, match="not in the catalogue"):
        generate_population(catalogue, tmp_path, subjects=10, as_of=AS_OF, rates={"gaming.hours": 1.0})
    with pytest.raises(InvalidInput):
        generate_population(catalogue, tmp_path, subjects=-1, as_of=AS_OF)
    empty = generate_population(catalogue, tmp_path / "empty", subjects=0, as_of=AS_OF)
    assert empty.records == 0 and pq.read_table(empty.records_path).num_rows == 0


def test_profiles_mirror_the_catalogue(catalogue: Catalogue) -> None:
    assert set(PROFILES) == catalogue.type_ids()
    for rt in catalogue.record_types:
        p = PROFILES[rt.id]
        assert rt.id in catalogue.source(p.source).may_submit
        assert set(p.kinds) == {k.value for k in rt.subject_kinds}
        assert (p.amount is not None) == (rt.amount_unit is not None)
        assert p.positive == (rt.polarity is Polarity.POSITIVE)


def test_region_codes_are_valid_for_every_birth_year() -> None:
    for region in REGIONS:
        for code in region.codes:
            for born in ("19250101", "19830615", "20121231"):
                body = code + born + "123"
                assert ric.is_valid(body + ric.calc_check_digit(body + "0")), (region.name, code, born)


def test_bulk_random_and_clustered(catalogue: Catalogue, tmp_path: Path) -> None:
    summary = generate_bulk_records(tmp_path / "r.parquet", records=50_000, subjects=3000, seed=1,
                                    as_of=AS_OF, row_group_size=8000, catalogue=catalogue)
    table = pq.read_table(summary.path)
    assert table.num_rows == summary.records == 50_000 and summary.row_groups == 7
    assert pq.ParquetFile(summary.path).metadata.num_row_groups == 7
    subjects = set(table["subject"].to_pylist())
    assert 2900 < len(subjects) <= 3000
    schemes = default_schemes()
    assert all(schemes.parse(s).key == s for s in subjects)
    pairs = {tuple(p.split("|")) for p in pc.unique(pc.binary_join_element_wise(
        table["subject"], table["type"], table["source"], "|")).to_pylist()}
    for subject, type_id, source in pairs:
        assert schemes.kind_of(subject) in catalogue.record_type(type_id).subject_kinds
        assert type_id in catalogue.source(source).may_submit

    clustered = generate_bulk_records(tmp_path / "c.parquet", records=50_000, subjects=3000, seed=1,
                                      as_of=AS_OF, clustered=True, row_group_size=8000,
                                      types=["tax.arrears", "contract.breach"])
    column = pq.read_table(clustered.path)["subject"].to_pylist()
    assert len(column) == 50_000
    changes = sum(1 for a, b in pairwise(column) if a != b)
    assert changes == len(set(column)) - 1               # each subject's records are contiguous
    assert set(clustered.records_by_type) == {"tax.arrears", "contract.breach"}
    again = generate_bulk_records(tmp_path / "d.parquet", records=50_000, subjects=3000, seed=1,
                                  as_of=AS_OF, clustered=True, row_group_size=8000,
                                  types=["tax.arrears", "contract.breach"])
    assert pq.read_table(again.path).equals(pq.read_table(clustered.path))


def test_key_array_builds_canonical_keys() -> None:
    body = np.array([11010519491231002, 11010519800101001], dtype=np.int64)
    ids = person_ids(body)
    first, second = id_strings(ids)
    assert first == "11010519491231002X"                 # the sample person of policies/shixin.tests.yaml
    assert ric.is_valid(second)
    org = org_ids(np.array([9144030019220382], dtype=np.int64))
    keys = key_array(np.vstack([ids, org]), np.array([True, True, False]))
    assert keys.to_pylist()[0] == "cn.ric:11010519491231002X"
    assert keys.to_pylist()[2].startswith("cn.uscc:9144030019220382")
    assert uscc.is_valid(keys.to_pylist()[2].partition(":")[2])


_uscc_bodies = st.text(alphabet=USCC_ALPHABET.decode(), min_size=17, max_size=17)
_ric_bodies = st.text(alphabet="0123456789", min_size=17, max_size=17)


@settings(max_examples=300, deadline=None)
@given(st.lists(_uscc_bodies, min_size=1, max_size=20), st.lists(_ric_bodies, min_size=1, max_size=20))
def test_vectorised_check_characters_equal_stdnum(uscc_bodies: list[str], ric_bodies: list[str]) -> None:
    matrix = np.frombuffer("".join(uscc_bodies).encode(), dtype=np.uint8).reshape(-1, 17)
    checks = uscc_check_chars(matrix).tobytes().decode()
    for body, check in zip(uscc_bodies, checks, strict=True):
        assert check == uscc.calc_check_digit(body)
        if body[:8].isdigit():
            assert uscc.is_valid(body + check)
    matrix = np.frombuffer("".join(ric_bodies).encode(), dtype=np.uint8).reshape(-1, 17)
    checks = ric_check_chars(matrix).tobytes().decode()
    for body, check in zip(ric_bodies, checks, strict=True):
        assert check == ric.calc_check_digit(body + "0")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**16 - 1), min_size=1, max_size=20))
def test_generated_uscc_bodies_are_valid(bodies: list[int]) -> None:
    for value in id_strings(org_ids(np.array(bodies, dtype=np.int64))):
        assert uscc.is_valid(value)
