"""Benchmark: the query `xinyong evaluate` runs against a hand-written DuckDB query, in alternating rounds.

Usage: python bench/evaluate.py [--records 10_000_000] [--subjects N] [--rounds 5] [--clustered] [--json FILE]

Builds a store (every migration, so records carry their subject numbers as the ingest writes them) with
random records of the types ``bench/policy.yaml`` scores, then in each round times, one after the other
on the same connection (A B A B …):

- ``query``: the SQL ``engines.plan.plan_run`` gives for the store — exactly what ``Registry.evaluate``
  hands to ``write_run`` — materialised as ``write_run`` does (``CREATE TEMPORARY TABLE … AS``), against
  the same scoring written by hand over ``records`` (grouped by the text subject, as a person would
  write it: the valid-as-of filter, per-subject sum, tier, the list's start date), materialised alike;
- ``snapshot``: ``store.write_run`` (query, assessments, listings, run row, one transaction) against the
  hand-written query with the same two inserts in one transaction.

Each round's ratio is contender / baseline; printed: every round, the median ratio and its min–max.
The two queries' results are compared once (subjects with records must agree exactly). Nothing here is
asserted: figures are for the changelog.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2026, 6, 30)
TYPES = {  # type: (points, validity days) — must match bench/policy.yaml and policies/catalogue.yaml
    "contract.breach": (-20, 730),
    "court.breach_finding": (-50, 730),
    "admin.damage_public_utilities": (-100, 730),
    "civic.volunteering": (5, 365),
    "civic.blood_donation": (10, 730),
    "court.refuse_perform": (0, 1095),
}
LIST_TYPE, LIST_DAYS = "court.refuse_perform", 730


def generate(store: object, records: int, subjects: int, clustered: bool) -> None:
    """Random records inside DuckDB (identifiers are not validated by the engine), with subject numbers
    taken from ``subjects`` as the ingest writes them."""
    con = store.connection  # type: ignore[attr-defined]
    types = list(TYPES)
    type_case = (f"CASE hash(i * 7) % {len(types)} "
                 + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(types)) + " END")
    subject_no = f"i * {subjects} // {records}" if clustered else f"i % {subjects}"
    con.execute(f"INSERT INTO subjects (id, scheme, kind) SELECT 'cn.uscc:' || lpad(i::VARCHAR, 18, '0'), "
                f"'cn.uscc', 'organisation' FROM range({subjects}) t(i)")
    con.execute(f"""
        INSERT INTO records
        SELECT md5(i::VARCHAR)[:32], s.id, 'bench', {type_case},
               DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER) - 10,
               DATE '{AS_OF}' - CAST(hash(i) % 1500 AS INTEGER), 'doc', NULL, 'b0', now(), s.sid
        FROM range({records}) t(i) JOIN subjects s ON s.id = 'cn.uscc:' || lpad(({subject_no})::VARCHAR, 18, '0')
        {"" if clustered else "ORDER BY hash(i * 13)"}
    """)
    con.execute("CHECKPOINT")


def hand_sql() -> str:
    points = " ".join(f"WHEN '{t}' THEN {p}" for t, (p, _) in TYPES.items())
    validity = " ".join(f"WHEN '{t}' THEN DATE '{AS_OF - timedelta(days=v)}'" for t, (_, v) in TYPES.items())
    tiers = ("CASE WHEN score >= 1050 THEN 'AAA' WHEN score >= 1030 THEN 'AA' WHEN score >= 1000 THEN 'A' "
             "WHEN score >= 800 THEN 'B' WHEN score >= 600 THEN 'C' ELSE 'D' END")
    return f"""
        SELECT subject, score, {tiers} AS tier,
               CASE WHEN since > DATE '{AS_OF - timedelta(days=LIST_DAYS)}' THEN since END AS since
        FROM (SELECT subject, 1000 + coalesce(sum(CASE type {points} END), 0) AS score,
                     max(decided) FILTER (WHERE type = '{LIST_TYPE}') AS since
              FROM records
              WHERE decided <= DATE '{AS_OF}' AND decided > CASE type {validity} END
              GROUP BY subject)"""


def _timed(con: object, sql: str, params: list[object] | None = None) -> float:
    t = time.perf_counter()
    con.execute(sql, params)  # type: ignore[attr-defined]
    return time.perf_counter() - t


def round_query(store: object, sqls: list[str]) -> list[float]:
    """Seconds of the hand query, then of each of ``sqls``: each materialised into a temporary table,
    then dropped."""
    con = store.connection  # type: ignore[attr-defined]
    out = []
    for sql in [hand_sql(), *sqls]:
        out.append(_timed(con, f"CREATE TEMPORARY TABLE xy_q AS {sql}"))
        con.execute("DROP TABLE xy_q")
    return out


def round_snapshot(store: object, lp: object) -> tuple[float, float]:
    """(hand, xinyong) seconds for a stored snapshot; both runs' rows are deleted afterwards (bench only)."""
    from xinyong.engines.plan import plan_run

    con = store.connection  # type: ignore[attr-defined]
    t = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    con.execute(f"CREATE TEMPORARY TABLE xy_hand AS {hand_sql()}")
    con.execute("INSERT INTO assessments SELECT 'hand', subject, score, tier FROM xy_hand")
    con.execute(f"INSERT INTO listings SELECT 'hand', subject, 'bench_black', 'black', since, "
                f"since + {LIST_DAYS} FROM xy_hand WHERE since IS NOT NULL")
    con.execute("DROP TABLE xy_hand")
    con.execute("COMMIT")
    hand = time.perf_counter() - t
    q = plan_run(lp, AS_OF, "duckdb", amended=False, unique_ids=True, run="ours")  # type: ignore[arg-type]
    t = time.perf_counter()
    store.write_run(q)  # type: ignore[attr-defined]
    ours = time.perf_counter() - t
    for table in ("assessments", "listings", "assessment_runs"):
        con.execute(f"DELETE FROM {table} WHERE run IN ('hand', 'ours')")
    return hand, ours


