"""A real registry (every backend, the sample policies, a listed debtor) served through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xinyong.model.record import Record
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.service.principals import Principals, Role
from xinyong.service.registry import Registry
from xinyong.store import FullStore, open_store
from xinyong.web import create_app

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 1)
DEBTOR = "cn.ric:11010519491231002X"
CLEAN = "cn.uscc:914403001922038216"
OTHER_PERSON = "cn.ric:110105198001010016"
FLIGHT = "transport.flight.purchase"


def debt(subject: str = DEBTOR, document: str = "(2026) Jing 0105 Zhi 1") -> Record:
    return Record(subject=subject, source="court.enforcement", type="court.refuse_perform",
                  occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document=document)


@dataclass
class World:
    store: FullStore
    online: Online
    keys: dict[str, str]


def build_store(path: Path | str) -> FullStore:
    store = open_store(path)
    Registry(store, actor="test").publish([ROOT / "policies"])
    store.add_records([debt()], actor="court")
    return store


def make_keys(store: FullStore) -> dict[str, str]:
    p = Principals(store)
    specs = {
        "airline": ("Airline", Role.RELYING_PARTY, {"actions": [FLIGHT]}),
        "bank": ("Bank", Role.RELYING_PARTY, {"actions": ["finance.loan"]}),
        "court": ("Court", Role.AGENCY, {"source": "court.enforcement"}),
        "tax": ("Tax bureau", Role.AGENCY, {"source": "tax.bureau"}),
        "debtor": ("Debtor", Role.SUBJECT, {"subject": DEBTOR}),
        "reviewer": ("Reviewer", Role.REVIEWER, {}),
        "admin": ("Admin", Role.ADMIN, {}),
        "revoked": ("Old airline key", Role.RELYING_PARTY, {"actions": [FLIGHT]}),
    }
    keys = {}
    for label, (name, role, kw) in specs.items():
        principal, key = p.create(name, role, by="test", **kw)  # type: ignore[arg-type]
        keys[label] = key
        if label == "revoked":
            p.revoke(principal.id, by="test", reason="rotated")
    return keys


@pytest.fixture
def world(stores: Stores) -> Iterator[World]:
    store = build_store(stores.url("web"))
    keys = make_keys(store)
    online = Online(store, as_of=AS_OF, max_batch=1000, audit=AuditBuffer(store, max_delay=0.05))
    yield World(store, online, keys)
    store.close()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.online, max_body_bytes=256 * 1024)) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
