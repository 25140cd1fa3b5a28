"""The server store: PostgreSQL through psycopg 3 and a connection pool.

An institution runs its register on a database that many processes share (API workers, the nightly
evaluation, agencies' bulk loads, reviewers). The queries are the portable ones of
:mod:`xinyong.store.sql_store`; what is PostgreSQL's own is here: a pool with one connection bound to a
thread for the length of a transaction, ``COPY`` for bulk inserts, an advisory lock that serialises
audit-chain appends across processes, indexes that make single-subject reads independent of the
register's size, and triggers that refuse UPDATE/DELETE on the append-only tables (migrations
``*.postgres.sql``). Driver errors never leave this module: they become :class:`StoreError`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg_pool import ConnectionPool

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import InvalidInput, StoreError
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.store.faults import storage_fault
from xinyong.store.protocol import Appended
from xinyong.store.sql_store import PAGE, SqlStore

_PLACEHOLDER = re.compile(r"\?")


def _pg_sql(sql: str, params: Sequence[Any]) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled); no params: the text as it is."""
    if not params:
        return sql
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def describe_url(url: str) -> str:
    """host:port/dbname of a URL, without the password, for error messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return re.sub(r"//[^@/]*@", "//", url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class _NoLock:
    """The pool gives each thread its own connection: callers need no store-wide lock here."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class PostgresStore(SqlStore):
    """A :class:`~xinyong.store.protocol.Store` over one PostgreSQL database (or a schema in one: put
    ``options=-csearch_path=NAME`` in the URL)."""

    dialect = "postgres"

    def __init__(self, pool: ConnectionPool, url: str, *, read_only: bool, schemes: SchemeRegistry) -> None:
        self._pool = pool
        self.url = url
        self.read_only = read_only
        self.schemes = schemes
        self._local = threading.local()
        self._nolock = _NoLock()

    @classmethod
    def open(cls, url: str, *, read_only: bool = False, migrate: bool | None = True, pool_size: int = 8,
             schemes: SchemeRegistry | None = None) -> PostgresStore:
        """Connect (failing fast with host, port, database and the driver's reason) and migrate."""
        where = describe_url(url)
        try:
            with psycopg.connect(url, connect_timeout=5) as probe:
                probe.execute("SELECT 1")
        except psycopg.Error as exc:
            # libpq repeats the attempt per address; its first reason, on one line, is the useful part
            text = " ".join(str(exc).split()) or type(exc).__name__
            reason = re.sub(r"^connection failed: connection to server at [^,]*, port \d+ failed: ", "", text)[:300]
            raise StoreError(f"cannot connect to PostgreSQL at {where}: {reason}", field="db") from None
        pool = ConnectionPool(url, min_size=1, max_size=pool_size, kwargs={"autocommit": True},
                              open=True, name="xinyong")
        store = cls(pool, url, read_only=read_only, schemes=schemes or default_schemes())
        try:
            store._check_schema(migrate=migrate)
        except BaseException:
            pool.close()
            raise
        return store

    def close(self) -> None:
        self._pool.close()

    @property
    def lock(self) -> _NoLock:
        return self._nolock

    # -- connections and transactions ------------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """The thread's transaction connection, or a pooled one (autocommit) for a single statement."""
        con = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        try:
            with _server_faults(self.url), self._pool.connection() as con:
                yield con
        except psycopg.OperationalError as exc:
            raise StoreError(f"PostgreSQL at {describe_url(self.url)}: {exc}".strip(), field="db") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT on one pooled connection bound to this thread; nested calls join it."""
        if getattr(self._local, "con", None) is not None:
            yield
            return
        with _server_faults(self.url), self._pool.connection() as con, con.transaction():
            self._local.con = con
            try:
                yield
            finally:
                self._local.con = None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn() as con, _refused_values():
            cur = con.execute(_pg_sql(sql, params), list(params) or None)
            return cur.fetchall() if cur.description else []

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._conn() as con, _refused_values():
            return con.execute(_pg_sql(sql, params), list(params) or None).rowcount

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """A server-side cursor (named), a page at a time, in its own transaction when needed."""
        with self._conn() as con:
            ctx = con.transaction() if getattr(self._local, "con", None) is None else _nothing()
            with ctx, con.cursor(name=f"xy_{threading.get_ident()}_{time.monotonic_ns()}") as cur:
                cur.itersize = PAGE
                cur.execute(_pg_sql(sql, params), list(params) or None)
                yield from cur

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """``COPY ... FROM STDIN``: one round trip for the whole group, whatever its size."""
        if not rows:
            return
        with self._conn() as con, _refused_values(), con.cursor() as cur, cur.copy(
                f"COPY {table} ({', '.join(_q(c) for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _add_subjects(self, keys: set[str]) -> None:
        """Register unknown subjects; another writer may register the same one at the same moment."""
        rows = [(k, k.partition(":")[0], self.schemes.kind_of(k).value) for k in sorted(keys)]
        if rows:
            with self._conn() as con, con.cursor() as cur:
                cur.executemany("INSERT INTO subjects (id, scheme, kind) VALUES (%s, %s, %s) "
                                "ON CONFLICT (id) DO NOTHING", rows)

    def _lock_audit_head(self) -> None:
        # One chain per schema, whoever writes: two API workers and a CLI ingest append in turn.
        self._run("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))")

    def _applied(self) -> set[int]:
        exists = self._one("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists or not exists[0]:
            return set()
        return {r[0] for r in self._query("SELECT version FROM schema_migrations")}

    def migrate(self) -> list[str]:
        """Apply pending migrations, serialised across processes by an advisory lock."""
        with self.transaction():
            self._run("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.migrate'))")
            return super().migrate()

    # -- PostgreSQL's own paths --------------------------------------------------------------------------

    def import_subjects(self, parquet: Path, actor: str = "system") -> int:
        """Register subjects from a Parquet file (canonical ids), streamed through ``COPY`` into a
        staging table and inserted where unknown."""
        with self.transaction():
            self._run("CREATE TEMP TABLE xy_subjects (id VARCHAR, scheme VARCHAR, kind VARCHAR, name VARCHAR) "
                      "ON COMMIT DROP")
            for batch in pq.ParquetFile(parquet).iter_batches(batch_size=100_000,
                                                                columns=["id", "scheme", "kind", "name"]):
                self._insert("xy_subjects", ("id", "scheme", "kind", "name"),
                             list(zip(*(batch.column(i).to_pylist() for i in range(4)), strict=True)))
            added = self._run("INSERT INTO subjects (id, scheme, kind, name) SELECT DISTINCT ON (id) id, scheme, "
                              "kind, name FROM xy_subjects ON CONFLICT (id) DO NOTHING")
            self.append_audit([AuditEntry(0, utc_now(), actor, "import_subjects",
                                          detail={"file": parquet.name, "new": added})])
        return added

    def append_checked(self, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                       detail: dict[str, Any]) -> Appended:
        from xinyong.store.postgres_ingest import append_checked  # it imports this module

        return append_checked(self, batch, source=source, batch_id=batch_id, actor=actor, detail=detail)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


#: SQLSTATEs of the server's storage: 53100 disk full, 58030 I/O error, 25006 a read-only transaction
#: (a hot standby, or default_transaction_read_only), 42501 a privilege refused by the server
_FAULTS = {"53100": "disk full", "58030": "I/O error", "25006": "read-only database (a replica, or "
           "default_transaction_read_only)", "42501": "permission denied"}


@contextmanager
def _server_faults(url: str) -> Iterator[None]:
    """The server's storage faults as one :class:`StorageFault` (the transaction has rolled back)."""
    try:
        yield
    except psycopg.Error as exc:
        reason = _FAULTS.get(exc.sqlstate or "")
        if reason is not None and (fault := storage_fault(describe_url(url), exc, reason)) is not None:
            raise fault from None
        raise


@contextmanager
def _refused_values() -> Iterator[None]:
    """A value PostgreSQL cannot hold (a NUL character in text, a number out of range) is the caller's
    bad input, not a server fault: one clear error, and the transaction rolls back."""
    try:
        yield
    except psycopg.DataError as exc:
        why = "a NUL character (U+0000), which text cannot hold" if "NUL" in str(exc) else str(exc).splitlines()[0]
        raise InvalidInput(f"a value cannot be stored: {why}") from None


def _q(column: str) -> str:
    return f'"{column}"'
