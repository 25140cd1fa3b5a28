"""Record files read into Arrow batches: CSV, JSON Lines and Parquet, whatever bytes they hold.

A file a person hands to ``xinyong ingest`` may be anything: another encoding, a 10 MB line, a broken
JSON line, a truncated Parquet file, a directory. Every one of those ends here as either rows plus
*unreadable parts* (each named by line and byte offset, or by row group) or one :class:`InvalidInput`
naming the file and the place; never a reader's traceback and never the input echoed back (quoted
values are clipped).

- CSV: bytes checked here first (UTF-8, line length), a block at a time: DuckDB's sniffer fails on such
  files as a whole and quotes the offending line in full. The header is parsed here (no sniffing); bad
  lines are cut out of a temporary copy; column-count and quoting problems come from DuckDB's
  ``store_rejects`` in a first counting scan, so every row keeps its number in the file.
- JSON Lines: a line splitter and ``json.loads`` per line: one bad line is one reject with its line
  number (as the HTTP NDJSON endpoint does), not a refused file.
- Parquet: pyarrow, a row group at a time, so a corrupt row group is named and the others are read.

Batches hold the contract's columns (:mod:`xinyong.model.rows`) as text, except typed Parquet DATE and
small DECIMAL columns, which stay typed; plus ``row``, the 1-based data row (the line, for JSON Lines).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xinyong.model.errors import InvalidInput
from xinyong.model.rows import MAX_LINE_BYTES, NAMES, cell_text, clip, column_problems, json_kind

CHUNK_BYTES = 8 * 1024 * 1024
_MIN_DAY, _MAX_DAY = -719162, 2932896  # 0001-01-01 and 9999-12-31 as days since 1970-01-01
ON_ERROR = ("skip", "stop")


@dataclass(frozen=True, slots=True)
class RejectRow:
    """One problem with one data row (1-based) of a file, or with a part that could not be read."""

    file: str
    row: int
    field: str
    reason: str
    value: str | None


@dataclass(slots=True)
class Reading:
    """One file being read: where it is, what to do on an unreadable part, what could not be read."""

    path: Path
    batch_rows: int
    on_error: str = "skip"
    unreadable: list[RejectRow] = field(default_factory=list)

    @property
    def file(self) -> str:
        return str(self.path)

    def refuse(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.path}: {message}")

    def bad_part(self, row: int, place: str, reason: str, value: str | None = None,
                 fld: str = "row") -> None:
        """Record an unreadable part (or raise in ``stop`` mode)."""
        if self.on_error == "stop":
            raise self.refuse(f"{place}: {reason}")
        self.unreadable.append(RejectRow(self.file, row, fld, f"{place}: {reason}",
                                         None if value is None else clip(value)))


def check_openable(path: Path) -> None:
    """Refuse a missing file, a directory or one we may not read, with one line saying which."""
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InvalidInput(f"{path}: permission denied") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None


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
        yield from _regroup(_read_csv(con, reading), reading.batch_rows)
    elif suffix == ".parquet":
        yield from _regroup(_read_parquet(reading), reading.batch_rows)
    else:
        yield from _read_jsonl(reading)


# -- lines -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """Whole lines (the last may lack its newline at the end of the file), none over the limit."""

    line: int
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class _LongLine:
    line: int
    offset: int
    size: int


def _blocks(path: Path) -> Iterator[_Block | _LongLine]:
    """The file as blocks of whole lines, with over-long lines cut out (never held in memory)."""
    line, offset, buf = 1, 0, b""
    long_at: tuple[int, int] | None = None
    long_size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            if long_at is not None:
                nl = chunk.find(b"\n")
                if nl < 0:
                    long_size += len(chunk)
                    continue
                long_size += nl + 1
                yield _LongLine(long_at[0], long_at[1], long_size)
                line, offset, long_at = long_at[0] + 1, long_at[1] + long_size, None
                chunk = chunk[nl + 1:]
            buf += chunk
            cut = buf.rfind(b"\n") + 1
            if cut:
                whole, buf = buf[:cut], buf[cut:]
                yield from _split_long(whole, line, offset)
                line, offset = line + whole.count(b"\n"), offset + cut
            if len(buf) > MAX_LINE_BYTES:
                long_at, long_size, buf = (line, offset), len(buf), b""
    if long_at is not None:
        yield _LongLine(long_at[0], long_at[1], long_size)
    elif buf:
        yield from _split_long(buf, line, offset)


def _split_long(data: bytes, line: int, offset: int) -> Iterator[_Block | _LongLine]:
    if len(data) <= MAX_LINE_BYTES:
        yield _Block(line, offset, data)
        return
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if not len(ends) or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data) - 1)
    starts = np.concatenate(([0], ends[:-1] + 1))
    long = np.flatnonzero(ends - starts > MAX_LINE_BYTES)
    if not len(long):
        yield _Block(line, offset, data)
        return
    pos = 0  # index of the first line not yet yielded
    for i in long.tolist():
        if i > pos:
            yield _Block(line + pos, offset + int(starts[pos]), data[starts[pos]:starts[i]])
        yield _LongLine(line + i, offset + int(starts[i]), int(ends[i] - starts[i] + 1))
        pos = i + 1
    if pos < len(starts):
        yield _Block(line + pos, offset + int(starts[pos]), data[starts[pos]:])


def _lines(block: _Block) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes without the line break) of each line of a block."""
    pos, line, data = 0, block.line, block.data
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        text = data[pos:end]
        yield line, block.offset + pos, text[:-1] if text.endswith(b"\r") else text
        pos, line = end + 1, line + 1


