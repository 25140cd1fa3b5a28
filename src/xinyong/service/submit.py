"""Records submitted online by an agency: the same validation and idempotency as a file ingest.

The rows go through the very :class:`~xinyong.store.duckdb_ingest.BulkLoader` that ``xinyong ingest``
uses (one vectorised validation pass, content ids, one atomic commit with its audit entry), so a row
refused here would be refused in a file with the same field and reason. On top, for the online path:
the source is the one the key was issued for (a row naming another source is refused outright, as is a
record type the catalogue does not let that source submit), each row gets its own result, and the
subjects written to are re-evaluated so decisions change at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from xinyong.model.errors import Forbidden, InvalidInput, TooLarge
from xinyong.service.online import Online
from xinyong.service.principals import Principal, Role
from xinyong.store.duckdb_ingest import OPTIONAL, REQUIRED, BulkLoader

FIELDS = frozenset(REQUIRED + OPTIONAL)


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


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):  # JSON true/false is never a valid field value; keep it visible
        return str(value).lower()
    return str(value)


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
            shape[i] = [RowProblem("row", "must be a JSON object with the record's fields")]
            texts.append({"source": who.source})
            continue
        extra = sorted(str(k) for k in raw if k not in FIELDS)
        if extra:
            shape[i] = [RowProblem(k, f"unknown field; record fields: {', '.join(REQUIRED + OPTIONAL)}")
                        for k in extra]
        row = {k: _text(raw.get(k)) for k in FIELDS}
        if row["source"] is not None and row["source"] != who.source:
            raise Forbidden(f"row {i} names source {row['source']!r}; this key submits as {who.source}",
                            field=f"records[{i - 1}].source")
        if row["type"] in known_types and row["type"] not in allowed:
            raise Forbidden(f"row {i}: source {who.source} may not submit records of type {row['type']!r} "
                            f"(catalogue: {', '.join(sorted(allowed))})", field=f"records[{i - 1}].type")
        row["source"] = who.source
        texts.append(row)
    store = online.store
    with store.lock, store.transaction():
        loader = BulkLoader(store, catalogue, who.source, day, online.registry.schemes, actor=who.actor)
        batch = loader.table_from_rows(texts)
        checked = loader.validate(batch, "request")
        problems: dict[int, list[RowProblem]] = {}
        for rej in checked.rejects:
            problems.setdefault(rej.row, []).append(RowProblem(rej.field, rej.reason, rej.value))
        for i, extra_problems in shape.items():
            problems.setdefault(i, []).extend(extra_problems)
        ids = {int(r): (str(i), str(s)) for r, i, s in store.connection.execute(
            "SELECT row, id, skey FROM _xy_v WHERE ok").fetchall()}
        if shape:  # rows with unknown fields are refused whole, like any other bad row
            store.connection.execute("UPDATE _xy_v SET ok = false WHERE row IN (SELECT unnest(?::BIGINT[]))",
                                     [sorted(shape)])
            checked.valid -= len([r for r in shape if r in ids])
            for r in shape:
                ids.pop(r, None)
        loader.commit(checked, "request", {"api": True})
        new_ids = {r[0] for r in store.connection.execute(
            "SELECT id FROM records WHERE batch = ?", [checked.batch]).fetchall()} if checked.accepted else set()
    results, seen = [], set()
    for i in range(1, len(rows) + 1):
        if i in problems:
            results.append(RowResult(i, "rejected", problems=problems[i]))
            continue
        rid = ids[i][0]
        results.append(RowResult(i, "new" if rid in new_ids and rid not in seen else "duplicate", rid))
        seen.add(rid)
    online.reassess({ids[r.row][1] for r in results if r.status == "new"})
    rejected = sum(r.status == "rejected" for r in results)
    return SubmitResult(checked.batch, len(rows), checked.accepted, len(rows) - rejected - checked.accepted,
                        rejected, results)
