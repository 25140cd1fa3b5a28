"""The charter linter: DESIGN.md §2 checked statically on a loaded policy, each finding at its line.

Two nets. The first is structural: every record type, source and measure must map onto the charter bases
shipped as data (``charter_bases``: record domains, source kinds, measure kinds, duration caps), so an
entry outside them cannot be expressed whatever it is called. The second is a word net
(``lint_words``) on ids and on the names of what a rule reads or a measure does, never on prose
(descriptions, legal-basis text), where a policy may legitimately *say* that it does not reach relatives.

Findings are scoped: a catalogue entry is checked, and reported on its catalogue line, when the policy
uses it (a record type a rule reads, a source that may submit one), so one bad entry in a shared
catalogue fails only the policies that rely on it. :func:`lint_catalogue` checks every entry, for a
catalogue published or linted on its own. The schema accepts charter-relevant fields (``subject``,
``target``, ``discloses``, attribute conditions, missing bases and durations) so that this module, not a
parse error, refuses them with a stable code, the charter rule and a pointer to docs/charter-rules.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import PolicyError, Problem
from xinyong.model.identifiers import SubjectKind
from xinyong.policy.charter_bases import CharterBases, charter_bases
from xinyong.policy.lint_bases import (
    ADJUDICATED_EVIDENCE,
    Finding,
    blank,
    duration_findings,
    immediate_findings,
    measure_findings,
    record_type_findings,
    source_findings,
)
from xinyong.policy.lint_words import other_subject, other_subject_of_record, prohibited_ground
from xinyong.policy.loader import (
    LoadedPolicy,
    declared_kind,
    find_policy_files,
    load_catalogue,
    load_policy,
    policy_conditions,
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
from xinyong.policy.source import PathKey, SourceDoc

__all__ = ["ADJUDICATED_EVIDENCE", "RULES", "Rule", "lint", "lint_catalogue", "lint_paths", "policy_files",
           "prohibited_ground"]

DOC = "docs/charter-rules.md"


@dataclass(frozen=True, slots=True)
class Rule:
    """One linter code: the charter rule it enforces, what it refuses, and where it is documented."""

    code: str
    charter_rule: int
    title: str

    @property
    def anchor(self) -> str:
        return self.code.lower()

    @property
    def doc(self) -> str:
        return f"{DOC}#{self.anchor}"


RULES: tuple[Rule, ...] = (
    Rule("XC101", 1, "a condition, record type or measure reads or reaches a subject other than the assessed one"),
    Rule("XC102", 1, "a measure targets anyone but the listed subject"),
    Rule("XC103", 1, "a list entry can hold without any of the subject's own records"),
    Rule("XC201", 2, "a record type does not rest on an adjudicated decision"),
    Rule("XC202", 2, "a record type used by the policy that no registered source may submit"),
    Rule("XC203", 2, "a source that is not a court, an administrative organ or a body authorised by law, "
                     "under a named statute"),
    Rule("XC204", 2, "a source submits a record type in a domain where its kind may not decide"),
    Rule("XC301", 3, "a record type or measure on a prohibited ground"),
    Rule("XC302", 3, "a rule reads a fairness attribute"),
    Rule("XC303", 3, "a record type outside the charter's record domains"),
    Rule("XC401", 4, "a record type, list or measure without a legal basis"),
    Rule("XC402", 4, "a list without a maximum duration"),
    Rule("XC403", 4, "a publication longer than the listing or the record's validity"),
    Rule("XC404", 4, "a measure outside the charter's measure kinds, or an action or effect its kind does "
                     "not govern"),
    Rule("XC405", 4, "a duration beyond the charter's cap for its severity or the absolute ceiling"),
    Rule("XC501", 5, "notice, objection or appeal window missing"),
    Rule("XC601", 6, "a measure discloses data to relying parties"),
    Rule("XC701", 7, "a publication shows more than a masked name and the reason"),
)
_BY_CODE = {r.code: r for r in RULES}

PUBLIC_FIELDS = frozenset({"masked_name", "reason", "list", "since", "until", "legal_basis"})
# An enterprise's name and credit code are public registry data; a person's never are (charter rule 7).
ORGANISATION_FIELDS = frozenset({"name", "identifier"})


class _Report:
    """Problems with the charter rule and documentation appended, deduplicated and sorted at the end."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, doc: SourceDoc, loc: PathKey, code: str, message: str) -> None:
        rule = _BY_CODE[code]
        self.problems.append(doc.problem(loc, code, f"{message} (charter rule {rule.charter_rule}; "
                                                    f"{rule.doc})"))


