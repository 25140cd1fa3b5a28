"""The compiled policy over a synthetic population's Parquet files, for the policy lab.

The lab asks "what would this policy do, and to whom?" of a whole population at once, so it runs the
same compiled SQL as a registry run (one semantics), in an in-process DuckDB database that only has
*views* over the population's files: nothing is written anywhere, and no register store is opened.

The fairness attributes (``attributes.parquet``) are joined to the *results* after the policy has been
evaluated; the policy's query never sees them (charter rule 3). A person's sex is read from the
resident ID's 17th digit (odd: male), as GB 11643 defines it, for the same after-the-fact analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from xinyong.engines.compiler import CompiledPolicy, _Builder, compile_policy
from xinyong.policy.loader import LoadedPolicy

GROUP_COLUMNS = ("kind", "region", "urban_rural", "sector", "size", "age_band", "sex")
"""Columns of the comparison table a report groups by (subject kind, the attributes, sex)."""


@dataclass(frozen=True)
class PopulationPaths:
    """The three files a population consists of (``xinyong.lab.generate_population`` writes them)."""

    subjects: Path
    attributes: Path
    records: Path

    @classmethod
    def in_dir(cls, directory: Path) -> PopulationPaths:
        return cls(directory / "subjects.parquet", directory / "attributes.parquet",
                   directory / "records.parquet")


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(paths: PopulationPaths, *, records: pa.Table | None = None, threads: int | None = None
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory database with views ``subjects``, ``records`` and ``attributes`` over the files.

    The population has no record ids (nothing is deduplicated or amended in the lab), so ``records``
    gives a NULL id; ``records`` (a simulation's future records) are read as well as the file's.
    """
    con = duckdb.connect(":memory:")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE VIEW subjects AS SELECT id, kind FROM read_parquet({_q(paths.subjects)})")
    con.execute(f"CREATE VIEW attributes AS SELECT * FROM read_parquet({_q(paths.attributes)})")
    columns = "subject, CAST(NULL AS VARCHAR) AS id, type, decided, amount"
    sql = f"SELECT {columns} FROM read_parquet({_q(paths.records)})"
    if records is not None:
        con.register("lab_extra_arrow", records)
        con.execute("CREATE TEMPORARY TABLE lab_extra AS SELECT subject, type, decided, "
                    "CAST(amount AS DECIMAL(18, 2)) AS amount FROM lab_extra_arrow")
        con.unregister("lab_extra_arrow")
        sql += f" UNION ALL SELECT {columns} FROM lab_extra"
    con.execute(f"CREATE VIEW records AS {sql}")
    return con


def compiled(lp: LoadedPolicy) -> CompiledPolicy:
    """The policy's query for the lab's views: no amendments, no DISTINCT (ids are not kept)."""
    return compile_policy(lp, "duckdb", amendments=None, dedupe=False)


def _assess_into(con: duckdb.DuckDBPyConnection, cp: CompiledPolicy, as_of: date, table: str) -> None:
    lists = ", ".join(f"{lc.column} IS NOT NULL AS {_ident('l_' + lc.id)}" for lc in cp.lists)
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {table} AS SELECT subject, score, tier"
                f"{', ' + lists if lists else ''} FROM ({cp.assessment_sql(as_of, pretty=False)})")


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _sex() -> str:
    return ("CASE WHEN s.kind = 'person' THEN CASE WHEN CAST(substr(s.id, length(s.id) - 1, 1) AS INTEGER) % 2 "
            "= 1 THEN 'male' ELSE 'female' END END AS sex")


def compare(paths: PopulationPaths, old: LoadedPolicy, new: LoadedPolicy, as_of: date,
            *, threads: int | None = None) -> pa.Table:
    """One row per subject (in no particular order): group columns, ``draw`` (a hash of the subject key),
    then ``old_score``, ``old_tier``, ``old_l_<list>`` (bool) and the same for ``new_``. A subject a
    policy does not apply to has NULLs on its side."""
    con = connect(paths, threads=threads)
    try:
        return _compare(con, [("old", old), ("new", new)], as_of)
    finally:
        con.close()


def assess(paths: PopulationPaths, lp: LoadedPolicy, as_of: date, *, threads: int | None = None) -> pa.Table:
    """:func:`compare` for one policy: group columns, ``score``, ``tier`` and ``l_<list>``."""
    con = connect(paths, threads=threads)
    try:
        return _compare(con, [("", lp)], as_of)
    finally:
        con.close()


