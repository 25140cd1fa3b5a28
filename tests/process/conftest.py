"""A real registry (DuckDB file, the sample policies published) and helpers to act as different people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from xinyong.model.record import Record
from xinyong.service.cases import CaseService
from xinyong.service.registry import Registry
from xinyong.store.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parents[2]
PERSON = "cn.ric:11010519491231002X"
COMPANY = "cn.uscc:914403001922038216"
OTHER_COMPANY = "cn.uscc:91110000600037341L"
OTHER_PERSON = "cn.ric:360426199101010071"


def record(subject: str, type_: str, decided: date, document: str, source: str = "court.enforcement",
           amount: int | None = None) -> Record:
    return Record(subject=subject, source=source, type=type_, occurred=date(decided.year - 1, 1, 1),
                  decided=decided, document=document, amount=amount)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the sample policies published, copied per test (publishing once is the slow part)."""
    db = tmp_path_factory.mktemp("published") / "base.duckdb"
    store = DuckDBStore.open(db)
    Registry(store, actor="office").publish([ROOT / "policies"])
    store.close()
    return db


@pytest.fixture
def store(published: Path, tmp_path: Path) -> Iterator[DuckDBStore]:
    db = tmp_path / "r.duckdb"
    db.write_bytes(published.read_bytes())
    s = DuckDBStore.open(db)
    yield s
    s.close()


class People:
    """The registry as seen by each actor: the subject files, reviewers decide, the agency submits."""

    def __init__(self, store: DuckDBStore) -> None:
        self.store = store

    def registry(self, actor: str) -> Registry:
        return Registry(self.store, actor=actor)

    def cases(self, actor: str) -> CaseService:
        return CaseService(self.registry(actor))


@pytest.fixture
def people(store: DuckDBStore) -> People:
    return People(store)
