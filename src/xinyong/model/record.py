"""Records and amendments: append-only facts with content-addressed ids.

The id of a record is a hash of its content, so the same submission twice is one record and any store,
engine or file computes the same id. The canonical text is simple on purpose: the bulk ingest computes
the same hash vectorised in SQL (``sha256`` over the same fields joined by U+001F).
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from pydantic import Field, field_validator, model_validator

from xinyong.model.base import Frozen

FIELD_SEPARATOR = "\x1f"
ID_HEX_CHARS = 32


def content_id(*parts: str) -> str:
    """128-bit hex digest of the parts joined by U+001F (sha256, truncated)."""
    return hashlib.sha256(FIELD_SEPARATOR.join(parts).encode()).hexdigest()[:ID_HEX_CHARS]


def amount_text(amount: Decimal | None) -> str:
    """Canonical amount text: two decimals, as DuckDB prints DECIMAL(18,2); empty when absent."""
    return "" if amount is None else f"{amount:.2f}"


def _no_control_chars(value: str) -> str:
    if any(ord(c) < 32 for c in value):
        raise ValueError("must not contain control characters")
    return value


class Record(Frozen):
    """An adjudicated fact about one subject from one source."""

    subject: str = Field(description="Canonical subject key scheme:value")
    source: str
    type: str
    occurred: date
    decided: date
    document: str = Field(min_length=1, description="Reference of the decision document")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)

    _check_text = field_validator("subject", "source", "type", "document")(_no_control_chars)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Record:
        if self.decided < self.occurred:
            raise ValueError(
                f"decided ({self.decided}) is before occurred ({self.occurred}): "
                "a decision cannot precede the conduct it is about"
            )
        return self

    @cached_property  # hashed once: evaluation and due process read a record's id many times
    def id(self) -> str:
        return content_id(
            self.subject, self.source, self.type, self.occurred.isoformat(),
            self.decided.isoformat(), self.document, amount_text(self.amount),
        )


class AmendmentKind(StrEnum):
    """How a record is changed without editing it.

    Every amendment acts from its ``effective`` date on, so an assessment as of an earlier date is
    unchanged (history stays recomputable):

    - ``correct``: a new amount (other fields: annul and submit anew);
    - ``annul``: the record was wrong (e.g. upheld objection); it stops counting;
    - ``repair``: credit repaired or obligation performed; it stops counting;
    - ``expire``: ended early by its source; it stops counting.
    """

    CORRECT = "correct"
    ANNUL = "annul"
    REPAIR = "repair"
    EXPIRE = "expire"


class Amendment(Frozen):
    record: str = Field(description="Id of the amended record")
    kind: AmendmentKind
    effective: date
    reason: str = Field(min_length=1)
    document: str = Field(min_length=1)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)

    @model_validator(mode="after")
    def _amount_only_for_corrections(self) -> Amendment:
        if self.kind is AmendmentKind.CORRECT and self.amount is None:
            raise ValueError("a correction must give the corrected amount")
        if self.kind is not AmendmentKind.CORRECT and self.amount is not None:
            raise ValueError(f"an amendment of kind {self.kind.value!r} takes no amount")
        return self

    @cached_property  # hashed once: evaluation and due process read a record's id many times
    def id(self) -> str:
        return content_id(
            self.record, self.kind.value, self.effective.isoformat(), self.reason, self.document,
            amount_text(self.amount),
        )
