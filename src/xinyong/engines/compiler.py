"""A policy compiled to one SQL query over the whole population (sqlglot; DuckDB, PostgreSQL, Spark).

The semantics are those of :mod:`xinyong.policy.evaluate` (the reference evaluator), reproduced
exactly; a differential test holds the two equal. The query is a chain of named CTEs, so that
``EXPLAIN`` output and a reader can follow it:

``amended``      amendments effective by the as-of date, pre-aggregated per record (most have none):
                 whether one ended it, and the amount of the latest ``correct`` by (effective, id);
``known``        records decided by the as-of date, of the types the policy reads, each id once;
``active``       known records still within their type's validity and not ended, with their current
                 amount and their points (NULL when the record does not count for the score);
``per_subject``  the one pass: GROUP BY subject with FILTER aggregates (free points, each cap
                 period, each condition window, the tier trigger);
``scored``       every subject the policy applies to, LEFT JOIN per_subject: score and leaf columns;
``tiered``       the tier, first (best first) whose ``min`` and ``when`` hold;
``assessed``     for each list, the date its listing started if it is in force as of the date.

Policy constants (validity days, points, caps, thresholds) are inlined as literals; dates are
computed here from the as-of date, so the database compares dates with constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlglot import exp

from xinyong.engines.conditions import TIER, TIER_SINCE, ConditionCompiler
from xinyong.engines.sqlbits import (
    and_,
    case,
    coalesce,
    col,
    date_lit,
    filtered,
    greatest,
    in_list,
    least,
    lit,
    null_date,
    or_,
    paren,
)
from xinyong.model.identifiers import SubjectKind
from xinyong.model.record import AmendmentKind
from xinyong.policy.loader import LoadedPolicy, policy_conditions
from xinyong.policy.schema import ScoreRule

ENDING = (AmendmentKind.ANNUL.value, AmendmentKind.REPAIR.value, AmendmentKind.EXPIRE.value)
DIALECTS = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class ListColumn:
    """Where a list's listing lands in the wide ``assessment`` result: ``list{i}_since``."""

    id: str
    kind: str
    max_duration_days: int
    column: str


@dataclass(frozen=True)
class CompiledPolicy:
    """SQL for one policy; every method takes the as-of date and returns text for ``dialect``."""

    lp: LoadedPolicy
    dialect: str = "duckdb"
    subjects: str = "subjects"
    records: str = "records"
    amendments: str | None = "amendments"  # None: no amendment is effective, the query skips the join
    dedupe: bool = True
    subject_key: str = "subject"  # the column records and subjects are grouped and joined by

    @property
    def lists(self) -> list[ListColumn]:
        out = []
        for i, lst in enumerate(self.lp.policy.lists):
            if lst.max_duration_days is None:
                raise ValueError(f"list {lst.id!r} has no maximum duration (charter rule 4)")
            out.append(ListColumn(lst.id, lst.kind.value, lst.max_duration_days, f"list{i}_since"))
        return out

    def _with(self, as_of: date, final: exp.Select) -> exp.Select:
        for name, sub in _Builder(self, as_of).ctes():
            final = final.with_(name, as_=sub, copy=False)
        return final

    def assessment_query(self, as_of: date) -> exp.Select:
        """Wide result: subject, score, tier, and ``list{i}_since`` per list (NULL unless in force)."""
        return self._with(as_of, exp.select("*").from_("assessed", copy=False))

    def assessment_sql(self, as_of: date, *, pretty: bool = True) -> str:
        return self.assessment_query(as_of).sql(self.dialect, pretty=pretty)

    def scores_sql(self, as_of: date, *, pretty: bool = True) -> str:
        """One row per subject the policy applies to: subject, score, tier."""
        q = exp.select(col("subject"), col("score"), col(TIER)).from_("assessed", copy=False)
        return self._with(as_of, q).sql(self.dialect, pretty=pretty)

    def listings_query(self, as_of: date, source: str = "assessed") -> exp.Select:
        """Listings in force from a wide assessment relation (the CTE, or a table holding its rows)."""
        parts = [_listing_select(lc, source) for lc in self.lists]
        if not parts:
            return exp.select(lit("").as_("subject"), lit("").as_("list"), lit("").as_("kind"),
                              null_date().as_("since"), null_date().as_("until")).where(exp.false(), copy=False)
        union: exp.Query = parts[0]
        for p in parts[1:]:
            union = exp.union(union, p, distinct=False)
        return exp.select("*").from_(exp.Subquery(this=union, alias=exp.TableAlias(
            this=exp.to_identifier("listing"))), copy=False)

    def listings_sql(self, as_of: date, *, pretty: bool = True) -> str:
        """Listings in force as of the date: subject, list, kind, since, until."""
        return self._with(as_of, self.listings_query(as_of)).sql(self.dialect, pretty=pretty)


