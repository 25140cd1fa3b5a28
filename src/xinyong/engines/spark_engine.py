"""The compiled policy on Spark: the same query, in sqlglot's Spark dialect, over the lake's Parquet.

Nothing here restates the semantics: the lake's tables are registered as temporary views named like the
store's tables, and :func:`~xinyong.engines.compiler.compile_policy` with ``dialect="spark"`` gives the
query, exactly as it gives DuckDB's and PostgreSQL's. A differential test holds Spark's answers equal to
the reference evaluator's.

PySpark (and the JVM it starts) is imported only when a session is made, so a CLI that never uses Spark
never pays for it. ``master`` is ``local[N]`` on one machine or ``spark://host:port`` for a cluster; the
lake's directory must then be readable by every executor (a shared file system or an object store).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from xinyong.engines.compiler import CompiledPolicy, compile_policy
from xinyong.engines.lake import TABLES, Lake, finish_snapshot, fresh_dir, new_run_id
from xinyong.engines.protocol import Snapshot
from xinyong.policy.loader import LoadedPolicy

#: settings for a small, quiet local session (tests, the demo); a cluster overrides them with ``conf``
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
}


def make_session(master: str = "local[2]", conf: dict[str, str] | None = None, app: str = "xinyong") -> Any:
    """A Spark session (getOrCreate: one per process, reused by later callers)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    for k, v in {**LOCAL_CONF, **(conf or {})}.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def compiled_for(spark: Any, lp: LoadedPolicy, as_of: date) -> CompiledPolicy:
    """The policy's Spark query over the registered views; without the amendments join when none is
    effective by the date (the same shortcut the stores take)."""
    amended = spark.sql(f"SELECT 1 FROM amendments WHERE effective <= DATE '{as_of.isoformat()}' LIMIT 1").take(1)
    return compile_policy(lp, "spark", dedupe=False, amendments="amendments" if amended else None)


class SparkEngine:
    """A :class:`~xinyong.engines.protocol.LakeEngine` on a Spark session it makes (or is given)."""

    name = "spark"

    def __init__(self, master: str = "local[2]", *, session: Any = None,
                 conf: dict[str, str] | None = None) -> None:
        self.master = master
        self._conf = conf
        self._session = session
        self._owned = session is None

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = make_session(self.master, self._conf)
        return self._session

    def close(self) -> None:
        if self._owned and self._session is not None:
            self._session.stop()
            self._session = None

    def register(self, lake: Lake) -> None:
        """The lake's tables as temporary views named like the store's tables (hive ``bucket=NN``
        directories add a ``bucket`` column, which the query never reads)."""
        for t in TABLES:
            self.session.read.parquet(*lake.files(t)).createOrReplaceTempView(t)

    def evaluate(self, lp: LoadedPolicy, as_of: date, lake: Lake, out: Path, *,
                 run: str | None = None) -> Snapshot:
        from pyspark import StorageLevel

        spark = self.session
        self.register(lake)
        run = run or new_run_id(lp, as_of)
        started = time.perf_counter()
        cp = compiled_for(spark, lp, as_of)
        assessed = spark.sql(cp.assessment_sql(as_of, pretty=False)).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            assessed.createOrReplaceTempView("xy_assessed")
            fresh_dir(out)
            spark.sql("SELECT subject, CAST(score AS INT) AS score, tier FROM xy_assessed") \
                .write.mode("overwrite").parquet(str(out / "assessments"))
            spark.sql(cp.listings_query(as_of, source="xy_assessed").sql("spark")) \
                .write.mode("overwrite").parquet(str(out / "listings"))
            counts = [f"count({lc.column}) AS c{i}" for i, lc in enumerate(cp.lists)]
            tiers: dict[str | None, int] = {}
            list_counts = [0] * len(cp.lists)
            rows = spark.sql(f"SELECT tier, count(*) AS n{''.join(', ' + c for c in counts)} "
                             "FROM xy_assessed GROUP BY tier").collect()
            for row in rows:
                tiers[row[0]] = int(row[1])
                for i in range(len(cp.lists)):
                    list_counts[i] += int(row[2 + i])
        finally:
            assessed.unpersist()
            spark.catalog.dropTempView("xy_assessed")
        seconds = time.perf_counter() - started
        return finish_snapshot(out, run=run, lp=lp, as_of=as_of, engine=self.name, lake=lake, seconds=seconds,
                               tiers=tiers, lists={lc.id: n for lc, n in zip(cp.lists, list_counts, strict=True)})
