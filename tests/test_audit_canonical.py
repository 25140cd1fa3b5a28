"""The canonical text of an audit entry, prepared in two parts around ``seq``, is exactly the canonical
JSON of the whole entry: entries hashed before and after the split verify alike."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.audit import AuditEntry, canonical_json, chain, entry_hash, verify
from xinyong.store import open_store

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=8)


def whole(e: AuditEntry) -> str:
    """The definition: the entry as one mapping through ``json.dumps`` with the canonical options."""
    return json.dumps({"seq": e.seq, "at": e.at.isoformat(timespec="microseconds"), "actor": e.actor,
                       "action": e.action, "subject": e.subject, "purpose": e.purpose, "detail": dict(e.detail)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.datetimes(), st.text(), st.text(), st.none() | st.text(), st.none() | st.text(),
       st.dictionaries(st.text(), JSON, max_size=4))
def test_prepared_text_is_the_canonical_json_of_the_entry(seq: int, at: datetime, actor: str, action: str,
                                                           subject: str | None, purpose: str | None,
                                                           detail: dict[str, Any]) -> None:
    e = AuditEntry(seq, at, actor, action, subject, purpose, detail)
    assert e.canonical() == whole(e)
    assert e.detail_json() == canonical_json(detail)
    moved = e.prepare().numbered(seq + 7)
    assert moved.canonical() == whole(AuditEntry(seq + 7, at, actor, action, subject, purpose, detail))


def test_prepared_and_unprepared_entries_chain_alike() -> None:
    def entries() -> list[AuditEntry]:
        return [AuditEntry(i, datetime(2026, 3, 1, 9, 0, i), "relying_party:k1", "decide", f"cn.uscc:{i}",
                           "ticket sale", {"effect": "allow", "名": "张三", "at": datetime(2026, 3, 1)})
                for i in range(1, 6)]

    plain = chain(entries())
    prepared = chain([e.prepare() for e in entries()])
    assert [c.hash for c in plain] == [c.hash for c in prepared]
    assert all(entry_hash(c.entry, c.prev_hash) == c.hash for c in prepared)
    assert verify(prepared).ok


def test_store_keeps_the_hashed_detail_and_cleans_nul(tmp_path: Path) -> None:
    """A NUL (which PostgreSQL text cannot hold) is replaced before hashing; a literal backslash-u0000
    in a value is text like any other and stays."""
    with open_store(tmp_path / "a.duckdb") as store:
        store.append_audit([
            AuditEntry(0, datetime(2026, 3, 1), "cli", "note", None, "why\x00", {"v": "a\x00b"}).prepare(),
            AuditEntry(0, datetime(2026, 3, 1), "cli", "note", None, None, {"v": "a\\u0000b"}).prepare(),
            AuditEntry(0, datetime(2026, 3, 1), "cli", "note", "cn.uscc:1", None, {"n": 1, "ids": ["x"]}),
        ])
        stored = list(store.audit_entries())
        assert verify(stored).ok and len(stored) == 3
        assert stored[0].entry.purpose == "why\ufffd" and stored[0].entry.detail == {"v": "a\ufffdb"}
        assert stored[1].entry.detail == {"v": "a\\u0000b"}
        assert store._query("SELECT detail FROM audit_log WHERE seq = 3")[0][0] == '{"ids":["x"],"n":1}'  # type: ignore[attr-defined]
