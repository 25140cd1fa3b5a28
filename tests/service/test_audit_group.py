"""A server's group of read entries goes into the same chain as any other append: ``chain_rows`` hashes
exactly as ``chain`` over ``renumber``, and ``append_audit_group`` keeps one unbroken chain whatever
other writers do between its groups and however wrong the head it was told to look at first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.audit import GENESIS, AuditEntry, chain, chain_rows, renumber, verify
from xinyong.service.auditlog import AuditBuffer
from xinyong.store.sql_audit import AUDIT_COLUMNS, audit_rows

from ..conftest import Stores

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=6)
ENTRIES = st.lists(st.builds(AuditEntry, st.just(0), st.datetimes(), st.text(), st.text(), st.none() | st.text(),
                             st.none() | st.text(), st.dictionaries(st.text(), JSON, max_size=3)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(ENTRIES, st.integers(1, 10**12), st.sampled_from([GENESIS, "ab" * 32]), st.booleans())
def test_chain_rows_is_the_chain(entries: list[AuditEntry], first: int, prev: str, prepared: bool) -> None:
    if prepared:
        entries = [e.prepare() for e in entries]
    assert chain_rows(entries, first, prev) == audit_rows(chain(renumber(entries, first), prev))
    assert len(AUDIT_COLUMNS) == 9  # the row layout chain_rows writes


def entry(i: int, **kw: Any) -> AuditEntry:
    return AuditEntry(0, datetime(2026, 3, 1, 9, 0, i % 60), "relying_party:k1", "decide",
                      kw.get("subject", f"cn.uscc:{i}"), kw.get("purpose", "ticket sale"), {"effect": "allow", "n": i})


def test_groups_and_writes_share_one_chain(stores: Stores) -> None:
    with stores.open() as store:
        head = store.append_audit_group([entry(i).prepare() for i in range(3)])
        assert head == store.audit_head() and head[0] == 3
        store.append_audit([entry(10)])                                    # a write in between
        head = store.append_audit_group([entry(i) for i in range(20, 25)], head[0])
        assert head == store.audit_head() and head[0] == 9
        for near in (None, 1, 8, 9, 10, 10**9):                          # right, stale and impossible hints
            assert store.audit_head(near) == head
            head = store.append_audit_group([entry(near or 0)], near)
        assert store.append_audit_group([], head[0]) == head
        stored = list(store.audit_entries())
        assert verify(stored).ok and [c.entry.seq for c in stored] == list(range(1, 16))
        assert verify(stored).head_hash == head[1]


def test_a_group_cleans_nul_like_any_append(stores: Stores) -> None:
    with stores.open() as store:
        store.append_audit_group([entry(1, purpose="why\x00").prepare(), entry(2, subject="a\\u0000b").prepare()])
        first, second = list(store.audit_entries())
        assert first.entry.purpose == "why\ufffd" and second.entry.subject == "a\\u0000b"
        assert verify([first, second]).ok


def test_two_buffers_on_one_postgresql_chain(stores: Stores) -> None:
    """Two workers' buffers (two stores on one database) flushing in turn: each one's remembered head
    goes stale at every turn of the other, and the chain stays whole."""
    if stores.backend != "postgres":
        pytest.skip("one process per DuckDB file")
    with stores.open() as a_store, stores.open() as b_store:
        a, b = AuditBuffer(a_store), AuditBuffer(b_store)
        for turn in range(4):
            for i, buf in enumerate((a, b)):
                for n in range(3):
                    buf.add(entry(100 * turn + 10 * i + n))
                assert buf.flush() == 3
        a.close()
        b.close()
        stored = list(a_store.audit_entries())
        assert verify(stored).ok and len(stored) == 24
