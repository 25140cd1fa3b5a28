"""The embedded store: one DuckDB file (default ``./xinyong.duckdb``).

DuckDB is the default because the batch engine runs where the data is: the population's records are
scanned column-wise in the same process, with no server to run. The portable queries are shared with
PostgreSQL (:mod:`xinyong.store.sql_store`); what is DuckDB's own is here: one in-process connection
guarded by a lock, Arrow for bulk inserts, the ``record_keys`` dedup table (each 128-bit id as one
integer), importing subjects from Parquet, and the engine's run over the file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import StoreBusy, StoreError
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.store.faults import storage_fault
from xinyong.store.protocol import Appended
from xinyong.store.sql_store import PAGE, SqlStore

DEFAULT_PATH = Path("xinyong.duckdb")

__all__ = ["DEFAULT_PATH", "DuckDBStore", "StoreError"]


class DuckDBStore(SqlStore):
    """A :class:`~xinyong.store.protocol.Store` over one DuckDB file (or ``:memory:``)."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, *, read_only: bool,
                 schemes: SchemeRegistry) -> None:
        self._con = con
        self.path = path
        self.url = f"duckdb:///{path}" if path != ":memory:" else "duckdb://:memory:"
        self.read_only = read_only
        self.schemes = schemes
        self._depth = 0
        self._lock = threading.RLock()
        self._types: dict[str, dict[str, str]] = {}

    @classmethod
    def open(cls, path: str | Path = DEFAULT_PATH, *, read_only: bool = False, create: bool = True,
             migrate: bool | None = True, schemes: SchemeRegistry | None = None) -> DuckDBStore:
        """Open a store file (creating and migrating it if ``create``); read-only opens never migrate."""
        p = str(path)
        if p != ":memory:" and not Path(p).exists() and (read_only or not create):
            raise StoreError(f"no store at {p} (create one with `xinyong publish` or `xinyong migrate`)",
                             field="db")
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if (fault := storage_fault(p, exc)) is not None:  # read-only volume, permission refused
                raise fault from None
            if "lock" in text.lower():
                raise StoreBusy(f"store {p} is open for writing by another process: "
                                f"{_holder(text)}; one writer per file (use PostgreSQL for several)",
                                field="db") from None
            raise StoreError(f"cannot open store {p}: {text}", field="db") from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {p}: {exc}", field="db") from None
        store = cls(con, p, read_only=read_only, schemes=schemes or default_schemes())
        try:
            store._check_schema(migrate=migrate)
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        with _faults(self.path):  # closing writes a checkpoint: a full disk fails here too
            self._con.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for DuckDB-only paths inside the adapter and for benchmarks."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A second connection to the same database (e.g. to stream a file while writing batches)."""
        return self._con.cursor()

    @property
    def lock(self) -> threading.RLock:
        """The lock :meth:`transaction` holds. A DuckDB connection is not safe for concurrent use, so a
        multi-threaded caller (the HTTP service) holds it around every use of the store."""
        return self._lock

    # -- primitives ------------------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, _faults(self.path):
            return self._con.execute(sql, list(params)).fetchall()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock, _faults(self.path):
            rows = self._con.execute(sql, list(params)).fetchall()
        return int(rows[0][0]) if rows and len(rows[0]) == 1 and isinstance(rows[0][0], int) else -1

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cur = self._con.cursor()
        try:
            with _faults(self.path):
                cur.execute(sql, list(params))
                while rows := cur.fetchmany(PAGE):
                    yield from rows
        finally:
            cur.close()

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """One INSERT from an Arrow table: row-at-a-time inserts run near 1.2 k rows/s here."""
        if not rows:
            return
        types = self._types.get(table)
        if types is None:
            types = self._types[table] = {c: t for c, t in self._query(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table])}
        cols = list(zip(*rows, strict=True))
        arrays = {c: pa.array(list(v), _ARROW.get(types.get(c, ""))) for c, v in zip(columns, cols,
                                                                                           strict=True)}
        group = pa.table(arrays)
        name = f"_xy_insert_{table}"
        with self._lock, _faults(self.path):
            self._con.register(name, group)
            try:
                self._con.execute(f"INSERT INTO {table} ({', '.join(_q(c) for c in columns)}) "
                                  f"SELECT {', '.join(_q(c) for c in columns)} FROM {name}")
            finally:
                self._con.unregister(name)

    def _applied(self) -> set[int]:
        try:
            return {r[0] for r in self._con.execute("SELECT version FROM schema_migrations").fetchall()}
        except duckdb.CatalogException:
            return set()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT, or ROLLBACK on any exception; a nested call joins the outer transaction. A full
        disk usually shows at COMMIT (the WAL write): DuckDB has rolled back, and it is a StorageFault."""
        with self._lock, _faults(self.path):
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._con.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._con.execute("ROLLBACK")
                raise
            self._depth = 0
            self._con.execute("COMMIT")

    # -- DuckDB's own paths ------------------------------------------------------------------------------

    def _record_keys(self, ids: Sequence[str]) -> None:
        from xinyong.store.duckdb_ingest import KEY  # one definition of the dedup key (it imports this module)
        if ids:
            with self._lock:
                self._con.execute(f"INSERT INTO record_keys SELECT {KEY.format('unnest(?::VARCHAR[])')}",
                                  [list(ids)])

    def import_subjects(self, parquet: Path, actor: str = "system") -> int:
        """Register subjects (id, scheme, kind, name) from a Parquet file; known ids are kept as they are.

        Ids must be canonical keys (the lab writes them so).
        """
        with self.transaction():
            before = self.subject_count()
            self._con.execute(
                "INSERT INTO subjects (id, scheme, kind, name) SELECT s.id, s.scheme, s.kind, s.name "
                "FROM read_parquet(?) s ANTI JOIN subjects USING (id)", [str(parquet)])
            added = self.subject_count() - before
            self.append_audit([AuditEntry(0, utc_now(), actor, "import_subjects",
                                          detail={"file": parquet.name, "new": added})])
        return added

    def _arrow(self, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
        """Arrow straight from the engine: no Python object per row."""
        with self._lock, _faults(self.path):
            return self._con.sql(sql, params=list(params)).to_arrow_table().cast(schema)

    def run_states(self, run: str) -> Iterator[tuple[str, str | None, list[str]]]:
        """Every subject's tier and lists in force in a run, streamed (one GROUP BY, no sort)."""
        for subject, tier, lists in self._stream(
                "SELECT a.subject, a.tier, list(l.list ORDER BY l.list) FILTER (WHERE l.list IS NOT NULL) "
                "FROM assessments a JOIN assessment_runs r ON r.run = a.run "
                "LEFT JOIN listings l ON l.run = a.run AND l.subject = a.subject "
                "AND l.since <= r.as_of AND r.as_of < l.until "
                "WHERE a.run = ? GROUP BY a.subject, a.tier", [run]):
            yield subject, tier, list(lists or [])

    def append_checked(self, batch: pa.Table, *, source: str, batch_id: str, actor: str,
                       detail: dict[str, Any]) -> Appended:
        """BulkIngest: a checked batch appended from Arrow in one transaction (store/duckdb_ingest.py)."""
        from xinyong.store.duckdb_ingest import append_checked  # it imports this module

        return append_checked(self, batch, source=source, batch_id=batch_id, actor=actor, detail=detail)


_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "BIGINT": pa.int64(),
    "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(), "DECIMAL(18,2)": pa.decimal128(18, 2),
    "DOUBLE": pa.float64(),
}


@contextmanager
def _faults(path: str) -> Iterator[None]:
    """A driver error caused by the storage (disk full, I/O error, read-only, permission) becomes one
    :class:`StorageFault`; any other error passes unchanged."""
    try:
        yield
    except (duckdb.Error, OSError) as exc:
        if (fault := storage_fault(path, exc)) is not None:
            raise fault from None
        raise


def _q(column: str) -> str:
    return f'"{column}"'


def _holder(text: str) -> str:
    """The lock holder DuckDB names in its error (``PID 1234``), or the error itself."""
    import re

    m = re.search(r"\(PID (\d+)\)", text) or re.search(r"PID (\d+)", text)
    return f"process {m.group(1)}" if m else text.splitlines()[0][:200]
