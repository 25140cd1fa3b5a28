"""The compiled SQL agrees with the reference evaluator on every subject, for random histories.

Hypothesis draws records (with duplicates, unknown types and records about subjects that are not
registered) and amendments (including several corrections of one record, and amendments effective
after the as-of date) for a handful of subjects; they are loaded into a real DuckDB database built
with migration 001, and for every subject the score, tier and listings in force from
``compile_policy`` must equal those of :func:`xinyong.policy.evaluate.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from xinyong.engines.compiler import compile_policy
from xinyong.engines.duckdb_engine import SqlAssessment, evaluate_sql_for_subjects, run_assessment
from xinyong.model.identifiers import default_schemes, org_code_check_char
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy, find_policy_files, load_policy, policy_conditions
from xinyong.policy.schema import RecordCondition

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "src/xinyong/store/migrations/001_initial.sql"
POLICY_FILES = [
    *find_policy_files([ROOT / "policies"]),
    *find_policy_files([ROOT / "tests/fixtures/engines"]),
]


def _uscc(body: str) -> str:
    body = body[:16] + org_code_check_char(body[8:16])  # the embedded organisation code's own check
    return f"cn.uscc:{body}{uscc.calc_check_digit(body)}"


def _ric(body: str) -> str:
    return f"cn.ric:{body}{ric.calc_check_digit(body + '0')}"  # it drops the last character


SUBJECTS = [
    _uscc("91440300192203821"), _uscc("91110108MA01ABCDE"), _uscc("12100000400000624"),
    _ric("11010519491231002"), _ric("11010219900101123"), _ric("11010819851212456"),
]
UNREGISTERED = _ric("11010119800101001")  # has records, but is not in the subjects table


def test_subject_keys_are_valid() -> None:
    schemes = default_schemes()
    for key in [*SUBJECTS, UNREGISTERED]:
        assert schemes.parse(key).key == key


def policy_types(lp: LoadedPolicy) -> list[str]:
    found = {rule.type for rule in lp.policy.scoring.rules} if lp.policy.scoring else set()
    for cond, _ in policy_conditions(lp.policy):
        if isinstance(cond, RecordCondition):
            found |= set(cond.types)
    return sorted(found)


def boundaries(lp: LoadedPolicy) -> list[int]:
    """Day counts where an off-by-one would show: validities, counting periods, windows, durations."""
    days = {rt.default_validity_days for rt in lp.catalogue.record_types}
    if lp.policy.scoring:
        days |= {r.counts_for_days for r in lp.policy.scoring.rules if r.counts_for_days}
    for cond, _ in policy_conditions(lp.policy):
        if isinstance(cond, RecordCondition) and cond.within_days:
            days.add(cond.within_days)
    days |= {lst.max_duration_days for lst in lp.policy.lists if lst.max_duration_days}
    return sorted({d + e for d in days for e in (-1, 0, 1)} | {0})


AMOUNTS = st.one_of(
    st.none(),
    st.sampled_from([Decimal(a) for a in ("0", "0.01", "499.99", "500", "800.50", "999.99", "1000",
                                          "1500.50", "9999.99", "10000", "300000")]),
    st.decimals(min_value=0, max_value=5_000, places=2),
    st.decimals(min_value=0, max_value=3_000_000, places=2),
)


@st.composite
def populations(draw: st.DrawFn, lp: LoadedPolicy) -> tuple[list[Record], list[Amendment], date]:
    """Histories dense enough to reach caps, tier thresholds and lists: each subject draws from a few
    favourite types, mostly decided in the years before the as-of date."""
    as_of = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)))
    # the types the policy reads, one catalogue type it does not read, one unknown to the catalogue
    unread = sorted(lp.catalogue.type_ids() - set(policy_types(lp)))[:1]
    types = [*policy_types(lp), *unread, "no.such_type"]
    # decided this many days before the as-of date: anywhere, or on (or next to) a boundary
    edges = st.sampled_from(boundaries(lp))
    offsets = st.one_of(st.integers(-40, 1000), edges, edges)  # edges twice as likely
    records: list[Record] = []
    for subject in [*SUBJECTS, UNREGISTERED]:
        favourites = draw(st.lists(st.sampled_from(types), min_size=1, max_size=3))
        for _ in range(draw(st.integers(0, 14))):
            decided = as_of - timedelta(days=draw(offsets))
            record = Record(
                subject=subject, source="test.agency", type=draw(st.sampled_from(favourites)),
                occurred=decided - timedelta(days=draw(st.integers(0, 30))), decided=decided,
                document=draw(st.sampled_from(["d1", "d2", "d3", "d4", "d5", "d6"])),
                amount=draw(AMOUNTS),
            )
            records.append(record)
            if draw(st.integers(0, 9)) == 0:
                records.append(record)  # submitted twice: one record
    amendments: list[Amendment] = []
    if records:
        for _ in range(draw(st.integers(0, 12))):
            kind = draw(st.sampled_from(list(AmendmentKind)))
            target = draw(st.sampled_from(records)).id if draw(st.integers(0, 19)) else "0" * 32
            amendments.append(Amendment(
                record=target, kind=kind,
                effective=as_of - timedelta(days=draw(st.one_of(st.integers(-100, 600),
                                                                  st.sampled_from([-1, 0, 1])))),
                reason=draw(st.sampled_from(["objection upheld", "paid", "typo"])),
                document=draw(st.sampled_from(["a1", "a2"])),
                amount=draw(AMOUNTS.filter(lambda a: a is not None)) if kind is AmendmentKind.CORRECT
                else None,
            ))
            if kind is AmendmentKind.CORRECT and draw(st.integers(0, 2)) == 0:
                # a second correction effective the same day: the amendment id breaks the tie
                amendments.append(amendments[-1].model_copy(update={
                    "amount": draw(AMOUNTS.filter(lambda a: a is not None)), "document": "a3"}))
    return records, amendments, as_of


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(":memory:")
    c.execute(MIGRATION.read_text(encoding="utf-8"))
    # the integer subject keys of migration 011, so the store's grouping is held equal too
    c.execute("ALTER TABLE subjects ADD COLUMN sid BIGINT; ALTER TABLE records ADD COLUMN sid BIGINT")
    yield c
    c.close()


def load(con: duckdb.DuckDBPyConnection, records: list[Record], amendments: list[Amendment]) -> None:
    """Replace the tables' contents (Arrow tables: executemany is slow in DuckDB)."""
    for table in ("subjects", "records", "amendments", "assessment_runs", "assessments", "listings"):
        con.execute(f"DELETE FROM {table}")
    schemes = default_schemes()
    subjects = pa.table({"id": SUBJECTS, "scheme": [s.partition(":")[0] for s in SUBJECTS],
                         "kind": [schemes.kind_of(s).value for s in SUBJECTS]})
    recs = pa.table({
        "id": [r.id for r in records], "subject": [r.subject for r in records],
        "source": [r.source for r in records], "type": [r.type for r in records],
        "occurred": pa.array([r.occurred for r in records], pa.date32()),
        "decided": pa.array([r.decided for r in records], pa.date32()),
        "document": [r.document for r in records],
        "amount": pa.array([r.amount for r in records], pa.decimal128(18, 2)),
    })
    amends = pa.table({
        "id": [a.id for a in amendments], "record": [a.record for a in amendments],
        "kind": [a.kind.value for a in amendments],
        "effective": pa.array([a.effective for a in amendments], pa.date32()),
        "reason": [a.reason for a in amendments], "document": [a.document for a in amendments],
        "amount": pa.array([a.amount for a in amendments], pa.decimal128(18, 2)),
    })
    con.register("new_subjects", subjects)
    con.register("new_records", recs)
    con.register("new_amendments", amends)
    con.execute("INSERT INTO subjects SELECT id, scheme, kind, NULL, 10 * row_number() OVER () FROM new_subjects")
    # a record about an unregistered subject gets a number no subject has (a store never writes one)
    con.execute("INSERT INTO records SELECT r.id, r.subject, source, type, occurred, decided, document, "
                "amount, 'batch', TIMESTAMP '2027-01-01', coalesce(s.sid, 7) FROM new_records r "
                "LEFT JOIN subjects s ON s.id = r.subject")
    con.execute("INSERT INTO amendments SELECT id, record, kind, effective, reason, document, amount, "
                "TIMESTAMP '2027-01-01' FROM new_amendments")
    for name in ("new_subjects", "new_records", "new_amendments"):
        con.unregister(name)


