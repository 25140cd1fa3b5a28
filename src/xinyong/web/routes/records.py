"""Agencies (and reviewers, for amendments): ``POST /v1/records`` and ``POST /v1/amendments``.

Records arrive as ``{"records": [...]}`` JSON or as NDJSON (one record object per line); both go through
the file ingest's validation (:mod:`xinyong.service.submit`) and get one result per row. These
endpoints are sync: they run in the thread pool and hold the store lock while they write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from xinyong.model.errors import InvalidInput
from xinyong.service.online import Online
from xinyong.service.principals import Principal
from xinyong.service.submit import RowProblem, SubmitResult, submit_records
from xinyong.web.auth import Caller, Service
from xinyong.web.problems import PROBLEM_RESPONSES
from xinyong.web.schemas import AmendmentsIn, AmendmentsOut, RecordRow, SubmitOut

router = APIRouter(prefix="/v1", tags=["agencies"], responses=PROBLEM_RESPONSES)

NDJSON = ("application/x-ndjson", "application/jsonl", "application/ndjson")
_ROW_SCHEMA = RecordRow.model_json_schema()
_ROW_SCHEMA.pop("title", None)
RECORDS_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["records"], "properties": {
        "records": {"type": "array", "items": _ROW_SCHEMA}}}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "One record object per line"}},
}}}


BOM = b"\xef\xbb\xbf"
JSON_KINDS: dict[type, str] = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


@dataclass(frozen=True)
class Refused:
    """A row refused before validation (not JSON, not UTF-8, not an object, not encodable text)."""

    field: str
    reason: str


@dataclass(frozen=True)
class Rows:
    """The rows of a request body: ``values[i]`` is a JSON value or a :class:`Refused`, and ``numbers[i]``
    its row number (the 1-based position in ``records``, or the physical line of an NDJSON body)."""

    values: list[object]
    numbers: list[int]


def _unencodable(value: object, path: str) -> str | None:
    """The path of the first string in ``value`` (keys included) that is not valid Unicode text (a lone
    surrogate from a ``\\ud800`` escape), or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if _unencodable(key, "") is not None:
                return path or "row"
            found = _unencodable(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _unencodable(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _checked(value: object, where: str) -> object:
    """``value`` if it is a JSON object of valid text, else the :class:`Refused` row saying why."""
    if not isinstance(value, dict):
        kind = JSON_KINDS.get(type(value), "a number")
        return Refused("row", f"{where}must be a JSON object with the record's fields, not {kind}")
    bad = _unencodable(value, "")
    if bad is not None:
        return Refused(bad, f"{where}not valid Unicode text (a lone surrogate escape such as \\ud800); "
                            "the text must encode as UTF-8")
    return value


def _ndjson(raw: bytes) -> Rows:
    values: list[object] = []
    numbers: list[int] = []
    raw = raw.removeprefix(BOM)
    for number, line in enumerate(raw.split(b"\n"), start=1):  # only LF: U+2028 and U+0085 are valid in JSON
        line = line.removesuffix(b"\r")
        if not line.strip():
            continue  # blank lines are skipped but counted
        numbers.append(number)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            values.append(Refused("row", f"line {number}: not UTF-8 (byte {exc.start + 1}: {exc.reason})"))
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            values.append(Refused("row", f"line {number}: not JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:  # the C decoder's own limit on nesting: a record is one flat object
            values.append(Refused("row", f"line {number}: JSON nested too deeply (a record is one flat object)"))
            continue
        values.append(_checked(doc, f"line {number}: "))
    return Rows(values, numbers)


def parse_rows(raw: bytes, content_type: str) -> Rows:
    """The rows of a JSON or NDJSON body; a line that is not JSON becomes a row that is refused."""
    if content_type.split(";")[0].strip().lower() in NDJSON:
        return _ndjson(raw)
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON ({exc}); send {{\"records\": [...]}} or NDJSON with "
                           "Content-Type: application/x-ndjson", field="body") from None
    except RecursionError:  # nested beyond the decoder's limit: no record is shaped like that
        raise InvalidInput("the body's JSON is nested too deeply; a record is one flat object",
                           field="body") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise InvalidInput('the body must be an object {"records": [ ... ]}', field="records")
    records = list(doc["records"])
    return Rows([_checked(row, "") for row in records], list(range(1, len(records) + 1)))


def submit(svc: Online, who: Principal, rows: Rows) -> SubmitResult:
    """``submit_records`` over the rows, a refused row standing in as a non-object (rejected there, so the
    positions, batch and counts stay right); then each refused row gets its own reason alone (not the
    missing-field cascade of an empty row) and every result its row number."""
    result = submit_records(svc, who, [None if isinstance(v, Refused) else v for v in rows.values])
    for res in result.results:
        value = rows.values[res.row - 1]
        if isinstance(value, Refused):
            res.status, res.id = "rejected", None
            res.problems = [RowProblem(value.field, value.reason)]
        res.row = rows.numbers[res.row - 1]
    return result


@router.post("/records", response_model=SubmitOut, openapi_extra=RECORDS_BODY, summary="Submit records")
async def post_records(request: Request, who: Caller, svc: Service) -> SubmitOut:
    """Records from the key's source, validated per row like a file ingest: a result per row (new,
    duplicate or rejected with field and reason). Decisions about the subjects change at once. A record
    decided after the service's as-of date is refused (an agency cannot move that date). In NDJSON a
    row is numbered by its line (blank lines are skipped but counted); a line that is not UTF-8 or not
    JSON is refused with the reason."""
    rows = parse_rows(await request.body(), request.headers.get("content-type", ""))
    result = await run_in_threadpool(submit, svc, who, rows)  # writes block: not on the loop
    return SubmitOut.model_validate(result, from_attributes=True)


@router.post("/amendments", response_model=AmendmentsOut, summary="Amend stored records")
def post_amendments(body: AmendmentsIn, who: Caller, svc: Service) -> AmendmentsOut:
    """Corrections, annulments, repairs, early expiries of stored records (an agency: its own records)."""
    new, existing = svc.add_amendments(who, body.amendments)
    return AmendmentsOut(new=new, duplicates=existing)