def _bad_utf8(text: bytes) -> str | None:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{text[exc.start]:02x} at column {exc.start + 1})"
    return None


def _too_long(part: _LongLine) -> str:
    return f"line longer than {MAX_LINE_BYTES:,} bytes ({part.size:,} bytes)"


# -- CSV -------------------------------------------------------------------------------------------------


def _read_csv(con: duckdb.DuckDBPyConnection, reading: Reading) -> Iterator[pa.Table]:
    header: list[str] | None = None
    bad_lines: list[int] = []
    for part in _blocks(reading.path):
        if isinstance(part, _LongLine):
            if part.line == 1:
                raise reading.refuse(f"line 1 (the header): {_too_long(part)}")
            reading.bad_part(part.line - 1, f"line {part.line} (byte {part.offset})", _too_long(part))
            bad_lines.append(part.line)
            continue
        if header is None:
            _, _, text = next(_lines(part))
            why = _bad_utf8(text)
            if why:
                raise reading.refuse(f"line 1 (the header): {why}")
            header = _parse_header(reading, text)
        if not _bad_utf8(part.data):
            continue
        for n, o, text in _lines(part):
            why = _bad_utf8(text) if n > 1 else None
            if why:
                reading.bad_part(n - 1, f"line {n} (byte {o})", why, text.decode("utf-8", "replace"))
                bad_lines.append(n)
    if not header:
        raise reading.refuse("empty file (no header line)")
    source = reading.path
    cleaned: Path | None = None
    try:
        if bad_lines:
            cleaned = _without_lines(reading.path, set(bad_lines))
            source = cleaned
        yield from _scan_csv(con, reading, source, header, np.array(bad_lines, dtype=np.int64) - 1)
    finally:
        if cleaned is not None:
            cleaned.unlink(missing_ok=True)


def _parse_header(reading: Reading, text: bytes) -> list[str]:
    try:
        names = next(csv.reader([text.decode("utf-8").removeprefix("\ufeff")]), [])
    except csv.Error as exc:
        raise reading.refuse(f"line 1 (the header): {exc}") from None
    names = [n.strip() for n in names]
    if not any(names):
        raise reading.refuse("empty header line")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise reading.refuse(f"duplicate column(s) {', '.join(clip(d) for d in dup)}")
    problems = column_problems(names)
    if problems:
        raise reading.refuse("; ".join(problems))
    return names


def _without_lines(path: Path, bad: set[int]) -> Path:
    """A copy of ``path`` without the given lines (1-based), to hand to DuckDB's reader."""
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="xinyong-")
    with os.fdopen(fd, "wb") as out:
        for part in _blocks(path):
            if isinstance(part, _LongLine):
                continue
            last = part.line + part.data.count(b"\n")
            if not any(part.line <= b <= last for b in bad):
                out.write(part.data)
                continue
            pos, line = 0, part.line
            while pos < len(part.data):
                nl = part.data.find(b"\n", pos)
                end = len(part.data) if nl < 0 else nl + 1
                if line not in bad:
                    out.write(part.data[pos:end])
                pos, line = end, line + 1
    return Path(name)


