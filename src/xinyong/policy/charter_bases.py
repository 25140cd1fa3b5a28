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

Parsing and validating them is most of what a linter run costs beyond its own policy, so the package
ships the result too: ``bases.digest.json``, the resolved bases with the sha256 of the four files they
came from. When the files on disk hash to it, the bases are built from the digest without parsing or
validating again; when they do not (a base edited, the digest not regenerated), they are parsed and
validated as before, so an edit is never linted against stale bases. ``python -m
xinyong.policy.charter_bases`` validates the files and rewrites the digest (a test checks it is current).
Nothing is written at run time: a read-only installation works the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ConfigDict, Field

from xinyong.model.base import Frozen
from xinyong.model.catalogue import ID_PATTERN, Severity
from xinyong.model.errors import PolicyError, Problem
from xinyong.policy.lint_words import fold
from xinyong.policy.loader import validate_doc
from xinyong.policy.source import SourceDoc, parse_yaml

Authority = str  # the id of a source kind
#: The four bases: key (used in messages) -> file in ``xinyong/charter/``.
FILES = {"domains": "record_domains.yaml", "sources": "source_kinds.yaml", "measures": "measure_kinds.yaml",
         "caps": "duration_caps.yaml"}
DIGEST = "bases.digest.json"
DIGEST_FORMAT = 1  # bump when the digest's layout or the models' fields change
# Validators are built when first used: with a current digest, a run never validates a base.
_DEFERRED = ConfigDict(defer_build=True)


class _Entry(Frozen):
    model_config = _DEFERRED
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
    model_config = _DEFERRED
    listing_days: int = Field(gt=0)
    validity_days: int = Field(gt=0)
    publication_days: int = Field(gt=0)
    legal_basis: str = Field(min_length=1)


class _Base(Frozen):
    model_config = _DEFERRED
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

    def cap(self, severity: Severity) -> SeverityCap:
        return self.caps.severities[severity]

    def statute_fits(self, kind: str, statute: str) -> bool:
        """Whether ``statute`` names an instrument of the kind this source kind must rest on."""
        pattern = _instrument_pattern(tuple(self.source_kinds[kind].instruments))
        return pattern.search(fold(statute)) is not None


@cache
def _instrument_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
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


def _dups(doc: SourceDoc, key: str, ids: list[str]) -> Iterator[Problem]:
    for dup in sorted(i for i, n in Counter(ids).items() if n > 1):
        yield doc.problem((key,), "XS104", f"{key}: {dup!r} is defined twice")


def _read() -> dict[str, bytes]:
    raw = {}
    for key, name in FILES.items():
        path = _charter_dir() / name
        try:
            raw[key] = path.read_bytes()
        except OSError as exc:
            raise PolicyError([Problem(str(path), 0, "XS001", f"cannot read file: {exc.strerror}")]) from None
    return raw


def fingerprint(raw: dict[str, bytes]) -> str:
    """The sha256 of the digest format and the four files, names and bytes."""
    h = hashlib.sha256(f"xinyong charter bases digest {DIGEST_FORMAT}".encode())
    for key in sorted(raw):
        h.update(f"\0{FILES[key]}\0{len(raw[key])}\0".encode())
        h.update(raw[key])
    return h.hexdigest()


@cache
def charter_bases() -> CharterBases:
    """The shipped bases, once per process: from the digest when the files are those it was made from,
    else parsed, validated and resolved; a broken data file raises a located :class:`PolicyError`
    (nothing is linted against a base that does not hold)."""
    raw = _read()
    digest = _shipped_digest()
    if digest is not None and digest.get("fingerprint") == fingerprint(raw):
        try:
            return _from_digest(digest)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # a digest not written by write_digest: validate the files
    return validated(raw)


def _shipped_digest() -> dict[str, Any] | None:
    try:
        data = json.loads((_charter_dir() / DIGEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no digest (or an unreadable one): validate the files
    return data if isinstance(data, dict) else None


def _load(raw: dict[str, bytes], key: str, model: type[_BaseT]) -> tuple[_BaseT, SourceDoc]:
    path = _charter_dir() / FILES[key]
    try:
        text = raw[key].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([Problem(str(path), 0, "XS001", f"cannot read file: {exc.reason}")]) from None
    doc = parse_yaml(text, path)
    return validate_doc(doc, model), doc


def validated(raw: dict[str, bytes]) -> CharterBases:
    """Parse, validate and resolve the four files (``raw``: key -> bytes, see :data:`FILES`)."""
    domains, ddoc = _load(raw, "domains", RecordDomains)
    kinds, kdoc = _load(raw, "sources", SourceKinds)
    measures, mdoc = _load(raw, "measures", MeasureKinds)
    caps, cdoc = _load(raw, "caps", DurationCaps)
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
    return _bases(domains.record_domains, kinds.source_kinds, measures.measure_kinds, caps)


def _bases(domains: list[RecordDomain], kinds: list[SourceKind], measures: list[MeasureKind],
           caps: DurationCaps) -> CharterBases:
    return CharterBases(
        domains={d.id: d for d in domains},
        source_kinds={k.id: k for k in kinds},
        measure_kinds={m.id: m for m in measures},
        caps=caps,
        files=dict(FILES),
    )


def digest(bases: CharterBases, raw: dict[str, bytes]) -> dict[str, Any]:
    """The digest of validated ``bases`` made from the files ``raw``: their fingerprint and every entry."""
    return {"format": DIGEST_FORMAT, "fingerprint": fingerprint(raw),
            "record_domains": [d.model_dump(mode="json") for d in bases.domains.values()],
            "source_kinds": [k.model_dump(mode="json") for k in bases.source_kinds.values()],
            "measure_kinds": [m.model_dump(mode="json") for m in bases.measure_kinds.values()],
            "duration_caps": bases.caps.model_dump(mode="json")}


def _from_digest(data: dict[str, Any]) -> CharterBases:
    """The bases from a digest whose fingerprint matched: validated when the digest was written, so the
    models are constructed without validating again."""
    caps = dict(data["duration_caps"])
    caps["severities"] = {Severity(k): SeverityCap.model_construct(**v) for k, v in caps["severities"].items()}
    return _bases([RecordDomain.model_construct(**d) for d in data["record_domains"]],
                  [SourceKind.model_construct(**k) for k in data["source_kinds"]],
                  [MeasureKind.model_construct(**m) for m in data["measure_kinds"]],
                  DurationCaps.model_construct(**caps))


def write_digest() -> Path:
    """Validate the files and write the digest next to them (run after editing a base)."""
    raw = _read()
    path = _charter_dir() / DIGEST
    path.write_text(json.dumps(digest(validated(raw), raw), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_digest()}")