def _listing_select(lc: ListColumn, source: str) -> exp.Select:
    since = col(lc.column)
    until = exp.cast(exp.DateAdd(this=since.copy(), expression=lit(lc.max_duration_days),
                                 unit=exp.var("DAY")), exp.DataType.Type.DATE)
    return (exp.select(col("subject"), lit(lc.id).as_("list"), lit(lc.kind).as_("kind"),
                       since.as_("since"), until.as_("until"))
            .from_(source, copy=False).where(exp.Is(this=since.copy(), expression=exp.null()).not_(), copy=False))


def compile_policy(lp: LoadedPolicy, dialect: str = "duckdb", *, subjects: str = "subjects",
                   records: str = "records", amendments: str | None = "amendments",
                   dedupe: bool = True, subject_key: str = "subject") -> CompiledPolicy:
    """Compile a loaded policy for a SQL dialect over the tables of migration 001.

    ``dedupe`` keeps each record id once (the reference evaluator's rule); a store that guarantees
    unique ids may turn it off to save a DISTINCT over the records it reads. ``amendments=None`` says no
    amendment is effective by the as-of date (the caller checked), so records are read without the join.
    ``subject_key="sid"`` groups by the integer subject number of migration 011 (``records.sid``, joined
    to ``subjects.sid``) instead of the text key: grouping millions of records by a 26-character text
    was most of the query. The result names subjects by their text key either way.
    """
    if subject_key not in ("subject", "sid"):
        raise ValueError(f"subject_key must be 'subject' or 'sid', not {subject_key!r}")
    compiled = CompiledPolicy(lp, dialect, subjects, records, amendments, dedupe, subject_key)
    compiled.assessment_sql(date(2000, 1, 1))  # refuse what cannot be compiled now, not at run time
    return compiled


