"""Charter checks on single entries: a record type, a source, a measure, the durations of a policy.

Each function looks at one entry and returns its findings as ``(location, code, message)`` within the
entry's own document; the linter decides where to report them (on the catalogue line always, on the
policy line that uses the entry too) and which entries count (only those the policy uses, or all of them
when a catalogue is linted on its own). Structural checks against the charter bases come first; the word
net (``lint_words``) is the second, on ids and names only.
"""

from __future__ import annotations

from collections.abc import Iterator

from xinyong.model.catalogue import Catalogue, Polarity, RecordType, Severity, Source
from xinyong.model.effects import ListKind
from xinyong.policy.charter_bases import CharterBases
from xinyong.policy.lint_words import (
    not_an_authority,
    other_actor,
    other_subject,
    other_subject_of_record,
    prohibited_ground,
    unaccountable,
)
from xinyong.policy.loader import iter_conditions, policy_conditions
from xinyong.policy.schema import Condition, ListDef, Measure, Policy, RecordCondition
from xinyong.policy.source import PathKey

Finding = tuple[PathKey, str, str]

ADJUDICATED_EVIDENCE = frozenset(
    {"adjudicated_decision", "administrative_decision", "court_judgment", "certification"}
)
_RANK = {Severity.MINOR: 0, Severity.GENERAL: 1, Severity.SERIOUS: 2}
_BASES = "xinyong/charter/"


def blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _closed(value: str | None, known: dict[str, object], what: str, file: str) -> str | None:
    """Why ``value`` is not a member of a closed set, or None when it is."""
    if blank(value):
        return f"declares no {what} (one of: {', '.join(sorted(known))}; {_BASES}{file})"
    if value not in known:
        return f"names {what} {value!r}, which does not exist (one of: {', '.join(sorted(known))}; {_BASES}{file})"
    return None


def record_type_findings(rt: RecordType, i: int, bases: CharterBases) -> list[Finding]:
    """Every charter problem of one record type, at its fields in the catalogue."""
    at = ("record_types", i)
    out: list[Finding] = []
    tid = f"record type {rt.id!r}"
    why = _closed(rt.domain, dict(bases.domains), "record domain", bases.files["domains"])
    if why is not None:
        out.append(((*at, "domain"), "XC303", f"{tid} {why}: information outside the charter's record "
                                               "domains may not be collected"))
    if rt.evidence.strip().lower() not in ADJUDICATED_EVIDENCE:
        out.append(((*at, "evidence"), "XC201", f"{tid} rests on evidence {rt.evidence!r}, not on an "
                                                 "adjudicated decision of an accountable officer"))
    for field, text in (("id", rt.id), ("name", rt.name)):
        word = unaccountable(text)
        if word is not None:
            out.append(((*at, field), "XC201", f"{tid} rests on {word!r} (its {field}), not on an "
                                               "adjudicated decision of an accountable officer"))
            break
    for field, text in (("category", rt.category), ("id", rt.id), ("name", rt.name)):
        ground = prohibited_ground(text)
        if ground is not None:
            out.append(((*at, field), "XC301", f"{tid} is on a prohibited ground: {ground[0]} ({field} "
                                               f"names {ground[1]!r})"))
            break
    for field, word in (("id", other_subject_of_record(rt.id)), ("category", other_subject_of_record(rt.category)),
                        ("name", other_actor(rt.name))):
        if word is not None:
            out.append(((*at, field), "XC101", f"{tid} is about {word!r} (its {field}): another subject's "
                                               "conduct, not the assessed subject's own"))
            break
    if blank(rt.legal_basis):
        out.append(((*at, "legal_basis"), "XC401", f"{tid} cites no legal basis"))
    if rt.publication_days > rt.default_validity_days:
        out.append(((*at, "publication_days"), "XC403", f"{tid} is published for {rt.publication_days} days, "
                                                         f"longer than it is valid ({rt.default_validity_days} days)"))
    out.extend(_type_caps(rt, at, bases))
    return out