def reference(lp: LoadedPolicy, records: list[Record], amendments: list[Amendment],
              as_of: date) -> dict[str, SqlAssessment]:
    schemes = default_schemes()
    out = {}
    for subject in SUBJECTS:
        if schemes.kind_of(subject) not in lp.policy.applies_to:
            continue
        own = [r for r in records if r.subject == subject]
        a = evaluate(lp, subject, own, amendments, as_of)
        out[subject] = SqlAssessment(
            subject, a.score, a.tier,
            frozenset((lst.list_id, lst.since, lst.until) for lst in a.listings))
    return out


def _ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_policy_is_tested() -> None:
    names = {p.name for p in POLICY_FILES}
    assert {"shixin.yaml", "caps.yaml", "conditions.yaml", "organisations.yaml"} <= names


@pytest.mark.parametrize("path", POLICY_FILES, ids=_ids)
def test_sql_equals_reference(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    lp = load_policy(path)

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(populations(lp))
    def check(case: tuple[list[Record], list[Amendment], date]) -> None:
        records, amendments, as_of = case
        load(con, records, amendments)
        expected = reference(lp, records, amendments, as_of)
        got = evaluate_sql_for_subjects(con, lp, as_of)
        assert got == expected
        # the registry's path: ids stored once, so the query reads the records without DISTINCT
        load(con, list({r.id: r for r in records}.values()), amendments)
        assert evaluate_sql_for_subjects(con, compile_policy(lp, dedupe=False), as_of) == expected
        # the store's path: grouped by the integer subject number
        keyed = compile_policy(lp, dedupe=False, subject_key="sid")
        assert evaluate_sql_for_subjects(con, keyed, as_of) == expected

    check()


@pytest.mark.parametrize("path", POLICY_FILES, ids=_ids)
def test_run_assessment_stores_what_the_query_says(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    lp = load_policy(path)

    @settings(max_examples=5, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(populations(lp))
    def check(case: tuple[list[Record], list[Amendment], date]) -> None:
        records, amendments, as_of = case
        load(con, records, amendments)
        expected = reference(lp, records, amendments, as_of)
        summary = run_assessment(con, lp, as_of, "run-1")
        assert summary.subjects == len(expected)
        assert summary.records == len(records)
        stored = {s: (score, tier) for s, score, tier in con.execute(
            "SELECT subject, score, tier FROM assessments WHERE run = 'run-1'").fetchall()}
        assert stored == {s: (a.score, a.tier) for s, a in expected.items()}
        listed = set(con.execute("SELECT subject, list, since, until FROM listings WHERE run = 'run-1'")
                     .fetchall())
        assert listed == {(s, *lst) for s, a in expected.items() for lst in a.listings}
        assert sum(summary.lists.values()) == len(listed)
        assert con.execute("SELECT count(*) FROM assessment_runs WHERE run = 'run-1'").fetchone() == (1,)

    check()


def test_a_known_case_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    """Guards the harness itself: a debtor's refusal lists them for two years from the decision."""
    lp = load_policy(ROOT / "policies/shixin.yaml")
    person = SUBJECTS[3]
    rec = Record(subject=person, source="court.enforcement", type="court.refuse_perform",
                 occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document="(2026) 1",
                 amount=Decimal("250000"))
    load(con, [rec, rec], [])
    got = evaluate_sql_for_subjects(con, lp, date(2026, 3, 1))
    assert got[person].listings == {("shixin", date(2026, 1, 10), date(2028, 1, 10))}
    assert got[SUBJECTS[0]].listings == frozenset()
    assert len(got) == len(SUBJECTS)
