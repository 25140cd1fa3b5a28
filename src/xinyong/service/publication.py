"""The public list view under due process: only listings in force, only within the publication window.

The evaluation run says who meets a list's entry (compiled SQL, the whole population); due process then
removes the few listings still in their notice period or suspended by an open objection (charter rules
5 and 7: nobody is published before notice, and a publication ends with its window); ``public_entry``
keeps only the fields the list publishes, a person by masked name and never an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.model.errors import NotFound
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import Publication
from xinyong.service.registry import Registry
from xinyong.store.protocol import ListingRow


def in_force_rows(registry: Registry, list_id: str, as_of: date) -> tuple[LoadedPolicy, list[ListingRow]]:
    """Listings of ``list_id`` in force under due process as of ``as_of`` (evaluating if no run exists)."""
    try:
        lp, rows = registry.listings(list_id, as_of)
    except NotFound as exc:
        if exc.field != "as_of":
            raise
        registry.evaluate(as_of)
        lp, rows = registry.listings(list_id, as_of)
    if not rows:
        return lp, rows
    ldef = lp.policy.list_def(list_id)
    notice = lp.policy.procedure.notice_days or 0
    lists = [list_id] if ldef.takes_effect != "immediately" and notice > 0 else []
    recheck = set(registry.store.cases.subjects_to_recheck(rows[0].run, lists, as_of - timedelta(days=notice),
                                                                  as_of))
    keep = []
    for r in rows:
        if r.subject in recheck:
            pairs = registry.assess_in_force(r.subject, as_of)
            if not any(list_id in a.listed_on() for plp, a in pairs if plp.policy.id == lp.policy.id):
                continue
        keep.append(r)
    return lp, keep


def published_rows(registry: Registry, list_id: str, as_of: date) -> tuple[LoadedPolicy, list[ListingRow]]:
    """What the public may see: a published list's listings in force, within ``publication.days``."""
    lp, rows = in_force_rows(registry, list_id, as_of)
    pub = lp.policy.list_def(list_id).publication
    if not pub.publish:
        raise NotFound(f"list {list_id!r} is not published (its policy does not provide for publication)",
                       field="list")
    if pub.days is not None:
        rows = [r for r in rows if as_of < r.since + timedelta(days=pub.days)]
    return lp, rows


@dataclass(frozen=True)
class PublicEntry:
    """One published listing, holding only what the list's ``publication.fields`` allow (None otherwise)."""

    subject: str | None
    name: str | None
    since: date | None
    until: date | None


def public_entry(row: ListingRow, kind: str, name: str | None, publication: Publication) -> PublicEntry:
    """Charter rule 7 for one listing: a person is shown by masked name only (never an identifier, even
    masked); an organisation by name and, if the fields say so or it has no registered name, its code
    (public registry data). Dates only when the policy publishes them."""
    fields = set(publication.fields)
    if kind == "person":
        subject, shown = None, mask_name(name, kind) if "masked_name" in fields else None
    else:
        shown = name if {"name", "masked_name"} & fields else None
        subject = row.subject if "identifier" in fields or shown is None else None
    return PublicEntry(subject, shown, row.since if "since" in fields else None,
                       row.until if "until" in fields else None)


def mask_name(name: str | None, kind: str) -> str | None:
    """Persons: family name (first word, or first character of a Chinese name) and "*"."""
    if name is None or kind != "person":
        return name
    name = name.strip()
    if not name:
        return None
    family = name.split()[0] if " " in name else name[:1]
    return family + "*"
