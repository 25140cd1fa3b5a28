"""The registry use cases on a real DuckDB file: publish, add, evaluate, decide, explain, list, audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xinyong.model.assessment import Effect
from xinyong.model.errors import InvalidInput, NotFound, PolicyError
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 1)
DEBTOR = "cn.ric:11010519491231002X"
COMPANY = "cn.uscc:914403001922038216"


def debt(subject: str = DEBTOR, decided: date = date(2026, 1, 10)) -> Record:
    return Record(subject=subject, source="court.enforcement", type="court.refuse_perform",
                  occurred=date(2025, 11, 1), decided=decided, document="(2026) Jing 0105 Zhi 1")


@pytest.fixture
def reg(stores: Stores) -> Registry:
    store = stores.open()
    registry = Registry(store, actor="test")
    registry.publish([ROOT / "policies"])
    return registry


def test_publish_is_idempotent_and_refuses_charter_violations(reg: Registry) -> None:
    again = reg.publish([ROOT / "policies"])
    assert {p.policy for p in again} == {"shixin", "corporate", "rongcheng"}
    assert not any(p.new for p in again)
    with pytest.raises(PolicyError) as exc:
        reg.publish([ROOT / "policies/examples/rejected/rule1-relatives.yaml"])
    assert any(p.code.startswith("XC1") for p in exc.value.problems)


def test_a_new_record_changes_the_decision_at_once_and_repair_ends_it(reg: Registry) -> None:
    flight = "transport.flight.purchase"
    assert reg.check(DEBTOR, flight, "ticket sale", AS_OF).effect is Effect.ALLOW
    reg.store.add_records([debt()], actor="court")
    d = reg.check(DEBTOR, flight, "ticket sale", AS_OF)
    assert d.effect is Effect.DENY
    assert d.legal_basis == ["SPC Provisions on Restricting High Consumption (2015), art. 3(1)"]
    assert "score" not in d.model_dump() and "records" not in d.model_dump()
    reg.store.add_amendments([Amendment(record=debt().id, kind=AmendmentKind.REPAIR,
                                        effective=AS_OF, reason="performed", document="receipt")])
    assert reg.check(DEBTOR, flight, "ticket sale", AS_OF).effect is Effect.ALLOW
    assert reg.check(DEBTOR, flight, "ticket sale", date(2026, 2, 28)).effect is Effect.DENY


def test_evaluate_snapshot_batch_check_and_lists(reg: Registry) -> None:
    reg.store.add_records([debt(), debt(COMPANY, date(2025, 12, 1))], actor="court")
    runs = reg.evaluate(AS_OF)
    assert {r.policy for r in runs} == {"shixin", "corporate", "rongcheng"}
    lp, rows = reg.listings("shixin", AS_OF)
    assert lp.policy.id == "shixin"
    assert {r.subject for r in rows} == {DEBTOR, COMPANY}
    decisions = reg.check_batch([DEBTOR, "914403001922038216", "110105198001010016"],
                                "transport.flight.purchase", "manifest", AS_OF)
    assert [d.effect for d in decisions] == [Effect.DENY, Effect.DENY, Effect.ALLOW]
    single = reg.check(COMPANY, "transport.flight.purchase", "manifest", AS_OF)
    assert decisions[1].id == single.id


def test_check_needs_a_purpose_and_a_valid_subject(reg: Registry) -> None:
    with pytest.raises(InvalidInput, match="purpose"):
        reg.check(DEBTOR, "transport.flight.purchase", "  ", AS_OF)
    with pytest.raises(InvalidInput, match="not a valid"):
        reg.check("11010519491231002Y", "transport.flight.purchase", "x", AS_OF)
    with pytest.raises(NotFound, match="lists:"):
        reg.listings("no_such_list")


def test_reads_and_writes_are_audited_and_the_chain_verifies(reg: Registry) -> None:
    reg.store.add_records([debt()], actor="court")
    reg.check(DEBTOR, "transport.flight.purchase", "ticket sale", AS_OF)
    reg.explain(DEBTOR, AS_OF)
    entries = list(reg.store.audit_entries())
    actions = [e.entry.action for e in entries]
    assert {"publish", "add_records", "decide", "explain"} <= set(actions)
    decide = next(e.entry for e in entries if e.entry.action == "decide")
    assert (decide.subject, decide.purpose, decide.actor) == (DEBTOR, "ticket sale", "test")
    assert reg.verify_audit().ok
