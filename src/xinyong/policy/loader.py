"""Load catalogue, policy and policy-test files: schema validation, then a resolve pass.

Every problem names the file and line. Schema problems are ``XS0xx``, resolve problems ``XS1xx``;
charter problems (``XCnnn``) are the linter's, which runs on a loaded policy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import PolicyError, Problem
from xinyong.policy.calendar import calendar_names
from xinyong.policy.schema import (
    AllCondition,
    AnyCondition,
    Condition,
    NotCondition,
    Policy,
    RecordCondition,
    TierCondition,
)
from xinyong.policy.source import PathKey, SourceDoc, parse_yaml, read_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy with its resolved catalogue and the sources both came from (for located messages)."""

    policy: Policy
    catalogue: Catalogue
    doc: SourceDoc
    catalogue_doc: SourceDoc

    @property
    def path(self) -> Path:
        return self.doc.path


def validate_doc(doc: SourceDoc, model: type[M]) -> M:
    """Validate a parsed document against a model; pydantic errors become located problems."""
    if not isinstance(doc.data, dict):
        raise PolicyError([doc.problem((), "XS003", f"expected a mapping for a {model.__name__}")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "(document)"
            problems.append(doc.problem(loc, "XS010", f"{where}: {err['msg']}"))
        raise PolicyError(problems) from None


def load_catalogue(path: Path) -> tuple[Catalogue, SourceDoc]:
    return _catalogue_from_doc(read_yaml(path))


def _catalogue_from_doc(doc: SourceDoc) -> tuple[Catalogue, SourceDoc]:
    catalogue = validate_doc(doc, Catalogue)
    problems = list(_resolve_catalogue(catalogue, doc))
    if problems:
        raise PolicyError(problems)
    return catalogue, doc


def load_policy(path: Path) -> LoadedPolicy:
    """Load and resolve a policy file and the catalogue it names."""
    doc = read_yaml(path)
    policy = validate_doc(doc, Policy)
    cat_path = (path.parent / policy.catalogue).resolve()
    if not cat_path.is_file():
        raise PolicyError([doc.problem(("catalogue",), "XS101", f"catalogue file not found: {cat_path}")])
    return _resolved(policy, doc, *load_catalogue(cat_path))


def load_policy_text(policy_text: str, catalogue_text: str, name: str) -> LoadedPolicy:
    """Load a published policy version from the texts the store kept (same checks as from files)."""
    doc = parse_yaml(policy_text, Path(name))
    policy = validate_doc(doc, Policy)
    cat_doc = parse_yaml(catalogue_text, Path(name).with_name(policy.catalogue))
    return _resolved(policy, doc, *_catalogue_from_doc(cat_doc))


class PublishedTexts(Protocol):
    """A published version as a store keeps it: the policy's id and the two texts."""

    @property
    def policy(self) -> str: ...
    @property
    def document(self) -> str: ...
    @property
    def catalogue(self) -> str: ...


def load_published(pv: PublishedTexts) -> LoadedPolicy:
    """Load a version the store kept, named ``<policy>.yaml`` in its messages (every reader of the
    register loads versions this one way)."""
    return load_policy_text(pv.document, pv.catalogue, f"{pv.policy}.yaml")


def _resolved(policy: Policy, doc: SourceDoc, catalogue: Catalogue, cat_doc: SourceDoc) -> LoadedPolicy:
    loaded = LoadedPolicy(policy, catalogue, doc, cat_doc)
    problems = list(_resolve_policy(loaded))
    if problems:
        raise PolicyError(problems)
    return loaded


def _duplicates(ids: list[str]) -> set[str]:
    return {i for i, n in Counter(ids).items() if n > 1}


def _resolve_catalogue(cat: Catalogue, doc: SourceDoc) -> Iterator[Problem]:
    for dup in _duplicates([rt.id for rt in cat.record_types]):
        yield doc.problem(("record_types",), "XS104", f"record type {dup!r} is defined twice")
    for dup in _duplicates([s.id for s in cat.sources]):
        yield doc.problem(("sources",), "XS104", f"source {dup!r} is defined twice")
    known = cat.type_ids()
    for i, src in enumerate(cat.sources):
        for j, type_id in enumerate(src.may_submit):
            if type_id not in known:
                yield doc.problem(("sources", i, "may_submit", j), "XS101",
                                  f"source {src.id!r} may submit unknown record type {type_id!r}")


def iter_conditions(cond: Condition, loc: PathKey) -> Iterator[tuple[Condition, PathKey]]:
    """Every condition in a tree with its location, the root first."""
    yield cond, loc
    if isinstance(cond, AllCondition):
        for i, sub in enumerate(cond.all):
            yield from iter_conditions(sub, (*loc, "all", i))
    elif isinstance(cond, AnyCondition):
        for i, sub in enumerate(cond.any):
            yield from iter_conditions(sub, (*loc, "any", i))
    elif isinstance(cond, NotCondition):
        yield from iter_conditions(cond.not_, (*loc, "not"))


def policy_conditions(policy: Policy) -> Iterator[tuple[Condition, PathKey]]:
    """Every condition of a policy (tier conditions and list entries) with its location."""
    for i, tier in enumerate(policy.tiers):
        if tier.when is not None:
            yield from iter_conditions(tier.when, ("tiers", i, "when"))
    for i, lst in enumerate(policy.lists):
        yield from iter_conditions(lst.entry, ("lists", i, "entry"))


def _resolve_policy(lp: LoadedPolicy) -> Iterator[Problem]:
    p, doc, known = lp.policy, lp.doc, lp.catalogue.type_ids()
    tier_names = [t.name for t in p.tiers]
    list_ids = [x.id for x in p.lists]

    def unknown_type(type_id: str, loc: PathKey) -> Iterator[Problem]:
        if type_id not in known:
            yield doc.problem(loc, "XS101", f"record type {type_id!r} is not in the catalogue "
                                            f"({lp.catalogue_doc.path.name})")

    for dup in _duplicates(list_ids):
        yield doc.problem(("lists",), "XS104", f"list {dup!r} is defined twice")
    for dup in _duplicates([m.id for m in p.measures]):
        yield doc.problem(("measures",), "XS104", f"measure {dup!r} is defined twice")
    for dup in _duplicates(tier_names):
        yield doc.problem(("tiers",), "XS104", f"tier {dup!r} is defined twice")

    if p.scoring is not None:
        for i, rule in enumerate(p.scoring.rules):
            yield from unknown_type(rule.type, ("scoring", "rules", i, "type"))
        for dup in _duplicates([r.type for r in p.scoring.rules]):
            yield doc.problem(("scoring", "rules"), "XS106", f"record type {dup!r} has two score rules")
        capped: list[str] = []
        for i, cap in enumerate(p.scoring.caps):
            for j, type_id in enumerate(cap.types):
                yield from unknown_type(type_id, ("scoring", "caps", i, "types", j))
            capped.extend(cap.types)
        for dup in _duplicates(capped):
            yield doc.problem(("scoring", "caps"), "XS106", f"record type {dup!r} is in two caps")

    if p.tiers:
        if p.scoring is None:
            yield doc.problem(("tiers",), "XS105", "tiers need a scoring section")
        last = p.tiers[-1]
        if last.min is not None or last.when is not None:
            yield doc.problem(("tiers", len(p.tiers) - 1), "XS105",
                              f"the last tier ({last.name}) is the floor: give it no min and no when")
    for i, tier in enumerate(p.tiers):
        if tier.when is None:
            continue
        for cond, loc in iter_conditions(tier.when, ("tiers", i, "when")):
            if isinstance(cond, TierCondition):
                yield doc.problem(loc, "XS105", "a tier condition cannot depend on tiers")

    for cond, loc in policy_conditions(p):
        if isinstance(cond, RecordCondition):
            for j, type_id in enumerate(cond.types):
                yield from unknown_type(type_id, (*loc, "types", j))
        elif isinstance(cond, TierCondition):
            for j, name in enumerate(cond.tier_in):
                if name not in tier_names:
                    yield doc.problem((*loc, "tier_in", j), "XS103", f"unknown tier {name!r}")

    if p.procedure.calendar not in calendar_names():
        yield doc.problem(("procedure", "calendar"), "XS107",
                          f"unknown working-day calendar {p.procedure.calendar!r} (shipped: "
                          f"{', '.join(sorted(calendar_names()))})")

    for i, m in enumerate(p.measures):
        if m.on_list is not None and m.on_list not in list_ids:
            yield doc.problem(("measures", i, "list"), "XS102", f"measure {m.id!r} names unknown list "
                                                                 f"{m.on_list!r}")
        for j, name in enumerate(m.tiers or []):
            if name not in tier_names:
                yield doc.problem(("measures", i, "tiers", j), "XS103", f"unknown tier {name!r}")


def find_policy_files(paths: list[Path], *, include_rejected: bool = False) -> list[Path]:
    """Files of ``kind: policy`` among ``paths`` (directories searched recursively).

    A directory walk skips ``examples/rejected/`` (policies kept to show what the linter refuses) unless
    ``include_rejected`` is set or that directory is given itself.
    """
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*.y*ml")):
                skip = "rejected" in f.relative_to(p).parts and not include_rejected
                if not skip and declared_kind(f) == "policy":
                    found.append(f)
        else:
            found.append(p)
    return found


def declared_kind(path: Path) -> str | None:
    """The top-level ``kind:`` a YAML file declares, read without parsing (None if absent/unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # the loader reports it, with the file
    found = re.search(r"^kind:\s*['\"]?([\w-]+)", text, re.MULTILINE)
    return found.group(1) if found else None
