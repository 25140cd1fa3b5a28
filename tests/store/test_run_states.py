"""A run's states as Arrow columns (``RunStates``): the same rows on every backend."""

from __future__ import annotations

from ..conftest import Stores

ORG = "cn.uscc:914403001922038216"
PERSON = "cn.ric:11010519491231002X"
OTHER = "cn.ric:360426199101010071"
QUIET = "cn.uscc:91110000600037341L"


def test_run_state_table_keeps_the_asked_tiers_and_the_lists_in_force(stores: Stores) -> None:
    with stores.open() as store:
        with store.transaction():
            store._run("INSERT INTO assessment_runs (run, policy, version, as_of, created_at, subjects, records, "
                       "seconds) VALUES ('r', 'p', '1', DATE '2025-06-01', TIMESTAMP '2025-06-01 10:00', 4, 4, 0.1)")
            store._run("INSERT INTO assessments VALUES ('r', ?, 10, 'D'), ('r', ?, 90, 'A'), ('r', ?, 50, 'B'), "
                       "('r', ?, NULL, NULL), ('other', ?, 1, 'D')", [ORG, PERSON, OTHER, QUIET, QUIET])
            store._run("INSERT INTO listings VALUES "
                       "('r', ?, 'black', 'black', DATE '2025-01-10', DATE '2027-01-10'), "
                       "('r', ?, 'aeo', 'red', DATE '2025-01-10', DATE '2027-01-10'), "
                       "('r', ?, 'unread', 'black', DATE '2025-01-10', DATE '2027-01-10'), "
                       "('r', ?, 'black', 'black', DATE '2023-01-01', DATE '2025-01-01'), "  # ended
                       "('r', ?, 'aeo', 'red', DATE '2025-07-01', DATE '2026-07-01'), "  # not yet
                       "('r', ?, 'black', 'black', DATE '2025-05-01', DATE '2026-05-01')",
                       [ORG, ORG, ORG, PERSON, PERSON, OTHER])
        table = store.run_state_table("r", ["D", "AAA"], ["aeo", "black"])
        rows = sorted(zip(*(table[c].to_pylist() for c in ("subject", "tier", "lists")), strict=True))
        assert rows == [(OTHER, None, "black"), (ORG, "D", "aeo,black")]
        assert table.schema.names == ["subject", "tier", "lists"]
        assert store.run_state_table("r", [], []).num_rows == 0
        assert store.run_state_table("none", ["D"], ["black"]).num_rows == 0
        tiers_only = store.run_state_table("r", ["A", "D"], [])
        assert sorted(zip(tiers_only["subject"].to_pylist(), tiers_only["lists"].to_pylist(), strict=True)) \
            == [(PERSON, ""), (ORG, "")]
