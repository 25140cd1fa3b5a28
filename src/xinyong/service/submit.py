"""Records submitted online by an agency: the same validation and idempotency as a file ingest.

The rows go through the very :class:`~xinyong.store.validation.RecordValidator` that ``xinyong ingest``
uses (the row contract of :mod:`xinyong.model.rows`, one vectorised validation pass, content ids) and the
store's :class:`~xinyong.store.protocol.BulkIngest` append (one atomic commit with its audit entry), so a
row refused here would be refused in a file with the same field and reason. On top, for the online path:
the source is the one the key was issued for (a row naming another source is refused outright, as is a
record type the catalogue does not let that source submit), each row gets its own result (an unknown
field refuses its row, where in a file it refuses the file), and the subjects written to are
re-evaluated so decisions change at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from xinyong.model.errors import Forbidden, InvalidInput, TooLarge
from xinyong.model.rows import NAMES, cell_text, json_kind, unknown_column
from xinyong.service.ingest import bulk_ingest
from xinyong.service.online import Online
from xinyong.service.principals import Principal, Role
from xinyong.store.validation import RecordValidator

FIELDS = frozenset(NAMES)


@dataclass(frozen=True)
class RowProblem:
    field: str
    reason: str
    value: str | None = None


@dataclass
class RowResult:
    """``new`` (stored now), ``duplicate`` (already stored: same content, same id) or ``rejected``."""

    row: int
    status: str
    id: str | None = None
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class SubmitResult:
    batch: str
    rows: int
    new: int
    duplicates: int
    rejected: int
    results: list[RowResult]


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def submit_records(online: Online, who: Principal, rows: Sequence[object], as_of: date | None = None
                   ) -> SubmitResult:
    """Validate and store ``rows`` (JSON objects) as records from the principal's source."""
    who.require(Role.AGENCY)
    assert who.source is not None
    if not rows:
        raise InvalidInput("no records in the request", field="records")
    if len(rows) > online.max_batch:
        raise TooLarge(f"{len(rows)} records in one request; the limit is {online.max_batch}",
                       limit=online.max_batch, field="records")
    day = as_of or online.today()
    catalogue = online.catalogue()
    allowed = set(catalogue.source(who.source).may_submit)
    known_types = catalogue.type_ids()
    texts: list[dict[str, str | None]] = []
    shape: dict[int, list[RowProblem]] = {}
    for i, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            kind = "" if raw is None else f", not {json_kind(raw)}"
            shape[i] = [RowProblem("row", f"must be a JSON object with the record's fields{kind}")]
            texts.append({"source": who.source})
            continue
        extra = sorted(str(k) for k in raw if k not in FIELDS)
        if extra:
            shape[i] = [RowProblem(k, unknown_column(k)) for k in extra]
        row = {k: cell_text(raw.get(k)) for k in FIELDS}
        for k, v in row.items():
            if v is not None and not _unicode(v):  # a lone surrogate (``"\ud800"``) cannot be stored
                shape.setdefault(i, []).append(RowProblem(k, "not valid Unicode (a lone surrogate escape)"))
                row[k] = None
        if row["source"] is not None and row["source"].strip() and row["source"] != who.source:
            raise Forbidden(f"row {i} names source {row['source']!r}; this key submits as {who.source}",
                            field=f"records[{i - 1}].source")
        if row["type"] in known_types and row["type"] not in allowed:
            raise Forbidden(f"row {i}: source {who.source} may not submit records of type {row['type']!r} "
                            f"(catalogue: {', '.join(sorted(allowed))})", field=f"records[{i - 1}].type")
        row["source"] = who.source
        texts.append(row)
    with RecordValidator(catalogue, who.source, day, online.registry.schemes) as validator:
        checked = validator.validate(validator.table_from_rows(texts), "request", with_ids=True)
        problems = {i: list(p) for i, p in shape.items()}  # the shape first; a non-object has no fields
        for rej in checked.rejects:
            if isinstance(rows[rej.row - 1], Mapping):
                problems.setdefault(rej.row, []).append(RowProblem(rej.field, rej.reason, rej.value))
        assert checked.ids is not None
        ids = {int(r): (str(i), str(s)) for r, i, s in zip(*(checked.ids.column(c).to_pylist()
                                                             for c in ("row", "id", "subject")), strict=True)
               if int(r) not in shape}
        batch = checked.checked
        if shape:  # rows with unknown fields are refused whole, like any other bad row
            table = validator.table_from_rows([t if i not in shape else {"source": who.source}
                                               for i, t in enumerate(texts, start=1)])
            batch = validator.validate(table, "request").checked
    added = bulk_ingest(online.store).append_checked(batch, source=who.source, batch_id=uuid.uuid4().hex,
                                                     actor=who.actor, detail={"file": "request", "api": True,
                                                                              "rows": len(rows),
                                                                              "rejected_rows": len(problems)})
    results, seen = [], set()
    for i in range(1, len(rows) + 1):
        if i in problems:
            results.append(RowResult(i, "rejected", problems=problems[i]))
            continue
        rid = ids[i][0]
        results.append(RowResult(i, "new" if rid in added.new_ids and rid not in seen else "duplicate", rid))
        seen.add(rid)
    online.reassess(set(added.subjects))
    rejected = sum(r.status == "rejected" for r in results)
    online.count_ingest("new", added.accepted)
    online.count_ingest("duplicate", len(rows) - rejected - added.accepted)
    online.count_ingest("rejected", rejected)
    return SubmitResult(added.batch, len(rows), added.accepted, len(rows) - rejected - added.accepted,
                        rejected, results)
