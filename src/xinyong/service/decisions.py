"""Decisions from an in-memory index: subject → (tier, lists) per policy, never a query per decision.

Most subjects share a handful of states, so a decision is computed once per distinct state and action
and then shared: a batch check is a dict lookup per subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from xinyong.model.assessment import Assessment, Decision, Effect
from xinyong.policy.decide import PolicyState, decide_states
from xinyong.policy.loader import LoadedPolicy

State = tuple[tuple[str | None, frozenset[str]], ...]  # per policy, in order: (tier, lists)


@dataclass
class DecisionIndex:
    """Every subject's state under a set of policies as of one date."""

    policies: list[LoadedPolicy]
    as_of: date
    states: dict[str, State] = field(default_factory=dict)
    seq: int = 0  # the audit head this index reflects (the store's change sequence)
    _cache: dict[tuple[State, str], Decision] = field(default_factory=dict)

    def set_state(self, subject: str, per_policy: Iterable[tuple[str | None, frozenset[str]]]) -> None:
        self.states[subject] = tuple(per_policy)

    def update(self, assessments: list[Assessment]) -> None:
        """Replace one subject's state after single-subject re-evaluation (assessments in policy order)."""
        self.set_state(assessments[0].subject,
                       ((a.tier, frozenset(a.listed_on())) for a in assessments))

    def _blank(self) -> State:
        return tuple((None, frozenset()) for _ in self.policies)

    def _template(self, state: State, action: str) -> Decision:
        key = (state, action)
        hit = self._cache.get(key)
        if hit is None:
            states = [PolicyState(lp.policy, tier, lists)
                      for lp, (tier, lists) in zip(self.policies, state, strict=True)]
            hit = self._cache[key] = decide_states("", states, action, "", self.as_of)
        return hit

    def decision(self, subject: str, action: str, purpose: str) -> Decision:
        template = self._template(self.states.get(subject) or self._blank(), action)
        return template.model_copy(update={"subject": subject, "purpose": purpose})

    def effects(self, subjects: Iterable[str], action: str) -> Iterator[Effect]:
        """Effects only: the hot path of batch checks (≈ one dict lookup per subject)."""
        states, blank = self.states, self._blank()
        local: dict[State, Effect] = {}
        for s in subjects:
            st = states.get(s, blank)
            eff = local.get(st)
            if eff is None:
                eff = local[st] = self._template(st, action).effect
            yield eff