class _Builder:
    def __init__(self, cp: CompiledPolicy, as_of: date) -> None:
        self.cp = cp
        self.lp = cp.lp
        self.policy = cp.lp.policy
        self.as_of = as_of
        self.validity = {rt.id: rt.default_validity_days for rt in self.lp.catalogue.record_types}
        self.conds = ConditionCompiler(as_of)
        for cond, _loc in policy_conditions(self.policy):
            self.conds.register(cond)
        scoring = self.policy.scoring
        self.rules: dict[str, ScoreRule] = {r.type: r for r in scoring.rules} if scoring else {}
        self.cap_of = {t: i for i, cap in enumerate(scoring.caps) for t in cap.types} if scoring else {}

    def days_ago(self, days: int) -> exp.Expr:
        return date_lit(self.as_of - timedelta(days=days))

    # --- the record side ----------------------------------------------------------------------------

    def amended(self) -> exp.Select:
        kind = col("kind")
        is_correct = exp.EQ(this=kind.copy(), expression=lit(AmendmentKind.CORRECT.value))
        ranked = (
            exp.select(col("record"), kind.copy(), col("amount"),
                       exp.Window(this=exp.RowNumber(), partition_by=[col("record"), kind.copy()],
                                  order=exp.Order(expressions=[
                                      exp.Ordered(this=col("effective"), desc=True),
                                      exp.Ordered(this=col("id"), desc=True)])).as_("latest"))
            .from_(exp.to_table(self.cp.amendments or "amendments"), copy=False)
            .where(exp.LTE(this=col("effective"), expression=date_lit(self.as_of)), copy=False)
        )
        one = lit(1)
        return (
            exp.select(
                col("record"),
                exp.Max(this=case([(in_list(kind, ENDING), one)], lit(0))).as_("ended"),
                exp.Max(this=case([(is_correct, one)], lit(0))).as_("corrected"),
                exp.Max(this=case([(and_(is_correct, exp.EQ(this=col("latest"), expression=one)),
                                    col("amount"))])).as_("amount"),
            )
            .from_(exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("a"))), copy=False)
            .group_by(col("record"), copy=False)
        )

    def relevant_types(self) -> set[str]:
        return (set(self.rules) | self.conds.types()) & set(self.validity)

    def known(self) -> exp.Select:
        # downstream CTEs call the grouping key ``subject`` whichever column it is
        key = col("subject") if self.cp.subject_key == "subject" else col(self.cp.subject_key).as_("subject")
        cols = ["id", "type", "decided", "amount"]
        q = (exp.select(key, *(col(c) for c in cols)).from_(exp.to_table(self.cp.records), copy=False)
             .where(and_(exp.LTE(this=col("decided"), expression=date_lit(self.as_of)),
                         in_list(col("type"), self.relevant_types())), copy=False))
        return q.distinct() if self.cp.dedupe else q

    def _by_type(self, days_of: dict[str, int]) -> exp.Expr:
        """``decided > as_of - days(type)`` with types grouped by their number of days."""
        groups: dict[int, list[str]] = {}
        for t, d in days_of.items():
            groups.setdefault(d, []).append(t)
        decided = col("decided", "r")
        if len(groups) == 1:
            (days,) = groups
            return exp.GT(this=decided, expression=self.days_ago(days))
        cutoff = case([(in_list(col("type", "r"), ts), self.days_ago(d)) for d, ts in sorted(groups.items())])
        return exp.GT(this=decided, expression=cutoff)

    def counts_days(self, t: str) -> int:
        return self.rules[t].counts_for_days or self.validity[t]

    def still_counts(self, t: str) -> exp.Expr:
        """``decided > as_of - counts_for_days``; TRUE when that is no shorter than the validity, which
        ``current`` has already required."""
        days = self.counts_days(t)
        if days >= self.validity[t]:
            return exp.true()
        return exp.GT(this=col("decided"), expression=self.days_ago(days))

    def points(self, rule: ScoreRule) -> exp.Expr:
        if rule.points is not None:
            pts = lit(rule.points)
        else:
            assert rule.points_per_unit is not None and rule.unit is not None
            cents = exp.cast(exp.Mul(this=coalesce(col("amount"), lit(0)), expression=lit(100)),
                             exp.DataType.Type.BIGINT)
            pts = exp.Mul(this=lit(rule.points_per_unit),
                          expression=exp.Paren(this=exp.IntDiv(this=cents, expression=lit(rule.unit * 100))))
        if rule.max_points is not None:
            m = rule.max_points
            pts = greatest([least([pts, lit(m)]), lit(-m)])
        return pts

    def current(self) -> exp.Select:
        types = self.relevant_types()
        validity = self._by_type({t: self.validity[t] for t in types}) if types else exp.false()
        if self.cp.amendments is None:
            return (exp.select(col("subject", "r"), col("type", "r"), col("decided", "r"), col("amount", "r"))
                    .from_(exp.to_table("known").as_("r"), copy=False).where(validity, copy=False))
        amount = case([(exp.EQ(this=col("corrected", "a"), expression=lit(1)), col("amount", "a"))],
                      col("amount", "r"))
        not_ended = or_(exp.Is(this=col("ended", "a"), expression=exp.null()),
                        exp.EQ(this=col("ended", "a"), expression=lit(0)))
        return (
            exp.select(col("subject", "r"), col("type", "r"), col("decided", "r"), amount.as_("amount"))
            .from_(exp.to_table("known").as_("r"), copy=False)
            .join(exp.to_table("amended").as_("a"), on=exp.EQ(this=col("record", "a"),
                                                              expression=col("id", "r")),
                  join_type="left", copy=False)
            .where(and_(validity, paren(not_ended)), copy=False)
        )

    def active(self) -> exp.Select:
        scored = [t for t in sorted(self.rules) if t in self.relevant_types()]
        pts = case([
            (and_(exp.EQ(this=col("type"), expression=lit(t)), self.still_counts(t)), self.points(self.rules[t]))
            for t in scored
        ]) if scored else exp.cast(exp.null(), exp.DataType.Type.BIGINT)
        return exp.select(col("subject"), col("type"), col("decided"), col("amount"),
                          pts.as_("points")).from_("current", copy=False)

    # --- the one pass -------------------------------------------------------------------------------

    def cap_periods(self) -> list[tuple[int, int | None, exp.Expr]]:
        """(cap, year or None, filter) for every cap period a counted record can fall in."""
        scoring = self.policy.scoring
        out: list[tuple[int, int | None, exp.Expr]] = []
        if scoring is None:
            return out
        for i, cap in enumerate(scoring.caps):
            types = [t for t in cap.types if t in self.rules]
            if not types:
                continue
            of_cap = in_list(col("type"), types)
            if cap.per == "all":
                out.append((i, None, of_cap))
                continue
            earliest = self.as_of - timedelta(days=max(self.counts_days(t) for t in types) - 1)
            for year in range(earliest.year, self.as_of.year + 1):
                in_year = and_(exp.GTE(this=col("decided"), expression=date_lit(date(year, 1, 1))),
                               exp.LT(this=col("decided"), expression=date_lit(date(year + 1, 1, 1))))
                out.append((i, year, and_(of_cap, in_year)))
        return out

    def per_subject(self) -> exp.Select:
        aggs: list[exp.Expr] = [col("subject")]
        if self.policy.scoring is not None:
            # points is NULL for types without a rule, so only capped types need filtering out
            free = [t for t in self.rules if t not in self.cap_of]
            uncapped = in_list(col("type"), free) if self.cap_of else exp.true()
            aggs.append(filtered(exp.Sum(this=col("points")), uncapped).as_("free_points"))
            for i, year, cond in self.cap_periods():
                name = f"cap{i}_{'all' if year is None else year}"
                aggs.append(filtered(exp.Sum(this=col("points")), cond).as_(name))
            # the tier's trigger is the latest record pushing the score the way it went from the base
            # (reference evaluator: ``behind_tier``); which way is known only after the GROUP BY
            for name, sign in (("up_since", exp.GT), ("down_since", exp.LT)) if self.conds.reads_tier else ():
                pushes = sign(this=col("points"), expression=lit(0))
                aggs.append(filtered(exp.Max(this=col("decided")), pushes).as_(name))
        aggs.extend(self.conds.aggregates())
        return exp.select(*aggs).from_("active", copy=False).group_by(col("subject"), copy=False)

    # --- per subject --------------------------------------------------------------------------------

    def kind_filter(self) -> exp.Expr:
        """Subjects of the kinds the policy applies to, from the ``kind`` column set at registration."""
        wanted = sorted({SubjectKind(k).value for k in self.policy.applies_to})
        if set(wanted) == {k.value for k in SubjectKind}:
            return exp.true()
        return in_list(col("kind", "s"), wanted)

    def score(self) -> exp.Expr:
        scoring = self.policy.scoring
        if scoring is None:
            return exp.cast(exp.null(), exp.DataType.Type.BIGINT)
        terms: list[exp.Expr] = [lit(scoring.base), coalesce(col("free_points"), lit(0))]
        for i, year, _cond in self.cap_periods():
            raw = col(f"cap{i}_{'all' if year is None else year}")
            cap = scoring.caps[i]
            capped: exp.Expr = raw
            if cap.max is not None:
                capped = least([capped, lit(cap.max)])
            if cap.min is not None:
                capped = greatest([capped, lit(cap.min)])
            terms.append(case([(exp.Is(this=raw.copy(), expression=exp.null()), lit(0))], capped))
        total = terms[0]
        for t in terms[1:]:
            total = exp.Add(this=total, expression=t)
        return exp.cast(total, exp.DataType.Type.BIGINT)

    def scored(self) -> exp.Select:
        score = self.score()
        cols: list[exp.Expr] = [col("id", "s").as_("subject"), score.as_("score")]
        if self.policy.scoring is not None and self.conds.reads_tier:
            base = lit(self.policy.scoring.base)
            cols.append(case([(exp.GT(this=score.copy(), expression=base), col("up_since", "p")),
                              (exp.LT(this=score.copy(), expression=base.copy()), col("down_since", "p"))]
                             ).as_(TIER_SINCE))
        else:
            cols.append(null_date().as_(TIER_SINCE))
        cols.extend(self.conds.leaf_columns())
        return (exp.select(*cols).from_(exp.to_table(self.cp.subjects).as_("s"), copy=False)
                .join(exp.to_table("per_subject").as_("p"),
                      on=exp.EQ(this=col("subject", "p"),
                                expression=col("id" if self.cp.subject_key == "subject" else "sid", "s")),
                      join_type="left", copy=False)
                .where(self.kind_filter(), copy=False))

    def tier(self) -> exp.Expr:
        if self.policy.scoring is None or not self.policy.tiers:
            return exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
        whens: list[tuple[exp.Expr, exp.Expr]] = []
        default: exp.Expr | None = None
        for t in self.policy.tiers:
            parts: list[exp.Expr] = []
            if t.min is not None:
                parts.append(exp.GTE(this=col("score"), expression=lit(t.min)))
            if t.when is not None:
                parts.append(paren(self.conds.compile(t.when).holds))
            if not parts:
                default = lit(t.name)
                break
            whens.append((and_(*parts), lit(t.name)))
        if not whens:
            return default if default is not None else exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
        return case(whens, default)

    def ctes(self) -> list[tuple[str, exp.Select]]:
        tiered = exp.select(exp.Star(), self.tier().as_(TIER)).from_("scored", copy=False)
        out: list[exp.Expr] = [col("subject"), col("score"), col(TIER)]
        for lc, lst in zip(self.cp.lists, self.policy.lists, strict=True):
            # in force iff it holds, has a trigger and as_of < trigger + max duration; a trigger is
            # NULL unless its condition holds, so comparing the trigger says all three
            trigger = self.conds.compile(lst.entry).trigger
            if trigger is None:
                out.append(null_date().as_(lc.column))
                continue
            in_force = exp.GT(this=trigger, expression=self.days_ago(lc.max_duration_days))
            out.append(case([(in_force, trigger)]).as_(lc.column))
        q = exp.select(*out).from_("tiered", copy=False)
        amended = [] if self.cp.amendments is None else [("amended", self.amended())]
        return [*amended, ("known", self.known()), ("current", self.current()),
                ("active", self.active()), ("per_subject", self.per_subject()), ("scored", self.scored()),
                ("tiered", tiered), ("assessed", q)]
