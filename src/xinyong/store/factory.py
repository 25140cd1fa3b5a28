"""``open_store(url)``: the one way the service, web and CLI layers get a store.

``duckdb:///path/file.duckdb`` (or a bare path: the embedded default) and
``postgresql://user@host:port/dbname``; ``XINYONG_DB`` accepts both. Adapters are imported here only
when their URL is used, so a DuckDB user never loads psycopg and a PostgreSQL server never opens a file.
"""

from __future__ import annotations

from pathlib import Path

from xinyong.model.errors import StoreError
from xinyong.store.protocol import FullStore

DEFAULT_URL = "xinyong.duckdb"


def is_postgres(url: str | Path) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


def duckdb_path(url: str | Path) -> str:
    """The file path of a DuckDB URL or bare path (``duckdb:///abs/path``, ``duckdb://rel/path``)."""
    text = str(url)
    if text.startswith("duckdb://"):
        rest = text[len("duckdb://"):]
        return rest if rest else ":memory:"
    return text


def open_store(url: str | Path = DEFAULT_URL, *, read_only: bool = False, create: bool = True,
               migrate: bool | None = True, pool_size: int = 8) -> FullStore:
    """Open the store a URL names. ``create=False`` refuses a DuckDB file that does not exist yet (a
    typo must not silently create an empty register); ``migrate=False`` refuses an older schema and
    names the missing migrations instead of applying them; ``migrate=None`` opens it as it is (``xinyong migrate``)."""
    text = str(url)
    if is_postgres(text):
        from xinyong.store.postgres_store import PostgresStore

        return PostgresStore.open(text, read_only=read_only, migrate=migrate, pool_size=pool_size)
    if "://" in text and not text.startswith("duckdb://"):
        scheme = text.split("://", 1)[0]
        raise StoreError(f"unknown store URL scheme {scheme!r}: use duckdb:///path/file.duckdb, a file path, "
                         "or postgresql://user@host:port/dbname", field="db")
    from xinyong.store.duckdb_store import DuckDBStore

    return DuckDBStore.open(duckdb_path(text), read_only=read_only, create=create, migrate=migrate)
