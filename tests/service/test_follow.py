"""Every write reaches decisions, whichever process made it: the store's change sequence.

A record added after the last batch evaluation (by a CLI ingest, another API worker, a reviewer) is in
the next decision index built from the snapshot, and a running service picks up another process's
write by following the sequence, with no evaluation and no restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from xinyong.model.assessment import Effect
from xinyong.model.errors import Unauthenticated
from xinyong.model.record import Record
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.service.principals import Role, hash_key
from xinyong.service.registry import Registry
from xinyong.store import open_store

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
DEBTOR = "cn.ric:11010519491231002X"
FLIGHT = "transport.flight.purchase"
AS_OF = date(2026, 3, 1)


def debt(document: str = "(2026) Jing 0105 Zhi 1") -> Record:
    return Record(subject=DEBTOR, source="court.enforcement", type="court.refuse_perform",
                  occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document=document)


def test_the_index_sees_writes_made_after_the_snapshot(stores: Stores) -> None:
    with stores.open() as store:
        reg = Registry(store, actor="test")
        reg.publish([ROOT / "policies"])
        reg.evaluate(AS_OF)
        assert reg.decision_index(AS_OF).decision(DEBTOR, FLIGHT, "p").effect is Effect.ALLOW
        store.add_records([debt()], actor="court")  # what `xinyong ingest` does, no evaluate after it
        assert reg.decision_index(AS_OF).decision(DEBTOR, FLIGHT, "p").effect is Effect.DENY
        assert [d.effect for d in reg.check_batch([DEBTOR], FLIGHT, "p", AS_OF)] == [Effect.DENY]


@contextmanager
def two_workers(stores: Stores) -> Iterator[tuple[Online, Online]]:
    """Two services over one PostgreSQL store, as two ``serve --workers`` processes have (follow by hand)."""
    if stores.backend != "postgres":
        pytest.skip("one process per DuckDB file")
    url = stores.url()
    with open_store(url) as setup:
        Registry(setup, actor="test").publish([ROOT / "policies"])
    a_store, b_store = open_store(url), open_store(url)
    a = Online(a_store, as_of=AS_OF, audit=AuditBuffer(a_store), follow_interval=0)
    b = Online(b_store, as_of=AS_OF, audit=AuditBuffer(b_store), follow_interval=0)
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.close()
        b.close()
        a_store.close()
        b_store.close()


def test_a_second_worker_follows_the_first_workers_writes(stores: Stores) -> None:
    with two_workers(stores) as (a, b):
        assert b.index().decision(DEBTOR, FLIGHT, "p").effect is Effect.ALLOW
        a.store.add_records([debt()], actor="court")
        a.reassess({DEBTOR})
        assert a.index().decision(DEBTOR, FLIGHT, "p").effect is Effect.DENY
        assert b.follow() == 1  # the server's follower thread does this every follow_interval
        assert b.index().decision(DEBTOR, FLIGHT, "p").effect is Effect.DENY
        assert b.follow() == 0


def test_a_key_revoked_by_another_process_stops_working_here(stores: Stores) -> None:
    """Revoking a key (`xinyong keys revoke`, or another worker) must end its use on every worker, API
    keys and browser sessions alike, at the next follow, not at the next restart."""
    with two_workers(stores) as (a, b):
        principal, key = a.principals.create("Debtor", Role.SUBJECT, subject=DEBTOR, by="test")
        b.follow()
        assert b.principals.authenticate(key).id == principal.id  # created elsewhere: known here too
        key_hash = hash_key(key)
        assert b.principals.live(principal.id, key_hash) is not None
        a.principals.revoke(principal.id, by="test")
        b.follow()
        with pytest.raises(Unauthenticated):
            b.principals.authenticate(key)
        assert b.principals.live(principal.id, key_hash) is None  # its browser sessions end too
