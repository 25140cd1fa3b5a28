"""Compile one policy's batch run for a store's dialect: the engine's half of the hand-off.

The store runs the query where the records are (:class:`~xinyong.store.protocol.RunWriter`); the engine
never touches a connection. The same compiler serves DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlglot import exp

from xinyong.engines.compiler import compile_policy
from xinyong.model.runs import RunQuery
from xinyong.policy.loader import LoadedPolicy

#: sqlglot's name for each store dialect
SQLGLOT_DIALECT = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}
#: dialects of the stores, whose subjects and records carry the integer subject key (``sid``)
STORE_DIALECTS = ("duckdb", "postgres")


def plan_run(lp: LoadedPolicy, as_of: date, dialect: str, *, amended: bool, unique_ids: bool = True,
             run: str | None = None) -> RunQuery:
    """The run's SQL. ``amended``: some amendment is effective by ``as_of`` (else the join is left out,
    about a tenth of the query at 10 M records); ``unique_ids``: the store keeps each record id once
    (both shipped stores do), so the query skips a DISTINCT over the records."""
    glot = SQLGLOT_DIALECT[dialect]
    # both stores number their subjects (migration 011): grouping by the integer is the cheap part
    key = "sid" if dialect in STORE_DIALECTS else "subject"
    cp = compile_policy(lp, glot, dedupe=not unique_ids, amendments="amendments" if amended else None,
                        subject_key=key)
    table = f"xy_assessed_{uuid.uuid4().hex[:12]}"
    return RunQuery(
        run=run or f"{lp.policy.id}-{as_of.isoformat()}-{uuid.uuid4().hex[:8]}",
        policy=lp.policy.id, version=lp.policy.version, as_of=as_of, dialect=dialect,
        assessed_table=table,
        assessed_sql=cp.assessment_sql(as_of, pretty=False),
        listings_sql=cp.listings_query(as_of, source=table).sql(glot),
        records_sql=f"SELECT count(*) FROM {exp.to_table(cp.records).sql(glot)}",
        lists={lc.id: lc.column for lc in cp.lists},
    )
