"""The charter linter: DESIGN.md §2 checked statically on a loaded policy, each finding at its line.

The schema accepts charter-relevant fields (``subject``, ``target``, ``discloses``, attribute conditions,
missing legal bases and durations) so that this module, not a parse error, refuses them with a stable
code, the charter rule and a pointer to docs/charter-rules.md. Keyword checks are deliberately on ids,
categories and structural values, never on prose (names of agencies, descriptions), where a policy may
legitimately *say* that it does not reach relatives.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from xinyong.model.catalogue import RecordType
from xinyong.model.errors import PolicyError, Problem
from xinyong.model.identifiers import SubjectKind
from xinyong.policy.loader import (
    LoadedPolicy,
    declared_kind,
    find_policy_files,
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
    Rule("XC101", 1, "a condition or measure reads or reaches a subject other than the assessed one"),
    Rule("XC102", 1, "a measure targets anyone but the listed subject"),
    Rule("XC103", 1, "a list entry can hold without any of the subject's own records"),
    Rule("XC201", 2, "a record type does not rest on an adjudicated decision"),
    Rule("XC202", 2, "a record type used by the policy that no registered source may submit"),
    Rule("XC301", 3, "a record type in a prohibited category"),
    Rule("XC302", 3, "a rule reads a fairness attribute"),
    Rule("XC401", 4, "a record type, list or measure without a legal basis"),
    Rule("XC402", 4, "a list without a maximum duration"),
    Rule("XC403", 4, "a publication longer than the listing or the record's validity"),
    Rule("XC501", 5, "notice, objection or appeal window missing"),
    Rule("XC601", 6, "a measure discloses data to relying parties"),
    Rule("XC701", 7, "a publication shows more than a masked name and the reason"),
)
_BY_CODE = {r.code: r for r in RULES}

ADJUDICATED_EVIDENCE = frozenset(
    {"adjudicated_decision", "administrative_decision", "court_judgment", "certification"}
)
PUBLIC_FIELDS = frozenset({"masked_name", "reason", "list", "since", "until", "legal_basis"})
# An enterprise's name and credit code are public registry data; a person's never are (charter rule 7).
ORGANISATION_FIELDS = frozenset({"name", "identifier"})

# Phrases that contain a keyword but name no prohibited ground; removed before matching.
_HARMLESS = ("public health", "occupational health", "health and safety", "good faith", "bad faith",
             "high consumption", "audit opinion")


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


OTHER_SUBJECTS = _rx(
    r"relatives?", r"spouses?", r"child", r"children", r"households?", r"famil(?:y|ies)",
    r"employees?", r"contacts", r"legal rep\w*", r"friends?", r"kin", r"kinsfolk",
    r"persons? in charge", r"responsible persons?",
)
PROHIBITED_GROUNDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("political opinion and expression", _rx(
        r"politic\w*", r"expression", r"speech", r"petition\w*", r"xinfang", r"protest\w*",
        r"critici[sz]\w*", r"praise\w*", r"dissent\w*", r"rumou?r\w*")),
    ("religion or belief", _rx(r"religio\w*", r"beliefs?", r"worship\w*", r"church\w*", r"mosques?",
                               r"cults?")),
    ("ethnicity or national origin", _rx(r"ethnic\w*", r"race", r"racial", r"national origin",
                                         r"nationality")),
    ("biometric data", _rx(r"biometric\w*", r"face", r"facial", r"fingerprints?", r"iris", r"dna",
                           r"voiceprints?", r"gait")),
    ("health", _rx(r"health", r"medical", r"diseases?", r"illness\w*", r"disabilit\w*", r"mental",
                   r"pregnan\w*", r"hiv")),
    ("social relationships", _rx(r"social (?:relation\w*|network\w*|ties|circles?|connections?)",
                                 r"personal relationships?", r"friends?", r"contacts",
                                 r"acquaintances?", r"guanxi")),
    ("lawful consumption and lifestyle", _rx(
        r"gaming", r"video games?", r"games? (?:hours|time)", r"lifestyles?", r"shopping", r"alcohol",
        r"smoking", r"screen time", r"dating", r"spending habits?", r"consumption habits?",
        r"lawful consumption")),
)
UNACCOUNTABLE = _rx(r"cameras?", r"cctv", r"video surveillance", r"face recognition",
                    r"facial recognition", r"anonymous\w*", r"denunciation\w*", r"informants?",
                    r"tip offs?", r"algorithm\w*", r"inferred")


def _norm(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space: ``court.Legal_Rep`` -> ``court legal rep``."""
    out = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    for phrase in _HARMLESS:
        out = out.replace(phrase, " ")
    return out


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(_norm(text))
    return found.group(0) if found else None


