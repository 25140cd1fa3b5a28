"""Record files read into Arrow batches: CSV, JSON Lines and Parquet, whatever bytes they hold.

A file a person hands to ``xinyong ingest`` may be anything: another encoding, a 10 MB line, a broken
JSON line, a truncated Parquet file, a directory. Every one of those ends here as either rows plus
*unreadable parts* (each named by line and byte offset, or by row group) or one :class:`InvalidInput`
naming the file and the place; never a reader's traceback and never the input echoed back (quoted
values are clipped).

- CSV (:mod:`xinyong.store.readers_csv`): bytes checked first, then DuckDB's reader with its rejects,
  so every row keeps its number in the file.
- JSON Lines: a line splitter and ``json.loads`` per line: one bad line is one reject with its line
  number (as the HTTP NDJSON endpoint does), not a refused file.
- Parquet: pyarrow, a row group at a time, so a corrupt row group is named and the others are read.

Batches hold the contract's columns (:mod:`xinyong.model.rows`) as text, except typed Parquet DATE and
small DECIMAL columns, which stay typed; plus ``row``, the 1-based data row (the line, for JSON Lines).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xinyong.model.errors import InvalidInput
from xinyong.model.rows import NAMES, cell_text, column_problems, json_kind
from xinyong.store.readers_csv import read_csv
from xinyong.store.reading import (
    Block,
    LongLine,
    Reading,
    RejectRow,
    bad_utf8,
    blocks,
    check_openable,
    first_line,
    lines,
    too_long,
)

__all__ = ["Reading", "RejectRow", "read_records"]
_MIN_DAY, _MAX_DAY = -719162, 2932896  # 0001-01-01 and 9999-12-31 as days since 1970-01-01
ON_ERROR = ("skip", "stop")


def read_records(con: duckdb.DuckDBPyConnection, reading: Reading) -> Iterator[pa.Table]:
    """The file as batches of about ``batch_rows`` rows (see the module docstring)."""
    if reading.on_error not in ON_ERROR:
        raise InvalidInput(f"on_error must be one of {', '.join(ON_ERROR)}", field="on_error")
    path = reading.path
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json", ".parquet"):
        raise reading.refuse(f"unknown file type {suffix!r} (csv, jsonl, parquet)")
    check_openable(path)
    if suffix == ".csv":
        yield from _regroup(read_csv(con, reading), reading.batch_rows)
    elif suffix == ".parquet":
        yield from _regroup(_read_parquet(reading), reading.batch_rows)
    else:
        yield from _read_jsonl(reading)


# -- JSON Lines ------------------------------------------------------------------------------------------


def _read_jsonl(reading: Reading) -> Iterator[pa.Table]:
    """Two passes when the file is bigger than one batch: the keys are checked before any row is kept."""
    keys: set[str] = set()
    first = _JsonBatcher(reading.batch_rows)
    complete = True
    for item in _json_objects(reading, report=True):
        keys.update(item[1])
        if complete and not first.add(*item):
            complete = False
    problems = column_problems(sorted(keys)) if keys else []
    unknown = [p for p in problems if "unknown column" in p]
    if unknown:
        raise reading.refuse("; ".join(unknown))
    if complete:
        if first.rows:
            yield first.table()
        return
    batcher = _JsonBatcher(reading.batch_rows)
    for item in _json_objects(reading, report=False):
        if not batcher.add(*item):
            yield batcher.table()
            batcher = _JsonBatcher(reading.batch_rows)
            batcher.add(*item)
    if batcher.rows:
        yield batcher.table()


class _JsonBatcher:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: list[int] = []
        self.columns: dict[str, list[str | None]] = {c: [] for c in NAMES}

    def add(self, line: int, obj: dict[str, object]) -> bool:
        """Add a row; False (and nothing added) when the batch is full."""
        if len(self.rows) >= self.limit:
            return False
        self.rows.append(line)
        for c, values in self.columns.items():
            v = obj.get(c)
            values.append(v if v is None or type(v) is str else cell_text(v))
        return True

    def table(self) -> pa.Table:
        cols = {c: pa.array(v, pa.string()) for c, v in self.columns.items()}
        return pa.table({**cols, "row": pa.array(self.rows, pa.int64())})


_DECODER = json.JSONDecoder(parse_float=str, parse_int=str)  # json.loads with keywords builds one per call
_ASCII_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() strips: a line of other blanks is not blank


def _loads(text: str) -> object:
    """``json.loads(text, parse_float=str, parse_int=str)`` (which refuses a byte-order mark; the
    decoder alone would only say "Expecting value")."""
    return json.loads(text, parse_float=str, parse_int=str) if text[:1] == "\ufeff" else _DECODER.decode(text)


def _text_lines(part: Block) -> Iterator[tuple[int, int, str | bytes]]:
    """(line, byte offset, text) of each line of a block, without its line break. A block that is valid
    UTF-8 (nearly all) is decoded once and split, the byte offsets taken from its newlines; in any other
    block each line stays bytes, to be decoded (and refused) on its own."""
    try:
        whole = part.data.decode("utf-8")
    except UnicodeDecodeError:
        yield from lines(part)
        return
    # a newline is one byte in UTF-8 and never inside a character: line i of the text is line i of the bytes
    starts = np.flatnonzero(np.frombuffer(part.data, dtype=np.uint8) == 10) + 1
    texts = whole.split("\n")
    if part.data.endswith(b"\n"):
        texts.pop()
    for i, text in enumerate(texts):
        yield part.line + i, part.offset + (int(starts[i - 1]) if i else 0), \
            text[:-1] if text.endswith("\r") else text


def _json_objects(reading: Reading, *, report: bool) -> Iterator[tuple[int, dict[str, object]]]:
    """(line, object) for every line that holds a JSON object; other lines are unreadable parts."""
    def bad(line: int, offset: int, why: str, text: str | None = None) -> None:
        if report:
            reading.bad_part(line, f"line {line} (byte {offset})", why, text)

    for part in blocks(reading.path):
        if isinstance(part, LongLine):
            bad(part.line, part.offset, too_long(part))
            continue
        for line, offset, raw in _text_lines(part):
            if isinstance(raw, str):
                if not raw.strip(_ASCII_SPACE):
                    continue
                text = raw
            else:
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    bad(line, offset, bad_utf8(raw) or "invalid UTF-8", raw.decode("utf-8", "replace"))
                    continue
            if line == 1:
                text = text.removeprefix("\ufeff")
            try:
                obj = _loads(text)
            except (ValueError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
                col = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
                bad(line, offset, f"not valid JSON ({msg}{col})", text)
                continue
            if "\\u" in text and not _unicode(obj):
                bad(line, offset, "not valid Unicode (a lone surrogate escape)", text)
                continue
            if not isinstance(obj, dict):
                try:  # numbers were kept as text: parse them as JSON says
                    kind = json_kind(json.loads(text))
                except ValueError:  # an integer too long for Python's int
                    kind = "a number"
                bad(line, offset, f"must be a JSON object with the record's fields, not {kind}", text)
                continue
            yield line, obj


def _unicode(value: object) -> bool:
    """Whether a parsed JSON value encodes as UTF-8 (``\\ud800`` escapes parse to lone surrogates)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- Parquet ---------------------------------------------------------------------------------------------


