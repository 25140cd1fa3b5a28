"""Small sqlglot builders shared by the compiler: literals, dates, aggregates with FILTER.

Everything the compiler emits goes through these, so that a policy constant never becomes SQL text by
string formatting (type ids, list ids and tier names are always string literals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlglot import exp


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def lit(value: str | int | Decimal) -> exp.Expr:
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, Decimal):
        return exp.Literal.number(format(value, "f"))
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def date_lit(d: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(d.isoformat()), exp.DataType.Type.DATE)


def null_date() -> exp.Expr:
    return exp.cast(exp.null(), exp.DataType.Type.DATE)


def in_list(column: exp.Expr, values: Iterable[str]) -> exp.Expr:
    """``column IN (...)``; one value becomes ``=``, none becomes FALSE."""
    vals = sorted(set(values))
    if not vals:
        return exp.false()
    if len(vals) == 1:
        return exp.EQ(this=column.copy(), expression=lit(vals[0]))
    return column.copy().isin(*(lit(v) for v in vals))


def and_(*conds: exp.Expr) -> exp.Expr:
    parts = [c for c in conds if not isinstance(c, exp.Boolean) or not c.this]
    if any(isinstance(c, exp.Boolean) and not c.this for c in conds):
        return exp.false()
    if not parts:
        return exp.true()
    return exp.and_(*parts, copy=True) if len(parts) > 1 else parts[0].copy()


def or_(*conds: exp.Expr) -> exp.Expr:
    return exp.or_(*conds, copy=True) if len(conds) > 1 else conds[0].copy()


def paren(e: exp.Expr) -> exp.Expr:
    """Parenthesise AND/OR operands (nothing else needs it)."""
    return exp.Paren(this=e.copy()) if isinstance(e, exp.Connector) else e.copy()


def filtered(agg: exp.Expr, cond: exp.Expr) -> exp.Expr:
    """``AGG(...) FILTER (WHERE cond)``, or plain ``AGG(...)`` when cond is TRUE."""
    if isinstance(cond, exp.Boolean) and cond.this:
        return agg
    return exp.Filter(this=agg, expression=exp.Where(this=cond.copy()))


def greatest(items: Sequence[exp.Expr]) -> exp.Expr:
    """The largest non-NULL argument (NULL when all are NULL), in every dialect."""
    if not items:
        return null_date()
    if len(items) == 1:
        return items[0].copy()
    return exp.Greatest(this=items[0].copy(), expressions=[i.copy() for i in items[1:]],
                        ignore_nulls=True)


def least(items: Sequence[exp.Expr]) -> exp.Expr:
    if len(items) == 1:
        return items[0].copy()
    return exp.Least(this=items[0].copy(), expressions=[i.copy() for i in items[1:]], ignore_nulls=True)


def case(whens: Sequence[tuple[exp.Expr, exp.Expr]],
         default: exp.Expr | None = None) -> exp.Expr:
    c = exp.Case()
    for cond, value in whens:
        c = c.when(cond.copy(), value.copy(), copy=False)  # c is new here: no copy of it per branch
    if default is not None:
        c = c.else_(default.copy(), copy=False)
    return c


def coalesce(e: exp.Expr, default: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=e.copy(), expressions=[default.copy()])


def intdiv(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.IntDiv(this=a, expression=b)
