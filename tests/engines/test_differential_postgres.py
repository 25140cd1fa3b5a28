"""One semantics on PostgreSQL too: the compiled query in PostgreSQL's dialect equals the reference
evaluator on the same random histories as the DuckDB differential test (fewer examples: a server
round trip per example), over the tables of migration 001 in a throwaway schema."""

from __future__ import annotations

import uuid
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

MIGRATION = ROOT / "src/xinyong/store/migrations/001_initial.sql"


@pytest.fixture(scope="module")
def pg(pg_database: str | None) -> Iterator[Any]:
    if pg_database is None:
        pytest.skip("no PostgreSQL server (see the line printed at the start of the session)")
    import psycopg

    con = psycopg.connect(pg_database, autocommit=True)
    schema = f"diff_{uuid.uuid4().hex[:12]}"
    con.execute(f'CREATE SCHEMA "{schema}"')
    con.execute(f'SET search_path TO "{schema}"')
    con.execute(MIGRATION.read_text(encoding="utf-8"))
    # the integer subject keys of migration 011, so the store's grouping is held equal too
    con.execute("ALTER TABLE subjects ADD COLUMN sid BIGINT")
    con.execute("ALTER TABLE records ADD COLUMN sid BIGINT")
    yield con
    con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    con.close()


def load(con: Any, records: list[Record], amendments: list[Amendment]) -> None:
    schemes = default_schemes()
    with con.transaction():
        con.execute("TRUNCATE subjects, records, amendments")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO subjects VALUES (%s, %s, %s, NULL, %s)",
                            [(s, s.partition(":")[0], schemes.kind_of(s).value, 10 * (i + 1))
                             for i, s in enumerate(SUBJECTS)])
            sid = {s: 10 * (i + 1) for i, s in enumerate(SUBJECTS)}  # an unregistered subject: 7, no subject's
            if records:
                cur.executemany("INSERT INTO records VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'b', now(), %s)",
                                [(r.id, r.subject, r.source, r.type, r.occurred, r.decided, r.document, r.amount,
                                  sid.get(r.subject, 7)) for r in records])
            if amendments:
                cur.executemany("INSERT INTO amendments VALUES (%s, %s, %s, %s, %s, %s, %s, now())",
                                [(a.id, a.record, a.kind.value, a.effective, a.reason, a.document, a.amount)
                                 for a in amendments])


@pytest.mark.parametrize("path", POLICY_FILES, ids=_ids)
def test_postgres_sql_equals_reference(path: Path, pg: Any) -> None:
    lp = load_policy(path)

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(populations(lp))
    def check(case: tuple[list[Record], list[Amendment], date]) -> None:
        records, amendments, as_of = case
        unique = list({r.id: r for r in records}.values())  # the stores keep each id once
        load(pg, unique, amendments)
        expected = reference(lp, records, amendments, as_of)
        for key in ("subject", "sid"):  # the text key, and the store's integer subject number
            cp = compile_policy(lp, "postgres", dedupe=False, subject_key=key)
            got = {}
            for subject, score, tier, *since in pg.execute(cp.assessment_sql(as_of, pretty=False)).fetchall():
                listings = frozenset((lc.id, d, d + timedelta(days=lc.max_duration_days))
                                     for lc, d in zip(cp.lists, since, strict=True) if d is not None)
                got[subject] = SqlAssessment(subject, None if score is None else int(score), tier, listings)
            assert got == expected, key

    check()
