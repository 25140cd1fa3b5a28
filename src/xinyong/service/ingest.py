"""Bulk ingest of record files from an agency: CSV, JSON Lines and Parquet.

Columns: ``subject, type, occurred, decided, document`` and optionally ``amount`` and ``source`` (which,
when present, must equal the source the file is submitted as). Files are streamed in batches and
validated vectorised on the store's DuckDB adapter; each batch commits atomically with its audit entry.
Bad rows are written to ``<file>.rejects.csv`` (file, row, field, reason, value) next to
``<file>.summary.json``; good rows of the same batch are still stored (nothing already stored is lost
and one bad row does not hold back a whole file).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from xinyong.model.catalogue import Catalogue
from xinyong.model.identifiers import SchemeRegistry
from xinyong.store.duckdb_ingest import BulkLoader, RejectRow
from xinyong.store.duckdb_store import DuckDBStore

DEFAULT_BATCH_ROWS = 1_000_000
MAX_REJECTS_KEPT = 10_000  # in the returned summary; the rejects file has them all


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
    """What an ingest did. ``rejected`` counts rows (a row may have several problems in ``rejects``)."""

    source: str
    as_of: date
    files: list[FileSummary] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects: list[RejectRow] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["rows_per_second"] = round(self.rows_per_second)
        d["rejects"] = d["rejects"][:100]
        return d


def ingest_files(
    store: DuckDBStore,
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
) -> IngestSummary:
    """Ingest files as records from ``source``; idempotent (re-running adds nothing).

    Raises :class:`~xinyong.model.errors.NotFound` for an unregistered source and
    :class:`~xinyong.model.errors.InvalidInput` for an unreadable file or missing columns (batches of
    that file already committed stay committed).
    """
    started = time.perf_counter()
    store.put_catalogue(catalogue, actor=actor)
    loader = BulkLoader(store, catalogue, source, as_of, schemes, actor=actor)
    summary = IngestSummary(source, as_of)
    for path in paths:
        fs = FileSummary(str(path))
        summary.files.append(fs)
        rejects_path = Path(f"{path}.rejects.csv")
        writer = _RejectsWriter(rejects_path) if write_reports else None
        try:
            for batch in loader.read(path, batch_rows):
                result = loader.validate(batch, str(path))
                loader.commit(result, str(path), {"first_row": fs.rows_read + 1})
                rejected_rows = len({r.row for r in result.rejects})
                fs.rows_read += result.rows
                fs.accepted += result.accepted
                fs.duplicates += result.duplicates
                fs.rejected += rejected_rows
                fs.batches += 1
                if writer:
                    writer.write(result.rejects)
                room = MAX_REJECTS_KEPT - len(summary.rejects)
                summary.rejects.extend(result.rejects[:max(room, 0)])
                if progress:
                    progress(Progress(str(path), fs.rows_read, fs.accepted, fs.duplicates, fs.rejected))
        finally:
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
        self._fh: object | None = None
        self._w: csv.DictWriter[str] | None = None
        path.unlink(missing_ok=True)

    def write(self, rejects: list[RejectRow]) -> None:
        if not rejects:
            return
        if self._w is None:
            fh = self.path.open("w", newline="", encoding="utf-8")
            self._fh = fh
            self._w = csv.DictWriter(fh, fieldnames=["file", "row", "field", "reason", "value"])
            self._w.writeheader()
        self._w.writerows(asdict(r) for r in rejects)

    def close(self) -> str | None:
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]
            return str(self.path)
        return None
