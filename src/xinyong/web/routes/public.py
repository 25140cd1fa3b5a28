"""What anyone may read without a key: published lists (masked), policies, the catalogue, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from xinyong.policy.explain import describe
from xinyong.web.auth import Service
from xinyong.web.problems import PROBLEM_RESPONSES
from xinyong.web.schemas import HealthOut, PolicyOut, PublicEntryOut, PublicListOut

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.get("/v1/lists/{list_id}", response_model=PublicListOut, tags=["public"], summary="A published list")
def public_list(list_id: str, svc: Service, limit: int = Query(default=100, ge=1, le=1000),
                offset: int = Query(default=0, ge=0, le=100_000_000)) -> PublicListOut:
    """Only listings in force (and within the policy's publication window); persons by family name and
    "*", never an identifier, no faces, no records. Each entry's `reason` is the subject's own ground (the
    kinds of its records behind the listing and the rule), the same text `xinyong lists public` prints."""
    pl = svc.public_page(list_id, limit, offset)
    d = pl.list_def
    return PublicListOut(list_id=d.id, name=d.name, kind=d.kind.value, policy=pl.policy, legal_basis=d.legal_basis,
                         reason=d.description or describe(d.entry), as_of=pl.as_of, total=pl.total, offset=offset,
                         entries=[PublicEntryOut(subject=e.subject, name=e.name, since=e.since, until=e.until,
                                                 reason=e.reason) for e in pl.entries], note=pl.note)


@router.get("/v1/policies", response_model=list[PolicyOut], tags=["public"], summary="Published policies")
def policies(svc: Service) -> list[PolicyOut]:
    """The latest published version of every policy, with its YAML: the rules are public law."""
    return [PolicyOut(id=pv.policy, version=pv.version, ref=f"{pv.policy}@{pv.version}", document=pv.document)
            for pv in svc.published()]


@router.get("/v1/catalogue", tags=["public"], summary="The catalogue of record types and sources")
def catalogue(svc: Service) -> dict[str, Any]:
    """Record types (category, severity, legal basis, validity, publication window) and sources."""
    return svc.catalogue().model_dump(mode="json")


@router.get("/healthz", response_model=HealthOut, tags=["ops"])
async def healthz() -> HealthOut:
    """The process answers."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, tags=["ops"], responses={503: {"model": HealthOut}})
async def readyz(svc: Service) -> Any:
    """The decision index is built and the store is open: decisions can be served."""
    from fastapi.responses import JSONResponse

    if not svc.ready:
        return JSONResponse(HealthOut(status="starting").model_dump(mode="json"), status_code=503)
    idx = svc.index()
    return HealthOut(status="ready", as_of=idx.as_of)  # no counts: anyone may call this, without a key
