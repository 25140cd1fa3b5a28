"""Admins: ``/v1/keys`` — issue, list and revoke keys while the server runs.

The embedded DuckDB file has one writer, so `xinyong keys` cannot open the store of a running server;
these endpoints do the same through the running process (and its in-memory key cache sees the change at
once). A new key is in the response only, once.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.errors import Forbidden
from xinyong.service.principals import Principal, Role
from xinyong.web.auth import Caller, Service
from xinyong.web.problems import PROBLEM_RESPONSES
from xinyong.web.schemas import Body

router = APIRouter(prefix="/v1", tags=["admin"], responses=PROBLEM_RESPONSES)


class KeyIn(Body):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    source: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=64)
    actions: list[str] = Field(default_factory=list, max_length=100)


class KeyOut(BaseModel):
    id: str
    name: str
    role: Role
    source: str | None
    subject: str | None
    actions: list[str]
    created_at: str | None
    revoked_at: str | None
    key: str | None = Field(default=None, description="Only in the response that creates it")


class RevokeIn(Body):
    reason: str = Field(min_length=1, max_length=500)


def _out(p: Principal, key: str | None = None) -> KeyOut:
    return KeyOut.model_validate({**p.as_dict(), "key": key})


@router.post("/keys", response_model=KeyOut, status_code=201, summary="Issue a key (admin)")
async def create_key(body: KeyIn, who: Caller, svc: Service) -> KeyOut:
    who.require(Role.ADMIN)
    principal, key = await run_in_threadpool(
        svc.principals.create, body.name, body.role, source=body.source, subject=body.subject,
        actions=body.actions, by=who.actor)
    return _out(principal, key)


@router.get("/keys", response_model=list[KeyOut], summary="Every key issued (admin; never the keys)")
def list_keys(who: Caller, svc: Service) -> list[KeyOut]:
    try:
        who.require(Role.ADMIN)
    except Forbidden as exc:  # a refused read is still a read attempt: on record
        svc.audit.add(AuditEntry(0, utc_now(), who.actor, "keys_refused", None, None, {"reason": exc.message}))
        raise
    keys = svc.principals.list()
    svc.audit.add(AuditEntry(0, utc_now(), who.actor, "keys", None, None, {"keys": len(keys)}))
    return [_out(p) for p in keys]


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, summary="Revoke a key (admin)")
def revoke_key(key_id: str, body: RevokeIn, who: Caller, svc: Service) -> KeyOut:
    who.require(Role.ADMIN)
    return _out(svc.principals.revoke(key_id, by=who.actor, reason=body.reason))
