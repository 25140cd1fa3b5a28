"""The charter bases: closed sets, shipped as data, that a catalogue and a policy must map onto.

China's own reform gives the model: information outside the national basic catalogue of public credit
information may not be collected, measures outside the national basic list of disciplinary measures may
not be applied, and public credit information is only what state organs and bodies authorised by law
produce in performing statutory duties. xinyong ships its own bases in ``xinyong/charter/``, each entry
citing its statute:

- record domains (``record_domains.yaml``) with the kinds of authority that may decide in each;
- source kinds (``source_kinds.yaml``): court, administrative organ, body authorised by law, each with the
  instruments its empowering statute must be;
- measure kinds (``measure_kinds.yaml``) with the actions they may govern and the effects they may have;
- duration caps per severity and an absolute ceiling (``duration_caps.yaml``).

A value that is not in a closed set cannot be expressed: the linter refuses it, naming the file, the
line and the set. Checking membership in a list, rather than looking for words to avoid, is what makes
a disguised entry fail whatever it is called. The data files are validated here too (pydantic models
that forbid unknown fields, then a resolve pass: duplicate ids, authorities that are no source kind,
caps above the ceiling), so a broken base fails loudly at ``file:line`` instead of weakening the linter.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field

from xinyong.model.base import Frozen
from xinyong.model.catalogue import ID_PATTERN, Severity
from xinyong.model.errors import PolicyError, Problem
from xinyong.policy.lint_words import fold
from xinyong.policy.loader import validate_doc
from xinyong.policy.source import SourceDoc, read_yaml

Authority = str  # the id of a source kind


class _Entry(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)


class RecordDomain(_Entry):
    authorities: list[Authority] = Field(min_length=1)


class SourceKind(_Entry):
    instruments: list[str] = Field(min_length=1, description="Kinds of instrument the statute must be")


class MeasureKind(_Entry):
    effects: list[Literal["deny", "review", "benefit"]] = Field(min_length=1)
    actions: list[str] = Field(min_length=1)


class SeverityCap(Frozen):
    listing_days: int = Field(gt=0)
    validity_days: int = Field(gt=0)
    publication_days: int = Field(gt=0)
    legal_basis: str = Field(min_length=1)


class _Base(Frozen):
    version: str = Field(min_length=1)
    basis: str = Field(default="", description="The national document the base is modelled on")


_BaseT = TypeVar("_BaseT", bound=_Base)


class RecordDomains(_Base):
    kind: Literal["charter_record_domains"]
    record_domains: list[RecordDomain] = Field(min_length=1)


class SourceKinds(_Base):
    kind: Literal["charter_source_kinds"]
    source_kinds: list[SourceKind] = Field(min_length=1)


class MeasureKinds(_Base):
    kind: Literal["charter_measure_kinds"]
    measure_kinds: list[MeasureKind] = Field(min_length=1)


class DurationCaps(_Base):
    kind: Literal["charter_duration_caps"]
    ceiling_days: int = Field(gt=0)
    ceiling_basis: str = Field(min_length=1)
    severities: dict[Severity, SeverityCap]


@dataclass(frozen=True)
class CharterBases:
    """The four bases, indexed by id, with the files they came from (for messages)."""

    domains: dict[str, RecordDomain]
    source_kinds: dict[str, SourceKind]
    measure_kinds: dict[str, MeasureKind]
    caps: DurationCaps
    files: dict[str, str]
    instruments: dict[str, re.Pattern[str]]

    def cap(self, severity: Severity) -> SeverityCap:
        return self.caps.severities[severity]

    def statute_fits(self, kind: str, statute: str) -> bool:
        """Whether ``statute`` names an instrument of the kind this source kind must rest on."""
        return self.instruments[kind].search(fold(statute)) is not None


def _instrument_pattern(words: list[str]) -> re.Pattern[str]:
    """English instrument words match as whole words, Chinese ones as substrings; ``法`` (a law) does not
    match inside ``办法`` (measures, a lesser instrument listed on its own where it qualifies) nor in
    ``法院`` (a court) or ``法规``."""
    alternatives = []
    for w in words:
        if w.isascii():
            alternatives.append(rf"\b{re.escape(w)}\b")
        elif w == "法":
            alternatives.append(r"(?<!办)法(?![院规])")
        else:
            alternatives.append(re.escape(w))
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _charter_dir() -> Path:
    return Path(str(resources.files("xinyong.charter")))


def _load(name: str, model: type[_BaseT]) -> tuple[_BaseT, SourceDoc]:
    doc = read_yaml(_charter_dir() / name)
    return validate_doc(doc, model), doc


def _dups(doc: SourceDoc, key: str, ids: list[str]) -> Iterator[Problem]:
    for dup in sorted(i for i, n in Counter(ids).items() if n > 1):
        yield doc.problem((key,), "XS104", f"{key}: {dup!r} is defined twice")


@cache
def charter_bases() -> CharterBases:
    """Load and resolve the shipped bases once per process; a broken data file raises a located
    :class:`PolicyError` (nothing is linted against a base that does not hold)."""
    domains, ddoc = _load("record_domains.yaml", RecordDomains)
    kinds, kdoc = _load("source_kinds.yaml", SourceKinds)
    measures, mdoc = _load("measure_kinds.yaml", MeasureKinds)
    caps, cdoc = _load("duration_caps.yaml", DurationCaps)
    problems = [*_dups(ddoc, "record_domains", [d.id for d in domains.record_domains]),
                *_dups(kdoc, "source_kinds", [k.id for k in kinds.source_kinds]),
                *_dups(mdoc, "measure_kinds", [m.id for m in measures.measure_kinds])]
    kind_ids = {k.id for k in kinds.source_kinds}
    for i, d in enumerate(domains.record_domains):
        for j, a in enumerate(d.authorities):
            if a not in kind_ids:
                problems.append(ddoc.problem(("record_domains", i, "authorities", j), "XS101",
                                             f"domain {d.id!r} names {a!r}, which is no source kind "
                                             f"({', '.join(sorted(kind_ids))})"))
    for i, m in enumerate(measures.measure_kinds):
        for j, action in enumerate(m.actions):
            if not re.fullmatch(ID_PATTERN, action):
                problems.append(mdoc.problem(("measure_kinds", i, "actions", j), "XS010",
                                             f"action {action!r} is not a dotted id"))
    for sev in Severity:
        cap = caps.severities.get(sev)
        if cap is None:
            problems.append(cdoc.problem(("severities",), "XS010", f"no cap for severity {sev.value!r}"))
        elif max(cap.listing_days, cap.validity_days, cap.publication_days) > caps.ceiling_days:
            problems.append(cdoc.problem(("severities", sev.value), "XS010",
                                         f"a {sev.value} cap exceeds the ceiling of {caps.ceiling_days} days"))
    if problems:
        raise PolicyError(problems)
    return CharterBases(
        domains={d.id: d for d in domains.record_domains},
        source_kinds={k.id: k for k in kinds.source_kinds},
        measure_kinds={m.id: m for m in measures.measure_kinds},
        caps=caps,
        files={"domains": "record_domains.yaml", "sources": "source_kinds.yaml",
               "measures": "measure_kinds.yaml", "caps": "duration_caps.yaml"},
        instruments={k.id: _instrument_pattern(k.instruments) for k in kinds.source_kinds},
    )

