"""List and tier conditions compiled to SQL: per-subject aggregates, then boolean/date expressions.

A condition tree becomes, for every subject, a pair (holds, trigger) exactly as
:meth:`xinyong.policy.evaluate._Context.check` computes it. Leaves over records never join: each
distinct (types, within_days) window is three FILTER aggregates in the one GROUP BY subject pass
(count, latest decision, amount sum); ``at_least`` and ``amount_at_least`` are then comparisons on those.

Convention: a trigger expression is NULL whenever its condition does not hold, so ``any`` is simply the
greatest non-NULL trigger of its children and ``all`` the greatest of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlglot import exp

from xinyong.engines.sqlbits import (
    and_,
    case,
    coalesce,
    col,
    date_lit,
    filtered,
    greatest,
    in_list,
    lit,
    or_,
    paren,
)
from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    NotCondition,
    RecordCondition,
    TierCondition,
)

TIER = "tier"
TIER_SINCE = "tier_since"  # latest decision among counted records pushing the score the way it went


class UnsupportedCondition(ValueError):
    """A condition the engine refuses, as the reference evaluator would (charter rules 1 and 3)."""


@dataclass(frozen=True)
class Window:
    """The records a leaf looks at: active records of ``types`` decided within ``within_days``."""

    types: tuple[str, ...]
    within_days: int | None


@dataclass(frozen=True)
class Compiled:
    """``holds`` is never NULL; ``trigger`` is NULL unless the condition holds (None: never a date)."""

    holds: exp.Expr
    trigger: exp.Expr | None


def _leaf_key(cond: RecordCondition) -> tuple[Window, int, str | None]:
    amount = None if cond.amount_at_least is None else format(cond.amount_at_least, "f")
    return Window(tuple(sorted(set(cond.types))), cond.within_days), cond.at_least, amount


class ConditionCompiler:
    """Collects the leaves of every condition of a policy, then compiles trees over their columns."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.windows: dict[Window, int] = {}
        self.amount_windows: set[Window] = set()
        self.leaves: dict[tuple[Window, int, str | None], int] = {}
        self.reads_tier = False  # a tier condition needs the tier's trigger date (two more aggregates)

    # --- collecting ---------------------------------------------------------------------------------

    def register(self, cond: Condition) -> None:
        if isinstance(cond, RecordCondition):
            if cond.subject != "self":
                raise UnsupportedCondition(
                    f"a condition reads records of {cond.subject!r}: only the subject's own records "
                    "may be read (charter rule 1)")
            key = _leaf_key(cond)
            self.windows.setdefault(key[0], len(self.windows))
            if cond.amount_at_least is not None:
                self.amount_windows.add(key[0])
            self.leaves.setdefault(key, len(self.leaves))
        elif isinstance(cond, AllCondition):
            for c in cond.all:
                self.register(c)
        elif isinstance(cond, AnyCondition):
            for c in cond.any:
                self.register(c)
        elif isinstance(cond, NotCondition):
            self.register(cond.not_)
        elif isinstance(cond, TierCondition):
            self.reads_tier = True
        elif isinstance(cond, AttributeCondition):
            raise UnsupportedCondition(
                f"a condition reads the fairness attribute {cond.attribute!r} (charter rule 3)")

    def types(self) -> set[str]:
        return {t for w in self.windows for t in w.types}

    # --- the GROUP BY subject pass ------------------------------------------------------------------

    def _window_filter(self, w: Window) -> exp.Expr:
        cond = in_list(col("type"), w.types)
        if w.within_days is not None:
            since = self.as_of - timedelta(days=w.within_days)
            cond = and_(cond, exp.GT(this=col("decided"), expression=date_lit(since)))
        return cond

    def aggregates(self) -> list[exp.Expr]:
        """Aggregate columns per window: ``w{i}_n``, ``w{i}_last`` and (if needed) ``w{i}_amount``."""
        out: list[exp.Expr] = []
        for w, i in self.windows.items():
            f = self._window_filter(w)
            out.append(filtered(exp.Count(this=exp.Star()), f).as_(f"w{i}_n"))
            out.append(filtered(exp.Max(this=col("decided")), f).as_(f"w{i}_last"))
            if w in self.amount_windows:
                amount = coalesce(col("amount"), lit(0))
                out.append(filtered(exp.Sum(this=amount), f).as_(f"w{i}_amount"))
        return out

    def leaf_columns(self) -> list[exp.Expr]:
        """Per leaf ``c{j}_holds`` and ``c{j}_since`` (NULL unless it holds), from the window columns.

        Subjects without records come through a LEFT JOIN, hence the COALESCEs.
        """
        out: list[exp.Expr] = []
        for (w, at_least, amount), j in self.leaves.items():
            i = self.windows[w]
            holds: exp.Expr = exp.GTE(this=coalesce(col(f"w{i}_n"), lit(0)), expression=lit(at_least))
            if amount is not None:
                holds = and_(holds, exp.GTE(this=coalesce(col(f"w{i}_amount"), lit(0)),
                                            expression=exp.Literal.number(amount)))
            out.append(holds.as_(f"c{j}_holds"))
            if at_least == 1 and amount is None:
                since: exp.Expr = col(f"w{i}_last")  # NULL exactly when no record matched
            else:
                since = case([(holds, col(f"w{i}_last"))])
            out.append(since.as_(f"c{j}_since"))
        return out

    # --- trees --------------------------------------------------------------------------------------

    def compile(self, cond: Condition) -> Compiled:
        if isinstance(cond, RecordCondition):
            j = self.leaves[_leaf_key(cond)]
            return Compiled(col(f"c{j}_holds"), col(f"c{j}_since"))
        if isinstance(cond, TierCondition):
            holds = coalesce(in_list(col(TIER), cond.tier_in), exp.false())
            return Compiled(holds, case([(holds, col(TIER_SINCE))]))
        if isinstance(cond, AllCondition):
            parts = [self.compile(c) for c in cond.all]
            holds = and_(*(paren(p.holds) for p in parts))
            triggers = [p.trigger for p in parts if p.trigger is not None]
            return Compiled(holds, case([(holds, greatest(triggers))]) if triggers else None)
        if isinstance(cond, AnyCondition):
            parts = [self.compile(c) for c in cond.any]
            triggers = [p.trigger for p in parts if p.trigger is not None]
            return Compiled(or_(*(paren(p.holds) for p in parts)),
                            greatest(triggers) if triggers else None)
        if isinstance(cond, NotCondition):
            inner = self.compile(cond.not_)
            return Compiled(exp.Not(this=paren(inner.holds)), None)
        raise UnsupportedCondition(f"unsupported condition {type(cond).__name__}")
