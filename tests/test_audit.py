"""The audit hash chain: pure verification, and tampering with a real DuckDB file from outside."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import duckdb

from xinyong.audit import GENESIS, AuditEntry, chain, verify
from xinyong.store import open_store


def _entries(n: int) -> list[AuditEntry]:
    return [AuditEntry(i, datetime(2025, 1, 1, 12, 0, i), "officer", "explain", f"cn.uscc:{i}",
                       "objection", {"n": i, "名": "张三"}) for i in range(1, n + 1)]


def test_chain_starts_at_genesis_and_verifies() -> None:
    chained = chain(_entries(5))
    assert chained[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chained))
    result = verify(chained)
    assert result.ok and result.checked == 5 and result.head_hash == chained[-1].hash


def test_edited_entry_is_named() -> None:
    chained = chain(_entries(5))
    e = chained[2]
    forged = type(e)(AuditEntry(3, e.entry.at, "someone else", e.entry.action), e.prev_hash, e.hash)
    result = verify([*chained[:2], forged, *chained[3:]])
    assert not result.ok and result.first_bad_seq == 3 and "edited" in (result.reason or "")


def test_rehashed_edit_is_caught_at_the_next_entry() -> None:
    chained = chain(_entries(5))
    rewritten = chain([AuditEntry(3, chained[2].entry.at, "x", "y")], chained[1].hash)[0]
    result = verify([*chained[:2], rewritten, *chained[3:]])
    assert not result.ok and result.first_bad_seq == 4


def test_deleted_and_reordered_entries() -> None:
    chained = chain(_entries(5))
    gap = verify([*chained[:2], *chained[3:]])
    assert not gap.ok and gap.first_bad_seq == 3 and "missing" in (gap.reason or "")
    moved = verify([chained[0], chained[2], chained[1], *chained[3:]])
    assert not moved.ok and moved.first_bad_seq == 2


def _store_with_log(path: Path, n: int = 6) -> None:
    with open_store(path) as store:
        for e in _entries(n):
            store.append_audit([e])
        assert verify(store.audit_entries()).ok


def _verify_file(path: Path) -> tuple[bool, int | None]:
    with open_store(path, read_only=True) as store:
        r = verify(store.audit_entries())
        return r.ok, r.first_bad_seq


def test_tampering_with_the_file_is_detected(tmp_path: Path) -> None:
    for sql, bad in [
        ("UPDATE audit_log SET actor = 'nobody' WHERE seq = 4", 4),
        ("DELETE FROM audit_log WHERE seq = 3", 3),
        ("UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 5 WHEN 5 THEN 2 ELSE seq END", 2),
        ("UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 6", 6),
    ]:
        path = tmp_path / f"t{bad}.duckdb"
        _store_with_log(path)
        con = duckdb.connect(str(path))
        con.execute(sql)
        con.close()
        assert _verify_file(path) == (False, bad), sql


def test_store_assigns_seq_and_chains_groups(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        first = store.append_audit(_entries(2))
        second = store.append_audit(_entries(3))
        assert [c.entry.seq for c in first + second] == [1, 2, 3, 4, 5]
        assert second[0].prev_hash == first[-1].hash
        assert [c.hash for c in store.audit_entries()] == [c.hash for c in first + second]
        assert verify(store.audit_entries()).ok
