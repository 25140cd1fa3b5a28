"""The demo registry: a synthetic population ingested, evaluated and queried, end to end.

Every step is a real use case (publish, ingest, evaluate, check, explain, audit verify) on a real
store (the DuckDB file by default, or PostgreSQL); the demo only chooses the inputs and collects
figures for the summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from xinyong.audit import VerifyResult
from xinyong.lab.population import PopulationSummary, generate_population
from xinyong.model.assessment import Assessment, Decision
from xinyong.model.runs import RunSummary
from xinyong.policy.loader import LoadedPolicy
from xinyong.service.ingest import IngestSummary, ingest_files
from xinyong.service.registry import Registry
from xinyong.store import is_postgres, open_store

DEMO_AS_OF = date(2026, 7, 1)
Step = Callable[[str], None]


@dataclass
class DemoResult:
    db: Path | str
    as_of: date
    population: PopulationSummary
    ingest: list[IngestSummary]
    runs: list[RunSummary]
    decisions: list[Decision]
    explained: list[tuple[LoadedPolicy, Assessment]]
    audit: VerifyResult
    seconds: dict[str, float] = field(default_factory=dict)


def build_demo(db: Path | str, policies: Path, *, subjects: int, seed: int, as_of: date,
               step: Step = lambda _: None, data_dir: Path | None = None) -> DemoResult:
    """Build a demo registry at ``db``: a fresh file (replacing an earlier demo file there), or a
    PostgreSQL URL (ingest is idempotent, so a second build adds nothing)."""
    if is_postgres(db):
        data_dir = data_dir or Path("demo-data")
    else:
        db = Path(db)
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        data_dir = data_dir or db.with_name(db.stem + "-data")
    data_dir.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    store = open_store(db)
    try:
        reg = Registry(store, actor="demo")
        t = time.perf_counter()
        step("publishing policies")
        reg.publish([policies])
        catalogue = reg.policies()[0].catalogue
        seconds["publish"] = time.perf_counter() - t

        t = time.perf_counter()
        step(f"generating {subjects:,} subjects")
        population = generate_population(catalogue, data_dir, subjects=subjects, seed=seed, as_of=as_of)
        seconds["generate"] = time.perf_counter() - t

        t = time.perf_counter()
        step(f"ingesting {population.records:,} records")
        store.import_subjects(population.subjects_path, actor="demo")
        ingested = []
        for source, path in split_by_source(population.records_path, data_dir):
            ingested.append(ingest_files(store, [path], source=source, catalogue=catalogue,
                                         schemes=reg.schemes, as_of=as_of, actor=f"demo:{source}"))
        seconds["ingest"] = time.perf_counter() - t

        t = time.perf_counter()
        step("evaluating the population")
        runs = reg.evaluate(as_of)
        seconds["evaluate"] = time.perf_counter() - t

        step("checking decisions")
        decisions, explained = _samples(reg, as_of)
        step("verifying the audit log")
        audit = reg.verify_audit()
        return DemoResult(db, as_of, population, ingested, runs, decisions, explained, audit, seconds)
    finally:
        store.close()


def split_by_source(records: Path, out_dir: Path) -> list[tuple[str, Path]]:
    """One file per submitting agency, as agencies would send them (the generator writes one file)."""
    table = pq.read_table(records)
    out = []
    for source in sorted(set(table.column("source").unique().to_pylist())):
        path = out_dir / f"records-{source}.parquet"
        part = table.filter(pc.equal(table.column("source"), source)).drop_columns(["source"])
        pq.write_table(part, path)
        out.append((source, path))
    return out


def _samples(reg: Registry, as_of: date
             ) -> tuple[list[Decision], list[tuple[LoadedPolicy, Assessment]]]:
    """A listed debtor refused a flight, a clean subject allowed, and the debtor's own file."""
    _, listed = reg.listings("shixin", as_of)
    decisions: list[Decision] = []
    explained: list[tuple[LoadedPolicy, Assessment]] = []
    purpose = "ticket sale (demo)"
    if listed:
        debtor = listed[0].subject
        decisions.append(reg.check(debtor, "transport.flight.purchase", purpose, as_of))
        decisions.append(reg.check(debtor, "transport.rail.g_series", purpose, as_of))
        explained = [(lp, a) for lp, a in reg.explain(debtor, as_of) if a.score is not None or a.listings]
    listed_ids = {x.subject for x in listed}
    for row in reg.store.subjects(limit=50):
        if row.id not in listed_ids:
            decisions.append(reg.check(row.id, "transport.flight.purchase", purpose, as_of))
            break
    return decisions, explained