def check_equal(store: object, q: object) -> None:
    """The two queries agree on every subject with records (the hand query knows no others)."""
    con = store.connection  # type: ignore[attr-defined]
    column = next(iter(q.lists.values()))  # type: ignore[attr-defined]
    diff = con.execute(f"""
        WITH ours AS ({q.assessed_sql}), hand AS ({hand_sql()})
        SELECT count(*) FROM hand h LEFT JOIN ours o USING (subject)
        WHERE o.subject IS NULL OR o.score <> h.score OR o.tier <> h.tier
           OR o.{column} IS DISTINCT FROM h.since""").fetchone()  # type: ignore[attr-defined]
    print(f"hand-written and compiled results differ on {diff[0]} subjects")


def summary(name: str, pairs: list[tuple[float, float]]) -> None:
    ratios = [ours / hand for hand, ours in pairs]
    rounds = "  ".join(f"{h:.2f}/{o:.2f}" for h, o in pairs)
    print(f"{name:<14} hand/contender s per round: {rounds}")
    print(f"{name:<14} ratio contender/hand: median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}; {len(ratios)} rounds)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--subjects", type=lambda s: int(s.replace("_", "")), default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clustered", action="store_true", help="store records clustered by subject")
    ap.add_argument("--no-snapshot", action="store_true", help="time the query only")
    ap.add_argument("--json", type=Path, default=None, help="append the rows for bench/all.py (JSON lines)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from xinyong.engines.compiler import compile_policy
    from xinyong.engines.plan import plan_run
    from xinyong.policy.loader import load_policy
    from xinyong.store.duckdb_store import DuckDBStore

    lp = load_policy(HERE / "policy.yaml")
    for rt in lp.catalogue.record_types:
        if rt.id in TYPES and TYPES[rt.id][1] != rt.default_validity_days:
            raise SystemExit(f"TYPES is out of date: {rt.id} is valid {rt.default_validity_days} days")
    subjects = args.subjects or max(1, args.records // 10)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp, \
            DuckDBStore.open(Path(tmp) / "bench.duckdb") as store:
        t = time.perf_counter()
        generate(store, args.records, subjects, args.clustered)
        print(f"data: {args.records:,} records, {subjects:,} subjects{' (clustered)' if args.clustered else ''}, "
              f"generated in {time.perf_counter() - t:.1f} s")
        q = plan_run(lp, AS_OF, "duckdb", amended=False, unique_ids=True)
        # the same query grouped by the text subject, as before subject numbers (migration 011)
        text = compile_policy(lp, "duckdb", dedupe=False, amendments=None).assessment_sql(AS_OF, pretty=False)
        check_equal(store, q)
        round_query(store, [q.assessed_sql])  # warm-up (file pages into memory), not counted
        queries, snapshots = [], []
        for _ in range(args.rounds):
            queries.append(round_query(store, [q.assessed_sql, text]))
            if not args.no_snapshot:
                snapshots.append(round_snapshot(store, lp))
    summary("query", [(r[0], r[1]) for r in queries])
    summary("query text-key", [(r[0], r[2]) for r in queries])
    if snapshots:
        summary("snapshot", snapshots)
    print("target: xinyong/hand <= 1.0")
    if args.json:
        sys.path.insert(0, str(HERE))
        from abtable import Row, write_rows

        def row(work: str, pairs: list[tuple[float, float]]) -> Row:
            ratios = [ours / hand for hand, ours in pairs]
            med = statistics.median(ratios)
            return Row(work, f"{statistics.median([o for _, o in pairs]):.2f} s",
                       f"hand-written DuckDB SQL: {statistics.median([h for h, _ in pairs]):.2f} s",
                       med, min(ratios), max(ratios), "<= 1.0x", med <= 1.0,
                       "ratio: xinyong time / hand-written time (lower is better)")

        rows = [row(f"`evaluate` {args.records / 1e6:g} M records, query only", [(r[0], r[1]) for r in queries])]
        if snapshots:
            rows.append(row(f"`evaluate` {args.records / 1e6:g} M records, with snapshot", snapshots))
        write_rows(args.json, rows)


if __name__ == "__main__":
    main()
