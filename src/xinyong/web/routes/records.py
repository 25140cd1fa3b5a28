"""Agencies (and reviewers, for amendments): ``POST /v1/records`` and ``POST /v1/amendments``.

Records arrive as ``{"records": [...]}`` JSON or as NDJSON (one record object per line); both go through
the file ingest's validation (:mod:`xinyong.service.submit`) and get one result per row. These
endpoints are sync: they run in the thread pool and hold the store lock while they write.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from xinyong.model.errors import InvalidInput
from xinyong.service.submit import submit_records
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


def parse_rows(raw: bytes, content_type: str) -> list[object]:
    """The rows of a JSON or NDJSON body; a line that is not JSON becomes a row that is refused."""
    if content_type.split(";")[0].strip().lower() in NDJSON:
        rows: list[object] = []
        for line in raw.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    rows.append(line)
        return rows
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON ({exc}); send {{\"records\": [...]}} or NDJSON with "
                           "Content-Type: application/x-ndjson", field="body") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise InvalidInput('the body must be an object {"records": [ ... ]}', field="records")
    return list(doc["records"])


@router.post("/records", response_model=SubmitOut, openapi_extra=RECORDS_BODY, summary="Submit records")
async def post_records(request: Request, who: Caller, svc: Service) -> SubmitOut:
    """Records from the key's source, validated per row like a file ingest: a result per row (new,
    duplicate or rejected with field and reason). Decisions about the subjects change at once. A record
    decided after the service's as-of date is refused (an agency cannot move that date)."""
    rows = parse_rows(await request.body(), request.headers.get("content-type", ""))
    result = await run_in_threadpool(submit_records, svc, who, rows)  # writes block: not on the loop
    return SubmitOut.model_validate(result, from_attributes=True)


@router.post("/amendments", response_model=AmendmentsOut, summary="Amend stored records")
def post_amendments(body: AmendmentsIn, who: Caller, svc: Service) -> AmendmentsOut:
    """Corrections, annulments, repairs, early expiries of stored records (an agency: its own records)."""
    new, existing = svc.add_amendments(who, body.amendments)
    return AmendmentsOut(new=new, duplicates=existing)
