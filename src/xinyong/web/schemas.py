"""Request and response bodies of the /v1 API (pydantic: the OpenAPI document is generated from them).

Responses to relying parties are built from :class:`~xinyong.model.assessment.Decision`, which has no
field for records or a score: minimal disclosure is a property of the type, not of a filter here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from xinyong.model.assessment import AppliedMeasure, Assessment, Decision, Effect
from xinyong.model.record import Amendment, AmendmentKind

SUBJECT = Field(min_length=1, max_length=64, description="Subject id: scheme:value, or a bare USCC / "
                "resident ID", examples=["cn.ric:11010519491231002X"])
ACTION = Field(min_length=1, max_length=200, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$",
               description="The action asked about", examples=["transport.flight.purchase"])
PURPOSE = Field(min_length=1, max_length=500, description="Why you ask (required, audited)",
                examples=["ticket sale"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionRequest(Body):
    subject: str = SUBJECT
    action: str = ACTION
    purpose: str = PURPOSE
    as_of: date | None = Field(default=None, description="Default: the service's as-of date")


class BatchDecisionRequest(Body):
    subjects: list[str] = Field(min_length=1, description="Subject ids (the limit is stated in a 413)")
    action: str = ACTION
    purpose: str = PURPOSE
    as_of: date | None = None


class DecisionOut(BaseModel):
    """Effect, measures (imposing agency, legal basis) and policy versions; no records, no score."""

    id: str = Field(description="Decision id (content-addressed)")
    subject: str
    action: str
    purpose: str
    as_of: date
    effect: Effect
    measures: list[AppliedMeasure]
    legal_basis: list[str]
    policy_versions: list[str]

    @classmethod
    def of(cls, d: Decision, did: str | None = None) -> DecisionOut:
        return cls(id=did or d.id, subject=d.subject, action=d.action, purpose=d.purpose, as_of=d.as_of,
                   effect=d.effect, measures=d.measures, legal_basis=d.legal_basis,
                   policy_versions=d.policy_versions)


class BatchItem(BaseModel):
    id: str
    subject: str
    effect: Effect
    measures: list[str] = Field(description="Ids of the measures that decided it")


class BatchDecisionOut(BaseModel):
    action: str
    purpose: str
    as_of: date
    count: int
    effects: dict[str, int] = Field(description="How many decisions of each effect")
    legal_basis: dict[str, list[str]] = Field(description="Measure id → its legal basis, for the measures above")
    decisions: list[BatchItem]


class RecordRow(BaseModel):
    """A record as an agency submits it; every value is checked per row, as in a file ingest."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": True})

    subject: str
    type: str
    occurred: str = Field(description="YYYY-MM-DD")
    decided: str = Field(description="YYYY-MM-DD")
    document: str
    amount: str | float | None = None
    source: str | None = Field(default=None, description="If given, must be the key's source")


class RowProblemOut(BaseModel):
    field: str
    reason: str
    value: str | None = None


class RowResultOut(BaseModel):
    row: int = Field(description="1-based position in the request")
    status: str = Field(description="new | duplicate | rejected")
    id: str | None = None
    problems: list[RowProblemOut] = Field(default_factory=list)


class SubmitOut(BaseModel):
    batch: str
    rows: int
    new: int
    duplicates: int
    rejected: int
    results: list[RowResultOut]


class AmendmentsIn(Body):
    amendments: list[Amendment] = Field(min_length=1)


class AmendmentsOut(BaseModel):
    new: list[str]
    duplicates: list[str]


class RecordOut(BaseModel):
    id: str
    source: str
    type: str
    occurred: date
    decided: date
    document: str
    amount: str | None


class AmendmentOut(BaseModel):
    id: str
    record: str
    kind: AmendmentKind
    effective: date
    reason: str
    document: str
    amount: str | None


class AccessOut(BaseModel):
    """One entry of the subject's access log: who, when, what, for which purpose. ``at`` is UTC with its
    offset (RFC 3339 date-time): the store keeps naive UTC, the edge says so."""

    @field_validator("at", mode="before")
    @classmethod
    def _utc(cls, value: object) -> object:
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value

    seq: int
    at: AwareDatetime
    actor: str
    action: str
    purpose: str | None
    detail: dict[str, Any]


class SubjectFileOut(BaseModel):
    subject: str
    as_of: date
    assessments: list[Assessment]
    records: list[RecordOut]
    amendments: list[AmendmentOut]
    access_log: list[AccessOut] = Field(description="Newest first")


class PublicEntryOut(BaseModel):
    """Only the fields the list's ``publication.fields`` name; a person's identifier is never public."""

    subject: str | None = Field(description="Organisations: the code (if published); persons: never")
    name: str | None = Field(description="Organisations: the name; persons: family name + '*'")
    since: date | None = Field(description="If the list publishes it")
    until: date | None = Field(description="If the list publishes it")
    reason: str | None = Field(default=None, description="The subject's own ground: the kinds of its records "
                               "behind the listing and the rule they met (if the list publishes it)")


class PublicListOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    list_id: str = Field(alias="list", serialization_alias="list")
    name: str
    kind: str
    policy: str
    legal_basis: str | None
    reason: str = Field(description="Why subjects are on this list")
    as_of: date
    total: int
    offset: int
    entries: list[PublicEntryOut]
    note: str


class PolicyOut(BaseModel):
    id: str
    version: str
    ref: str
    document: str = Field(description="The policy YAML as published")


class HealthOut(BaseModel):
    status: str
    as_of: date | None = None
