"""Relying parties: ``POST /v1/decisions`` and ``POST /v1/decisions:batch``.

The hot path: a key lookup, a dict lookup in the decision index and an entry in the audit buffer; no
query, no thread pool (async endpoints, nothing here blocks).

``POST /v1/decisions`` is :func:`web.fastpath.answer`, the one implementation the fast path also
serves; the route documents it and serves it when the fast path is not installed. The batch endpoint
follows the same order: it authenticates before it reads or parses the body (401 for a missing, unknown
or revoked key whatever the body), then requires ``Content-Type: application/json`` (415 otherwise),
then validates. The request bodies are therefore parsed by the pydantic models, not by FastAPI (which
would validate before the key is checked), and documented through ``openapi_extra``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from xinyong.service.online import Online
from xinyong.service.principals import Principal
from xinyong.web.auth import BEARER_DOC
from xinyong.web.fastpath import (
    UNSUPPORTED_MEDIA_TYPE_DOC,
    answer,
    authenticate,
    decision_headers,
    is_json,
    unsupported_media_type,
)
from xinyong.web.problems import PROBLEM_RESPONSES, validation_response
from xinyong.web.schemas import BatchDecisionOut, BatchDecisionRequest, BatchItem, DecisionOut, DecisionRequest

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES, **UNSUPPORTED_MEDIA_TYPE_DOC})


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    return {**BEARER_DOC, "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _caller(request: Request) -> tuple[Online, Principal] | Response:
    """The service and the authenticated caller, or the 415 answer; the body is not read yet."""
    svc: Online = request.app.state.online
    authorization, content_type, _ = decision_headers(request.scope["headers"])
    who = authenticate(svc, authorization)  # Unauthenticated: 401 via problems
    if not is_json(content_type):
        return unsupported_media_type(request.url.path, content_type)
    return svc, who


@router.post("/decisions", response_model=None, responses={200: {"model": DecisionOut}},
             summary="May a subject do an action?", openapi_extra=_body_doc(DecisionRequest))
async def decide(request: Request) -> Response:
    """Effect (allow / deny / review / benefit), the measures that decided it with their imposing agency
    and legal basis, the policy versions, and a decision id. Never records, never a score."""
    # Normally answered by ``web.fastpath`` before routing, with the same function.
    authorization, content_type, _ = decision_headers(request.scope["headers"])
    out = await answer(request.app.state.online, request.url.path, authorization, content_type, request.body)
    return out if isinstance(out, Response) else Response(out, media_type="application/json")


@router.post("/decisions:batch", response_model=None, responses={200: {"model": BatchDecisionOut}},
             summary="Decisions for a manifest", openapi_extra=_body_doc(BatchDecisionRequest))
async def decide_batch(request: Request) -> Response:
    """One decision per subject for one action (e.g. a flight's passenger list)."""
    caller = await _caller(request)
    if isinstance(caller, Response):
        return caller
    svc, who = caller
    try:
        body = BatchDecisionRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        return validation_response(exc.errors(), request.url.path)
    args = (who, body.subjects, body.action, body.purpose, body.as_of)
    decided = (svc.decide_batch_with_ids(*args) if svc.indexed(body.as_of)  # dict lookups: on the loop
               else await run_in_threadpool(svc.decide_batch_with_ids, *args))  # evaluations: not on the loop
    decisions = [d for d, _ in decided]
    bases = {m.measure: [m.legal_basis] for d in decisions for m in d.measures}
    out = BatchDecisionOut(
        action=body.action, purpose=body.purpose, as_of=decisions[0].as_of if decisions else svc.today(),
        count=len(decisions), effects=dict(Counter(d.effect.value for d in decisions)), legal_basis=bases,
        decisions=[BatchItem(id=did, subject=d.subject, effect=d.effect, measures=[m.measure for m in d.measures])
                   for d, did in decided])
    return Response(out.model_dump_json(), media_type="application/json")
