"""Bulk ingest on the DuckDB adapter: stream files, validate a batch at a time, commit atomically.

A batch never becomes Python objects: the file is read by DuckDB's own readers into Arrow record
batches (typed Parquet columns stay typed); subject identifiers are decided with numpy over the Arrow
buffers (:func:`~xinyong.store.identifier_sql.compact_keys`, python-stdnum per row only for values not
in compact form); every other check (catalogue, dates, amounts, document) and the record id (the same
canonical text as ``Record.id``) is one SQL pass that stages the batch once. Only the rejected rows come
back to Python, to name what is wrong.

Each batch commits in one transaction with its new subjects, its dedup keys and one audit entry, so a
crash or SIGKILL leaves whole batches or nothing, and re-running a file adds nothing (ids are content
hashes). Dedup against stored records probes the narrow ``record_keys`` table: see migration 002 for the
measurements behind that choice. Figures: ``bench/ingest.py`` and ``changes/ingest-speed.md``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput
from xinyong.model.identifiers import SchemeRegistry
from xinyong.store.duckdb_store import DuckDBStore
from xinyong.store.identifier_sql import FAST_SCHEMES, KIND_NAMES, NEVER_18, compact_keys

REQUIRED = ("subject", "type", "occurred", "decided", "document")
OPTIONAL = ("amount", "source")
FLAGS = ("subj_ok", "src_ok", "type_ok", "allowed_ok", "kind_ok", "occ_ok", "dec_ok", "order_ok",
         "asof_ok", "doc_ok", "amt_ok")


@dataclass(frozen=True, slots=True)
class RejectRow:
    """One problem with one data row (1-based) of a file."""

    file: str
    row: int
    field: str
    reason: str
    value: str | None


@dataclass(slots=True)
class BatchResult:
    batch: str
    rows: int
    valid: int = 0  # rows that passed every check (new or duplicate)
    accepted: int = 0
    duplicates: int = 0
    rejects: list[RejectRow] = field(default_factory=list)


def _lit(text: str) -> str:
    """A SQL string literal (catalogue ids and paths are the only values spliced into SQL)."""
    return "'" + text.replace("'", "''") + "'"


def _control_chars(text: pa.ChunkedArray) -> pa.Array:
    """True where a string holds a byte below 32 (a control character), over the Arrow buffers."""
    arr = text.combine_chunks()
    if arr.type != pa.large_string():
        arr = pc.cast(arr, pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    seen = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(data < 32, out=seen[1:])
    return pa.array(seen[offsets[1:]] > seen[offsets[:-1]])


class BulkLoader:
    """Validates and commits batches for one source and as-of date, against one catalogue."""

    def __init__(self, store: DuckDBStore, catalogue: Catalogue, source: str, as_of: date,
                 schemes: SchemeRegistry, actor: str = "ingest") -> None:
        allowed = set(catalogue.source(source).may_submit)
        self.store, self.source, self.as_of, self.schemes, self.actor = store, source, as_of, schemes, actor
        self.con = store.connection
        self._typed: set[str] = set()
        self._has_source = False
        self.catalogue = catalogue
        names = set(schemes.names())
        self.fast = names >= FAST_SCHEMES and names - FAST_SCHEMES <= NEVER_18
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE _xy_types (id VARCHAR, allowed BOOLEAN, kinds VARCHAR[])")
        con.executemany("INSERT INTO _xy_types VALUES (?, ?, ?)",
                        [(rt.id, rt.id in allowed, [k.value for k in rt.subject_kinds])
                         for rt in catalogue.record_types])

    # -- reading -------------------------------------------------------------------------------------

    def read(self, path: Path, batch_rows: int) -> Iterator[pa.Table]:
        """The file as Arrow batches of VARCHAR columns (plus ``row``, 1-based), streamed by DuckDB."""
        suffix = path.suffix.lower()
        p = _lit(str(path))
        if suffix == ".csv":
            scan = f"read_csv({p}, header = true, all_varchar = true, delim = ',', quote = '\"')"
        elif suffix in (".jsonl", ".ndjson", ".json"):
            scan = f"read_json({p}, format = 'newline_delimited')"
        elif suffix == ".parquet":
            scan = f"read_parquet({p})"
        else:
            raise InvalidInput(f"{path}: unknown file type {suffix!r} (csv, jsonl, parquet)", field="file")
        cur = self.store.cursor()
        try:
            types = {r[0]: str(r[1]) for r in cur.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
            cols = list(types)
            missing = [c for c in REQUIRED if c not in cols]
            if missing:
                raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}", field="file")
            # typed columns (Parquet, sometimes JSON) stay typed: no round trip through text
            self._typed = {c for c in ("occurred", "decided") if types.get(c) == "DATE"}
            dec = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", types.get("amount", ""))
            if dec and int(dec[2]) <= 2 and int(dec[1]) - int(dec[2]) <= 16:
                self._typed.add("amount")
            sel = ", ".join(f"CAST({c} AS DECIMAL(18, 2)) AS {c}" if c == "amount" and c in self._typed
                            else c if c in self._typed
                            else f"CAST({c} AS VARCHAR) AS {c}" if c in cols else f"NULL::VARCHAR AS {c}"
                            for c in REQUIRED + OPTIONAL)
            self._has_source = "source" in cols
            res = cur.sql(f"SELECT {sel} FROM {scan}")
            # duckdb 2 renamed fetch_record_batch to to_arrow_reader
            reader = (res.to_arrow_reader(batch_rows) if hasattr(res, "to_arrow_reader")
                      else res.fetch_record_batch(batch_rows))
            first, pending, size = 1, [], 0
            for rb in reader:  # readers hand out row-group-sized chunks: regroup to batch_rows
                pending.append(rb)
                size += rb.num_rows
                if size >= batch_rows:
                    yield self._numbered(pending, first)
                    first, pending, size = first + size, [], 0
            if size:
                yield self._numbered(pending, first)
        except InvalidInput:
            raise
        except Exception as exc:  # a reader error (malformed CSV/JSON) names the file
            if type(exc).__module__.startswith("duckdb"):
                raise InvalidInput(f"{path}: {exc}", field="file") from None
            raise
        finally:
            cur.close()

    def table_from_rows(self, rows: Sequence[Mapping[str, str | None]]) -> pa.Table:
        """Rows already in memory (the HTTP API) as one batch shaped like those :meth:`read` yields:
        text columns and ``row`` from 1, so :meth:`validate` and :meth:`commit` treat them the same."""
        self._typed = set()
        self._has_source = any(r.get("source") is not None for r in rows)
        table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in REQUIRED + OPTIONAL})
        return table.append_column("row", pa.array(np.arange(1, len(rows) + 1, dtype=np.int64)))

    @staticmethod
    def _numbered(batches: list[pa.RecordBatch], first: int) -> pa.Table:
        table = pa.Table.from_batches(batches)
        rows = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
        return table.append_column("row", rows)

    # -- validation ------------------------------------------------------------------------------------

    def _subjects(self, batch: pa.Table) -> pa.Table:
        """``batch`` with ``skey`` (canonical key or null) and ``kind`` for every row.

        Compact values are decided with numpy over the Arrow buffers; the rest (other forms, other
        schemes, nulls) are resolved with the registry (python-stdnum), per row.
        """
        subjects = batch.column("subject")
        if self.fast:
            compact, keys, kind_codes = compact_keys(subjects)
        else:
            compact = np.zeros(batch.num_rows, dtype=np.bool_)
            keys = pa.nulls(batch.num_rows, pa.large_string())
            kind_codes = np.zeros(batch.num_rows, dtype=np.int8)
        names = pa.array(KIND_NAMES, pa.large_string())
        kinds = names.take(pa.array(kind_codes - 1, pa.int8(), mask=kind_codes == 0))
        other = np.flatnonzero(~compact)
        if len(other):
            fb_keys: list[str | None] = []
            fb_kinds: list[str | None] = []
            for text in subjects.take(pa.array(other)).to_pylist():
                try:
                    ref = self.schemes.parse(text or "")
                    fb_keys.append(ref.key)
                    fb_kinds.append(ref.kind.value)
                except Exception:  # stdnum may raise other errors than ValidationError on odd input
                    fb_keys.append(None)
                    fb_kinds.append(None)
            mask = pa.array(~compact)
            keys = pc.replace_with_mask(keys, mask, pa.array(fb_keys, pa.large_string()))
            kinds = pc.replace_with_mask(kinds, mask, pa.array(fb_kinds, pa.large_string()))
        return (batch.append_column("skey", keys).append_column("kind", kinds)
                .append_column("ctrl", _control_chars(batch.column("document"))))

    def _validate_sql(self) -> str:
        """One pass: every check, and the record id and dedup key of the rows that pass."""
        src = _lit(self.source)
        src_ok = f"coalesce(k.source = {src}, false)" if self._has_source else "true"
        rid = ("substr(sha256(concat_ws(chr(31), skey, " + src + ", type, CAST(occ AS VARCHAR), "
               "CAST(dec AS VARCHAR), document, coalesce(CAST(amt AS VARCHAR), ''))), 1, 32)")
        typed = self._typed
        occ, dec = ("occurred" if "occurred" in typed else "try_cast(occurred AS DATE)",
                    "decided" if "decided" in typed else "try_cast(decided AS DATE)")
        if "amount" in typed:
            am, amt, amt_ok = "amount", "k.am", "(k.am IS NULL OR k.am >= 0)"
        else:
            am, amt = "NULLIF(trim(amount), '')", "try_cast(k.am AS DECIMAL(18, 2))"
            amt_ok = ("(k.am IS NULL OR coalesce(try_cast(k.am AS DECIMAL(38, 10)) = try_cast(k.am AS "
                      "DECIMAL(18, 2)) AND try_cast(k.am AS DECIMAL(18, 2)) >= 0, false))")
        return f"""