def _scan_csv(con: duckdb.DuckDBPyConnection, reading: Reading, path: Path, header: list[str],
              dropped: npt.NDArray[np.int64]) -> Iterator[pa.Table]:
    """DuckDB's reader over a file whose bytes are clean; ``dropped`` are data rows already cut out."""
    cols = "{" + ", ".join(f"'{_sql(c)}': 'VARCHAR'" for c in header) + "}"
    scan = (f"read_csv('{_sql(str(path))}', auto_detect = false, header = true, columns = {cols}, "
            f"delim = ',', quote = '\"', escape = '\"', max_line_size = {MAX_LINE_BYTES + 2}, "
            "store_rejects = true, rejects_table = '_xy_rej', rejects_scan = '_xy_rej_scan')")
    sel = ", ".join(f'"{_sql(c, chr(34))}" AS {c}' if c in header else f"NULL::VARCHAR AS {c}"
                    for c in NAMES)
    try:
        _drop_rejects(con)
        con.execute(f"SELECT count(*) FILTER (WHERE {' AND '.join(f'{c} IS NULL' for c in NAMES)}) "
                    f"FROM (SELECT {sel} FROM {scan})").fetchall()
        structural = con.execute("SELECT line, line_byte_position, error_type, column_name, csv_line, "
                                 "error_message FROM _xy_rej QUALIFY row_number() OVER (PARTITION BY line "
                                 "ORDER BY byte_position) = 1 ORDER BY line").fetchall()
        rows_out = np.array(sorted({int(r[0]) - 1 for r in structural}), dtype=np.int64)
        for line, byte, kind, column, text, message in structural:
            row = int(_file_rows(np.array([line - 1]), dropped)[0])
            where = f"row {row}" + (f" (byte {byte})" if byte is not None and not len(dropped) else "")
            reading.bad_part(row, where, clip(f"{str(kind).lower()}: {message}".split("\n")[0], 160),
                             text, fld=column or "row")
        _drop_rejects(con)
    except duckdb.Error as exc:
        raise reading.refuse(f"cannot be read as CSV: {_first_line(exc)}") from None
    stream = con.cursor()  # the rows stream on their own connection, the rejects tables stay on ``con``
    try:
        first = 1
        reader = stream.sql(f"SELECT {sel} FROM {scan}").to_arrow_reader(reading.batch_rows)
        for rb in reader:
            table = pa.Table.from_batches([rb])
            ordinal = np.arange(first, first + table.num_rows, dtype=np.int64)
            first += table.num_rows
            rows = _file_rows(_file_rows(ordinal, rows_out), dropped)
            yield table.append_column("row", pa.array(rows))
    except duckdb.Error as exc:
        raise reading.refuse(f"cannot be read as CSV: {_first_line(exc)}") from None
    finally:
        stream.close()


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS _xy_rej; DROP TABLE IF EXISTS _xy_rej_scan")


def _file_rows(ordinal: npt.NDArray[np.int64], removed: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Map 1-based ordinals among the rows left to row numbers of the whole (``removed`` sorted)."""
    if not len(removed):
        return ordinal
    gaps = removed - np.arange(len(removed), dtype=np.int64)
    return ordinal + np.searchsorted(gaps, ordinal, side="right")


def _sql(text: str, quote: str = "'") -> str:
    return text.replace(quote, quote + quote)


def _first_line(exc: BaseException) -> str:
    """A reader's message without the input it quotes (first line, clipped)."""
    return clip(str(exc).strip().split("\n")[0], 200)


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
            values.append(cell_text(obj.get(c)))
        return True

    def table(self) -> pa.Table:
        cols = {c: pa.array(v, pa.string()) for c, v in self.columns.items()}
        return pa.table({**cols, "row": pa.array(self.rows, pa.int64())})


def _json_objects(reading: Reading, *, report: bool) -> Iterator[tuple[int, dict[str, object]]]:
    """(line, object) for every line that holds a JSON object; other lines are unreadable parts."""
    def bad(line: int, offset: int, why: str, text: str | None = None) -> None:
        if report:
            reading.bad_part(line, f"line {line} (byte {offset})", why, text)

    for part in _blocks(reading.path):
        if isinstance(part, _LongLine):
            bad(part.line, part.offset, _too_long(part))
            continue
        for line, offset, raw in _lines(part):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                bad(line, offset, _bad_utf8(raw) or "invalid UTF-8", raw.decode("utf-8", "replace"))
                continue
            if line == 1:
                text = text.removeprefix("\ufeff")
            try:
                obj = json.loads(text, parse_float=str, parse_int=str)
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
        raise reading.refuse(f"not a readable Parquet file ({_first_line(exc)})") from None
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
            reading.bad_part(first, place, f"cannot be read ({_first_line(exc)})")
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