def _catalogue_findings(cat: Catalogue, bases: CharterBases, *, types: set[str] | None = None,
                        sources: set[int] | None = None) -> list[tuple[str, Finding]]:
    """Findings of the record types in ``types`` and the sources in ``sources`` (all when None), each
    with the record type it concerns (a source's findings: the first of its record types in ``types``)."""
    out: list[tuple[str, Finding]] = []
    for i, rt in enumerate(cat.record_types):
        if types is None or rt.id in types:
            out += [(rt.id, f) for f in record_type_findings(rt, i, bases)]
    for i, src in enumerate(cat.sources):
        if sources is None or i in sources:
            first = next((t for t in src.may_submit if types is None or t in types), "")
            for f in source_findings(src, i, cat, bases):
                loc = f[0]
                if len(loc) == 4 and loc[2] == "may_submit":  # about one type it submits: that type's concern
                    type_id = src.may_submit[int(loc[3])]
                    if types is None or type_id in types:
                        out.append((type_id, f))
                else:
                    out.append((first, f))
    return out


class _Linter:
    def __init__(self, lp: LoadedPolicy) -> None:
        self.lp = lp
        self.doc = lp.doc
        self.cat = _as_named(lp)
        self.bases = charter_bases()
        self.report = _Report()

    def add(self, doc: SourceDoc, loc: PathKey, code: str, message: str) -> None:
        self.report.add(doc, loc, code, message)

    def used_types(self) -> dict[str, PathKey]:
        """Record types the policy reads, each with its first location in the policy file."""
        p = self.lp.policy
        refs: list[tuple[str, PathKey]] = []
        if p.scoring is not None:
            refs += [(r.type, ("scoring", "rules", i, "type")) for i, r in enumerate(p.scoring.rules)]
            refs += [(t, ("scoring", "caps", i, "types", j))
                     for i, cap in enumerate(p.scoring.caps) for j, t in enumerate(cap.types)]
        for cond, loc in policy_conditions(p):
            if isinstance(cond, RecordCondition):
                refs += [(t, (*loc, "types", j)) for j, t in enumerate(cond.types)]
        out: dict[str, PathKey] = {}
        for type_id, loc in refs:
            out.setdefault(type_id, loc)
        return out

    # --- the catalogue entries the policy uses (charter rules 1 to 4) ------------------------------

    def catalogue_entries(self, used: dict[str, PathKey]) -> None:
        cat, cat_name = self.lp.catalogue, self.cat.path.name
        known = set(used) & cat.type_ids()
        sources = {i for i, src in enumerate(cat.sources) if known & set(src.may_submit)}
        for type_id, (loc, code, message) in _catalogue_findings(cat, self.bases, types=known, sources=sources):
            self.add(self.cat, loc, code, message)
            where = f"{cat_name}:{self.cat.line_of(loc)}"
            if loc[0] == "sources":
                src = cat.sources[int(loc[1])]
                text = f"rule reads record type {type_id!r}, which source {src.id!r} may submit: {where}"
            else:
                text = f"rule reads record type {type_id!r}, refused in the catalogue: {where}"
            self.add(self.doc, used[type_id], code, text)
        may_submit = {t for src in cat.sources for t in src.may_submit}
        for type_id in sorted(known - may_submit):
            self.add(self.doc, used[type_id], "XC202",
                     f"rule reads record type {type_id!r}, which no registered source may submit "
                     f"(add it to a source's may_submit in {cat_name})")

    # --- the policy itself ---------------------------------------------------------------------------

    def conditions(self) -> None:
        for cond, loc in policy_conditions(self.lp.policy):
            if isinstance(cond, RecordCondition):
                if cond.subject != "self":
                    self.add(self.doc, (*loc, "subject"), "XC101",
                             f"condition reads records of {cond.subject!r}: only the assessed subject's own "
                             "records may be read (use subject: self)")
                for j, type_id in enumerate(cond.types):
                    word = other_subject_of_record(type_id)
                    if word is not None:
                        self.add(self.doc, (*loc, "types", j), "XC101",
                                 f"condition reads record type {type_id!r}, which names {word!r}: another "
                                 "subject's conduct")
            elif isinstance(cond, AttributeCondition):
                self.add(self.doc, (*loc, "attribute"), "XC302",
                         f"condition reads the fairness attribute {cond.attribute!r}: attributes are kept "
                         "for fairness analysis only and no rule may read them")

    def lists(self) -> None:
        p = self.lp.policy
        allowed, who = PUBLIC_FIELDS | ORGANISATION_FIELDS, "of enterprises"
        if SubjectKind.PERSON in p.applies_to:
            allowed, who = PUBLIC_FIELDS, "that may name persons"
        for i, lst in enumerate(p.lists):
            word = other_subject(lst.id)
            if word is not None:
                self.add(self.doc, ("lists", i, "id"), "XC101", f"list {lst.id!r} names {word!r}: a list "
                                                                "holds the assessed subject only")
            ground = prohibited_ground(lst.id)
            if ground is not None:
                self.add(self.doc, ("lists", i, "id"), "XC301",
                         f"list {lst.id!r} is on a prohibited ground: {ground[0]} (names {ground[1]!r})")
            if not _needs_own_records(lst.entry):
                self.add(self.doc, ("lists", i, "entry"), "XC103",
                         f"list {lst.id!r} can hold without any of the subject's own records: an entry "
                         "needs a record or tier condition outside 'not'")
            if blank(lst.legal_basis):
                self.add(self.doc, ("lists", i, "legal_basis"), "XC401", f"list {lst.id!r} cites no legal basis")
            pub = lst.publication
            if lst.max_duration_days is None:
                self.add(self.doc, ("lists", i, "max_duration_days"), "XC402",
                         f"list {lst.id!r} has no max_duration_days: every listing must end")
            if "expiry" not in lst.exit:
                self.add(self.doc, ("lists", i, "exit"), "XC402",
                         f"list {lst.id!r} does not end by expiry (exit: {', '.join(lst.exit)}): every listing "
                         "must end by itself")
            if lst.max_duration_days is not None and pub.days is not None and pub.days > lst.max_duration_days:
                self.add(self.doc, ("lists", i, "publication", "days"), "XC403",
                         f"list {lst.id!r} is published for {pub.days} days, longer than a listing "
                         f"lasts ({lst.max_duration_days} days)")
            for j, name in enumerate(pub.fields):
                if name not in allowed:
                    self.add(self.doc, ("lists", i, "publication", "fields", j), "XC701",
                             f"list {lst.id!r} publishes {name!r}; a publication {who} shows only "
                             f"{', '.join(sorted(allowed))}")
            if lst.takes_effect == "after_notice" and p.procedure.notice_days is None:
                self.add(self.doc, ("lists", i, "takes_effect"), "XC501",
                         f"list {lst.id!r} takes effect after notice, but procedure.notice_days is not set")

    def measures(self) -> None:
        for i, m in enumerate(self.lp.policy.measures):
            for loc, code, message in measure_findings(m, i, self.bases):
                self.add(self.doc, loc, code, message)
            if blank(m.legal_basis):
                self.add(self.doc, ("measures", i, "legal_basis"), "XC401", f"measure {m.id!r} cites no legal basis")
            if m.discloses:
                self.add(self.doc, ("measures", i, "discloses"), "XC601",
                         f"measure {m.id!r} discloses {', '.join(m.discloses)} to relying parties: "
                         "they get the decision and its legal basis, not data")

    def procedure(self) -> None:
        proc = self.lp.policy.procedure
        for name, days, verb in (("objection_days", proc.objection_days, "object"),
                                 ("appeal_days", proc.appeal_days, "appeal")):
            if not days:
                self.add(self.doc, ("procedure", name), "XC501",
                         f"procedure.{name} is {'missing' if days is None else 0}: the subject must "
                         f"have a window to {verb}")
        findings = duration_findings(self.lp.policy, self.lp.catalogue, self.bases)
        findings += immediate_findings(self.lp.policy, self.lp.catalogue)
        for loc, code, message in findings:
            self.add(self.doc, loc, code, message)


