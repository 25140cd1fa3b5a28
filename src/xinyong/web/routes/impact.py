"""Admins: ``GET /v1/policies/{policy}/versions/{version}/impact`` — what a version changed against the one
before it on a synthetic population (the policy lab's impact report; never a subject's data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from xinyong.audit import AuditEntry, utc_now
from xinyong.service.impact import MAX_POPULATION, version_impact
from xinyong.service.principals import Role
from xinyong.web.auth import Caller, Service
from xinyong.web.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["admins"], responses=PROBLEM_RESPONSES)


@router.get("/policies/{policy}/versions/{version}/impact", summary="Impact of a version (admin)")
def version_impact_route(policy: str, version: str, who: Caller, svc: Service,
                         population: int = Query(default=5_000, ge=1, le=MAX_POPULATION)) -> dict[str, Any]:
    """Who enters and leaves each list, tier transitions, measures newly triggered, rates per group and
    four-fifths checks, against the previous published version, on a synthetic population. Runs in the
    thread pool; the store is read only for the two versions' texts."""
    who.require(Role.ADMIN)
    with svc.store.lock:  # read the texts under the lock; the analysis runs outside it
        versions = svc.store.policy_versions(policy)
    data = version_impact(versions, policy, version, svc.today(), population=population)
    svc.audit.add(AuditEntry(0, utc_now(), who.actor, "impact", None, None,
                             {"policy": policy, "version": version, "population": population}))
    return data
