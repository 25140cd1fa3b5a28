"""The reference evaluator: one subject, pure Python, with an explanation of every number.

This module *is* the semantics; the SQL engines must agree with it exactly (a differential test holds
them equal). In short, as of a date D:

- a record is *known* if decided <= D, and *active* if known, D < decided + its type's validity, and no
  annul / repair / expire amendment with effective <= D points at it; its amount is that of the latest
  ``correct`` amendment with effective <= D (ties broken by amendment id), else its own;
- an active record with a score rule *counts* while D < decided + ``counts_for_days`` (default: the type's
  validity) for ``points``, or ``points_per_unit`` x whole ``unit``s of its amount, clamped to
  ``max_points`` in magnitude; capped types are summed per period and clamped; score = base + all;
- the tier is the first (best first) whose ``min`` and ``when`` hold;
- a list condition yields (holds, trigger date, records); a listing is in force when its entry holds and
  D < since + ``max_duration_days``, where since is the trigger date (the latest decision behind it: a
  new finding renews the listing period). For a record condition the records behind it are the matching
  ones; for a tier condition, the counted records whose points moved the score the way it went from the
  base (deductions behind a low tier, additions behind a high one: a good deed never renews a black
  listing); ``all`` takes the latest of its parts, ``any`` the latest of its parts that hold, ``not``
  none. A listing with no record behind it is not in force. See docs/policy-language.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from xinyong.model.assessment import Assessment, CapAdjustment, Contribution, Listing
from xinyong.model.errors import CharterViolation
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.explain import describe
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    NotCondition,
    RecordCondition,
    ScoreRule,
    TierCondition,
)

ENDING_KINDS = (AmendmentKind.ANNUL, AmendmentKind.REPAIR, AmendmentKind.EXPIRE)


@dataclass(frozen=True)
class ActiveRecord:
    id: str
    type: str
    decided: date
    amount: Decimal | None


@dataclass
class Outcome:
    """Result of evaluating one condition."""

    holds: bool
    trigger: date | None = None
    records: set[str] = field(default_factory=set)


def rule_points(rule: ScoreRule, amount: Decimal | None) -> int:
    """Points of one counted record under ``rule`` (integer arithmetic on cents, no float rounding)."""
    if rule.points is not None:
        points = rule.points
    else:
        assert rule.points_per_unit is not None and rule.unit is not None
        cents = int((amount or Decimal(0)) * 100)
        points = rule.points_per_unit * (cents // (rule.unit * 100))
    if rule.max_points is not None:
        points = max(-rule.max_points, min(rule.max_points, points))
    return points


def _state(
    records: Iterable[Record], amendments: Iterable[Amendment], lp: LoadedPolicy, as_of: date
) -> tuple[list[ActiveRecord], list[Contribution]]:
    """Active records, plus a note for each known record that is not active."""
    by_record: dict[str, list[Amendment]] = defaultdict(list)
    for a in amendments:
        if a.effective <= as_of:
            by_record[a.record].append(a)
    known_types = {rt.id: rt for rt in lp.catalogue.record_types}
    active: list[ActiveRecord] = []
    inactive: list[Contribution] = []
    seen: set[str] = set()
    for r in records:
        rid = r.id
        if r.decided > as_of or r.type not in known_types or rid in seen:
            continue
        seen.add(rid)
        amends = by_record.get(rid, [])
        ended = sorted((a for a in amends if a.kind in ENDING_KINDS), key=lambda a: (a.effective, a.id))
        until = r.decided + timedelta(days=known_types[r.type].default_validity_days)
        note = None
        if ended:
            note = f"{ended[0].kind.value} on {ended[0].effective}: {ended[0].reason}"
        elif as_of >= until:
            note = f"no longer active since {until} (validity {(until - r.decided).days} days)"
        if note is not None:
            inactive.append(Contribution(record=rid, type=r.type, decided=r.decided, points=0,
                                         counted=False, note=note))
            continue
        corrections = [a for a in amends if a.kind is AmendmentKind.CORRECT]
        amount = max(corrections, key=lambda a: (a.effective, a.id)).amount if corrections else r.amount
        active.append(ActiveRecord(rid, r.type, r.decided, amount))
    return active, inactive


def evaluate(
    lp: LoadedPolicy,
    subject: str,
    records: Iterable[Record],
    amendments: Iterable[Amendment],
    as_of: date,
    schemes: SchemeRegistry | None = None,
) -> Assessment:
    """Assess one subject as of a date, from its own records only (charter rule 1)."""
    records = list(records)
    for r in records:
        if r.subject != subject:
            raise CharterViolation(
                f"record {r.id} is about {r.subject}, not {subject}: an assessment reads only the "
                "subject's own records (charter rule 1)", field="records",
            )
    policy = lp.policy
    kind = (schemes or default_schemes()).kind_of(subject)
    if kind not in policy.applies_to:
        return Assessment(subject=subject, policy=policy.id, policy_version=policy.version,
                          as_of=as_of, score=None, tier=None, listings=[], contributions=[])
    active, contributions = _state(records, amendments, lp, as_of)

    score: int | None = None
    caps: list[CapAdjustment] = []
    counted: dict[str, tuple[date, int]] = {}
    if policy.scoring is not None:
        scoring = policy.scoring
        rules = {rule.type: rule for rule in scoring.rules}
        cap_of = {t: i for i, cap in enumerate(scoring.caps) for t in cap.types}
        free = 0
        groups: dict[tuple[int, str], int] = defaultdict(int)
        validity = {rt.id: rt.default_validity_days for rt in lp.catalogue.record_types}
        for rec in active:
            rule = rules.get(rec.type)
            if rule is None:
                contributions.append(Contribution(record=rec.id, type=rec.type, decided=rec.decided,
                                                  points=0, counted=False,
                                                  note="active; this policy does not score its type"))
                continue
            days = rule.counts_for_days or validity[rec.type]
            ends = rec.decided + timedelta(days=days)
            if as_of >= ends:
                contributions.append(Contribution(record=rec.id, type=rec.type, decided=rec.decided,
                                                  points=0, counted=False,
                                                  note=f"active, but counted for the score only "
                                                       f"until {ends}"))
                continue
            pts = rule_points(rule, rec.amount)
            if pts != 0:
                counted[rec.id] = (rec.decided, pts)
            cap = cap_of.get(rec.type)
            if cap is None:
                free += pts
            else:
                per = scoring.caps[cap].per
                groups[(cap, str(rec.decided.year) if per == "year" else "all")] += pts
            contributions.append(Contribution(record=rec.id, type=rec.type, decided=rec.decided,
                                              points=pts, counted=True,
                                              note=f"counts until {ends}"))
        total = scoring.base + free
        for (cap_i, period), raw in sorted(groups.items()):
            c = scoring.caps[cap_i]
            capped = raw
            if c.max is not None:
                capped = min(capped, c.max)
            if c.min is not None:
                capped = max(capped, c.min)
            total += capped
            if capped != raw:
                caps.append(CapAdjustment(cap=cap_i, period=period, raw=raw, capped=capped))
        score = total
    else:
        for rec in active:
            contributions.append(Contribution(record=rec.id, type=rec.type, decided=rec.decided,
                                              points=0, counted=False, note="active; no scoring"))

    drift = 0 if score is None or policy.scoring is None else score - policy.scoring.base
    behind_tier = {rid: day for rid, (day, pts) in counted.items() if pts * drift > 0}
    ctx = _Context(active, as_of, None, behind_tier)
    tier: str | None = None
    if score is not None:
        for t in policy.tiers:
            if (t.min is None or score >= t.min) and (t.when is None or ctx.check(t.when).holds):
                tier = t.name
                break
    ctx.tier = tier

    listings: list[Listing] = []
    for lst in policy.lists:
        out = ctx.check(lst.entry)
        if not out.holds or out.trigger is None:
            continue
        if lst.max_duration_days is None:
            raise CharterViolation(f"list {lst.id!r} has no maximum duration (charter rule 4)")
        until = out.trigger + timedelta(days=lst.max_duration_days)
        if as_of >= until:
            continue
        listings.append(Listing(list_id=lst.id, kind=lst.kind, since=out.trigger, until=until,
                                triggered_by=sorted(out.records), rule=describe(lst.entry),
                                legal_basis=lst.legal_basis or ""))

    contributions.sort(key=lambda c: (c.decided, c.type, c.record))
    return Assessment(subject=subject, policy=policy.id, policy_version=policy.version, as_of=as_of,
                      score=score, tier=tier, listings=listings, contributions=contributions, caps=caps)


class _Context:
    def __init__(self, active: list[ActiveRecord], as_of: date, tier: str | None,
                 behind_tier: dict[str, date]) -> None:
        self.active = active
        self.as_of = as_of
        self.tier = tier
        self.behind_tier = behind_tier

    def check(self, cond: Condition) -> Outcome:
        if isinstance(cond, RecordCondition):
            if cond.subject != "self":
                raise CharterViolation(f"a condition reads records of {cond.subject!r}: only the "
                                       "subject's own records may be read (charter rule 1)")
            types = set(cond.types)
            since = None if cond.within_days is None else self.as_of - timedelta(days=cond.within_days)
            hits = [r for r in self.active if r.type in types and (since is None or r.decided > since)]
            holds = len(hits) >= cond.at_least
            if holds and cond.amount_at_least is not None:
                holds = sum((r.amount or Decimal(0) for r in hits), Decimal(0)) >= cond.amount_at_least
            if not holds:
                return Outcome(False)
            return Outcome(True, max(r.decided for r in hits), {r.id for r in hits})
        if isinstance(cond, TierCondition):
            if self.tier not in cond.tier_in:
                return Outcome(False)
            trigger = max(self.behind_tier.values(), default=None)
            return Outcome(True, trigger, set(self.behind_tier))
        if isinstance(cond, AllCondition):
            outs = [self.check(c) for c in cond.all]
            if not all(o.holds for o in outs):
                return Outcome(False)
            return _merge(outs)
        if isinstance(cond, AnyCondition):
            outs = [o for o in (self.check(c) for c in cond.any) if o.holds]
            return _merge(outs) if outs else Outcome(False)
        if isinstance(cond, NotCondition):
            return Outcome(not self.check(cond.not_).holds)
        assert isinstance(cond, AttributeCondition)
        raise CharterViolation(f"a condition reads the fairness attribute {cond.attribute!r} "
                               "(charter rule 3)")


def _merge(outs: list[Outcome]) -> Outcome:
    triggers = [o.trigger for o in outs if o.trigger is not None]
    return Outcome(True, max(triggers, default=None), set().union(*(o.records for o in outs)))

