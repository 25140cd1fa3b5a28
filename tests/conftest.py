"""The same storage-facing suite on every backend (yente's way): DuckDB files and PostgreSQL.

PostgreSQL: one throwaway database per test session on the local server (``XINYONG_TEST_PG``, default
``postgresql://postgres@127.0.0.1:5432/postgres``), dropped at the end; each test gets its own schema
in it (``search_path`` in the URL), so tests never see each other's rows and creating a database per
test is not paid. Without a reachable server the PostgreSQL half is skipped with one loud line, unless
``CI`` is set: then it fails, because CI must run both halves.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from xinyong.store import FullStore, open_store

BACKENDS = ("duckdb", "postgres")
_SERVER = os.environ.get("XINYONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_SKIP_WHY = ("PostgreSQL half SKIPPED: no server at {server} ({reason}). Start it (e.g. `pg_ctlcluster "
             "--skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set XINYONG_TEST_PG.")


def _server_base(url: str) -> str:
    return url.rsplit("/", 1)[0]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A fresh database for this session (its URL), or None when no server runs and CI is unset."""
    import psycopg

    try:
        admin = psycopg.connect(_SERVER, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        message = _SKIP_WHY.format(server=_SERVER, reason=str(exc).strip().splitlines()[-1])
        if os.environ.get("CI"):
            pytest.fail(message.replace("SKIPPED", "REQUIRED in CI"), pytrace=False)
        print("\n" + "!" * 100 + "\n" + message + "\n" + "!" * 100)
        yield None
        return
    name = f"xy_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{_server_base(_SERVER)}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Stores:
    """Opens throwaway stores of one backend: files under ``tmp_path``, or schemas in the session
    database. ``url(name)`` is stable per name within a test, so a test can reopen the same store."""

    def __init__(self, backend: str, tmp_path: Path, pg_database: str | None) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self._pg = pg_database
        self._urls: dict[str, str] = {}

    def url(self, name: str = "store") -> str:
        if name not in self._urls:
            if self.backend == "duckdb":
                self._urls[name] = str(self.tmp_path / f"{name}.duckdb")
            else:
                assert self._pg is not None
                import psycopg

                schema = f"t_{uuid.uuid4().hex[:16]}"
                with psycopg.connect(self._pg, autocommit=True) as con:
                    con.execute(f'CREATE SCHEMA "{schema}"')
                self._urls[name] = f"{self._pg}?options={quote(f'-csearch_path={schema}')}"
        return self._urls[name]

    def open(self, name: str = "store", **kw: object) -> FullStore:
        return open_store(self.url(name), **kw)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and request.getfixturevalue("pg_database") is None:
        pytest.skip("no PostgreSQL server (see the line printed at the start of the session)")
    return str(request.param)


@pytest.fixture
def stores(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Stores:
    pg = request.getfixturevalue("pg_database") if backend == "postgres" else None
    return Stores(backend, tmp_path, pg)
