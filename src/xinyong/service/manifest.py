"""Batch manifests for decisions: one subject id a line, ``#`` comments, blank lines, errors by line.

A relying party checks a passenger list or a bidder list at once. One mistyped or ambiguous id must not
cost the decisions on every other line, nor leave the person who wrote the file searching for it: each
line is resolved on its own, a bad one is reported with its line number and the reason, and the others
are decided. ``strict`` is for pipelines that would rather stop: the first bad line is an error and
nothing is decided (nor audited).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from xinyong.model.assessment import Decision
from xinyong.model.errors import InvalidInput, XinyongError
from xinyong.service.registry import Registry


@dataclass(frozen=True, slots=True)
class ManifestLine:
    """One line of a manifest that names a subject: its number (from 1) and the text as written."""

    line: int
    text: str


@dataclass(frozen=True, slots=True)
class LineError:
    """A line that could not be decided, and why (the identifier's own message)."""

    line: int
    text: str
    error: str
    title: str


@dataclass(frozen=True, slots=True)
class ManifestResult:
    """Decisions and refused lines, each with its line number; ``ok`` when every line was decided."""

    decisions: list[tuple[int, Decision]]
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> list[dict[str, object]]:
        """One object per subject line, in file order: a decision (with ``line``) or an ``error``."""
        out: list[tuple[int, dict[str, object]]] = [
            (n, {"line": n, **d.model_dump(mode="json"), "id": d.id}) for n, d in self.decisions]
        out += [(e.line, {"line": e.line, "input": e.text, "error": e.error, "title": e.title})
                for e in self.errors]
        return [obj for _, obj in sorted(out, key=lambda x: x[0])]


def parse_manifest(text: str) -> list[ManifestLine]:
    """The subject lines: blank lines and ``#`` comments (whole lines or after an id) are skipped."""
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        value = raw.split("#", 1)[0].strip().lstrip("\ufeff").strip()
        if value:
            out.append(ManifestLine(n, value))
    return out


def read_manifest(path: Path) -> list[ManifestLine]:
    """The manifest file's subject lines; an unreadable file is one clear input error, not a traceback."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the manifest: {exc.strerror or exc}", field="--batch") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path}:{line}: not UTF-8 (byte offset {exc.start})", field="--batch") from None
    return parse_manifest(text)


def check_manifest(registry: Registry, lines: Iterable[ManifestLine], action: str, purpose: str, as_of: date,
                   *, strict: bool = False, name: str = "manifest") -> ManifestResult:
    """Decide every line that names a subject; refuse the others by line (``strict``: stop at the first)."""
    if not purpose.strip():  # before any line, as for a single check
        raise InvalidInput("a relying party must state the purpose of a check", field="purpose")
    good: list[tuple[int, str]] = []
    errors: list[LineError] = []
    for ml in lines:
        try:
            good.append((ml.line, registry.schemes.parse(ml.text).key))
        except XinyongError as exc:
            if strict:
                raise InvalidInput(f"{name}:{ml.line}: {exc.message}", field="--batch") from None
            errors.append(LineError(ml.line, ml.text, exc.message, exc.title))
    decisions = registry.check_batch([k for _, k in good], action, purpose, as_of) if good else []
    return ManifestResult([(n, d) for (n, _), d in zip(good, decisions, strict=True)], errors)
