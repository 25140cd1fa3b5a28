"""Subject identifiers: a registry of schemes, each validated by python-stdnum (never by hand).

A subject is named canonically as ``scheme:value`` (``cn.uscc:914403001922038216``). A bare value is
accepted where exactly one scheme validates it, because agencies and relying parties type bare codes;
a value two schemes accept is refused, naming both readings, since guessing would file a record about
a company under a person (or the reverse).

Every check character an identifier carries is verified. python-stdnum does nearly all of it:
``stdnum.cn.ric`` checks the MOD 11-2 character, the birth date and the birthplace code in use in the
birth year; ``stdnum.cn.uscc`` checks the format and the MOD 31-3 character. What stdnum (2.x) leaves
out is the organisation code that GB 32100 embeds in USCC positions 9-17: a GB 11714 code whose ninth
character is its own MOD 11 check. It is verified here (:func:`org_code_check_char`), because without it
an 18-digit resident id with an impossible date can still pass as a USCC by the 1-in-31 chance of its
last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.id import nik, npwp

from xinyong.model.errors import InvalidIdentifier

# GB 11714-1997: weights of the eight body characters; characters are worth 0-9 and A=10 ... Z=35
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body (``X`` for 10).

    python-stdnum has no module for the Chinese organisation code, hence these few lines.
    """
    total = sum(_ORG_CODE_CHARS.index(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def validate_uscc(number: str) -> str:
    """``stdnum.cn.uscc.validate`` plus the check character of the embedded organisation code."""
    number = uscc.validate(number)
    if number[16] != org_code_check_char(number[8:16]):
        raise InvalidChecksum("the organisation code (positions 9-17) fails its GB 11714 check character")
    return number


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
        # short enough to survive a reject file's clipped reason with every candidate named
        readings = " or ".join(f"{m.key} ({m.kind.value})" for m in matches)
        raise InvalidIdentifier(f"{text!r} is ambiguous: {readings}; write it as scheme:value", field="subject")

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
                   validate_uscc, uscc.compact),
            Scheme("cn.ric", SubjectKind.PERSON, "Resident Identity Card number",
                   ric.validate, ric.compact),
            Scheme("id.npwp", SubjectKind.ORGANISATION, "Indonesian tax number (NPWP)",
                   npwp.validate, npwp.compact),
            Scheme("id.nik", SubjectKind.PERSON, "Indonesian population number (NIK)",
                   nik.validate, nik.compact),
        ]
    )
