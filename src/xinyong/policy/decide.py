"""Decisions for relying parties: which measures apply to an action, and the effect that wins.

Precedence when several measures apply: deny > review > benefit > allow (documented in
docs/policy-language.md). A measure on action ``a.b`` also covers ``a.b.c``: relying parties ask about
specific actions, policies restrict families of them.

A decision depends only on each policy's tier and lists for the subject, never on records or score:
that is what makes minimal disclosure (charter rule 6) structural rather than a promise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from xinyong.model.assessment import AppliedMeasure, Assessment, Decision, Effect
from xinyong.policy.schema import Measure, Policy


@dataclass(frozen=True)
class PolicyState:
    """What a decision may read of an assessment: the tier and the lists in force."""

    policy: Policy
    tier: str | None
    lists: frozenset[str]

    @classmethod
    def of(cls, policy: Policy, assessment: Assessment) -> PolicyState:
        return cls(policy, assessment.tier, frozenset(assessment.listed_on()))


def action_covers(measure_action: str, action: str) -> bool:
    return action == measure_action or action.startswith(measure_action + ".")


def applied_measures(state: PolicyState, action: str) -> list[AppliedMeasure]:
    """The measures of one policy that apply to ``action`` in this state."""
    out: list[AppliedMeasure] = []
    for m in state.policy.measures:
        if not action_covers(m.action, action):
            continue
        because = _because(m, state.lists, state.tier)
        if because is None:
            continue
        out.append(AppliedMeasure(measure=m.id, policy=state.policy.ref, because=because,
                                  effect=m.effect, agency=m.agency,
                                  legal_basis=m.legal_basis or "", description=m.description))
    return out


def _because(m: Measure, listed: frozenset[str], tier: str | None) -> str | None:
    if m.on_list is not None:
        return f"list:{m.on_list}" if m.on_list in listed else None
    if tier is not None and m.tiers is not None and tier in m.tiers:
        return f"tier:{tier}"
    return None


def decide_states(
    subject: str, states: Iterable[PolicyState], action: str, purpose: str, as_of: date
) -> Decision:
    """Combine every policy's measures for one subject and action into one decision."""
    measures: list[AppliedMeasure] = []
    versions: list[str] = []
    for state in states:
        versions.append(state.policy.ref)
        measures.extend(applied_measures(state, action))
    measures.sort(key=lambda m: (-m.effect.precedence, m.policy, m.measure))
    effect = measures[0].effect if measures else Effect.ALLOW
    winning = [m for m in measures if m.effect is effect]
    bases = list(dict.fromkeys(m.legal_basis for m in winning))
    return Decision(subject=subject, action=action, purpose=purpose, as_of=as_of, effect=effect,
                    measures=winning, legal_basis=bases, policy_versions=sorted(versions))


def decide(
    pairs: Iterable[tuple[Policy, Assessment]], action: str, purpose: str, as_of: date
) -> Decision:
    """Decision from full assessments (each as of ``as_of``) of one subject under several policies."""
    pairs = list(pairs)
    for _, assessment in pairs:
        if assessment.as_of != as_of:
            raise ValueError(f"assessment is as of {assessment.as_of}, decision as of {as_of}")
    subject = pairs[0][1].subject if pairs else ""
    return decide_states(subject, (PolicyState.of(p, a) for p, a in pairs), action, purpose, as_of)
