"""One semantics on Spark too: the compiled query in Spark's dialect equals the reference evaluator on
the same random histories as the DuckDB differential test (a handful of examples: every Spark query
costs seconds), over Parquet files registered as views named like the store's tables — what the
Spark engine does over a lake. One local Spark session serves the whole module.

Without Java the module is skipped with a loud line, unless ``CI`` is set: then it fails, because CI
must run every execution (``.ci/run`` installs a JRE).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from xinyong.engines.duckdb_engine import SqlAssessment
from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Amendment, Record
from xinyong.policy.loader import load_policy

from .test_differential import POLICY_FILES, SUBJECTS, _ids, populations, reference

EXAMPLES = 4


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

    session = make_session("local[2]", {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
                                        "spark.driver.memory": "1g",
                                        "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse"))},
                           app="xinyong-tests")
    yield session
    session.stop()


def _write(root: Path, records: list[Record], amendments: list[Amendment]) -> dict[str, Path]:
    """The three tables as Parquet files in the lake's columns (ids unique, as the store keeps them), every
    column typed: an empty column of Arrow's null type reaches Spark as VOID."""
    schemes = default_schemes()
    tables = {
        "subjects": pa.table({"id": SUBJECTS, "scheme": [s.partition(":")[0] for s in SUBJECTS],
                              "kind": [schemes.kind_of(s).value for s in SUBJECTS],
                              "name": pa.array([None] * len(SUBJECTS), pa.string())}),
        "records": pa.table({
            "id": pa.array([r.id for r in records], pa.string()),
            "subject": pa.array([r.subject for r in records], pa.string()),
            "source": pa.array([r.source for r in records], pa.string()),
            "type": pa.array([r.type for r in records], pa.string()),
            "occurred": pa.array([r.occurred for r in records], pa.date32()),
            "decided": pa.array([r.decided for r in records], pa.date32()),
            "document": pa.array([r.document for r in records], pa.string()),
            "amount": pa.array([r.amount for r in records], pa.decimal128(18, 2))}),
        "amendments": pa.table({
            "id": pa.array([a.id for a in amendments], pa.string()),
            "record": pa.array([a.record for a in amendments], pa.string()),
            "kind": pa.array([a.kind.value for a in amendments], pa.string()),
            "effective": pa.array([a.effective for a in amendments], pa.date32()),
            "reason": pa.array([a.reason for a in amendments], pa.string()),
            "document": pa.array([a.document for a in amendments], pa.string()),
            "amount": pa.array([a.amount for a in amendments], pa.decimal128(18, 2))}),
    }
    out = {}
    for name, table in tables.items():
        path = root / f"{name}.parquet"
        pq.write_table(table, path)
        out[name] = path
    return out


@pytest.mark.parametrize("path", POLICY_FILES, ids=_ids)
def test_spark_sql_equals_reference(path: Path, spark: Any, tmp_path: Path) -> None:
    from xinyong.engines.spark_engine import compiled_for

    lp = load_policy(path)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(populations(lp))
    def check(case: tuple[list[Record], list[Amendment], date]) -> None:
        records, amendments, as_of = case
        unique = list({r.id: r for r in records}.values())  # the lake holds each id once
        root = tmp_path / uuid.uuid4().hex[:8]  # a fresh path: Spark caches what it listed
        root.mkdir()
        for name, file in _write(root, unique, amendments).items():
            spark.read.parquet(str(file)).createOrReplaceTempView(name)
        cp = compiled_for(spark, lp, as_of)
        got = {}
        for row in spark.sql(cp.assessment_sql(as_of, pretty=False)).collect():
            subject, score, tier, *since = tuple(row)
            listings = frozenset((lc.id, d, d + timedelta(days=lc.max_duration_days))
                                 for lc, d in zip(cp.lists, since, strict=True) if d is not None)
            got[subject] = SqlAssessment(subject, None if score is None else int(score), tier, listings)
        assert got == reference(lp, records, amendments, as_of)

    check()
