"""CSV record files read into Arrow batches, every row keeping its number in the file.

Bytes are checked first, a block at a time (UTF-8, line length): DuckDB's sniffer fails on such files as
a whole and quotes the offending line in full. The header is parsed here (no sniffing); bad lines are
cut out of a temporary copy; column-count and quoting problems come from DuckDB's ``store_rejects`` in a
first counting scan, so that the rows of the second, streaming scan are numbered as in the file.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from xinyong.model.rows import MAX_LINE_BYTES, NAMES, clip, column_problems
from xinyong.store.reading import LongLine, Reading, bad_utf8, blocks, first_line, lines, too_long


def read_csv(con: duckdb.DuckDBPyConnection, reading: Reading) -> Iterator[pa.Table]:
    """The file's rows as Arrow tables (text columns, ``row`` = the data row in the file, from 1)."""
    header: list[str] | None = None
    bad_lines: list[int] = []
    for part in blocks(reading.path):
        if isinstance(part, LongLine):
            if part.line == 1:
                raise reading.refuse(f"line 1 (the header): {too_long(part)}")
            reading.bad_part(part.line - 1, f"line {part.line} (byte {part.offset})", too_long(part))
            bad_lines.append(part.line)
            continue
        if header is None:
            _, _, text = next(lines(part))
            why = bad_utf8(text)
            if why:
                raise reading.refuse(f"line 1 (the header): {why}")
            header = _parse_header(reading, text)
        if not bad_utf8(part.data):
            continue
        for n, o, text in lines(part):
            why = bad_utf8(text) if n > 1 else None
            if why:
                reading.bad_part(n - 1, f"line {n} (byte {o})", why, text.decode("utf-8", "replace"))
                bad_lines.append(n)
    if not header:
        raise reading.refuse("empty file (no header line)")
    source = reading.path
    cleaned: Path | None = None
    try:
        if bad_lines:
            cleaned = _withoutlines(reading.path, set(bad_lines))
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


def _withoutlines(path: Path, bad: set[int]) -> Path:
    """A copy of ``path`` without the given lines (1-based), to hand to DuckDB's reader."""
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="xinyong-")
    with os.fdopen(fd, "wb") as out:
        for part in blocks(path):
            if isinstance(part, LongLine):
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
        raise reading.refuse(f"cannot be read as CSV: {first_line(exc)}") from None
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
        raise reading.refuse(f"cannot be read as CSV: {first_line(exc)}") from None
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
