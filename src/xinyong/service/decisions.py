"""Decisions from an in-memory index: subject → state per policy, never a query per decision.

A decision reads, of each policy, only the tier if some measure names it and the lists some measure
names (``policy/decide.py``); any other tier or list leads to exactly the decision of no state at all.
So the index *reduces* every state to what measures read, and keeps an entry only for a subject whose
reduced state is not that blank one. Everyone else (most of a register: a tier no measure names, no
list a measure reads) and every unknown subject is answered from the blank state with no entry at all:
memory grows with the subjects that carry a measure, not with the register.

The distinct reduced states are a small table (a few dozen rows); a subject's entry is its row number
(a small int, shared by the interpreter), and a decision is computed once per row and action, then
shared. A look-up is one dict probe and one list index: a dict keyed by the subject's own string is what
Python hashes fastest, and a columnar search (NumPy ``searchsorted``) costs more per key than the probe.
The index is built in bulk from the snapshot's columns (``service/index_build.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import repeat

from xinyong.model.assessment import Assessment, Decision, Effect
from xinyong.policy.decide import PolicyState, decide_states
from xinyong.policy.loader import LoadedPolicy

PolicyPart = tuple[str | None, frozenset[str]]  # one policy's (tier, lists)
State = tuple[PolicyPart, ...]  # per policy, in order


@dataclass(frozen=True, slots=True)
class MeasureReads:
    """What the measures of one policy read: the tiers and lists that can change a decision."""

    tiers: frozenset[str]
    lists: frozenset[str]

    @classmethod
    def of(cls, lp: LoadedPolicy) -> MeasureReads:
        ms = lp.policy.measures
        return cls(frozenset(t for m in ms for t in m.tiers or ()),
                   frozenset(m.on_list for m in ms if m.on_list is not None))

    def reduce(self, tier: str | None, lists: Iterable[str]) -> PolicyPart:
        return (tier if tier in self.tiers else None), frozenset(x for x in lists if x in self.lists)


class DecisionIndex:
    """Every subject's reduced state under a set of policies as of one date.

    Writers (``set_state``, ``update``, ``load``) may run on another thread than readers: a new state is
    appended to the table before any subject points at it, so a reader never sees a row it cannot read.
    """

    def __init__(self, policies: list[LoadedPolicy], as_of: date, seq: int = 0) -> None:
        self.policies = policies
        self.as_of = as_of
        self.seq = seq  # the audit head this index reflects (the store's change sequence)
        self.reads = [MeasureReads.of(lp) for lp in policies]
        self.blank: State = tuple((None, frozenset()) for _ in policies)
        self._table: list[State] = [self.blank]
        self._rows: dict[State, int] = {self.blank: 0}
        self._ids: dict[str, int] = {}  # subject → row, for reduced states other than blank only
        self._cache: dict[tuple[int, str], Decision] = {}

    # -- writing -------------------------------------------------------------------------------------

    def reduce(self, per_policy: Iterable[tuple[str | None, Iterable[str]]]) -> State:
        return tuple(r.reduce(tier, lists) for r, (tier, lists) in zip(self.reads, per_policy, strict=True))

    def row(self, state: State) -> int:
        """The table row of a reduced state, appended if new."""
        row = self._rows.get(state)
        if row is None:
            self._table.append(state)
            row = self._rows[state] = len(self._table) - 1
        return row

    def set_state(self, subject: str, per_policy: Iterable[tuple[str | None, Iterable[str]]]) -> None:
        row = self.row(self.reduce(per_policy))
        if row:
            self._ids[subject] = row
        else:
            self._ids.pop(subject, None)

    def update(self, assessments: list[Assessment]) -> None:
        """Replace one subject's state after single-subject re-evaluation (assessments in policy order)."""
        self.set_state(assessments[0].subject, ((a.tier, a.listed_on()) for a in assessments))

    def load(self, subjects: Sequence[str], rows: Sequence[int]) -> None:
        """Bulk load: ``subjects[i]`` has the state of table row ``rows[i]`` (from :meth:`row`, never 0)."""
        if 0 in rows:
            raise ValueError("a bulk load holds only subjects whose reduced state is not blank")
        self._ids.update(zip(subjects, rows, strict=True))

    # -- reading -------------------------------------------------------------------------------------

    def state(self, subject: str) -> State:
        return self._table[self._ids.get(subject, 0)]

    @property
    def states(self) -> Mapping[str, State]:
        """The subjects that carry a state other than blank, and their reduced states (a live view)."""
        return _StatesView(self._ids, self._table)

    @property
    def table(self) -> list[State]:
        """The distinct reduced states; row 0 is blank."""
        return list(self._table)

    def _template(self, row: int, action: str) -> Decision:
        key = (row, action)
        hit = self._cache.get(key)
        if hit is None:
            states = [PolicyState(lp.policy, tier, lists)
                      for lp, (tier, lists) in zip(self.policies, self._table[row], strict=True)]
            hit = self._cache[key] = decide_states("", states, action, "", self.as_of)
        return hit

    def decision(self, subject: str, action: str, purpose: str) -> Decision:
        row = self._ids.get(subject, 0)
        template = self._cache.get((row, action))
        if template is None:
            template = self._template(row, action)
        return template.model_copy(update={"subject": subject, "purpose": purpose})

    def effects(self, subjects: Iterable[str], action: str) -> Iterator[Effect]:
        """Effects only: the hot path of batch checks (one dict probe and one list index per subject,
        both run by the interpreter's C loops)."""
        rows = list(map(self._ids.get, subjects, repeat(0)))
        # after the rows: the table only grows, so it covers every row read above
        per_row = [self._template(r, action).effect for r in range(len(self._table))]
        return map(per_row.__getitem__, rows)


class _StatesView(Mapping[str, State]):
    __slots__ = ("_ids", "_table")

    def __init__(self, ids: dict[str, int], table: list[State]) -> None:
        self._ids, self._table = ids, table

    def __getitem__(self, subject: str) -> State:
        return self._table[self._ids[subject]]

    def __contains__(self, subject: object) -> bool:
        return subject in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
