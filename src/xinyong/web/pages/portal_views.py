"""The view models of the subject portal: each is the ``/v1`` body of the same service call, plus the
published facts (catalogue, list definitions) a page needs to say what a record or a listing means.

The ``/v1`` body is kept whole (``file``, ``status``, ``case``) rather than copied field by field, so a
page's JSON twin carries exactly what the API answers for the same question; what is added comes from the
published policies, never from another read of the subject's data.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel

from xinyong.model.case import CaseKind, CaseStatus
from xinyong.model.catalogue import Catalogue
from xinyong.policy.loader import LoadedPolicy
from xinyong.web.case_schemas import CaseOut, NoticeOut, StatusOut
from xinyong.web.schemas import AmendmentOut, RecordOut, SubjectFileOut

_ENDING = ("annul", "repair", "expire")


class RecordLine(BaseModel):
    """One record as the subject reads it: what it is, who decided it, on which basis, until when."""

    id: str
    type: str
    type_name: str
    severity: str
    source: str
    source_name: str
    document: str
    decided: date
    amount: str | None
    legal_basis: str | None
    valid_until: date
    ended: str | None = None  # annul | repair | expire, if an amendment ended it
    ended_on: date | None = None


class ListInfo(BaseModel):
    """What a list is, from its published definition."""

    id: str
    name: str
    kind: str
    legal_basis: str | None
    exit: list[str]


class FileView(BaseModel):
    """The file page: the ``/v1`` file, the due-process stage of each listing, and what each record means."""

    subject: str
    as_of: date
    file: SubjectFileOut
    status: StatusOut
    records: list[RecordLine]
    lists: dict[str, ListInfo]


class WhatIfView(BaseModel):
    subject: str
    status: StatusOut
    lists: dict[str, ListInfo]


class NoticesView(BaseModel):
    subject: str
    as_of: date
    notices: list[NoticeOut]


class SubjectCaseView(BaseModel):
    """One of the subject's cases; ``appeal_until`` is set while the decision on an objection may be
    appealed (the case page then offers the form)."""

    subject: str
    as_of: date
    case: CaseOut
    appeal_until: date | None


class FormView(BaseModel):
    """A form shown again after the service refused it: what was typed, and why it was refused."""

    subject: str
    kind: str  # objection | repair | appeal
    action: str
    target: str
    text: str
    evidence: str
    error: str
    field: str | None = None
    earliest: date | None = None


class CaseDone(BaseModel):
    """The answer to a form post for a JSON client: the case as ``/v1`` returns it."""

    case: CaseOut


def record_lines(records: list[RecordOut], amendments: list[AmendmentOut], catalogue: Catalogue,
                 as_of: date) -> list[RecordLine]:
    """Records newest first, each with its type's legal basis and validity and what ended it (if anything)."""
    types = {t.id: t for t in catalogue.record_types}
    sources = {s.id: s.name for s in catalogue.sources}
    out = []
    for r in sorted(records, key=lambda r: (r.decided, r.id), reverse=True):
        t = types.get(r.type)
        ending = sorted((a for a in amendments if a.record == r.id and a.kind.value in _ENDING
                         and a.effective <= as_of), key=lambda a: a.effective)
        out.append(RecordLine(
            id=r.id, type=r.type, type_name=t.name if t else r.type, severity=t.severity.value if t else "",
            source=r.source, source_name=sources.get(r.source, r.source), document=r.document, decided=r.decided,
            amount=r.amount, legal_basis=t.legal_basis if t else None,
            valid_until=r.decided + timedelta(days=t.default_validity_days if t else 0),
            ended=ending[0].kind.value if ending else None, ended_on=ending[0].effective if ending else None))
    return out


def list_infos(policies: list[LoadedPolicy]) -> dict[str, ListInfo]:
    return {d.id: ListInfo(id=d.id, name=d.name, kind=d.kind.value, legal_basis=d.legal_basis, exit=list(d.exit))
            for lp in policies for d in lp.policy.lists}


def appealable(case: CaseOut) -> bool:
    """A decided objection may be appealed (within the window the service checks)."""
    return case.kind is CaseKind.OBJECTION and case.status is not CaseStatus.OPEN


def evidence_lines(text: str) -> list[str]:
    """One reference of evidence per line of the form's text area."""
    return [line.strip() for line in text.splitlines() if line.strip()][:50]
