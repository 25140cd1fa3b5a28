"""A real registry (every backend, the sample policies published) and helpers to act as different people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from xinyong.model.record import Record
from xinyong.service.cases import CaseService
from xinyong.service.registry import Registry
from xinyong.store import FullStore

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
PERSON = "cn.ric:11010519491231002X"
COMPANY = "cn.uscc:914403001922038216"
OTHER_COMPANY = "cn.uscc:91110000600037341L"
OTHER_PERSON = "cn.ric:360426199101010071"


def record(subject: str, type_: str, decided: date, document: str, source: str = "court.enforcement",
           amount: int | None = None) -> Record:
    return Record(subject=subject, source=source, type=type_, occurred=date(decided.year - 1, 1, 1),
                  decided=decided, document=document, amount=amount)


@pytest.fixture
def store(stores: Stores) -> Iterator[FullStore]:
    """A fresh store of each backend with the sample policies published."""
    s = stores.open()
    Registry(s, actor="office").publish([ROOT / "policies"])
    yield s
    s.close()


class People:
    """The registry as seen by each actor: the subject files, reviewers decide, the agency submits."""

    def __init__(self, store: FullStore) -> None:
        self.store = store

    def registry(self, actor: str) -> Registry:
        return Registry(self.store, actor=actor)

    def cases(self, actor: str) -> CaseService:
        return CaseService(self.registry(actor))


@pytest.fixture
def people(store: FullStore) -> People:
    return People(store)
