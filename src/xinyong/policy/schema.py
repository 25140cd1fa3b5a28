"""Pydantic models of a policy document (``kind: policy``); the JSON Schema is exported from these.

Fields that the charter constrains (``subject`` of a condition, ``target``, ``kind`` and ``discloses``
of a measure, ``attribute`` conditions, missing legal bases and durations) are accepted by the schema on
purpose: the charter linter then refuses them with a rule code and a reason, which teaches more than a
parse error would.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from xinyong.model.base import Frozen
from xinyong.model.catalogue import ID_PATTERN, Severity
from xinyong.model.effects import Effect, ListKind
from xinyong.model.identifiers import SubjectKind

ACTION_PATTERN = ID_PATTERN


# --- conditions -------------------------------------------------------------------------------------


class RecordCondition(Frozen):
    """Holds when the subject's own active records of ``types`` meet the thresholds.

    ``at_least`` records (default 1), decided within ``within_days`` before the as-of date if given,
    whose amounts sum to ``amount_at_least`` if given.
    """

    types: list[str] = Field(min_length=1)
    at_least: int = Field(default=1, ge=1)
    within_days: int | None = Field(default=None, gt=0)
    amount_at_least: Decimal | None = Field(default=None, gt=0)
    subject: str = Field(default="self", description="Whose records: only 'self' is lawful (XC101)")


class TierCondition(Frozen):
    tier_in: list[str] = Field(min_length=1)


class AttributeCondition(Frozen):
    """Reads a fairness attribute (region, age band...). Always refused by the linter (XC302)."""

    attribute: str
    in_: list[str] = Field(alias="in", default_factory=list)


class AllCondition(Frozen):
    all: list[Condition] = Field(min_length=1)


class AnyCondition(Frozen):
    any: list[Condition] = Field(min_length=1)


class NotCondition(Frozen):
    not_: Condition = Field(alias="not")


_CONDITION_KEYS = {
    "all": "all", "any": "any", "not": "not", "not_": "not", "tier_in": "tier",
    "attribute": "attribute", "types": "record",
}


def _condition_tag(value: Any) -> str | None:
    keys = value.keys() if isinstance(value, dict) else vars(value).keys()
    for key, tag in _CONDITION_KEYS.items():
        if key in keys:
            return tag
    return None


Condition = Annotated[
    Annotated[RecordCondition, Tag("record")]
    | Annotated[TierCondition, Tag("tier")]
    | Annotated[AttributeCondition, Tag("attribute")]
    | Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message=(
            "a condition needs one of: types, tier_in, all, any, not"
        ),
    ),
]


for _model in (AllCondition, AnyCondition, NotCondition):
    _model.model_rebuild()


# --- scoring and tiers ------------------------------------------------------------------------------


class ScoreRule(Frozen):
    """Points for each active record of ``type``: fixed ``points``, or ``points_per_unit`` per whole
    ``unit`` of its amount, at most ``max_points`` in magnitude per record."""

    type: str
    points: int | None = None
    points_per_unit: int | None = None
    unit: int | None = Field(default=None, gt=0, description="Amount per point, whole currency units")
    max_points: int | None = Field(default=None, gt=0)
    counts_for_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_way_of_scoring(self) -> ScoreRule:
        if (self.points is None) == (self.points_per_unit is None):
            raise ValueError("give exactly one of points or points_per_unit")
        if self.points_per_unit is not None and self.unit is None:
            raise ValueError("points_per_unit needs unit (the amount that earns one step)")
        return self


class Cap(Frozen):
    """Clamp the summed points of ``types`` to [min, max], per calendar year of decision or overall."""

    types: list[str] = Field(min_length=1)
    min: int | None = None
    max: int | None = None
    per: Literal["year", "all"] = "all"

    @model_validator(mode="after")
    def _bounds(self) -> Cap:
        if self.min is None and self.max is None:
            raise ValueError("a cap needs min or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Scoring(Frozen):
    base: int
    rules: list[ScoreRule] = Field(default_factory=list)
    caps: list[Cap] = Field(default_factory=list)


class Tier(Frozen):
    """A tier is reached when the score is at least ``min`` and ``when`` (if any) holds.

    Tiers are tried in order, best first; the last one has neither ``min`` nor ``when`` (the floor).
    """

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_+-]*$")
    min: int | None = None
    when: Condition | None = None
    description: str = ""


# --- lists and measures -----------------------------------------------------------------------------


class Publication(Frozen):
    """What a public list view shows for this list. Persons are always masked (XC701)."""

    publish: bool = False
    fields: list[str] = Field(default_factory=lambda: ["masked_name", "reason"])
    days: int | None = Field(default=None, gt=0, description="At most the listing's duration")


ExitCondition = Literal["obligation_fulfilled", "expiry", "repair", "annulment"]
EXIT_CONDITIONS: tuple[ExitCondition, ...] = ("obligation_fulfilled", "expiry", "repair", "annulment")


class ListDef(Frozen):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    kind: ListKind
    legal_basis: str | None = None
    entry: Condition
    max_duration_days: int | None = Field(default=None, gt=0)
    exit: list[ExitCondition] = Field(
        default_factory=lambda: list(EXIT_CONDITIONS)
    )
    severity: Severity = Severity.GENERAL
    takes_effect: Literal["after_notice", "immediately"] = "after_notice"
    publication: Publication = Field(default_factory=Publication)
    description: str = ""


class Measure(Frozen):
    """While ``list`` holds (or the tier is one of ``tiers``), ``effect`` applies to ``action``."""

    id: str = Field(pattern=ID_PATTERN)
    on_list: str | None = Field(default=None, alias="list")
    tiers: list[str] | None = None
    kind: str | None = Field(
        default=None,
        description="The charter measure kind (xinyong/charter/measure_kinds.yaml) that governs the action",
    )
    action: str = Field(pattern=ACTION_PATTERN, description="e.g. transport.flight.purchase")
    effect: Literal[Effect.DENY, Effect.REVIEW, Effect.BENEFIT]
    agency: str
    legal_basis: str | None = None
    target: str = Field(default="listed_subject", description="Only the listed subject (XC102)")
    discloses: list[str] = Field(default_factory=list, description="Data shown to relying parties")
    description: str = ""

    @model_validator(mode="after")
    def _one_trigger(self) -> Measure:
        if (self.on_list is None) == (self.tiers is None):
            raise ValueError("a measure applies either to a list or to tiers (give exactly one)")
        return self


# --- procedure --------------------------------------------------------------------------------------


class RepairWindows(Frozen):
    """Minimum days after the decision before a repair may be granted, by severity."""

    minor: int = Field(default=0, ge=0)
    general: int = Field(default=90, ge=0)
    serious: int = Field(default=365, ge=0)


class Procedure(Frozen):
    notice_days: int | None = Field(default=None, ge=0, description="Notice before a listing takes effect")
    objection_days: int | None = Field(default=None, ge=0)
    appeal_days: int | None = Field(default=None, ge=0)
    review_working_days: int = Field(default=10, gt=0)
    expedited_review_working_days: int = Field(default=3, gt=0)
    repair_min_days: RepairWindows = Field(default_factory=RepairWindows)
    calendar: str = Field(
        default="cn", pattern=r"^[a-z][a-z0-9_]*$",
        description="Working-day calendar for deadlines (xinyong/charter/calendars/<name>-<year>.yaml)",
    )


# --- the document -----------------------------------------------------------------------------------


class Policy(Frozen):
    kind: Literal["policy"] = "policy"
    schema_version: Literal[1] = 1
    id: str = Field(pattern=ID_PATTERN)
    version: str = Field(min_length=1)
    title: str
    description: str = ""
    effective_from: date | None = None
    catalogue: str = Field(description="Path of the catalogue file, relative to this file")
    applies_to: list[SubjectKind] = Field(
        default_factory=lambda: [SubjectKind.ORGANISATION, SubjectKind.PERSON]
    )
    scoring: Scoring | None = None
    tiers: list[Tier] = Field(default_factory=list)
    lists: list[ListDef] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    procedure: Procedure = Field(default_factory=Procedure)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def list_def(self, list_id: str) -> ListDef:
        for lst in self.lists:
            if lst.id == list_id:
                return lst
        raise KeyError(list_id)
