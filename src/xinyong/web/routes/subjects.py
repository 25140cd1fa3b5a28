"""Subjects (and reviewers): ``GET /v1/subjects/{id}/file`` — the whole file and who looked at it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from xinyong.model.record import amount_text
from xinyong.service.online import SubjectFile
from xinyong.web.auth import Caller, Service
from xinyong.web.problems import PROBLEM_RESPONSES
from xinyong.web.schemas import AccessOut, AmendmentOut, RecordOut, SubjectFileOut

router = APIRouter(prefix="/v1", tags=["subjects"], responses=PROBLEM_RESPONSES)


@router.get("/subjects/{subject}/file", response_model=SubjectFileOut, summary="A subject's own file")
def subject_file(subject: str, who: Caller, svc: Service,
                 purpose: str | None = Query(default=None, max_length=500,
                                             description="Required for reviewers (e.g. the case id)"),
                 as_of: date | None = Query(default=None)) -> SubjectFileOut:
    """Score, tier, listings, every record's contribution, the records and amendments, and the access
    log: who asked about this subject, when, and for what purpose. A subject key reads only its own."""
    return file_out(svc.subject_file(who, subject, purpose, as_of))


def file_out(f: SubjectFile) -> SubjectFileOut:
    """The response body of a file: shared with the portal's file page, which renders the same object."""
    return SubjectFileOut(
        subject=f.subject, as_of=f.as_of, assessments=f.assessments,
        records=[RecordOut(id=r.id, source=r.source, type=r.type, occurred=r.occurred, decided=r.decided,
                           document=r.document, amount=amount_text(r.amount) or None) for r in f.records],
        amendments=[AmendmentOut(id=a.id, record=a.record, kind=a.kind, effective=a.effective, reason=a.reason,
                                 document=a.document, amount=amount_text(a.amount) or None)
                    for a in f.amendments],
        access_log=[AccessOut(seq=c.entry.seq, at=c.entry.at, actor=c.entry.actor, action=c.entry.action,
                              purpose=c.entry.purpose, detail=dict(c.entry.detail)) for c in f.access_log])
