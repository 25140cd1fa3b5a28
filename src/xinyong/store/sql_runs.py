"""The run states in portable SQL: what a decision index reads of a stored run, and the replay of the
compiled listing query over a few subjects' files that its due process needs. A mixin of
:class:`~xinyong.store.sql_store.SqlStore`, kept apart because it is the index's side of the store (the
``RunStates`` protocol), read in bulk and never written."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any

from xinyong.store.protocol import RUN_STATE_SCHEMA, ListingRow

if TYPE_CHECKING:  # pyarrow is imported where a table is built
    import pyarrow as pa


class SqlRuns:
    """The run-state half of the SQL store; the store supplies the query primitives below."""

    dialect: str = ""

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def run_states(self, run: str) -> Iterator[tuple[str, str | None, list[str]]]:
        """Every subject's tier and lists in force in a run, streamed: what a decision index needs.

        Only subjects with a tier or a listing are returned; the rest are "no measure applies".
        """
        rows = self._stream(
            "SELECT a.subject, a.tier, l.list FROM assessments a JOIN assessment_runs r ON r.run = a.run "
            "LEFT JOIN listings l ON l.run = a.run AND l.subject = a.subject "
            "AND l.since <= r.as_of AND r.as_of < l.until WHERE a.run = ? ORDER BY a.subject, l.list", [run])
        current: tuple[str, str | None, list[str]] | None = None
        for subject, tier, list_id in rows:
            if current is None or current[0] != subject:
                if current is not None:
                    yield current
                current = (subject, tier, [])
            if list_id is not None:
                current[2].append(list_id)
        if current is not None:
            yield current

    def run_state_table(self, run: str, tiers: Sequence[str], lists: Sequence[str]) -> pa.Table:
        """RunStates: the subjects with one of ``tiers`` or an in-force listing on one of ``lists``, as
        Arrow columns (``RUN_STATE_SCHEMA``); one query, no Python object per subject on DuckDB. Both
        sides are filtered before they meet, so the run's other subjects are never joined (a run writes
        a listing only for a subject it assessed)."""
        return self._arrow(
            "WITH t AS (SELECT subject, tier FROM assessments WHERE run = ? AND tier IN "
            "(SELECT unnest(?::VARCHAR[]))), l AS (SELECT l.subject, string_agg(l.list, ',' ORDER BY l.list) "
            "AS lists FROM listings l JOIN assessment_runs r ON r.run = l.run WHERE l.run = ? "
            "AND l.since <= r.as_of AND r.as_of < l.until AND l.list IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY l.subject) SELECT coalesce(t.subject, l.subject) AS subject, t.tier, "
            "coalesce(l.lists, '') AS lists FROM t FULL OUTER JOIN l ON l.subject = t.subject",
            [run, list(tiers), run, list(lists)], RUN_STATE_SCHEMA)

    def _arrow(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
        """A query's rows as an Arrow table of ``schema`` (an adapter with native Arrow overrides this)."""
        import pyarrow as pa

        rows = self._query(sql, params)
        return pa.table([pa.array([r[i] for r in rows], f.type) for i, f in enumerate(schema)], schema=schema)

    def listings_in_force(self, list_id: str, run: str) -> list[ListingRow]:
        """Members of a list in a run, in force at the run's as-of date (since ≤ as_of < until)."""
        rows = self._query(
            "SELECT l.run, l.subject, l.list, l.kind, l.since, l.until FROM listings l "
            "JOIN assessment_runs r ON r.run = l.run WHERE l.run = ? AND l.list = ? "
            "AND l.since <= r.as_of AND r.as_of < l.until ORDER BY l.subject", [run, list_id])
        return [ListingRow(*r) for r in rows]

    def replay_listings(self, subjects: Sequence[str], records_table: str, subjects_table: str,
                        queries: Sequence[str]) -> list[list[tuple[str, str, date]]]:
        """RunStates: compiled listing queries over a few subjects' files, copied once into temporary
        tables (DuckDB finds the records by the integer subject number, PostgreSQL by its subject index)."""
        keys = sorted(set(subjects))
        if not keys or not queries:
            return [[] for _ in queries]
        with self.transaction():  # a failure rolls the temporary tables back with the rest
            self._run(f"CREATE TEMPORARY TABLE {subjects_table} AS SELECT id, kind, sid FROM subjects "
                      "WHERE id = ANY(?)", [keys])
            match, arg = ("sid", [r[0] for r in self._query(f"SELECT sid FROM {subjects_table}")]) \
                if self.dialect == "duckdb" else ("subject", keys)
            self._run(f"CREATE TEMPORARY TABLE {records_table} AS SELECT subject, id, type, decided, amount "
                      f"FROM records WHERE {match} = ANY(?)", [arg])
            out = [[(r[0], r[1], r[3]) for r in self._query(q)] for q in queries]
            self._run(f"DROP TABLE {records_table}")
            self._run(f"DROP TABLE {subjects_table}")
        return out