CREATE OR REPLACE TEMP TABLE _xy_v AS
WITH k AS (
  SELECT row, skey, kind, type, document, source, ctrl,
    {occ} AS occ, {dec} AS dec, {am} AS am
  FROM _xy_batch),
f AS (
  SELECT k.row, k.skey, k.kind, k.type, k.occ, k.dec, k.document,
    {amt} AS amt,
    k.skey IS NOT NULL AS subj_ok,
    {src_ok} AS src_ok,
    t.id IS NOT NULL AS type_ok,
    coalesce(t.allowed, true) AS allowed_ok,
    (k.skey IS NULL OR t.id IS NULL OR list_contains(t.kinds, k.kind)) AS kind_ok,
    coalesce(year(k.occ) >= 1, false) AS occ_ok,
    coalesce(year(k.dec) >= 1, false) AS dec_ok,
    coalesce(k.dec >= k.occ, true) AS order_ok,
    coalesce(k.dec <= DATE '{self.as_of.isoformat()}', true) AS asof_ok,
    coalesce(trim(k.document) <> '' AND NOT k.ctrl, false) AS doc_ok,
    {amt_ok} AS amt_ok
  FROM k LEFT JOIN _xy_types t ON t.id = k.type),
g AS (
  SELECT *, ({" AND ".join(FLAGS)}) AS ok FROM f),
