"""Validation of submitted records, independent of where they will be stored.

:class:`RecordValidator` turns rows (a file's batches, or the rows of an HTTP request) into the rejects
that name what is wrong and a *checked* Arrow table (:data:`~xinyong.store.protocol.CHECKED_SCHEMA`)
that any store appends natively (:class:`~xinyong.store.protocol.BulkIngest`). The checks run in a
private in-memory DuckDB connection used as a vectorised compute engine: it never sees the store, so
the same validation serves DuckDB and PostgreSQL stores alike and holds no store lock while it runs.

A batch never becomes Python objects: subject identifiers are decided once per distinct value, with
numpy over the Arrow buffers (:func:`~xinyong.store.identifier_sql.compact_keys`, python-stdnum only for
values not in compact form); every other check (catalogue, dates, amounts, document) and the record id (the same
canonical text as ``Record.id``) is one SQL pass. Only the rejected rows come back to Python, to name
what is wrong. The formats are the row contract's (:mod:`xinyong.model.rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.model.catalogue import Catalogue
from xinyong.model.identifiers import SchemeRegistry
from xinyong.model.rows import (
    AMOUNT_DECIMALS,
    AMOUNT_INTEGER_DIGITS,
    ISO_DATE,
    NAMES,
    clip,
    not_a_date,
)
from xinyong.store.identifier_sql import FAST_SCHEMES, KIND_NAMES, NEVER_18, compact_keys
from xinyong.store.protocol import CHECKED_SCHEMA
from xinyong.store.readers import Reading, RejectRow, read_records

__all__ = ["CHECKED_SCHEMA", "RecordValidator", "RejectRow", "Validated"]

FLAGS = ("subj_ok", "src_ok", "type_ok", "allowed_ok", "kind_ok", "occ_ok", "dec_ok", "order_ok",
         "asof_ok", "doc_ok", "amt_ok")


@dataclass(slots=True)
class Validated:
    """One validated batch.

    ``valid`` counts the rows that passed every check; ``checked`` holds them once per id (the first
    row of an id repeated inside the batch), so ``valid - checked.num_rows`` rows were duplicates
    already. ``ids`` (row, id, subject of every valid row) only when asked for.
    """

    rows: int
    valid: int
    rejects: list[RejectRow]
    checked: pa.Table
    ids: pa.Table | None = None
    rejected_rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rejected_rows = len({r.row for r in self.rejects})


def _lit(text: str) -> str:
    """A SQL string literal (catalogue ids and the source are the only values spliced into SQL)."""
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


class RecordValidator:
    """Validates record rows for one source and as-of date against one catalogue."""

    def __init__(self, catalogue: Catalogue, source: str, as_of: date, schemes: SchemeRegistry) -> None:
        allowed = set(catalogue.source(source).may_submit)  # NotFound for an unknown source
        self.catalogue, self.source, self.as_of, self.schemes = catalogue, source, as_of, schemes
        names = set(schemes.names())
        self.fast = names >= FAST_SCHEMES and names - FAST_SCHEMES <= NEVER_18
        self.unreadable: list[RejectRow] = []
        self._con = duckdb.connect(":memory:")
        self._con.execute("CREATE TABLE _xy_types (id VARCHAR, allowed BOOLEAN, kinds VARCHAR[])")
        self._con.executemany("INSERT INTO _xy_types VALUES (?, ?, ?)",
                              [(rt.id, rt.id in allowed, [k.value for k in rt.subject_kinds])
                               for rt in catalogue.record_types])

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> RecordValidator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- input ---------------------------------------------------------------------------------------

    def read(self, path: Path, batch_rows: int, *, on_error: str = "skip") -> Iterator[pa.Table]:
        """The file as batches (text columns, typed Parquet dates and amounts, ``row`` from 1).

        Parts that cannot be read are appended to :attr:`unreadable` as they are met (``skip``), or
        raise :class:`~xinyong.model.errors.InvalidInput` naming the place (``stop``); so does a file
        that cannot be read at all, or whose columns break the row contract.
        """
        reading = Reading(path, batch_rows, on_error)
        reading.unreadable = self.unreadable
        cur = self._con.cursor()
        try:
            yield from read_records(cur, reading)
        finally:
            cur.close()

    def take_unreadable(self) -> list[RejectRow]:
        """The unreadable parts met since the last call."""
        out, self.unreadable[:] = list(self.unreadable), []
        return out

    @staticmethod
    def table_from_rows(rows: Sequence[Mapping[str, str | None]]) -> pa.Table:
        """Rows already in memory (the HTTP API) as one batch shaped like those :meth:`read` yields."""
        table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in NAMES})
        return table.append_column("row", pa.array(np.arange(1, len(rows) + 1, dtype=np.int64)))

    # -- validation ------------------------------------------------------------------------------------

    def validate(self, batch: pa.Table, file: str, *, with_ids: bool = False) -> Validated:
        """Check one batch: the rejects (in row order), and the valid rows as a checked table (unique by
        id; in no particular order, as a store needs none)."""
        staged = self._subjects(batch)
        con = self._con
        con.register("_xy_batch", staged)
        try:
            full = con.sql(self._validate_sql(staged)).to_arrow_table()
        finally:
            con.unregister("_xy_batch")
        ok = pc.fill_null(full.column("ok"), False)
        valid = int(pc.sum(ok).as_py() or 0)
        rejects: list[RejectRow] = []
        good = full
        if valid < full.num_rows:
            good = full.filter(ok)
            bad = full.filter(pc.invert(ok)).select(["row", *FLAGS]).sort_by("row")
            where = np.searchsorted(batch.column("row").to_numpy(), bad.column("row").to_numpy())
            values = staged.select(["row", *NAMES, "kind"]).take(pa.array(where, pa.int64())).to_pylist()
            for v, flags in zip(values, bad.select(list(FLAGS)).to_pylist(), strict=True):
                rejects.extend(self._reasons(file, {**v, **flags}))
        ids = (good.select(["row", "id", "skey"]).rename_columns(["row", "id", "subject"]).sort_by("row")
               if with_ids else None)
        if valid and pc.count_distinct(good.column("id")).as_py() != valid:
            # the same record twice in one batch: keep the first
            con.register("_xy_good", good)
            try:
                good = con.sql("SELECT * FROM _xy_good QUALIFY row_number() OVER (PARTITION BY id ORDER BY row) "
                               "= 1 ORDER BY row").to_arrow_table()
            finally:
                con.unregister("_xy_good")
        checked = good.select(["row", "id", "skey", "scheme", "kind", "type", "occ", "dec", "document",
                               "amt"]).rename_columns(CHECKED_SCHEMA.names)
        return Validated(batch.num_rows, valid, rejects, checked.cast(CHECKED_SCHEMA), ids)

    def _subjects(self, batch: pa.Table) -> pa.Table:
        """``batch`` with ``skey`` (canonical key or null), ``kind``, ``scheme`` and ``ctrl`` for every row.

        Each distinct subject text is decided once (a batch names each subject about ten times): compact
        values with numpy over the Arrow buffers, the rest (other forms, other schemes) with the
        registry (python-stdnum); the answers are then spread back to the rows by dictionary index.
        """
        encoded = pc.dictionary_encode(batch.column("subject").combine_chunks())
        values, index = encoded.dictionary, encoded.indices
        n = len(values)
        if self.fast:
            compact, keys, kind_codes = compact_keys(values)
        else:
            compact = np.zeros(n, dtype=np.bool_)
            keys = pa.nulls(n, pa.large_string())
            kind_codes = np.zeros(n, dtype=np.int8)
        names = pa.array(KIND_NAMES, pa.string())
        kinds = names.take(pa.array(kind_codes - 1, pa.int8(), mask=kind_codes == 0))
        other = np.flatnonzero(~compact)
        if len(other):
            fb_keys: list[str | None] = []
            fb_kinds: list[str | None] = []
            for text in values.take(pa.array(other)).to_pylist():
                try:
                    ref = self.schemes.parse(text or "")
                    fb_keys.append(ref.key)
                    fb_kinds.append(ref.kind.value)
                except Exception:  # stdnum may raise other errors than ValidationError on odd input
                    fb_keys.append(None)
                    fb_kinds.append(None)
            mask = pa.array(~compact)
            keys = pc.replace_with_mask(keys, mask, pa.array(fb_keys, pa.large_string()))
            kinds = pc.replace_with_mask(kinds, mask, pa.array(fb_kinds, pa.string()))
        keys = keys.cast(pa.string())
        schemes = pc.list_element(pc.split_pattern(keys, ":", max_splits=1), 0)
        return (batch.append_column("skey", keys.take(index)).append_column("kind", kinds.take(index))
                .append_column("scheme", schemes.take(index))
                .append_column("ctrl", _control_chars(batch.column("document"))))

    def _validate_sql(self, batch: pa.Table) -> str:
        """One pass: every check, and the record id of the rows that pass."""
        src = _lit(self.source)
        rid = ("substr(sha256(concat_ws(chr(31), skey, " + src + ", type, CAST(occ AS VARCHAR), "
               "CAST(dec AS VARCHAR), document, coalesce(CAST(amt AS VARCHAR), ''))), 1, 32)")

        def day(c: str) -> str:
            if pa.types.is_date(batch.schema.field(c).type):
                return c
            return f"CASE WHEN regexp_full_match({c}, '{ISO_DATE}') THEN try_cast({c} AS DATE) END"

        whole = AMOUNT_DECIMALS + AMOUNT_INTEGER_DIGITS
        if pa.types.is_decimal(batch.schema.field("amount").type):
            am, amt, amt_ok = "amount", "k.am", "(k.am IS NULL OR k.am >= 0)"
        else:
            am, amt = "NULLIF(trim(amount), '')", f"try_cast(k.am AS DECIMAL({whole}, {AMOUNT_DECIMALS}))"
            amt_ok = (f"(k.am IS NULL OR coalesce(try_cast(k.am AS DECIMAL(38, 10)) = {amt} "
                      f"AND {amt} >= 0, false))")
        return f"""
