"""Compile one policy's batch run for a store's dialect: the engine's half of the hand-off.

The store runs the query where the records are (:class:`~xinyong.store.protocol.RunWriter`); the engine
never touches a connection. The same compiler serves DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlglot import exp

from xinyong.engines.compiler import CompiledPolicy, compile_policy
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


#: placeholders for the tables a replay reads, replaced by the store's names (the text is cached)
REPLAY_RECORDS, REPLAY_SUBJECTS = "xy_replay_records_tbl", "xy_replay_subjects_tbl"
#: (policy object, dialect, amended, day) → (the policy, text); keyed by the object, which the entry keeps
#: alive, since two stores may hold different texts under one id and version
_REPLAY_CACHE: dict[tuple[int, str, bool, date], tuple[LoadedPolicy, str]] = {}
_REPLAY_CACHE_SIZE = 512  # a few policies' notice periods (index_due replays at most 64 days each)


def plan_replay(lp: LoadedPolicy, day: date, dialect: str, *, amended: bool, records: str, subjects: str) -> str:
    """The policy's listings in force as of ``day``, read from ``records`` and ``subjects`` (tables holding
    a few subjects' files, not the register): ``subject, list, kind, since, until``.

    Due process asks what the list said on a few days just before a snapshot's date (did a listing's
    episode start within the notice period?); the compiled query answers that for many subjects at once,
    as the reference evaluator would one subject at a time. Building the query costs about as much as
    running it over a few thousand records, and its text depends only on the policy, the dialect and the
    day, so texts are kept per loaded policy (a bounded cache) with placeholder table names.
    """
    glot = SQLGLOT_DIALECT[dialect]
    key = (id(lp), glot, amended, day)
    hit = _REPLAY_CACHE.get(key)
    if hit is None or hit[0] is not lp:
        cp = CompiledPolicy(lp, glot, REPLAY_SUBJECTS, REPLAY_RECORDS, "amendments" if amended else None,
                            dedupe=False, subject_key="subject")
        if len(_REPLAY_CACHE) >= _REPLAY_CACHE_SIZE:
            _REPLAY_CACHE.clear()
        hit = _REPLAY_CACHE[key] = (lp, cp.listings_sql(day, pretty=False))
    return hit[1].replace(REPLAY_RECORDS, records).replace(REPLAY_SUBJECTS, subjects)
