"""Due process records: cases (objection, appeal, repair), their events, and notices.

A case is filed once and never edited; what happens to it afterwards is a :class:`CaseEvent` (decided,
with reasons). Its state as of a date is therefore recomputable, like an assessment: a case decided on
2026-03-10 is still *open* as of 2026-03-09. Effects on records are amendments, never edits (charter
rule 5; DESIGN.md §3).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from xinyong.model.base import Frozen
from xinyong.model.record import content_id


class CaseKind(StrEnum):
    OBJECTION = "objection"  # against a record or a (proposed or in-force) listing
    APPEAL = "appeal"  # against the decision on an objection, to a different reviewer
    REPAIR = "repair"  # credit repair application: the obligation is performed


class CaseStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # objection or appeal: the subject was right
    REJECTED = "rejected"
    GRANTED = "granted"  # repair
    REFUSED = "refused"


#: The outcomes a reviewer may give, per kind of case.
OUTCOMES: dict[CaseKind, tuple[CaseStatus, ...]] = {
    CaseKind.OBJECTION: (CaseStatus.UPHELD, CaseStatus.REJECTED),
    CaseKind.APPEAL: (CaseStatus.UPHELD, CaseStatus.REJECTED),
    CaseKind.REPAIR: (CaseStatus.GRANTED, CaseStatus.REFUSED),
}


class Case(Frozen):
    """What the subject asked for, when, against what, and by when it must be decided.

    ``target`` is ``record:<record id>``, ``list:<list id>`` or, for an appeal, ``case:<case id>``.
    """

    kind: CaseKind
    subject: str
    target: str
    filed: date
    filed_by: str
    text: str = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list, description="References of evidence documents")
    deadline: date = Field(description="The reviewer must decide by this date")
    expedited: bool = False
    appeal_of: str | None = None

    @property
    def id(self) -> str:
        """Content-addressed, like records: filing the same case twice is one case."""
        return content_id(self.kind.value, self.subject, self.target, self.filed.isoformat(), self.filed_by,
                          self.text, "\x1e".join(self.evidence))[:16]

    @property
    def target_kind(self) -> str:
        return self.target.partition(":")[0]

    @property
    def target_id(self) -> str:
        return self.target.partition(":")[2]


class CaseEvent(Frozen):
    """A decision on a case, with the reviewer, the reasons and the amendments it produced."""

    case: str
    at: date
    actor: str
    outcome: CaseStatus
    reasons: str = Field(min_length=1)
    amendments: list[str] = Field(default_factory=list)


class CaseView(Frozen):
    """A case with its events, seen as of a date (events after that date have not happened yet)."""

    case: Case
    events: list[CaseEvent] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.case.id

    def decision(self, as_of: date) -> CaseEvent | None:
        done = [e for e in self.events if e.at <= as_of]
        return max(done, key=lambda e: e.at) if done else None

    def status(self, as_of: date) -> CaseStatus:
        event = self.decision(as_of)
        return CaseStatus.OPEN if event is None else event.outcome

    def is_open(self, as_of: date) -> bool:
        return self.case.filed <= as_of and self.decision(as_of) is None

    def overdue(self, as_of: date) -> bool:
        return self.is_open(as_of) and as_of > self.case.deadline


class NoticeKind(StrEnum):
    RECORD = "record"  # a new record about the subject
    LISTING_PROPOSED = "listing_proposed"
    LISTING_IN_FORCE = "listing_in_force"
    LISTING_SUSPENDED = "listing_suspended"  # an objection is open: no measures until it is decided
    LISTING_ENDED = "listing_ended"
    CASE_FILED = "case_filed"
    CASE_DECIDED = "case_decided"


class Notice(Frozen):
    """What the subject is told, on which date, and by when it may act (DESIGN.md §3)."""

    subject: str
    kind: NoticeKind
    issued: date
    ref: str = Field(description="record:<id>, list:<id>@<episode start> or case:<id>")
    title: str
    body: str
    act_by: date | None = Field(default=None, description="Last day to object, appeal or act")

    @property
    def id(self) -> str:
        """The same event gives the same notice, so regenerating notices never duplicates them."""
        return content_id(self.subject, self.kind.value, self.ref, self.issued.isoformat())[:16]
