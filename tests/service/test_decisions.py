"""The decision index gives the same decisions as deciding from full assessments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from xinyong.model.assessment import Effect
from xinyong.model.record import Record
from xinyong.policy.decide import decide
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import load_policy
from xinyong.service.decisions import DecisionIndex

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 1)
DEBTOR = "cn.ric:11010519491231002X"
CLEAN = "cn.uscc:914403001922038216"


def test_index_matches_full_decisions() -> None:
    lp = load_policy(ROOT / "policies/shixin.yaml")
    rec = Record(subject=DEBTOR, source="court.enforcement", type="court.refuse_perform",
                 occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document="(2026) J 1")
    index = DecisionIndex([lp], AS_OF)
    for subject, records in ((DEBTOR, [rec]), (CLEAN, [])):
        a = evaluate(lp, subject, records, [], AS_OF)
        index.update([a])
        for action in ("transport.flight.purchase", "procurement.bid", "transport.rail.hard_seat"):
            full = decide([(lp.policy, a)], action, "ticket sale", AS_OF)
            fast = index.decision(subject, action, "ticket sale")
            assert fast == full
            assert fast.id == full.id
    effects = list(index.effects([DEBTOR, CLEAN, "cn.ric:unknown"], "transport.flight.purchase"))
    assert effects == [Effect.DENY, Effect.ALLOW, Effect.ALLOW]
