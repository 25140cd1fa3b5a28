"""The public register: search the published lists by organisation code or name, or browse one list.

Built on the publication rules of :mod:`xinyong.service.publication` and nothing else: only listings in
force (due process, publication window), only each list's published fields, a person by masked name.
Two refusals follow from charter rule 7. A resident id is never searched (a hit would tie a person's
identity to a listing the register shows only by masked name), and a name matches only the name a list
publishes for an organisation, never a person's real name behind its mask.

Working out which listings are in force re-assesses the subjects that may not be (in a notice period,
under objection): seconds per list on a large register, the same for every visitor. So each list's
published entries, their names and the reasons shown are kept for the service's date. Before a search the
store's change sequence is read since the last one (any process's records, amendments and cases): the few
subjects written about are re-assessed one by one and their entries replaced, by the same rule as a whole
list; after a bulk load, or on a new date, the lists are worked out again. A search is then one
change-sequence query, a filter, and the reasons of at most a page of subjects not shown before, each
evaluated from the subject's own file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta

from xinyong.model.errors import InvalidIdentifier, InvalidInput, NotFound
from xinyong.model.identifiers import SubjectKind
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import ListDef
from xinyong.service.online import Online
from xinyong.service.publication import PublicEntry, listing_reasons, public_entry, published_rows
from xinyong.store.protocol import ListingRow

MAX_QUERY = 200
#: at most this many subjects written about since the last search are re-assessed one by one; more (a
#: bulk load) and every list is worked out again
PATCH_LIMIT = 200
PERSON = SubjectKind.PERSON.value


@dataclass(frozen=True)
class RegisterHit:
    """One listing in force as the public may see it, with the list it is on."""

    list_id: str
    list_name: str
    list_kind: str
    legal_basis: str | None
    policy: str
    entry: PublicEntry


@dataclass(frozen=True)
class RegisterResult:
    query: str
    list_id: str | None
    as_of: date
    total: int
    offset: int
    hits: list[RegisterHit]
    lists: list[ListDef]


@dataclass
class _Published:
    """One list's public entries in subject order (reasons filled in as pages show them), with what a
    search reads: each entry's searchable name (casefolded; None for a person or a name the list does not
    publish) and its position by subject."""

    ldef: ListDef
    entries: list[tuple[str, PublicEntry]]   # subject key, entry without its reason
    searchable: list[str | None] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, ldef: ListDef, rows: list[ListingRow], names: dict[str, tuple[str, str | None]]
              ) -> _Published:
        pub = cls(ldef, [])
        pub.add(rows, names)
        return pub

    def add(self, rows: list[ListingRow], names: dict[str, tuple[str, str | None]]) -> None:
        """Add rows (kind and name from ``names``) and re-index, keeping subject order."""
        names_published = bool({"name", "masked_name"} & set(self.ldef.publication.fields))
        for r in rows:
            kind, name = names[r.subject]
            self.kinds[r.subject] = kind
            self.entries.append((r.subject, public_entry(r, kind, name, self.ldef.publication)))
        self.entries.sort(key=lambda e: e[0])
        self.searchable = [e.name.casefold() if e.name and names_published and self.kinds[s] != PERSON else None
                           for s, e in self.entries]
        self.position = {s: i for i, (s, _) in enumerate(self.entries)}

    def drop(self, subjects: set[str]) -> None:
        self.entries = [(s, e) for s, e in self.entries if s not in subjects]
        for s in subjects:
            self.reasons.pop(s, None)

    def matching(self, query: str, code: str | None) -> range | list[int]:
        if code is not None:
            return [self.position[code]] if code in self.position else []
        if not query:
            return range(len(self.entries))
        folded = query.casefold()
        return [i for i, name in enumerate(self.searchable) if name is not None and folded in name]


class PublicRegister:
    """Searches over one service's published lists (one per server process: its cache is its own)."""

    def __init__(self, svc: Online) -> None:
        self.svc = svc
        self._lists: dict[str, _Published] = {}
        self._day: date | None = None
        self._seq = 0
        self._mutex = threading.Lock()

    def published_lists(self) -> list[tuple[LoadedPolicy, ListDef]]:
        """Every list whose policy provides for publication, with its policy."""
        return [(lp, d) for lp in self.svc.policies() for d in lp.policy.lists if d.publication.publish]

    def search(self, query: str = "", list_id: str | None = None, limit: int = 20, offset: int = 0
               ) -> RegisterResult:
        """Listings in force matching ``query`` (an organisation's code or part of its published name;
        empty: all) on ``list_id`` (None: every published list), ``limit`` from ``offset``."""
        query = query.strip()
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"the search text is longer than {MAX_QUERY} characters", field="q")
        lists = self.published_lists()
        if list_id:
            if list_id not in {d.id for _, d in lists}:
                raise NotFound(f"no published list {list_id!r}", field="list")
            lists = [(lp, d) for lp, d in lists if d.id == list_id]
        code = self._organisation_code(query)
        day = self.svc.index().as_of
        with self.svc.store.lock, self._mutex:  # one search at a time works on the cache
            self._validate(day)
            found = [(lp, ldef, pub, pub.matching(query, code))
                     for lp, ldef in lists for pub in [self._published(ldef, day)]]
            page: list[tuple[LoadedPolicy, ListDef, _Published, str, PublicEntry]] = []
            skip = offset
            for lp, ldef, pub, idx in found:  # the page may span lists: skip whole lists, then slice
                if skip >= len(idx):
                    skip -= len(idx)
                    continue
                for i in idx[skip:skip + limit - len(page)]:
                    page.append((lp, ldef, pub, *pub.entries[i]))
                skip = 0
                if len(page) >= limit:
                    break
            self._fill_reasons(page, day)
        hits = [RegisterHit(d.id, d.name, d.kind.value, d.legal_basis, lp.policy.ref,
                            _with_reason(e, pub.reasons.get(s), d)) for lp, d, pub, s, e in page]
        total = sum(len(idx) for *_, idx in found)
        return RegisterResult(query, list_id, day, total, offset, hits, [d for _, d in lists])

    def _published(self, ldef: ListDef, day: date) -> _Published:
        """The list's entries, worked out once per date (caller holds the locks)."""
        cached = self._lists.get(ldef.id)
        if cached is None:
            _, rows = published_rows(self.svc.registry, ldef.id, day)
            cached = self._lists[ldef.id] = _Published.build(ldef, rows, self._names([r.subject for r in rows]))
        return cached

    def _names(self, subjects: list[str]) -> dict[str, tuple[str, str | None]]:
        names = self.svc.store.subject_names(subjects)
        kind_of = self.svc.registry.schemes.kind_of
        return {s: names.get(s, (kind_of(s).value, None)) for s in subjects}

    def _validate(self, day: date) -> None:
        """Bring the lists up to date (caller holds the locks): nothing to do if nothing was written
        since the last look (one query over the change sequence); the subjects written about re-assessed
        and their entries replaced if they are few; every list forgotten if many, or the date moved."""
        store = self.svc.store
        lists = self._lists if self._day == day else {}
        if lists:
            head, changed = store.changed_subjects(self._seq)
            if len(changed) <= PATCH_LIMIT:
                if changed:
                    self._patch(lists, changed, day)
                self._seq = head  # the next look reads only what comes after
                return
        self._lists = {}
        self._day = day
        self._seq = store.audit_head()[0]  # before reading: a write from now on is seen next time

    def _patch(self, lists: dict[str, _Published], changed: set[str], day: date) -> None:
        """The same rule as a whole list (``published_rows``) for a few subjects: listings in force by
        single-subject assessment, within the publication window."""
        rows: dict[str, list[ListingRow]] = {}
        for key, pairs in sorted(self.svc.registry.in_force_of(changed, day).items()):
            for _, a in pairs:
                for x in a.listings:
                    pub = lists.get(x.list_id)
                    days = pub.ldef.publication.days if pub is not None else None
                    if pub is not None and (days is None or day < x.since + timedelta(days=days)):
                        rows.setdefault(x.list_id, []).append(ListingRow("", key, x.list_id, x.kind.value,
                                                                         x.since, x.until))
        names = self._names(sorted({r.subject for rs in rows.values() for r in rs}))
        for list_id, pub in lists.items():
            pub.drop(changed)
            pub.add(rows.get(list_id, []), names)

    def _fill_reasons(self, page: list[tuple[LoadedPolicy, ListDef, _Published, str, PublicEntry]],
                      day: date) -> None:
        todo: dict[str, tuple[LoadedPolicy, _Published, list[str]]] = {}
        for lp, ldef, pub, subject, _ in page:
            if "reason" in ldef.publication.fields and subject not in pub.reasons:
                todo.setdefault(ldef.id, (lp, pub, []))[2].append(subject)
        for list_id, (lp, pub, subjects) in todo.items():
            pub.reasons.update(listing_reasons(self.svc.registry, lp, list_id, subjects, day))

    def _organisation_code(self, query: str) -> str | None:
        """The canonical key when ``query`` is an identifier: organisations only (see the module docstring)."""
        if not query or any(ch.isspace() for ch in query) or not any(ch.isdigit() for ch in query):
            return None
        try:
            subject = self.svc.registry.schemes.parse(query)
        except InvalidIdentifier:
            return None
        if subject.kind is SubjectKind.PERSON:
            raise InvalidInput("the public register is not searched by a person's identifier: persons are "
                               "published by masked name only", field="q")
        return subject.key


def _with_reason(entry: PublicEntry, reason: str | None, ldef: ListDef) -> PublicEntry:
    if "reason" not in ldef.publication.fields:
        return entry
    return PublicEntry(entry.subject, entry.name, entry.since, entry.until, reason)


__all__ = ["MAX_QUERY", "PublicRegister", "RegisterHit", "RegisterResult"]
