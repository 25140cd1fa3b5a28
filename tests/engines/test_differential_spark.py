"""One semantics on Spark too: the compiled query in Spark's dialect equals the reference evaluator on
the same random histories as the DuckDB differential test (a handful of examples: a Spark query is slow
to plan and schedule), over views named like the store's tables, as the Spark engine registers a lake;
and the Spark engine over an exported lake writes the snapshot DuckDB writes over it, which imports as
the store's latest run. One local Spark session serves the whole module.

Without Java the module is skipped with a loud line, unless ``CI`` is set: then it fails, because CI
must run every execution (``.ci/run`` installs a JRE).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from xinyong.engines.compiler import compile_policy
from xinyong.engines.duckdb_engine import SqlAssessment
from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Amendment, Record
from xinyong.policy.loader import load_policy

from .test_differential import POLICY_FILES, ROOT, SUBJECTS, _ids, populations, reference

EXAMPLES = 3


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    why = None
    if shutil.which("java") is None:
        why = "no `java` on PATH (install openjdk-17-jre-headless)"
    else:
        try:
            import pyspark  # noqa: F401
        except ImportError as exc:
            why = f"pyspark is not installed ({exc})"
    if why is not None:
        message = f"Spark differential test SKIPPED: {why}"
        if os.environ.get("CI"):
            pytest.fail(message.replace("SKIPPED", "REQUIRED in CI"), pytrace=False)
        print("\n" + "!" * 100 + "\n" + message + "\n" + "!" * 100)
        pytest.skip(message)
    from xinyong.engines.spark_engine import make_session

    # tiny inputs: one shuffle partition, and no whole-stage code generation or adaptive re-planning,
    # which cost more than they save on a few rows (they change how Spark runs a plan, not what it means)
    session = make_session("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.default.parallelism": "2",
                                        "spark.driver.memory": "1g", "spark.sql.codegen.wholeStage": "false",
                                        "spark.sql.adaptive.enabled": "false",
                                        "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse"))},
                           app="xinyong-tests")
    yield session
    session.stop()


SCHEMAS = {  # the lake's columns (store/snapshot.py), as Spark DDL
    "subjects": "id string, scheme string, kind string, name string",
    "records": "id string, subject string, source string, type string, occurred date, decided date, "
               "document string, amount decimal(18,2)",
    "amendments": "id string, record string, kind string, effective date, reason string, document string, "
                  "amount decimal(18,2)",
}


def _register(spark: Any, records: list[Record], amendments: list[Amendment]) -> None:
    """The three tables as views named like the store's (ids unique, as the store keeps them); typed by
    the lake's schema, so an empty table still has its columns' types."""
    schemes = default_schemes()
    rows = {
        "subjects": [(s, s.partition(":")[0], schemes.kind_of(s).value, None) for s in SUBJECTS],
        "records": [(r.id, r.subject, r.source, r.type, r.occurred, r.decided, r.document, r.amount)
                    for r in records],
        "amendments": [(a.id, a.record, a.kind.value, a.effective, a.reason, a.document, a.amount)
                       for a in amendments],
    }
    for name, data in rows.items():
        spark.createDataFrame(data, SCHEMAS[name]).createOrReplaceTempView(name)


@pytest.mark.parametrize("path", POLICY_FILES, ids=_ids)
def test_spark_sql_equals_reference(path: Path, spark: Any) -> None:
    lp = load_policy(path)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(populations(lp))
    def check(case: tuple[list[Record], list[Amendment], date]) -> None:
        records, amendments, as_of = case
        unique = list({r.id: r for r in records}.values())  # the lake holds each id once
        _register(spark, unique, amendments)
        amended = any(a.effective <= as_of for a in amendments)  # what compiled_for asks Spark, without a job
        cp = compile_policy(lp, "spark", dedupe=False, amendments="amendments" if amended else None)
        got = {}
        for row in spark.sql(cp.assessment_sql(as_of, pretty=False)).collect():
            subject, score, tier, *since = tuple(row)
            listings = frozenset((lc.id, d, d + timedelta(days=lc.max_duration_days))
                                 for lc, d in zip(cp.lists, since, strict=True) if d is not None)
            got[subject] = SqlAssessment(subject, None if score is None else int(score), tier, listings)
        assert got == reference(lp, records, amendments, as_of)

    check()


def test_spark_engine_over_a_lake_equals_duckdb(spark: Any, tmp_path: Path) -> None:
    """The whole path: a register exported to a lake, evaluated by Spark and by DuckDB over the same
    files, gives the same assessments and listings (read back from the snapshots' Parquet), and Spark's
    snapshot imports into the store as its latest run."""
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from xinyong.cli.app import app
    from xinyong.engines.lake import DuckDBLakeEngine, Lake
    from xinyong.engines.spark_engine import SparkEngine
    from xinyong.service.demo import build_demo

    db = tmp_path / "r.duckdb"
    as_of = date(2026, 6, 30)
    build_demo(db, ROOT / "policies", subjects=150, seed=5, as_of=as_of, data_dir=tmp_path / "data")
    res = CliRunner().invoke(app, ["export", "--parquet", str(tmp_path / "lake"), "--db", str(db), "--buckets", "4"])
    assert res.exit_code == 0, res.output
    lake = Lake.open(tmp_path / "lake")
    lp = load_policy(ROOT / "policies" / "corporate.yaml")
    by_spark = SparkEngine(session=spark).evaluate(lp, as_of, lake, tmp_path / "spark")
    duck = DuckDBLakeEngine()
    by_duckdb = duck.evaluate(lp, as_of, lake, tmp_path / "duckdb")
    duck.close()

    def rows(snap: Path, part: str) -> set[tuple[Any, ...]]:
        table = pq.read_table([str(p) for p in (snap / part).glob("*.parquet")] or [])
        return set(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))

    for part in ("assessments", "listings"):
        assert rows(by_spark.directory, part) == rows(by_duckdb.directory, part), part
    assert (by_spark.tiers, by_spark.lists, by_spark.subjects) == (by_duckdb.tiers, by_duckdb.lists,
                                                                    by_duckdb.subjects)
    assert by_spark.subjects > 0 and any(by_spark.lists.values())
    from xinyong.store import open_store

    with open_store(db, create=False) as store:  # Spark's files (part-*.parquet) load like DuckDB's
        summary = store.import_snapshot(by_spark.directory)
        assert summary.subjects == by_spark.subjects
        latest = store.latest_run("corporate", as_of)
        assert latest is not None and latest.run == by_spark.run
