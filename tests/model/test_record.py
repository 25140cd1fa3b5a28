"""Records and amendments: content-addressed ids, validation that names the field, and the small model
types around them (catalogue look-ups, errors, effects, decision ids)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from xinyong.model.assessment import Decision, Effect
from xinyong.model.catalogue import Catalogue, RecordType, Source
from xinyong.model.errors import CharterViolation, NotFound, XinyongError
from xinyong.model.record import (
    ID_HEX_CHARS,
    Amendment,
    AmendmentKind,
    Record,
    amount_text,
    content_id,
)

FIELDS: dict[str, Any] = {
    "subject": "cn.uscc:914403001922038216",
    "source": "court.enforcement",
    "type": "court.refuse_perform",
    "occurred": date(2025, 11, 1),
    "decided": date(2026, 1, 10),
    "document": "(2026) Jing 0105 Zhi 123",
    "amount": Decimal("250000"),
}


def record(**changes: Any) -> Record:
    return Record(**{**FIELDS, **changes})


def test_same_content_same_id() -> None:
    a, b = record(), record()
    assert a.id == b.id
    assert len(a.id) == ID_HEX_CHARS and int(a.id, 16) >= 0
    assert record(amount=Decimal("250000.00")).id == a.id      # same amount, other spelling


def test_the_id_is_stable_across_releases() -> None:
    # the bulk ingest computes the same hash in SQL: the canonical text must not drift
    assert record().id == content_id(
        "cn.uscc:914403001922038216", "court.enforcement", "court.refuse_perform", "2025-11-01",
        "2026-01-10", "(2026) Jing 0105 Zhi 123", "250000.00")
    assert record().id == "2e52f612174dfcfc09d0557cebe130f2"     # sha256 over U+001F-joined fields
    assert content_id("a", "b") == "f04cdced9736a69da6103f08a4daaf8c"
    assert content_id("a", "b") != content_id("ab") != content_id("a", "", "b")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "cn.ric:11010519491231002X"),
        ("source", "court.other"),
        ("type", "court.breach_finding"),
        ("occurred", date(2025, 11, 2)),
        ("decided", date(2026, 1, 11)),
        ("document", "(2026) Jing 0105 Zhi 124"),
        ("amount", Decimal("250000.01")),
        ("amount", None),
    ],
)
def test_different_content_different_id(field: str, value: Any) -> None:
    assert record(**{field: value}).id != record().id


def test_amount_text() -> None:
    assert amount_text(None) == ""
    assert amount_text(Decimal("3")) == "3.00"
    assert amount_text(Decimal("3.1")) == "3.10"


def test_decided_before_occurred_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        record(occurred=date(2026, 1, 11))
    assert "decided (2026-01-10) is before occurred (2026-01-11)" in str(exc.value)
    assert record(occurred=date(2026, 1, 10)).decided == date(2026, 1, 10)   # same day is fine


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"document": ""}, "document"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("0.001")}, "amount"),
        ({"subject": "cn.uscc:1\n2"}, "subject"),
        ({"type": "a\x1fb"}, "type"),
        ({"decided": "not a date"}, "decided"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_records_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        record(**changes)
    assert [e["loc"][0] for e in exc.value.errors()] == [field]


def test_records_are_immutable() -> None:
    r = record()
    with pytest.raises(ValidationError):
        r.amount = Decimal(1)  # type: ignore[misc]


def amendment(**changes: Any) -> Amendment:
    fields: dict[str, Any] = {"record": record().id, "kind": AmendmentKind.ANNUL,
                              "effective": date(2026, 2, 1), "reason": "objection upheld",
                              "document": "(2026) Jing 0105 Zhi Yi 3"}
    return Amendment(**{**fields, **changes})


def test_amendment_ids_follow_content() -> None:
    assert amendment().id == amendment().id
    assert amendment().id != amendment(kind=AmendmentKind.REPAIR).id
    assert amendment().id != amendment(effective=date(2026, 2, 2)).id
    fix = amendment(kind=AmendmentKind.CORRECT, amount=Decimal("100"))
    assert fix.id != amendment(kind=AmendmentKind.CORRECT, amount=Decimal("101")).id


def test_a_correction_needs_an_amount_and_only_a_correction_has_one() -> None:
    with pytest.raises(ValidationError, match="a correction must give the corrected amount"):
        amendment(kind=AmendmentKind.CORRECT)
    for kind in (AmendmentKind.ANNUL, AmendmentKind.REPAIR, AmendmentKind.EXPIRE):
        with pytest.raises(ValidationError, match=f"an amendment of kind '{kind.value}' takes no amount"):
            amendment(kind=kind, amount=Decimal("1"))
    with pytest.raises(ValidationError):
        amendment(reason="")
    with pytest.raises(ValidationError):
        amendment(kind="update")


# --- catalogue, errors, effects ---------------------------------------------------------------------


def test_catalogue_look_ups_name_the_field() -> None:
    cat = Catalogue(
        record_types=[RecordType(id="t.fine", name="Fine", category="administrative_penalty",
                                 default_validity_days=365)],
        sources=[Source(id="s.agency", name="Agency", may_submit=["t.fine"])],
    )
    assert cat.record_type("t.fine").severity.value == "general"
    assert cat.source("s.agency").may_submit == ["t.fine"]
    assert cat.type_ids() == {"t.fine"}
    with pytest.raises(NotFound) as exc:
        cat.record_type("t.gossip")
    assert exc.value.field == "type" and "'t.gossip' is not in the catalogue" in str(exc.value)
    with pytest.raises(NotFound) as exc:
        cat.source("s.anonymous")
    assert exc.value.field == "source"
    with pytest.raises(ValidationError):
        RecordType(id="Bad Id", name="x", category="c", default_validity_days=1)
    with pytest.raises(ValidationError):
        RecordType(id="t.x", name="x", category="c", default_validity_days=0)


def test_errors_print_their_field() -> None:
    assert str(XinyongError("bad", field="amount")) == "amount: bad"
    assert str(CharterViolation("no")) == "no"
    assert CharterViolation.title == "charter violation"


def test_effect_precedence_orders_deny_review_benefit_allow() -> None:
    assert sorted(Effect, key=lambda e: -e.precedence) == [
        Effect.DENY, Effect.REVIEW, Effect.BENEFIT, Effect.ALLOW]


def test_decision_id_is_content_addressed() -> None:
    d = Decision(subject="s", action="a", purpose="p", as_of=date(2026, 1, 1), effect=Effect.ALLOW,
                 measures=[], legal_basis=[], policy_versions=["x@1"])
    assert d.id == d.model_copy().id
    assert d.id != d.model_copy(update={"purpose": "q"}).id
    assert d.id != d.model_copy(update={"as_of": date(2026, 1, 2)}).id
