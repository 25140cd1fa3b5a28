"""Bulk ingest of record files from an agency: CSV, JSON Lines and Parquet.

Columns are the row contract's (:mod:`xinyong.model.rows`): ``subject, type, occurred, decided,
document`` and optionally ``amount`` and ``source`` (which, when given, must equal the source the file is
submitted as). A column the contract does not know refuses the file before anything is stored (with the
closest known name), so a misspelled ``amount`` is never silently dropped.

Files are streamed in batches, validated by :class:`~xinyong.store.validation.RecordValidator` (its own
compute engine, never the store's connection) and appended through the store's
:class:`~xinyong.store.protocol.BulkIngest` capability, one transaction per batch with its audit entry.
Bad rows, and parts of the file that cannot be read at all (bad bytes, over-long lines, broken JSON
lines, corrupt Parquet row groups), are written to ``<file>.rejects.csv`` (file, row, field, reason,
value) next to ``<file>.summary.json``; good rows are still stored (``on_error="skip"``, the default), or
the first problem stops the file with :class:`~xinyong.model.errors.InvalidInput` (``"stop"``; batches
already committed stay committed, and re-running adds only the rest: ids are content hashes).
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import InvalidInput, StoreError
from xinyong.model.identifiers import SchemeRegistry
from xinyong.store.protocol import BulkIngest, Store
from xinyong.store.validation import RecordValidator, RejectRow

DEFAULT_BATCH_ROWS = 1_000_000
MAX_REJECTS_KEPT = 10_000  # in the returned summary; the rejects file has them all
ON_ERROR = ("skip", "stop")


@dataclass(frozen=True, slots=True)
class Progress:
    """Reported after each committed batch."""

    file: str
    rows_read: int
    accepted: int
    duplicates: int
    rejected: int


@dataclass(slots=True)
class FileSummary:
    file: str
    rows_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    rejects_file: str | None = None


@dataclass(slots=True)
class IngestSummary:
    """What an ingest did. ``rejected`` counts rows (a row may have several problems in ``rejects``; an
    unreadable part of a file counts as one); ``subjects`` are those with new records, to re-assess."""

    source: str
    as_of: date
    files: list[FileSummary] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects: list[RejectRow] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["rows_per_second"] = round(self.rows_per_second)
        d["rejects"] = d["rejects"][:100]
        d["subjects"] = len(self.subjects)
        return d


def bulk_ingest(store: Store) -> BulkIngest:
    """The store's bulk-ingest capability (every shipped backend has one)."""
    if not isinstance(store, BulkIngest):
        raise StoreError(f"the {store.dialect} store cannot ingest checked batches")
    return store


def ingest_files(
    store: Store,
    paths: Sequence[Path],
    source: str,
    catalogue: Catalogue,
    schemes: SchemeRegistry,
    as_of: date,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "ingest",
    write_reports: bool = True,
    on_error: str = "skip",
) -> IngestSummary:
    """Ingest files as records from ``source``; idempotent (re-running adds nothing).

    Raises :class:`~xinyong.model.errors.NotFound` for an unregistered source and
    :class:`~xinyong.model.errors.InvalidInput` for a file that cannot be read at all, columns that
    break the row contract, or (``on_error="stop"``) the first bad row or unreadable part; batches of
    that file already committed stay committed.
    """
    if on_error not in ON_ERROR:
        raise InvalidInput(f"on_error must be one of {', '.join(ON_ERROR)}", field="on_error")
    started = time.perf_counter()
    bulk = bulk_ingest(store)
    summary = IngestSummary(source, as_of)
    with RecordValidator(catalogue, source, as_of, schemes) as validator:
        store.put_catalogue(catalogue, actor=actor)
        for path in paths:
            fs = FileSummary(str(path))
            summary.files.append(fs)
            writer = _RejectsWriter(Path(f"{path}.rejects.csv")) if write_reports else None

            def report(rejects: list[RejectRow], fs: FileSummary = fs,
                       writer: _RejectsWriter | None = writer) -> None:
                if writer:
                    writer.write(rejects)
                room = MAX_REJECTS_KEPT - len(summary.rejects)
                summary.rejects.extend(rejects[:max(room, 0)])

            try:
                for batch in validator.read(path, batch_rows, on_error=on_error):
                    unreadable = validator.take_unreadable()
                    report(unreadable)
                    fs.rows_read += len(unreadable)
                    fs.rejected += len(unreadable)
                    checked = validator.validate(batch, str(path))
                    if checked.rejects and on_error == "stop":
                        r = checked.rejects[0]
                        raise InvalidInput(f"{path}: row {r.row}, {r.field}: {r.reason}")
                    added = bulk.append_checked(checked.checked, source=source, batch_id=uuid.uuid4().hex,
                                                actor=actor, detail={
                        "file": str(path), "rows": checked.rows, "first_row": fs.rows_read + 1,
                        "rejected_rows": checked.rejected_rows})
                    fs.rows_read += checked.rows
                    fs.accepted += added.accepted
                    fs.duplicates += checked.valid - added.accepted
                    fs.rejected += checked.rejected_rows
                    fs.batches += 1
                    summary.subjects.update(added.subjects)
                    report(checked.rejects)
                    if progress:
                        progress(Progress(str(path), fs.rows_read, fs.accepted, fs.duplicates, fs.rejected))
                unreadable = validator.take_unreadable()  # parts after the last batch (or of a file with none)
                report(unreadable)
                fs.rows_read += len(unreadable)
                fs.rejected += len(unreadable)
            finally:
                validator.take_unreadable()
                if writer:
                    fs.rejects_file = writer.close()
            summary.rows_read += fs.rows_read
            summary.accepted += fs.accepted
            summary.duplicates += fs.duplicates
            summary.rejected += fs.rejected
            summary.seconds = time.perf_counter() - started
            if write_reports:
                Path(f"{path}.summary.json").write_text(
                    json.dumps({**asdict(fs), "source": source, "as_of": as_of.isoformat()}, indent=2) + "\n",
                    encoding="utf-8")
    summary.seconds = time.perf_counter() - started
    return summary


class _RejectsWriter:
    """``<file>.rejects.csv``, created on the first reject (no file when every row is good)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self._w: csv.DictWriter[str] | None = None
        path.unlink(missing_ok=True)

    def write(self, rejects: list[RejectRow]) -> None:
        if not rejects:
            return
        if self._w is None:
            self._fh = self.path.open("w", newline="", encoding="utf-8")
            self._w = csv.DictWriter(self._fh, fieldnames=["file", "row", "field", "reason", "value"])
            self._w.writeheader()
        self._w.writerows(asdict(r) for r in rejects)

    def close(self) -> str | None:
        if self._fh is not None:
            self._fh.close()
            return str(self.path)
        return None
