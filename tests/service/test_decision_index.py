"""The columnar decision index against the one-subject-at-a-time truth, on every backend.

A seeded synthetic population is evaluated, then given what due process is about: listings still in
their notice period (new, and renewing an episode that began long ago), listings suspended by an open
objection, an objection decided, and a write after the snapshot. Every subject's decision from the
index, for every action a measure governs, must equal deciding from ``Registry.assess_in_force`` (what
``Registry.check`` does). A subject the register has never seen is decided with no state, as it always
was: for a person that is also what ``check`` says; ``check`` grades an unseen company's empty file,
the index does not.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from xinyong.model.assessment import Effect
from xinyong.model.case import CaseStatus
from xinyong.model.record import Record
from xinyong.policy.decide import PolicyState, decide_states
from xinyong.policy.loader import load_policy
from xinyong.service.cases import CaseService
from xinyong.service.decisions import DecisionIndex
from xinyong.service.demo import DEMO_AS_OF, build_demo
from xinyong.service.index_build import build_index
from xinyong.service.index_due import apply_due_process
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = DEMO_AS_OF
UNKNOWN = ["cn.ric:360426199101010071", "cn.uscc:91110000600037341L", "cn.ric:11010519491231002X"]


def _fraud(subject: str, decided: date, n: int) -> Record:
    return Record(subject=subject, source="finance.procurement", type="procurement.fraud",
                  occurred=decided - timedelta(days=30), decided=decided, document=f"Cai Ku {n}")


def _smuggling(subject: str, decided: date) -> Record:
    return Record(subject=subject, source="customs.gacc", type="customs.smuggling_penalty",
                  occurred=decided - timedelta(days=60), decided=decided, document=f"Hai Guan {subject[-4:]}")


def test_the_index_decides_like_check_for_every_subject(stores: Stores, tmp_path: Path) -> None:
    url = stores.url()
    build_demo(url if stores.backend == "postgres" else Path(url), ROOT / "policies", subjects=600, seed=11,
               as_of=AS_OF, data_dir=tmp_path / "data")
    with stores.open() as store:
        reg = Registry(store, actor="test")
        everyone = [r.id for r in store.subjects(limit=10_000)]
        orgs = [r.id for r in store.subjects(limit=10_000) if r.kind == "organisation"]
        known = set(everyone)
        assert not known & set(UNKNOWN)
        new, renewed, objected, rejected, smuggler, late = orgs[:6]
        store.add_records([
            _fraud(new, AS_OF - timedelta(days=3), 1),  # proposed: in its notice period
            _fraud(renewed, AS_OF - timedelta(days=400), 2),  # an episode long in force ...
            _fraud(renewed, AS_OF - timedelta(days=2), 3),  # ... renewed: still in force
            _fraud(objected, AS_OF - timedelta(days=20), 4),  # in force, then objected: suspended
            _fraud(rejected, AS_OF - timedelta(days=25), 5),  # objected, objection rejected: in force
            _smuggling(smuggler, AS_OF - timedelta(days=4)),  # proposed on the customs list
        ])
        subject_side, reviewer = CaseService(Registry(store, actor="subject")), CaseService(
            Registry(store, actor="reviewer:li"))
        subject_side.object(objected, "list:procurement_blacklist", "not our bid", AS_OF - timedelta(days=5))
        case = subject_side.object(rejected, "list:procurement_blacklist", "not ours", AS_OF - timedelta(days=20))
        reviewer.decide(case.id, CaseStatus.REJECTED, "the documents match", AS_OF - timedelta(days=10))
        reg.evaluate(AS_OF)  # a snapshot after the cases: due process is the index's to apply
        # due process by one query per day of the notice period, and by reading and walking each file
        policies = reg.policies(AS_OF)
        runs = [r for lp in policies if (r := store.latest_run(lp.policy.id, AS_OF)) is not None]
        by_query, by_file = (build_index(store, policies, [r.run for r in runs], AS_OF) for _ in range(2))
        assert apply_due_process(by_query, store, runs, AS_OF, reg.schemes) == \
            apply_due_process(by_file, store, runs, AS_OF, reg.schemes, max_replay_days=0) > 0
        assert dict(by_query.states) == dict(by_file.states)
        store.add_records([_fraud(late, AS_OF - timedelta(days=40), 6)])  # after it: the change sequence

        index = reg.decision_index(AS_OF)
        actions = sorted({m.action for lp in reg.policies(AS_OF) for m in lp.policy.measures}
                         | {"transport.flight.purchase", "procurement.bid", "nothing.governs.this"})
        effects = {a: list(index.effects([*everyone, *UNKNOWN], a)) for a in actions}
        seen: set[Effect] = set()
        policies = reg.policies(AS_OF)
        for i, subject in enumerate([*everyone, *UNKNOWN]):
            if subject in known:
                states = [PolicyState.of(lp.policy, a) for lp, a in reg.assess_in_force(subject, AS_OF)]
            else:  # never seen, never written about: no state (an empty file would grade a company A)
                states = [PolicyState(lp.policy, None, frozenset()) for lp in policies]
            for action in actions:
                truth = decide_states(subject, states, action, "test", AS_OF)
                got = index.decision(subject, action, "test")
                assert got == truth, (subject, action)
                assert got.id == truth.id
                assert effects[action][i] is truth.effect
                seen.add(truth.effect)
        assert seen == {Effect.ALLOW, Effect.DENY, Effect.REVIEW, Effect.BENEFIT}
        bid = {s: index.decision(s, "procurement.bid", "t").effect for s in orgs[:6]}
        assert bid[new] is not Effect.DENY and bid[objected] is not Effect.DENY
        assert bid[renewed] is Effect.DENY and bid[rejected] is Effect.DENY and bid[late] is Effect.DENY
        assert index.decision(smuggler, "customs.inspection", "t").effect is not Effect.REVIEW
        for subject in (new, renewed, objected, rejected, *UNKNOWN):
            for action in actions:  # `check` (one subject, from its file) and the index answer alike
                assert reg.check(subject, action, "t", AS_OF) == index.decision(subject, action, "t")
        batch = reg.check_batch([*everyone[:50], *UNKNOWN], "procurement.bid", "t", AS_OF)
        assert [d.effect for d in batch] == effects["procurement.bid"][:50] + effects["procurement.bid"][-3:]


def test_a_state_no_measure_reads_takes_no_entry() -> None:
    lp = load_policy(ROOT / "policies/corporate.yaml")
    index = DecisionIndex([lp], AS_OF)
    index.set_state("cn.uscc:a", [("B", frozenset({"unknown_list"}))])  # no measure names tier B
    index.set_state("cn.uscc:b", [("A", frozenset({"customs_aeo"}))])
    assert "cn.uscc:a" not in index.states and index.state("cn.uscc:a") == index.blank
    assert index.states["cn.uscc:b"] == (("A", frozenset({"customs_aeo"})),)
    index.set_state("cn.uscc:b", [(None, frozenset())])  # back to blank: the entry goes
    assert len(index.states) == 0 and len(index.table) == 2
    with pytest.raises(ValueError, match="blank"):
        index.load(["cn.uscc:c"], [0])
