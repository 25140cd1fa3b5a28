"""Subject identifiers: a registry of schemes, each validated by python-stdnum (never by hand).

A subject is named canonically as ``scheme:value`` (``cn.uscc:914403001922038216``). A bare value is
accepted where exactly one scheme validates it, because agencies and relying parties type bare codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError
from stdnum.id import nik, npwp

from xinyong.model.errors import InvalidIdentifier


class SubjectKind(StrEnum):
    ORGANISATION = "organisation"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Scheme:
    """An identifier scheme: its name, what kind of subject it names, and the stdnum validator."""

    name: str
    kind: SubjectKind
    label: str
    validate: Callable[[str], str]
    compact: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A validated subject identifier. ``key`` is the canonical form stored everywhere."""

    scheme: str
    value: str
    kind: SubjectKind

    @property
    def key(self) -> str:
        return f"{self.scheme}:{self.value}"

    def __str__(self) -> str:
        return self.key


class SchemeRegistry:
    """The identifier schemes a deployment accepts. Build one with the schemes you need; no globals."""

    def __init__(self, schemes: Iterable[Scheme]) -> None:
        self._schemes = {s.name: s for s in schemes}

    def names(self) -> list[str]:
        return sorted(self._schemes)

    def get(self, name: str) -> Scheme:
        try:
            return self._schemes[name]
        except KeyError:
            raise InvalidIdentifier(
                f"unknown identifier scheme {name!r}; known: {', '.join(self.names())}",
                field="subject",
            ) from None

    def kind_of(self, key: str) -> SubjectKind:
        """The subject kind of a canonical ``scheme:value`` key (keys are validated on the way in)."""
        return self.get(key.partition(":")[0]).kind

    def parse(self, text: str) -> SubjectRef:
        """Validate ``scheme:value`` or a bare value; raise :class:`InvalidIdentifier` naming why."""
        text = text.strip()
        if ":" in text:
            name, _, raw = text.partition(":")
            return self._validate(self.get(name), raw)
        matches: list[SubjectRef] = []
        for scheme in self._schemes.values():
            try:
                matches.append(self._validate(scheme, text))
            except InvalidIdentifier:
                continue
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise InvalidIdentifier(
                f"{text!r} is not a valid identifier in any scheme ({', '.join(self.names())})",
                field="subject",
            )
        raise InvalidIdentifier(
            f"{text!r} is valid in several schemes ({', '.join(m.scheme for m in matches)}); "
            "write it as scheme:value",
            field="subject",
        )

    @staticmethod
    def _validate(scheme: Scheme, raw: str) -> SubjectRef:
        try:
            value = scheme.validate(raw)
        except (ValidationError, KeyError) as exc:  # stdnum.cn.ric raises KeyError for unknown counties
            raise InvalidIdentifier(
                f"{raw!r} is not a valid {scheme.label} ({scheme.name}): {exc}", field="subject"
            ) from None
        return SubjectRef(scheme.name, scheme.compact(value), scheme.kind)


def default_schemes() -> SchemeRegistry:
    """Chinese USCC and resident ID, plus Indonesian NPWP and NIK to show that schemes plug in."""
    return SchemeRegistry(
        [
            Scheme("cn.uscc", SubjectKind.ORGANISATION, "Unified Social Credit Code",
                   uscc.validate, uscc.compact),
            Scheme("cn.ric", SubjectKind.PERSON, "Resident Identity Card number",
                   ric.validate, ric.compact),
            Scheme("id.npwp", SubjectKind.ORGANISATION, "Indonesian tax number (NPWP)",
                   npwp.validate, npwp.compact),
            Scheme("id.nik", SubjectKind.PERSON, "Indonesian population number (NIK)",
                   nik.validate, nik.compact),
        ]
    )