WITH k AS (
  SELECT row, skey, kind, scheme, type, document, NULLIF(trim(source), '') AS source, ctrl,
    {day("occurred")} AS occ, {day("decided")} AS dec, {am} AS am
  FROM _xy_batch),
f AS (
  SELECT k.row, k.skey, k.kind, k.scheme, k.type, k.occ, k.dec, k.document,
    {amt} AS amt,
    k.skey IS NOT NULL AS subj_ok,
    coalesce(k.source = {src}, true) AS src_ok,
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
  SELECT *, ({" AND ".join(FLAGS)}) AS ok FROM f)
SELECT *, CASE WHEN ok THEN {rid} END AS id FROM g"""

    def _reasons(self, file: str, r: dict[str, object]) -> Iterator[RejectRow]:
        def shown(fld: str) -> str:
            return clip(str(r[fld]))

        def rej(fld: str, reason: str) -> RejectRow:
            value = r.get(fld)
            return RejectRow(file, int(str(r["row"])), fld, reason, None if value is None else clip(str(value)))

        subject = r["subject"]
        if not r["subj_ok"]:
            if subject is None or not str(subject).strip():
                yield rej("subject", "missing")
            else:
                try:
                    self.schemes.parse(str(subject))
                    why = f"{shown('subject')!r} is not a valid identifier"
                except Exception as exc:
                    why = clip(str(getattr(exc, "message", exc)), 160) or \
                        f"{shown('subject')!r} is not a valid identifier"
                yield rej("subject", why)
        if not r["src_ok"]:
            yield rej("source", f"source {shown('source')!r} differs from the source of the file ({self.source})")
        if not r["type_ok"]:
            yield rej("type", "missing" if not r["type"] else f"record type {shown('type')!r} is not in the "
                      "catalogue")
        elif not r["allowed_ok"]:
            yield rej("type", f"source {self.source} may not submit records of type {shown('type')!r}")
        elif not r["kind_ok"]:
            kinds = self.catalogue.record_type(str(r["type"])).subject_kinds
            yield rej("subject", f"record type {r['type']} is for {', '.join(k.value for k in kinds)} "
                      f"subjects, not {r['kind']}")
        for fld, flag in (("occurred", "occ_ok"), ("decided", "dec_ok")):
            if not r[flag]:
                yield rej(fld, "missing" if not r[fld] else not_a_date(str(r[fld])))
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
