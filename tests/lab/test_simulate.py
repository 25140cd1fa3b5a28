"""Simulation over time: arrivals follow the population, flows add up, due process shortens listings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tests.lab.conftest import LAB_AS_OF, ROOT

from xinyong.engines import population as engine
from xinyong.lab.simulate import Process, due_process, future_records, month_ends, monthly
from xinyong.policy.loader import load_policy

SHIXIN = ROOT / "policies" / "shixin.yaml"


def test_month_ends() -> None:
    assert month_ends(date(2026, 11, 15), 3) == [date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 31)]


def test_simulation_flows_add_up(lab_population: engine.PopulationPaths) -> None:
    lp = load_policy(SHIXIN)
    types = engine.relevant_types(lp)
    groups = engine.subjects_table(lab_population)
    history = engine.record_counts(lab_population, types)
    future = future_records(lp.catalogue, groups.select(["subject", "kind"]), history, types, LAB_AS_OF, 2.0, seed=3)
    # records arrive at about the historical yearly rate (history covers four years)
    assert 0.2 < future.num_rows / 2.0 / (pc.sum(history.column("n")).as_py() / 4.0) < 5.0
    assert pc.min(future.column("decided")).as_py() > LAB_AS_OF
    ends = month_ends(LAB_AS_OF, 24)
    episodes = engine.listings_by_month(lab_population, lp, future, ends)
    assert episodes.num_rows > 0
    nothing = due_process(lp, episodes, ends, Process(object_share=0, repair_share=0), seed=3)
    some = due_process(lp, episodes, ends, Process(object_share=0.5, upheld_share=1.0, repair_share=0.5), seed=3)
    m = monthly(some, ends, groups)
    listed, inflow, outflow = (np.array(m[k]) for k in ("listed", "inflow", "outflow"))
    assert len(listed) == 24
    assert (listed[1:] - listed[:-1] == inflow[1:] - outflow[1:]).all()  # stocks and flows agree
    assert m["ended_by"].get("objection upheld", 0) > 0 and m["ended_by"].get("repaired", 0) > 0
    assert sum(monthly(nothing, ends, groups)["listed"]) > sum(m["listed"])  # due process shortens listings
    assert set(m["mean_days_listed"]["by_group"]) <= {"urban", "rural", "(none)"}


def test_future_records_keep_the_rural_gap(lab_population: engine.PopulationPaths) -> None:
    lp = load_policy(ROOT / "examples" / "lab" / "rongcheng-points.yaml")
    groups = engine.subjects_table(lab_population)
    types = ["civic.volunteering"]
    future = future_records(lp.catalogue, groups.select(["subject", "kind"]),
                            engine.record_counts(lab_population, types), types, LAB_AS_OF, 1.0, seed=1)
    per = future.group_by("subject").aggregate([("type", "count")]).join(
        groups.select(["subject", "urban_rural", "kind"]), "subject", join_type="right outer")
    per = per.filter(pc.equal(per.column("kind"), "person"))
    counts = pc.fill_null(per.column("type_count"), 0)
    rate = {g: pc.mean(counts.filter(pc.equal(per.column("urban_rural"), g))).as_py() for g in ("urban", "rural")}
    assert rate["rural"] < 0.6 * rate["urban"]
    assert isinstance(future.column("decided").type, pa.DataType)
