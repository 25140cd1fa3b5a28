"""The public list is always current: after any sequence of writes, amendments and batch runs, the
published listings equal the reference evaluator's listings in force (due process and the publication
window applied), with no evaluation needed in between."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.service.publication import published_rows
from xinyong.service.registry import Registry
from xinyong.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ["cn.ric:11010519491231002X", "cn.ric:360426199101010071", "cn.ric:110105198001010016"]
AS_OF = date(2026, 3, 1)

ops = st.lists(st.one_of(
    st.tuples(st.just("record"), st.sampled_from(PEOPLE), st.integers(0, 800)),
    st.tuples(st.just("annul"), st.integers(0, 10), st.integers(0, 0)),
    st.tuples(st.just("repair"), st.integers(0, 10), st.integers(0, 0)),
    st.tuples(st.just("evaluate"), st.integers(0, 0), st.integers(0, 0)),
), min_size=1, max_size=8)


def _reference(reg: Registry, day: date) -> list[tuple[str, date, date]]:
    lp = next(lp for lp in reg.policies(day) if lp.policy.id == "shixin")
    days = lp.policy.list_def("shixin").publication.days
    out = []
    for key in PEOPLE:
        for plp, a in reg.assess_in_force(key, day):
            if plp.policy.id == "shixin":
                out += [(key, x.since, x.until) for x in a.listings
                        if x.list_id == "shixin" and (days is None or day < x.since + timedelta(days=days))]
    return sorted(out)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A published, evaluated store, copied per example (publishing is the slow part)."""
    path = tmp_path_factory.mktemp("pub") / "base.duckdb"
    with open_store(path) as store:
        reg = Registry(store, actor="office")
        reg.publish([ROOT / "policies"])
        reg.evaluate(AS_OF)
    return path.read_bytes()


@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_the_public_list_equals_the_reference_after_any_writes(base: bytes, steps: list[tuple[str, object, int]]
                                                              ) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "p.duckdb").write_bytes(base)
        store = open_store(Path(tmp) / "p.duckdb")
        reg = Registry(store, actor="office")
        records: list[Record] = []
        for i, (op, a, b) in enumerate(steps):
            if op == "record":
                rec = Record(subject=str(a), source="court.enforcement", type="court.refuse_perform",
                             occurred=date(2020, 1, 1), decided=AS_OF - timedelta(days=int(b)), document=f"D{i}")
                store.add_records([rec], actor="court")
                records.append(rec)
            elif op in ("annul", "repair") and records:
                rec = records[int(a) % len(records)]
                kind = AmendmentKind.ANNUL if op == "annul" else AmendmentKind.REPAIR
                store.add_amendments([Amendment(record=rec.id, kind=kind, effective=AS_OF, reason="decided",
                                                document=f"case {i}")], actor="reviewer")
            elif op == "evaluate":
                reg.evaluate(AS_OF)
            _, rows = published_rows(reg, "shixin", AS_OF)
            assert sorted((r.subject, r.since, r.until) for r in rows) == _reference(reg, AS_OF)
        store.close()
