"""Conditions in words, for explanations, notices and lint messages."""

from __future__ import annotations

from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    NotCondition,
    RecordCondition,
    TierCondition,
)


def describe(cond: Condition) -> str:
    """A short English rendering of a condition, e.g. 'at least 2 of [a, b] within 365 days'."""
    if isinstance(cond, RecordCondition):
        types = ", ".join(cond.types)
        text = f"a record of [{types}]" if cond.at_least == 1 else f"at least {cond.at_least} of [{types}]"
        if cond.within_days is not None:
            text += f" decided within {cond.within_days} days"
        if cond.amount_at_least is not None:
            text += f" with amounts totalling at least {cond.amount_at_least}"
        return text
    if isinstance(cond, TierCondition):
        return f"tier in [{', '.join(cond.tier_in)}]"
    if isinstance(cond, AllCondition):
        return "all of (" + "; ".join(describe(c) for c in cond.all) + ")"
    if isinstance(cond, AnyCondition):
        return "any of (" + "; ".join(describe(c) for c in cond.any) + ")"
    if isinstance(cond, NotCondition):
        return f"not ({describe(cond.not_)})"
    assert isinstance(cond, AttributeCondition)
    return f"attribute {cond.attribute} in [{', '.join(cond.in_)}]"
