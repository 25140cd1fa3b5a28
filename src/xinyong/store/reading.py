"""Reading a file a person hands over: where a problem is, and the file as blocks of whole lines.

Every reader (:mod:`xinyong.store.readers`, :mod:`xinyong.store.readers_csv`) reports an unreadable part
by line and byte offset (or row group) through :class:`Reading`, and never echoes the input whole
(quoted values are clipped). Text files are cut into blocks of whole lines here, with over-long lines
cut out before anything holds them in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xinyong.model.errors import InvalidInput
from xinyong.model.rows import MAX_LINE_BYTES, clip

CHUNK_BYTES = 8 * 1024 * 1024


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


# -- lines -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines (the last may lack its newline at the end of the file), none over the limit."""

    line: int
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class LongLine:
    line: int
    offset: int
    size: int


def blocks(path: Path) -> Iterator[Block | LongLine]:
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
                yield LongLine(long_at[0], long_at[1], long_size)
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
        yield LongLine(long_at[0], long_at[1], long_size)
    elif buf:
        yield from _split_long(buf, line, offset)


def _split_long(data: bytes, line: int, offset: int) -> Iterator[Block | LongLine]:
    if len(data) <= MAX_LINE_BYTES:
        yield Block(line, offset, data)
        return
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if not len(ends) or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data) - 1)
    starts = np.concatenate(([0], ends[:-1] + 1))
    long = np.flatnonzero(ends - starts > MAX_LINE_BYTES)
    if not len(long):
        yield Block(line, offset, data)
        return
    pos = 0  # index of the first line not yet yielded
    for i in long.tolist():
        if i > pos:
            yield Block(line + pos, offset + int(starts[pos]), data[starts[pos]:starts[i]])
        yield LongLine(line + i, offset + int(starts[i]), int(ends[i] - starts[i] + 1))
        pos = i + 1
    if pos < len(starts):
        yield Block(line + pos, offset + int(starts[pos]), data[starts[pos]:])


def lines(block: Block) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes without the line break) of each line of a block."""
    pos, line, data = 0, block.line, block.data
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        text = data[pos:end]
        yield line, block.offset + pos, text[:-1] if text.endswith(b"\r") else text
        pos, line = end + 1, line + 1


def bad_utf8(text: bytes) -> str | None:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{text[exc.start]:02x} at column {exc.start + 1})"
    return None


def too_long(part: LongLine) -> str:
    return f"line longer than {MAX_LINE_BYTES:,} bytes ({part.size:,} bytes)"


def first_line(exc: BaseException) -> str:
    """A reader's message without the input it quotes (first line, clipped)."""
    return clip(str(exc).strip().split("\n")[0], 200)


