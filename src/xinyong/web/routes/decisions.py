"""Relying parties: ``POST /v1/decisions`` and ``POST /v1/decisions:batch``.

The hot path: a key lookup, a dict lookup in the decision index and an entry in the audit buffer; no
query, no thread pool (async endpoints, nothing here blocks).
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from xinyong.web.auth import BEARER_DOC, caller_of
from xinyong.web.fastpath import decision_json
from xinyong.web.problems import PROBLEM_RESPONSES
from xinyong.web.schemas import BatchDecisionOut, BatchDecisionRequest, BatchItem, DecisionOut, DecisionRequest

router = APIRouter(prefix="/v1", tags=["decisions"], responses=PROBLEM_RESPONSES)


@router.post("/decisions", response_model=None, responses={200: {"model": DecisionOut}},
             summary="May a subject do an action?", openapi_extra=BEARER_DOC)
async def decide(body: DecisionRequest, request: Request) -> Response:
    """Effect (allow / deny / review / benefit), the measures that decided it with their imposing agency
    and legal basis, the policy versions, and a decision id. Never records, never a score."""
    # Normally answered by ``web.fastpath`` before routing; this route documents it and is the same code.
    content = await decision_json(request.app.state.online, request.headers.get("authorization", ""),
                            body.model_dump_json())
    return Response(content, media_type="application/json")


@router.post("/decisions:batch", response_model=None, responses={200: {"model": BatchDecisionOut}},
             summary="Decisions for a manifest", openapi_extra=BEARER_DOC)
async def decide_batch(body: BatchDecisionRequest, request: Request) -> Response:
    """One decision per subject for one action (e.g. a flight's passenger list)."""
    svc, who = caller_of(request)
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