def _type_caps(rt: RecordType, at: PathKey, bases: CharterBases) -> Iterator[Finding]:
    cap, ceiling = bases.cap(rt.severity), bases.caps.ceiling_days
    negative = rt.polarity is Polarity.NEGATIVE
    for field, days, limit in (("default_validity_days", rt.default_validity_days, cap.validity_days),
                               ("publication_days", rt.publication_days, cap.publication_days)):
        if days > ceiling:
            yield ((*at, field), "XC405", f"record type {rt.id!r}: {field} {days} exceeds the charter's "
                                          f"absolute ceiling of {ceiling} days ({bases.caps.ceiling_basis})")
        elif negative and days > limit:
            yield ((*at, field), "XC405", f"record type {rt.id!r}: {field} {days} exceeds the cap for "
                                          f"{rt.severity.value} findings, {limit} days ({cap.legal_basis})")


def source_findings(src: Source, i: int, catalogue: Catalogue, bases: CharterBases) -> list[Finding]:
    """Every charter problem of one source: its kind, its statute, its name, what it may submit."""
    at = ("sources", i)
    out: list[Finding] = []
    sid = f"source {src.id!r}"
    why = _closed(src.kind, dict(bases.source_kinds), "source kind", bases.files["sources"])
    if why is not None:
        out.append(((*at, "kind"), "XC203", f"{sid} {why}: only courts, administrative organs under a "
                                             "named statute and bodies authorised by law may submit records"))
    elif blank(src.statute):
        out.append(((*at, "statute"), "XC203", f"{sid} names no statute that empowers it"))
    elif src.kind is not None and not bases.statute_fits(src.kind, src.statute or ""):
        kind = bases.source_kinds[src.kind]
        out.append(((*at, "statute"), "XC203",
                    f"{sid}: {src.statute!r} is not an instrument that can empower a source of kind "
                    f"{src.kind!r} (one of: {', '.join(kind.instruments)})"))
    for field, text in (("id", src.id), ("name", src.name)):
        word = not_an_authority(text)
        if word is not None:
            out.append(((*at, field), "XC203", f"{sid} is {word!r} (its {field}): not an accountable authority"))
            break
    if src.kind in bases.source_kinds:
        known = {rt.id: rt for rt in catalogue.record_types}
        for j, type_id in enumerate(src.may_submit):
            rt = known.get(type_id)
            domain = bases.domains.get(rt.domain or "") if rt is not None else None
            if domain is not None and src.kind not in domain.authorities:
                out.append(((*at, "may_submit", j), "XC204",
                            f"{sid} is of kind {src.kind!r}, which may not decide in domain {domain.id!r} of "
                            f"record type {type_id!r} (only: {', '.join(domain.authorities)})"))
    return out


def measure_findings(m: Measure, i: int, bases: CharterBases) -> list[Finding]:
    """A measure must be of a charter measure kind, on an action and with an effect its kind governs,
    on the listed subject only, naming nobody else and no prohibited ground."""
    at = ("measures", i)
    out: list[Finding] = []
    mid = f"measure {m.id!r}"
    why = _closed(m.kind, dict(bases.measure_kinds), "measure kind", bases.files["measures"])
    if why is not None:
        out.append(((*at, "kind"), "XC404", f"{mid} {why}: measures outside the charter's list may not be "
                                             "applied"))
    else:
        kind = bases.measure_kinds[m.kind or ""]
        if m.action not in kind.actions:
            out.append(((*at, "action"), "XC404", f"{mid}: a {kind.id} measure does not govern {m.action!r} "
                                                   f"(only: {', '.join(kind.actions)})"))
        if m.effect.value not in kind.effects:
            out.append(((*at, "effect"), "XC404", f"{mid}: a {kind.id} measure may not {m.effect.value} "
                                                   f"(only: {', '.join(kind.effects)})"))
    for field, text in (("id", m.id), ("action", m.action)):
        word = other_subject(text)
        if word is not None:
            out.append(((*at, field), "XC101", f"{mid} reaches {word!r} ({text!r}): a measure may restrict "
                                               "only the listed subject"))
        ground = prohibited_ground(text)
        if ground is not None:
            out.append(((*at, field), "XC301", f"{mid} acts on a prohibited ground: {ground[0]} ({field} names "
                                               f"{ground[1]!r})"))
    if m.target != "listed_subject":
        out.append(((*at, "target"), "XC102", f"{mid} targets {m.target!r}; only the listed subject may be "
                                              "targeted (target: listed_subject)"))
    return out