h AS (
  SELECT *, CASE WHEN ok THEN {rid} END AS id FROM g)
SELECT *, CAST('0x' || substr(id, 1, 15) AS BIGINT) AS key FROM h"""

    def validate(self, batch: pa.Table, file: str) -> BatchResult:
        """Check one batch; leaves the checked rows (with ids) in ``_xy_v`` and returns the rejects."""
        batch = self._subjects(batch)
        self.con.register("_xy_batch", batch)
        try:
            self.con.execute(self._validate_sql())
        finally:
            self.con.unregister("_xy_batch")
        result = BatchResult(uuid.uuid4().hex, batch.num_rows)
        bad = self.con.execute(f"SELECT row, {', '.join(FLAGS)} FROM _xy_v WHERE NOT ok ORDER BY row"
                               ).fetchall()
        if bad:
            first = int(batch.column("row")[0].as_py())
            cols = ["row", "subject", "source", "type", "occurred", "decided", "document", "amount", "kind"]
            values = batch.select(cols).take(pa.array([r[0] - first for r in bad], pa.int64())).to_pylist()
            for r, v in zip(bad, values, strict=True):
                result.rejects.extend(self._reasons(file, {**v, **dict(zip(FLAGS, r[1:], strict=True))}))
        result.valid = batch.num_rows - len(bad)
        return result

    def _reasons(self, file: str, r: dict[str, object]) -> Iterator[RejectRow]:
        def rej(fld: str, reason: str) -> RejectRow:
            value = r.get(fld)
            return RejectRow(file, int(str(r["row"])), fld, reason, None if value is None else str(value))

        subject = r["subject"]
        if not r["subj_ok"]:
            if subject is None or not str(subject).strip():
                yield rej("subject", "missing")
            else:
                try:
                    self.schemes.parse(str(subject))
                    why = f"{subject!r} is not a valid identifier"
                except Exception as exc:
                    why = str(getattr(exc, "message", exc)) or f"{subject!r} is not a valid identifier"
                yield rej("subject", why)
        if not r["src_ok"]:
            yield rej("source", f"source {r['source']!r} differs from the source of the file ({self.source})")
        if not r["type_ok"]:
            yield rej("type", "missing" if not r["type"] else f"record type {r['type']!r} is not in the "
                      "catalogue")
        elif not r["allowed_ok"]:
            yield rej("type", f"source {self.source} may not submit records of type {r['type']!r}")
        elif not r["kind_ok"]:
            kinds = self.catalogue.record_type(str(r["type"])).subject_kinds
            yield rej("subject", f"record type {r['type']} is for {', '.join(k.value for k in kinds)} "
                      f"subjects, not {r['kind']}")
        for fld, flag in (("occurred", "occ_ok"), ("decided", "dec_ok")):
            if not r[flag]:
                yield rej(fld, "missing" if not r[fld] else f"{r[fld]!r} is not a date (YYYY-MM-DD)")
        if not r["order_ok"]:
            yield rej("decided", f"decided ({r['decided']}) is before occurred ({r['occurred']})")
        if not r["asof_ok"]:
            yield rej("decided", f"decided ({r['decided']}) is after the as-of date ({self.as_of})")
        if not r["doc_ok"]:
            yield rej("document", "missing" if not str(r["document"] or "").strip()
                      else "contains control characters")
        if not r["amt_ok"]:
            text = str(r["amount"]).strip()
            yield rej("amount", "must not be negative" if text.startswith("-") else
                      "must be a number ≥ 0 with at most 2 decimals (and 16 digits before the point)")

    # -- commit ---------------------------------------------------------------------------------------

    def commit(self, result: BatchResult, file: str, detail: dict[str, object] | None = None) -> None:
        """Store the batch's new records, subjects and keys with one audit entry, atomically."""
        con, src = self.con, _lit(self.source)
        good = "(SELECT * FROM _xy_v WHERE ok)"
        if result.valid and self._scalar(f"SELECT count(*) - count(DISTINCT key) FROM {good}"):
            # the same record twice in one batch: keep the first (a 60-bit key collision is kept apart)
            good = ("(SELECT * FROM _xy_v WHERE ok "
                    "QUALIFY row_number() OVER (PARTITION BY id ORDER BY row) = 1)")
        with self.store.transaction():
            # candidates by 60-bit key (narrow scan), confirmed on the full id
            hits = self._scalar(f"SELECT count(*) FROM record_keys WHERE key IN (SELECT key FROM {good})"
                                ) if result.valid else 0
            new_rows = good
            if hits:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _xy_new AS SELECT * FROM {good} WHERE id NOT IN "
                            "(SELECT id FROM records WHERE id IN (SELECT id FROM _xy_v WHERE key IN "
                            "(SELECT key FROM record_keys WHERE key IN (SELECT key FROM _xy_v))))")
                new_rows = "_xy_new"
            if result.valid:
                result.accepted = self._scalar(
                    "INSERT INTO records (id, subject, source, type, occurred, decided, document, amount, "
                    f"batch, received_at) SELECT id, skey, {src}, type, occ, dec, document, amt, ?, ? "
                    f"FROM {new_rows}", [result.batch, utc_now()])
            result.duplicates = result.valid - result.accepted
            if result.accepted:
                con.execute(f"INSERT INTO record_keys SELECT key FROM {new_rows}")
                # distinct first, then only the unknown ones through the primary-key index
                con.execute("INSERT INTO subjects (id, scheme, kind) SELECT n.skey, "
                            "split_part(n.skey, ':', 1), n.kind FROM (SELECT skey, any_value(kind) AS kind "
                            f"FROM {new_rows} GROUP BY skey) n ANTI JOIN subjects s ON s.id = n.skey")
            self.store.append_audit([AuditEntry(0, utc_now(), self.actor, "ingest", purpose="bulk ingest",
                                                detail={"batch": result.batch, "file": file,
                                                        "source": self.source, "rows": result.rows,
                                                        "new": result.accepted,
                                                        "duplicates": result.duplicates,
                                                        "rejected_rows": len({r.row for r in result.rejects}),
                                                        **(detail or {})})])

    def _scalar(self, sql: str, params: list[object] | None = None) -> int:
        row = self.con.execute(sql, params).fetchone()
        return int(row[0]) if row else 0