def _as_named(lp: LoadedPolicy) -> SourceDoc:
    """The catalogue document under the path the policy names it by (``policies/catalogue.yaml``), not
    the absolute path it was read from, so that its problems sort and read like the policy's."""
    cat = lp.catalogue_doc
    if lp.doc.path.is_absolute():
        return cat
    shown = Path(os.path.normpath(lp.doc.path.parent / lp.policy.catalogue))
    return SourceDoc(shown, cat.data, cat.lines)


def _needs_own_records(cond: Condition) -> bool:
    """True when the condition cannot hold unless the subject has records of its own (or a tier)."""
    if isinstance(cond, RecordCondition | TierCondition):
        return True
    if isinstance(cond, AllCondition):
        return any(_needs_own_records(c) for c in cond.all)
    if isinstance(cond, AnyCondition):
        return all(_needs_own_records(c) for c in cond.any)
    assert isinstance(cond, NotCondition | AttributeCondition)
    return False


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique = {(p.file, p.line, p.code, p.message): p for p in problems}
    return [unique[k] for k in sorted(unique)]


def lint(lp: LoadedPolicy) -> list[Problem]:
    """Every charter violation of a loaded policy and of the catalogue entries it uses, sorted by file,
    line, code."""
    linter = _Linter(lp)
    linter.catalogue_entries(linter.used_types())
    linter.conditions()
    linter.lists()
    linter.measures()
    linter.procedure()
    return _ordered(linter.report.problems)


