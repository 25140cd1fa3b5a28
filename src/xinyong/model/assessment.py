"""Derived results: assessments (score, tier, listings) and decisions, each with its explanation.

These are what the reference evaluator returns and what the engines must reproduce; they are always
recomputable from records + amendments + policy version + as-of date.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from xinyong.model.base import Frozen
from xinyong.model.effects import Effect as Effect
from xinyong.model.effects import ListKind as ListKind
from xinyong.model.record import content_id


class Contribution(Frozen):
    """One record's part in the score, or why it has none."""

    record: str
    type: str
    decided: date
    points: int = Field(description="Points this record adds (negative for deductions)")
    counted: bool
    note: str = Field(description="Why it counts or not, in words")


class CapAdjustment(Frozen):
    """Points removed (or added back) because a cap over some record types applied."""

    cap: int = Field(description="Index of the cap in the policy")
    period: str = Field(description="Calendar year, or 'all'")
    raw: int
    capped: int


class Listing(Frozen):
    """A list membership in force at the as-of date, with the records and rule that produced it."""

    list_id: str = Field(alias="list")
    kind: ListKind
    since: date
    until: date
    triggered_by: list[str] = Field(description="Ids of the subject's own records behind it")
    rule: str = Field(description="The entry condition in words")
    legal_basis: str


class Assessment(Frozen):
    subject: str
    policy: str
    policy_version: str
    as_of: date
    score: int | None
    tier: str | None
    listings: list[Listing]
    contributions: list[Contribution]
    caps: list[CapAdjustment] = Field(default_factory=list)

    def listed_on(self) -> set[str]:
        return {x.list_id for x in self.listings}


class AppliedMeasure(Frozen):
    measure: str
    policy: str
    because: str = Field(description="'list:<id>' or 'tier:<name>'")
    effect: Effect
    agency: str
    legal_basis: str
    description: str = ""


class Decision(Frozen):
    """The answer to a relying party: an effect and its legal basis. It carries no records and no score."""

    subject: str
    action: str
    purpose: str
    as_of: date
    effect: Effect
    measures: list[AppliedMeasure]
    legal_basis: list[str]
    policy_versions: list[str]

    @property
    def id(self) -> str:
        """Content-addressed: the same question under the same policies gets the same decision id."""
        return content_id(
            self.subject, self.action, self.purpose, self.as_of.isoformat(), self.effect.value,
            ",".join(m.measure for m in self.measures), ",".join(self.policy_versions),
        )
