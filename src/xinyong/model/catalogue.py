"""The catalogue: the public list of record types, and the sources (agencies) allowed to submit them.

A record type is the unit of legality: it cites the law that makes such a record, how serious it is, and
how long it may be published and counted. Each record type maps onto a charter record domain
(``domain``) and each source declares its kind and empowering statute (``kind``, ``statute``): the
charter bases shipped in ``xinyong/charter/``. The schema keeps these as plain optional strings so that
the linter, not a parse error, explains what is wrong, and only for the entries a policy uses: one bad
entry in a shared catalogue does not make every policy over it unloadable.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from xinyong.model.base import Frozen
from xinyong.model.errors import NotFound
from xinyong.model.identifiers import SubjectKind

ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


class Polarity(StrEnum):
    """Whether a record type is a finding against the subject or in its favour."""

    NEGATIVE = "negative"
    POSITIVE = "positive"


class RecordType(Frozen):
    id: str = Field(pattern=ID_PATTERN, description="Stable dotted id, e.g. court.refuse_perform")
    name: str
    category: str = Field(description="Catalogue category; prohibited grounds are refused by lint")
    domain: str | None = Field(
        default=None, description="Charter record domain (xinyong/charter/record_domains.yaml)"
    )
    severity: Severity = Severity.GENERAL
    polarity: Polarity = Polarity.NEGATIVE
    legal_basis: str | None = Field(default=None, description="The law that makes such a record")
    evidence: str = Field(
        default="adjudicated_decision",
        description="What the record rests on; only adjudicated decisions of accountable officers",
    )
    subject_kinds: list[SubjectKind] = Field(
        default_factory=lambda: [SubjectKind.ORGANISATION, SubjectKind.PERSON]
    )
    default_validity_days: int = Field(gt=0, description="How long a record stays active")
    publication_days: int = Field(default=0, ge=0, description="Maximum publication window")
    amount_unit: str | None = Field(default=None, description="Currency of the amount, if any")
    description: str = ""


class Source(Frozen):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    kind: str | None = Field(
        default=None,
        description="Charter source kind: court, administrative_organ or authorised_body",
    )
    statute: str | None = Field(default=None, description="The law that empowers the source to decide")
    may_submit: list[str] = Field(description="Record type ids this source may submit")


class Catalogue(Frozen):
    """Record types and sources; loaded from a ``kind: catalogue`` YAML file."""

    kind: str = Field(default="catalogue", pattern="^catalogue$")
    schema_version: int = 1
    record_types: list[RecordType]
    sources: list[Source] = Field(default_factory=list)

    def record_type(self, type_id: str) -> RecordType:
        for rt in self.record_types:
            if rt.id == type_id:
                return rt
        raise NotFound(f"record type {type_id!r} is not in the catalogue", field="type")

    def source(self, source_id: str) -> Source:
        for src in self.sources:
            if src.id == source_id:
                return src
        raise NotFound(f"source {source_id!r} is not registered", field="source")

    def type_ids(self) -> set[str]:
        return {rt.id for rt in self.record_types}
