"""The tamper-evident audit log: a hash chain over audit entries, and its verification (charter rule 6).

Each entry is written as canonical JSON (sorted keys, no spaces, UTF-8) and hashed with sha256 together
with the hash of the entry before it; the first entry chains to 64 zeros. Editing an entry breaks its
own hash, deleting one leaves a gap in ``seq``, moving one breaks the chain at the first entry out of
place, and rewriting an entry *and* its hash breaks the link from the next entry. Only cutting entries
off the end cannot be seen from the log alone: publish :attr:`VerifyResult.head_hash` somewhere else
(a notice, a newspaper, another agency) to anchor it.

Pure: no database here. A store appends :class:`ChainedEntry` rows computed by :func:`chain` from its
last stored hash, in the same transaction as the write the entry describes, and streams them back to
:func:`verify`.

Cost. Only ``seq`` and the previous hash depend on where an entry lands in the chain, so the canonical
text is built in two parts around the number (:meth:`AuditEntry.prepare`), once per entry, by whoever
makes the entry: a server prepares read entries on the request that caused them and leaves its audit
flusher, which holds the GIL against the event loop, one concatenation and one sha256 per entry. The
text is the same as :func:`canonical_json` of the whole entry, so entries hashed either way verify alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64


def utc_now() -> datetime:
    """The current time as a naive UTC datetime (what a SQL ``TIMESTAMP`` keeps, microseconds)."""
    return datetime.now(UTC).replace(tzinfo=None)


#: ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)`` without
#: building an encoder per call (``json.dumps`` does so whenever it is given options).
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no whitespace, UTF-8 (no ``\\u`` escapes for Chinese)."""
    return _canonical(value)