def lint_catalogue(catalogue: Catalogue, doc: SourceDoc) -> list[Problem]:
    """Every charter violation of every entry of a catalogue, used or not: the check for a catalogue
    published or linted on its own, which must hold no entry that a policy could not use."""
    report = _Report()
    for _, (loc, code, message) in _catalogue_findings(catalogue, charter_bases()):
        report.add(doc, loc, code, message)
    return _ordered(report.problems)


def policy_files(paths: list[Path]) -> list[Path]:
    """Policy files among ``paths``: directories are searched (skipping examples/rejected/ unless given
    itself); a file given by name is kept unless it declares another kind (a catalogue, a test)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(find_policy_files([p]))
        elif declared_kind(p) in (None, "policy"):
            found.append(p)
    return list(dict.fromkeys(found))


def catalogue_files(paths: list[Path]) -> list[Path]:
    """Catalogue files among ``paths``: given by name, or found in a directory (not in examples/rejected/
    unless that directory is given itself)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += [f for f in sorted(p.rglob("*.y*ml")) if declared_kind(f) == "catalogue"
                      and "rejected" not in f.relative_to(p).parts]
        elif declared_kind(p) == "catalogue":
            found.append(p)
    return list(dict.fromkeys(found))


def lint_paths(paths: list[Path]) -> list[Problem]:
    """Load and lint every policy and every catalogue under ``paths``; load errors (XS codes) are
    problems too. A catalogue shared by several policies is reported once."""
    problems: list[Problem] = []
    for path in policy_files(paths):
        try:
            lp = load_policy(path)
        except PolicyError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(lint(lp))
    for path in catalogue_files(paths):
        try:
            problems.extend(lint_catalogue(*load_catalogue(path)))
        except PolicyError as exc:
            problems.extend(exc.problems)
    return _ordered(problems)