def prohibited_ground(text: str) -> tuple[str, str] | None:
    """The prohibited ground (charter rule 3) a category or id names, and the word that names it."""
    for ground, pattern in PROHIBITED_GROUNDS:
        word = _match(pattern, text)
        if word is not None:
            return ground, word
    return None


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


class _Linter:
    def __init__(self, lp: LoadedPolicy) -> None:
        self.lp = lp
        self.doc = lp.doc
        self.cat = _as_named(lp)
        self.problems: list[Problem] = []
        self.types = {rt.id: (i, rt) for i, rt in enumerate(lp.catalogue.record_types)}

    def add(self, doc: SourceDoc, loc: PathKey, code: str, message: str) -> None:
        rule = _BY_CODE[code]
        self.problems.append(doc.problem(loc, code, f"{message} (charter rule {rule.charter_rule}; "
                                                     f"{rule.doc})"))

    def type_loc(self, type_id: str, *field: str) -> PathKey:
        return ("record_types", self.types[type_id][0], *field)

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

    # --- charter rule 1: own conduct only ---------------------------------------------------------

    def own_conduct(self) -> None:
        p = self.lp.policy
        for cond, loc in policy_conditions(p):
            if not isinstance(cond, RecordCondition):
                continue
            if cond.subject != "self":
                self.add(self.doc, (*loc, "subject"), "XC101",
                         f"condition reads records of {cond.subject!r}: only the assessed subject's own "
                         "records may be read (use subject: self)")
            for j, type_id in enumerate(cond.types):
                word = _match(OTHER_SUBJECTS, type_id)
                if word is not None:
                    self.add(self.doc, (*loc, "types", j), "XC101",
                             f"condition reads record type {type_id!r}, which names {word!r}: "
                             "another subject's conduct")
        for i, m in enumerate(p.measures):
            values: list[tuple[str, PathKey]] = [(m.id, ("measures", i, "id")),
                                                 (m.action, ("measures", i, "action")),
                                                 (m.target, ("measures", i, "target"))]
            values += [(d, ("measures", i, "discloses", j)) for j, d in enumerate(m.discloses)]
            for text, loc in values:
                word = _match(OTHER_SUBJECTS, text)
                if word is not None:
                    self.add(self.doc, loc, "XC101",
                             f"measure {m.id!r} reaches {word!r} ({text!r}): a measure may restrict "
                             "only the listed subject")
            if m.target != "listed_subject":
                self.add(self.doc, ("measures", i, "target"), "XC102",
                         f"measure {m.id!r} targets {m.target!r}; only the listed subject may be "
                         "targeted (target: listed_subject)")
        for i, lst in enumerate(p.lists):
            if not _needs_own_records(lst.entry):
                self.add(self.doc, ("lists", i, "entry"), "XC103",
                         f"list {lst.id!r} can hold without any of the subject's own records: an entry "
                         "needs a record or tier condition outside 'not'")

    # --- charter rules 2 and 3: adjudicated records, prohibited grounds --------------------------

    def record_types(self, used: dict[str, PathKey]) -> None:
        may_submit = {t for src in self.lp.catalogue.sources for t in src.may_submit}
        cat_name = self.cat.path.name
        for type_id, (i, rt) in self.types.items():
            where = "used by this policy" if type_id in used else "in the catalogue"
            unaccountable = _unaccountable(rt)
            if unaccountable is not None:
                field, why = unaccountable
                self.add(self.cat, ("record_types", i, field), "XC201",
                         f"record type {type_id!r} ({where}) rests on {why}, not on an adjudicated "
                         f"decision of an accountable officer")
            ground = _ground_of(rt)
            if ground is not None:
                field, name, word = ground
                self.add(self.cat, ("record_types", i, field), "XC301",
                         f"record type {type_id!r} ({where}) is on a prohibited ground: {name} "
                         f"({field} names {word!r})")
            if rt.publication_days > rt.default_validity_days:
                self.add(self.cat, ("record_types", i, "publication_days"), "XC403",
                         f"record type {type_id!r} is published for {rt.publication_days} days, longer "
                         f"than it is valid ({rt.default_validity_days} days)")
        for type_id, loc in used.items():
            if type_id not in self.types:
                continue  # the loader refuses unknown types (XS101)
            rt = self.types[type_id][1]
            unaccountable = _unaccountable(rt)
            if unaccountable is not None:
                self.add(self.doc, loc, "XC201",
                         f"rule reads record type {type_id!r}, which rests on {unaccountable[1]} "
                         f"({cat_name}:{self.cat.line_of(self.type_loc(type_id, unaccountable[0]))})")
            ground = _ground_of(rt)
            if ground is not None:
                self.add(self.doc, loc, "XC301",
                         f"rule reads record type {type_id!r}, on a prohibited ground: {ground[1]} "
                         f"({cat_name}:{self.cat.line_of(self.type_loc(type_id, ground[0]))})")
            if type_id not in may_submit:
                self.add(self.doc, loc, "XC202",
                         f"rule reads record type {type_id!r}, which no registered source may submit "
                         f"(add it to a source's may_submit in {cat_name})")
            if _blank(rt.legal_basis):
                self.add(self.cat, self.type_loc(type_id, "legal_basis"), "XC401",
                         f"record type {type_id!r} is used by a policy but cites no legal basis")
        for cond, loc in policy_conditions(self.lp.policy):
            if isinstance(cond, AttributeCondition):
                self.add(self.doc, (*loc, "attribute"), "XC302",
                         f"condition reads the fairness attribute {cond.attribute!r}: attributes are "
                         "kept for fairness analysis only and no rule may read them")

    # --- charter rules 4 to 7: legal basis, duration, due process, disclosure, shaming ----------

    def lists_and_measures(self) -> None:
        p = self.lp.policy
        allowed, who = PUBLIC_FIELDS | ORGANISATION_FIELDS, "of enterprises"
        if SubjectKind.PERSON in p.applies_to:
            allowed, who = PUBLIC_FIELDS, "that may name persons"
        for i, lst in enumerate(p.lists):
            if _blank(lst.legal_basis):
                self.add(self.doc, ("lists", i, "legal_basis"), "XC401",
                         f"list {lst.id!r} cites no legal basis")
            pub = lst.publication
            if lst.max_duration_days is None:
                self.add(self.doc, ("lists", i, "max_duration_days"), "XC402",
                         f"list {lst.id!r} has no max_duration_days: every listing must end")
            elif pub.days is not None and pub.days > lst.max_duration_days:
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
                         f"list {lst.id!r} takes effect after notice, but procedure.notice_days is not "
                         "set")
        for i, m in enumerate(p.measures):
            if _blank(m.legal_basis):
                self.add(self.doc, ("measures", i, "legal_basis"), "XC401",
                         f"measure {m.id!r} cites no legal basis")
            if m.discloses:
                self.add(self.doc, ("measures", i, "discloses"), "XC601",
                         f"measure {m.id!r} discloses {', '.join(m.discloses)} to relying parties: "
                         "they get the decision and its legal basis, not data")
        proc = p.procedure
        for name, days, verb in (("objection_days", proc.objection_days, "object"),
                                 ("appeal_days", proc.appeal_days, "appeal")):
            if not days:
                self.add(self.doc, ("procedure", name), "XC501",
                         f"procedure.{name} is {'missing' if days is None else 0}: the subject must "
                         f"have a window to {verb}")


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


