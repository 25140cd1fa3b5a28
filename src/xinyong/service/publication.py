"""The public list view under due process: only listings in force, only within the publication window.

The evaluation run says who meets a list's entry (compiled SQL, the whole population); due process then
removes the few listings still in their notice period or suspended by an open objection (charter rules
5 and 7: nobody is published before notice, and a publication ends with its window); ``public_entry``
keeps only the fields the list publishes, a person by masked name and never an identifier.

Each published entry carries its *reason*: the subject's own ground, the kinds of its own records that
put it on the list and the rule they met (:func:`listing_reason`), never another subject's records, record
ids or documents. :func:`public_page` builds the page for every edge, so the command line and the HTTP
service show the same entries with the same reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.model.assessment import Listing
from xinyong.model.catalogue import Catalogue
from xinyong.model.errors import NotFound
from xinyong.model.record import Record
from xinyong.policy.casework import notice_period_lists
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.schema import ListDef, Publication
from xinyong.service.registry import REASSESS_LIMIT, Registry
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
    run = registry.store.latest_run(lp.policy.id, as_of)
    if run is None:
        return lp, rows
    # always current: subjects written about since the snapshot (a repair, an annulment, a new record,
    # by any process) are re-assessed, so a listing ends or starts in the public view at once
    _, changed = registry.store.changed_subjects(registry.store.run_audit_seq(run.run))
    if len(changed) > REASSESS_LIMIT:
        registry.evaluate(as_of)  # a bulk load since the snapshot: one batch evaluation
        return in_force_rows(registry, list_id, as_of)
    lists, notice = notice_period_lists(lp)
    lists = [x for x in lists if x == list_id]
    recheck = changed | set(registry.store.cases.subjects_to_recheck(run.run, lists, as_of - timedelta(days=notice),
                                                                     as_of))
    keep = [r for r in rows if r.subject not in recheck]
    kind = lp.policy.list_def(list_id).kind.value
    for key in sorted(recheck):
        for plp, a in registry.assess_in_force(key, as_of):
            if plp.policy.id == lp.policy.id:
                keep += [ListingRow(run.run, key, x.list_id, kind, x.since, x.until)
                         for x in a.listings if x.list_id == list_id]
    return lp, sorted(keep, key=lambda r: r.subject)


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
    reason: str | None = None


def public_entry(row: ListingRow, kind: str, name: str | None, publication: Publication,
                 reason: str | None = None) -> PublicEntry:
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
                       row.until if "until" in fields else None, reason if "reason" in fields else None)


def mask_name(name: str | None, kind: str) -> str | None:
    """Persons: family name (first word, or first character of a Chinese name) and "*"."""
    if name is None or kind != "person":
        return name
    name = name.strip()
    if not name:
        return None
    family = name.split()[0] if " " in name else name[:1]
    return family + "*"


class Grounds:
    """What a reason may name, per record type of one catalogue: its name and how long after the decision
    a record of it may be published. Built once per catalogue, not per subject."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.window = {t.id: t.publication_days for t in catalogue.record_types}
        self.names = {t.id: t.name for t in catalogue.record_types}

    def reason(self, listing: Listing, records: Sequence[Record], as_of: date) -> str:
        """See :func:`listing_reason`."""
        behind = {r.id: r.type for r in records
                  if as_of < r.decided + timedelta(days=self.window.get(r.type, 0))}
        counts = Counter(behind[i] for i in listing.triggered_by if i in behind)
        grounds = [f"{self.names.get(t, t)} ({t})" + (f" x{n}" if n > 1 else "") for t, n in sorted(counts.items())]
        return f"{', '.join(grounds) or 'own records'}; rule: {listing.rule}"


def listing_reason(lp: LoadedPolicy, listing: Listing, records: Sequence[Record], as_of: date) -> str:
    """The subject's own ground for a listing: the types of its records behind it (by catalogue name,
    counted) and the list's rule, e.g. ``Refusal to perform (court.refuse_perform); rule: a record of
    [court.refuse_perform]``. Types only: record ids and documents stay in the subject's own file.

    Only records the catalogue lets be published, and only within their publication window (its
    ``publication_days`` after the decision), are named: a listing may rest on records that are not
    themselves public, and the register must not name them (the rule, which is public, still shows)."""
    return Grounds(lp.catalogue).reason(listing, records, as_of)


def listing_reasons(registry: Registry, lp: LoadedPolicy, list_id: str, subjects: Sequence[str],
                    as_of: date) -> dict[str, str]:
    """subject → :func:`listing_reason` of its listing on ``list_id`` as of ``as_of``, each evaluated from
    the subject's own file (a page of a published list: bounded)."""
    grounds = Grounds(lp.catalogue)
    out: dict[str, str] = {}
    for key, (records, amendments, _) in registry.store.cases.files_of(list(subjects)).items():
        a = evaluate(lp, key, records, amendments, as_of, registry.schemes)
        listing = next((x for x in a.listings if x.list_id == list_id), None)
        if listing is not None:
            out[key] = grounds.reason(listing, records, as_of)
    return out


@dataclass(frozen=True)
class PublicPage:
    """A page of a published list, the same for every edge."""

    list_def: ListDef
    policy: str
    as_of: date
    total: int
    entries: list[PublicEntry]
    note: str


def public_page(registry: Registry, list_id: str, as_of: date, limit: int | None = None,
                offset: int = 0) -> PublicPage:
    """The public entries of ``list_id`` as of ``as_of`` (``offset``, at most ``limit``): only the
    published fields, persons by masked name, each entry with the subject's own reason."""
    lp, rows = published_rows(registry, list_id, as_of)
    page = rows[offset:] if limit is None else rows[offset:offset + limit]
    subjects = [r.subject for r in page]
    names = registry.store.subject_names(subjects)
    reasons = listing_reasons(registry, lp, list_id, subjects, as_of)
    ldef = lp.policy.list_def(list_id)
    entries = [public_entry(r, *names.get(r.subject, (registry.schemes.kind_of(r.subject).value, None)),
                            ldef.publication, reasons.get(r.subject)) for r in page]
    note = ("published fields: " + ", ".join(ldef.publication.fields)
            + "; persons by family name and '*' only, never an identifier (charter rule 7); the reason is "
              "the subject's own records behind the listing")
    return PublicPage(ldef, lp.policy.ref, as_of, len(rows), entries, note)


__all__ = ["Grounds", "PublicEntry", "PublicPage", "in_force_rows", "listing_reason", "listing_reasons", "mask_name",
           "public_entry", "public_page", "published_rows"]