def _scalar(value: Any) -> str:
    """:func:`canonical_json` of one top-level field: a string or null directly, anything else through
    the encoder (so a caller's odd value is spelled exactly as the whole-object encoding would)."""
    if type(value) is str:
        return encode_basestring(value)
    return "null" if value is None else _canonical(value)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, to which subject, for which purpose; ``detail`` holds JSON values only."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str | None = None
    purpose: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: (text before the seq number, text after it, the detail's canonical JSON, whether the text spells a
    #: NUL), once computed
    _form: tuple[str, str, str, bool] | None = field(default=None, init=False, repr=False, compare=False)

    def prepare(self) -> AuditEntry:
        """Compute (once) the canonical text around ``seq``; returns the entry. The entry's fields and
        ``detail`` must not change afterwards (entries are frozen; ``detail`` is the caller's to leave
        alone)."""
        self._parts()
        return self

    def _parts(self) -> tuple[str, str, str, bool]:
        form = self._form
        if form is None:
            detail = _canonical(dict(self.detail))
            # the keys of canonical(), in sorted order: action, actor, at, detail, purpose, seq, subject
            head = (f'{{"action":{_scalar(self.action)},"actor":{_scalar(self.actor)},'
                    f'"at":"{self.at.isoformat(timespec="microseconds")}","detail":{detail},'
                    f'"purpose":{_scalar(self.purpose)},"seq":')
            tail = f',"subject":{_scalar(self.subject)}}}'
            form = (head, tail, detail, "\\u0000" in head or "\\u0000" in tail)
            object.__setattr__(self, "_form", form)
        return form

    def canonical(self) -> str:
        """The exact text that is hashed: :func:`canonical_json` of the entry as a mapping (``seq``, ``at``
        as naive UTC ISO text with microseconds, as stored, ``actor``, ``action``, ``subject``,
        ``purpose``, ``detail``)."""
        head, tail, _, _ = self._parts()
        return f"{head}{self.seq:d}{tail}"

    def detail_json(self) -> str:
        """``detail`` as canonical JSON (what a store keeps in its ``detail`` column)."""
        return self._parts()[2]

    def may_hold_nul(self) -> bool:
        """Whether a string of the entry may hold a NUL character: its canonical text spells one as
        ``\\u0000`` (a literal backslash-u0000 in a value also matches, so True is only a maybe). Found
        when the text is prepared, by whoever made the entry, so a store's check costs nothing per entry."""
        return self._parts()[3]

    def numbered(self, seq: int) -> AuditEntry:
        """The same entry at position ``seq``, keeping the prepared text (it does not depend on seq)."""
        out = AuditEntry(seq, self.at, self.actor, self.action, self.subject, self.purpose, self.detail)
        if self._form is not None:
            object.__setattr__(out, "_form", self._form)
        return out


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """An entry with its place in the chain: the previous entry's hash and its own."""

    entry: AuditEntry
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``ok``, or the first entry that is wrong and why. ``head_hash`` anchors the log from outside."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    """sha256 over the previous hash and the entry's canonical JSON."""
    head, tail, _, _ = entry._parts()
    return hashlib.sha256(f"{prev_hash}{head}{entry.seq:d}{tail}".encode()).hexdigest()


def chain(entries: Iterable[AuditEntry], prev_hash: str = GENESIS) -> list[ChainedEntry]:
    """Link entries onto a chain whose last hash is ``prev_hash`` (the store's head, or genesis)."""
    out: list[ChainedEntry] = []
    append, sha256 = out.append, hashlib.sha256  # a server's audit flusher runs this for every entry
    for entry in entries:
        head, tail, _, _ = entry._parts()
        h = sha256(f"{prev_hash}{head}{entry.seq:d}{tail}".encode()).hexdigest()
        append(ChainedEntry(entry, prev_hash, h))
        prev_hash = h
    return out


def chain_rows(entries: Iterable[AuditEntry], first_seq: int, prev_hash: str = GENESIS
               ) -> list[tuple[int, datetime, str, str, str | None, str | None, str, str, str]]:
    """The entries numbered from ``first_seq`` and linked onto ``prev_hash``, as flat rows ``(seq, at,
    actor, action, subject, purpose, detail's canonical JSON, prev_hash, hash)``: the chain of
    :func:`chain` over :func:`renumber`, hash for hash, without an entry object per row. A server's audit
    flusher runs this for every read while holding the GIL against the event loop, so the loop body is a
    tuple, a concatenation and one sha256."""
    out: list[tuple[int, datetime, str, str, str | None, str | None, str, str, str]] = []
    append, sha256 = out.append, hashlib.sha256
    seq = first_seq
    for e in entries:
        head, tail, detail, _ = e._parts()
        h = sha256(f"{prev_hash}{head}{seq:d}{tail}".encode()).hexdigest()
        append((seq, e.at, e.actor, e.action, e.subject, e.purpose, detail, prev_hash, h))
        prev_hash = h
        seq += 1
    return out


def verify(
    entries: Iterable[ChainedEntry], prev_hash: str = GENESIS, start_seq: int = 1
) -> VerifyResult:
    """Check a stream of entries in ``seq`` order, in constant memory; stop at the first bad one.

    By default the stream must start at ``seq`` 1 on the genesis hash; pass the ``prev_hash`` and
    ``start_seq`` of a trusted checkpoint to verify only what came after it.
    """
    expected, head, checked = start_seq, prev_hash, 0
    for ce in entries:
        seq = ce.entry.seq
        if seq != expected:
            if seq > expected:
                why = (f"entry {expected} is missing (deleted?): found {seq} after {expected - 1}"
                       if expected > start_seq else f"the log starts at entry {seq}, not {expected}")
            else:
                why = f"entry {seq} is out of order (expected {expected})"
            return VerifyResult(False, checked, expected if seq > expected else seq, why, head)
        if ce.prev_hash != head:
            why = (f"entry {seq} does not chain to entry {seq - 1}: an earlier entry was rewritten, "
                   "moved or removed")
            return VerifyResult(False, checked, seq, why, head)
        if entry_hash(ce.entry, ce.prev_hash) != ce.hash:
            return VerifyResult(False, checked, seq, f"entry {seq} was edited: its content does not "
                                                     "match its hash", head)
        head, expected, checked = ce.hash, expected + 1, checked + 1
    return VerifyResult(True, checked, head_hash=head)


def renumber(entries: Iterable[AuditEntry], first_seq: int) -> Iterator[AuditEntry]:
    """The same entries numbered from ``first_seq`` (a store assigns ``seq`` when it appends)."""
    for i, e in enumerate(entries):
        yield e.numbered(first_seq + i)