def _entry_types(cond: Condition) -> list[str]:
    return [t for c, _ in iter_conditions(cond, ()) if isinstance(c, RecordCondition) for t in c.types]


def list_severity(lst: ListDef, types: dict[str, RecordType]) -> Severity:
    """The severity a list's durations are capped by: the most serious record type its entry reads, and
    no more than the severity the list declares (when it declares one)."""
    read = [types[t].severity for t in _entry_types(lst.entry) if t in types]
    if not read:
        return lst.severity
    worst = max(read, key=_RANK.__getitem__)
    if "severity" not in lst.model_fields_set:
        return worst
    return min(lst.severity, worst, key=_RANK.__getitem__)


def immediate_findings(policy: Policy, catalogue: Catalogue) -> list[Finding]:
    """A black list may take effect without notice only on a court's decision (the decision is the
    notice): every record type its entry reads must come from courts alone."""
    out: list[Finding] = []
    for i, lst in enumerate(policy.lists):
        if lst.kind is not ListKind.BLACK or lst.takes_effect != "immediately":
            continue
        for type_id in dict.fromkeys(_entry_types(lst.entry)):
            kinds = {src.kind for src in catalogue.sources if type_id in src.may_submit}
            if kinds and kinds != {"court"}:
                others = ", ".join(sorted(k or "no kind" for k in kinds - {"court"}))
                out.append((("lists", i, "takes_effect"), "XC501",
                            f"list {lst.id!r} takes effect immediately, without notice, but record type "
                            f"{type_id!r} is decided by a {others}, not a court: only a court's decision can "
                            "serve as the notice (takes_effect: after_notice)"))
    return out


def duration_findings(policy: Policy, catalogue: Catalogue, bases: CharterBases) -> list[Finding]:
    """Every duration a policy sets within the charter's caps.

    A black list's cap is that of the lesser of its declared severity and the most serious record type
    its entry reads; red lists, score windows and look-back windows are held to the absolute ceiling;
    the minimum wait before repair to the listing cap of its severity.
    """
    ceiling, basis = bases.caps.ceiling_days, bases.caps.ceiling_basis
    types = {rt.id: rt for rt in catalogue.record_types}
    out: list[Finding] = []

    def over(loc: PathKey, what: str, days: int | None) -> None:
        if days is not None and days > ceiling:
            out.append((loc, "XC405", f"{what} {days} days, beyond the charter's absolute ceiling of "
                                      f"{ceiling} days ({basis})"))

    for i, lst in enumerate(policy.lists):
        loc = ("lists", i, "max_duration_days")
        days = lst.max_duration_days
        severity = list_severity(lst, types)
        cap = bases.cap(severity)
        if days is not None and days <= ceiling and lst.kind is ListKind.BLACK and days > cap.listing_days:
            out.append((loc, "XC405", f"list {lst.id!r} lasts {days} days, beyond the cap for {severity.value} "
                                      f"listings, {cap.listing_days} days ({cap.legal_basis})"))
        over(loc, f"list {lst.id!r} lasts", days)
        over(("lists", i, "publication", "days"), f"list {lst.id!r} is published for", lst.publication.days)
    if policy.scoring is not None:
        for i, rule in enumerate(policy.scoring.rules):
            over(("scoring", "rules", i, "counts_for_days"), f"score rule for {rule.type!r} counts a record for",
                 rule.counts_for_days)
    for cond, cloc in policy_conditions(policy):
        if isinstance(cond, RecordCondition):
            over((*cloc, "within_days"), "a condition looks back", cond.within_days)
    proc = policy.procedure
    over(("procedure", "review_working_days"), "an objection may wait for a decision for", proc.review_working_days)
    over(("procedure", "expedited_review_working_days"), "an expedited objection may wait for",
         proc.expedited_review_working_days)
    for sev in Severity:
        days = getattr(proc.repair_min_days, sev.value)
        cap = bases.cap(sev)
        if days > cap.listing_days:
            out.append((("procedure", "repair_min_days", sev.value), "XC405",
                        f"repair of a {sev.value} record waits {days} days, beyond the cap for {sev.value} "
                        f"listings, {cap.listing_days} days ({cap.legal_basis})"))
    return out