def _compare(con: duckdb.DuckDBPyConnection, sides: Sequence[tuple[str, LoadedPolicy]], as_of: date) -> pa.Table:
    # draw: a hash of the subject key, so that samples do not depend on the (unordered) row order
    selects = ["s.id AS subject", "s.kind", "a.region", "a.urban_rural", "a.sector", "a.size", "a.age_band",
               _sex(), "hash(s.id) AS draw"]
    joins = []
    for i, (prefix, lp) in enumerate(sides):
        cp = compiled(lp)
        table = f"lab_side{i}"
        _assess_into(con, cp, as_of, table)
        p = f"{prefix}_" if prefix else ""
        selects += [f"t{i}.score AS {_ident(p + 'score')}", f"t{i}.tier AS {_ident(p + 'tier')}"]
        selects += [f"coalesce(t{i}.{_ident('l_' + lc.id)}, false) AS {_ident(p + 'l_' + lc.id)}"
                    for lc in cp.lists]
        joins.append(f"LEFT JOIN {table} t{i} ON t{i}.subject = s.id")
    sql = (f"SELECT {', '.join(selects)} FROM subjects s LEFT JOIN attributes a ON a.subject = s.id "
           f"{' '.join(joins)}")
    return con.sql(sql).to_arrow_table()


def rule_points(paths: PopulationPaths, lp: LoadedPolicy, as_of: date, *, threads: int | None = None
                ) -> pa.Table:
    """Points each scoring rule (record type) gives each subject before caps, as ``subject, type,
    points`` (only non-zero sums): what the fairness report compares between groups."""
    con = connect(paths, threads=threads)
    try:
        cp = compiled(lp)
        final = exp.select("subject", "type", exp.Sum(this=exp.column("points")).as_("points")).from_(
            "active").where("points IS NOT NULL").group_by("subject", "type")
        sql = cp._with(as_of, final).sql("duckdb")
        return con.sql(f"SELECT subject, type, CAST(points AS BIGINT) AS points FROM ({sql}) "
                       "WHERE points <> 0").to_arrow_table()
    finally:
        con.close()


def records_of(paths: PopulationPaths, subjects: Iterable[str]) -> pa.Table:
    """All records of a few subjects (the reference evaluator's input for explained samples)."""
    wanted = sorted(set(subjects))
    if not wanted:
        return pa.table({"subject": pa.array([], pa.string())})
    con = duckdb.connect(":memory:")
    try:
        listed = ", ".join("'" + w.replace("'", "''") + "'" for w in wanted)
        return con.sql(f"SELECT * FROM read_parquet({_q(paths.records)}) WHERE subject IN ({listed}) "
                       "ORDER BY subject").to_arrow_table()
    finally:
        con.close()


def listings_by_month(paths: PopulationPaths, lp: LoadedPolicy, records: pa.Table, month_ends: Sequence[date],
                      *, threads: int | None = None) -> pa.Table:
    """Listing episodes over a simulation: ``subject, list, since, first, last`` (indexes into
    ``month_ends`` of the first and last month end the listing was in force), from one evaluation of
    the compiled policy as of each month end over the population's records and ``records`` (future ones:
    ``subject, type, decided, amount``)."""
    con = connect(paths, records=records, threads=threads)
    try:
        types = relevant_types(lp)
        con.register("lab_types", pa.table({"type": pa.array(types, pa.string())}))
        con.execute("CREATE TEMPORARY TABLE lab_relevant AS SELECT * FROM records r SEMI JOIN lab_types t "
                    "ON r.type = t.type ORDER BY subject")
        cp = compile_policy(lp, "duckdb", records="lab_relevant", amendments=None, dedupe=False)
        con.execute("CREATE TEMPORARY TABLE seen (subject VARCHAR, list VARCHAR, since DATE, month INTEGER)")
        for m, day in enumerate(month_ends):
            listings = cp.listings_sql(day, pretty=False)
            con.execute(f"INSERT INTO seen SELECT subject, list, since, {m} FROM ({listings})")
        return con.sql("SELECT subject, list, since, min(month) AS first, max(month) AS last FROM seen "
                           "GROUP BY ALL ORDER BY subject, list, since").to_arrow_table()
    finally:
        con.close()


def relevant_types(lp: LoadedPolicy) -> list[str]:
    """The record types the policy reads (scoring rules and conditions)."""
    return sorted(_Builder(compiled(lp), date(2000, 1, 1)).relevant_types())


def record_counts(paths: PopulationPaths, types: Sequence[str]) -> pa.Table:
    """``subject, type, n``: how many records of each of ``types`` each subject has (non-zero only),
    the history a simulation draws future records from."""
    con = connect(paths)
    try:
        con.register("wanted", pa.table({"type": pa.array(list(types), pa.string())}))
        return con.sql("SELECT subject, type, count(*)::INTEGER AS n FROM records r SEMI JOIN wanted w "
                           "ON r.type = w.type GROUP BY ALL").to_arrow_table()
    finally:
        con.close()


def subjects_table(paths: PopulationPaths) -> pa.Table:
    """Subjects in file order with their group columns."""
    con = connect(paths)
    try:
        return con.sql("SELECT s.id AS subject, s.kind, a.region, a.urban_rural, a.sector, a.size, "
                           f"a.age_band, {_sex()} FROM subjects s LEFT JOIN attributes a ON a.subject = s.id "
                           "ORDER BY s.id").to_arrow_table()
    finally:
        con.close()