def _read_parquet(reading: Reading) -> Iterator[pa.Table]:
    try:
        pf = pq.ParquetFile(reading.path)
        meta = pf.metadata
        names = list(pf.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise reading.refuse(f"not a readable Parquet file ({first_line(exc)})") from None
    problems = column_problems(names)
    if problems:
        raise reading.refuse("; ".join(problems))
    wanted = [c for c in NAMES if c in names]
    first = 1
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        place = f"row group {g} (rows {first}-{first + n - 1})"
        try:
            table = pf.read_row_group(g, columns=wanted)
            table = _typed_columns(reading, table)
        except (pa.ArrowException, OSError, ValueError) as exc:
            reading.bad_part(first, place, f"cannot be read ({first_line(exc)})")
        else:
            yield table.append_column("row", pa.array(np.arange(first, first + n, dtype=np.int64)))
        first += n


def _typed_columns(reading: Reading, table: pa.Table) -> pa.Table:
    """The contract's columns: DATE and DECIMAL(≤18, ≤2) stay typed, everything else becomes text."""
    out: dict[str, pa.ChunkedArray | pa.Array] = {}
    for c in NAMES:
        if c not in table.column_names:
            out[c] = pa.nulls(table.num_rows, pa.string())
            continue
        col = table.column(c)
        t = col.type
        if pa.types.is_dictionary(t):
            col = col.cast(t.value_type)
            t = col.type
        if c in ("occurred", "decided") and (pa.types.is_date32(t) or pa.types.is_date64(t)):
            days = col.cast(pa.date32())
            lo, hi = pc.min_max(days.cast(pa.int32())).values()
            # days outside years 1-9999 (a corrupt or odd writer) become text, refused as not a date
            out[c] = days if lo.as_py() is None or (lo.as_py() >= _MIN_DAY and hi.as_py() <= _MAX_DAY) \
                else pc.cast(days, pa.string())
        elif c == "amount" and pa.types.is_decimal(t) and t.scale <= 2 and t.precision - t.scale <= 16:
            out[c] = col.cast(pa.decimal128(18, 2))
        elif pa.types.is_string(t):
            out[c] = col
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            out[c] = col.cast(pa.string())
        else:
            try:
                out[c] = pc.cast(col, pa.string())
            except pa.ArrowException:
                raise reading.refuse(f"column {c} has type {t}; expected text"
                                     + (" or DATE" if c in ("occurred", "decided") else "")) from None
    table = pa.table(out)
    table.validate(full=True)  # string bytes are not checked on read: invalid UTF-8 makes the group unreadable
    return table


def _regroup(tables: Iterator[pa.Table], batch_rows: int) -> Iterator[pa.Table]:
    """Readers hand out chunks of their own size (row groups, vectors): regroup to ``batch_rows``."""
    pending: list[pa.Table] = []
    size = 0
    for t in tables:
        pending.append(t)
        size += t.num_rows
        if size >= batch_rows:
            yield _concat(pending)
            pending, size = [], 0
    if size:
        yield _concat(pending)


def _concat(tables: list[pa.Table]) -> pa.Table:
    """One table; a column typed in one chunk and text in another (odd dates) becomes text in all."""
    if len(tables) == 1:
        return tables[0]
    mixed = {f.name for t in tables[1:] for f in t.schema if f.type != tables[0].schema.field(f.name).type}
    if mixed:
        tables = [pa.table({n: pc.cast(t.column(n), pa.string()) if n in mixed else t.column(n)
                            for n in t.column_names}) for t in tables]
    return pa.concat_tables(tables)