def _unaccountable(rt: RecordType) -> tuple[str, str] | None:
    """(field, why) when a record type rests on something other than an adjudicated decision."""
    if rt.evidence.strip().lower() not in ADJUDICATED_EVIDENCE:
        return "evidence", f"evidence {rt.evidence!r}"
    for field, text in (("id", rt.id), ("name", rt.name)):
        word = _match(UNACCOUNTABLE, text)
        if word is not None:
            return field, f"{word!r} (its {field})"
    return None


def _ground_of(rt: RecordType) -> tuple[str, str, str] | None:
    for field, text in (("category", rt.category), ("id", rt.id), ("name", rt.name)):
        found = prohibited_ground(text)
        if found is not None:
            return field, found[0], found[1]
    return None


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique = {(p.file, p.line, p.code, p.message): p for p in problems}
    return [unique[k] for k in sorted(unique)]


def lint(lp: LoadedPolicy) -> list[Problem]:
    """Every charter violation of a loaded policy and of its catalogue, sorted by file, line, code."""
    linter = _Linter(lp)
    linter.own_conduct()
    linter.record_types(linter.used_types())
    linter.lists_and_measures()
    return _ordered(linter.problems)


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


def lint_paths(paths: list[Path]) -> list[Problem]:
    """Load and lint every policy under ``paths``; load errors (XS codes) are problems too.

    A catalogue shared by several policies is reported once.
    """
    problems: list[Problem] = []
    for path in policy_files(paths):
        try:
            lp = load_policy(path)
        except PolicyError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(lint(lp))
    return _ordered(problems)
