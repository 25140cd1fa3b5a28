"""Notices: what the subject is told, generated from its file, stored per subject, delivered by a sender.

Notices are *derived*, like assessments: :meth:`NoticeService.sync` walks the subject's timeline
(``policy/counterfactual.timeline``) up to an as-of date and stores a notice for every event so far — a
new record, a proposed listing (effective date, the records behind it, how to object and by when), a
listing in force, its end — plus the case notices the case service writes when a case is filed or
decided. Notice ids are content hashes, so syncing twice stores nothing new.

Delivery is pluggable: a sender takes notices and says which arrived. ``OutboxSender`` appends JSON
lines to a file (the embedded default: another process ships the file); ``WebhookSender`` POSTs each
notice as JSON. Every attempt is recorded per channel, so a failed delivery is retried next time and a
delivered notice is never sent twice on the same channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import httpx

from xinyong.model.case import CaseView, Notice, NoticeKind
from xinyong.model.record import Amendment, Record
from xinyong.policy.counterfactual import Transition, change_offsets, timeline
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import relevant_policies
from xinyong.service.registry import Registry
from xinyong.store.protocol import CaseStore

Delivery = tuple[str, bool, str]  # notice id, delivered, detail
SIGNATURE_HEADER = "X-Xinyong-Signature"
_SWEEP_CHUNK = 1000  # subjects read per query in a sweep


def sign(body: bytes, secret: str) -> str:
    """The webhook signature of ``body``: ``sha256=`` and the hex HMAC-SHA256 under the shared secret.
    stdlib ``hmac`` on purpose: a keyed MAC (not a bare hash, which anyone could recompute) is what lets a
    receiver verify the origin; receivers compare with ``hmac.compare_digest``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notice_json(n: Notice) -> dict[str, object]:
    return {"id": n.id, **n.model_dump(mode="json")}


class NoticeSender(Protocol):
    """Delivers notices; ``channel`` names where to (one delivery record per notice and channel)."""

    @property
    def channel(self) -> str: ...

    def send(self, notices: Sequence[Notice]) -> list[Delivery]: ...


@dataclass(frozen=True)
class OutboxSender:
    """Appends each notice as one JSON line to a file: the default for an embedded installation."""

    path: Path

    @property
    def channel(self) -> str:
        return f"outbox:{self.path}"

    def send(self, notices: Sequence[Notice]) -> list[Delivery]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for n in notices:
                f.write(json.dumps(notice_json(n), ensure_ascii=False, sort_keys=True) + "\n")
        return [(n.id, True, "written") for n in notices]


@dataclass(frozen=True)
class WebhookSender:
    """POSTs each notice as JSON to ``url``; a 2xx answer means delivered, anything else is retried.

    With a shared ``secret`` each request carries ``X-Xinyong-Signature: sha256=<hex>``, the HMAC-SHA256 of
    the exact body bytes under the secret: a receiver recomputes it to know the notice comes from this
    registry and was not altered (the URL alone proves nothing; anybody who learns it can POST to it).
    """

    url: str
    timeout: float = 10.0
    secret: str | None = field(default=None, repr=False)

    @property
    def channel(self) -> str:
        return f"webhook:{self.url}"

    def send(self, notices: Sequence[Notice]) -> list[Delivery]:
        out: list[Delivery] = []
        with httpx.Client(timeout=self.timeout) as client:
            for n in notices:
                body = json.dumps(notice_json(n), ensure_ascii=False, sort_keys=True).encode()
                headers = {"Content-Type": "application/json", "X-Xinyong-Notice": n.id}
                if self.secret is not None:
                    headers[SIGNATURE_HEADER] = sign(body, self.secret)
                try:
                    res = client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    out.append((n.id, False, f"{type(exc).__name__}: {exc}"))
                    continue
                out.append((n.id, res.is_success, f"HTTP {res.status_code}"))
        return out


@dataclass
class NoticeService:
    registry: Registry

    @property
    def store(self) -> CaseStore:
        return self.registry.store.cases

    def sync(self, subject: str, as_of: date, after: date | None = None) -> list[Notice]:
        """Store every notice due to the subject up to ``as_of`` (only those issued after ``after``, if
        given); returns the ones not stored before."""
        key = self.registry.schemes.parse(subject).key
        files = self.store.files_of([key])
        return self.store.add_notices(self._due(key, *files[key], as_of, after), actor=self.registry.actor)

    def _due(self, key: str, records: list[Record], amendments: list[Amendment], cases: list[CaseView],
             as_of: date, after: date | None) -> list[Notice]:
        policies = self.registry.policies()
        notices = [_record_notice(policies, r) for r in records
                   if r.decided <= as_of and (after is None or r.decided > after)]
        for lp in policies:
            for t in timeline(lp, key, records, amendments, cases, as_of, self.registry.schemes, after):
                notices.append(_listing_notice(lp, key, t))
        return notices

    def sweep(self, after: date, as_of: date) -> list[Notice]:
        """Notices issued in (after, as_of] for every subject whose file may have changed then: the daily
        run that tells subjects about new records, proposed and ended listings without anyone asking.
        Earlier notices are generated when the subject's notices are read (``notices``)."""
        offsets = sorted(set().union(*(change_offsets(lp) for lp in self.registry.policies())))
        out: list[Notice] = []
        subjects = self.store.subjects_changing(offsets, after, as_of)
        for i in range(0, len(subjects), _SWEEP_CHUNK):
            files = self.store.files_of(subjects[i:i + _SWEEP_CHUNK])
            due = [n for key, file in files.items() for n in self._due(key, *file, as_of, after)]
            out += self.store.add_notices(due, actor=self.registry.actor)
        return out

    def notices(self, subject: str, as_of: date) -> list[Notice]:
        """The subject's notices issued up to ``as_of`` (syncing first), oldest first. Audited as a read."""
        key = self.registry.schemes.parse(subject).key
        self.sync(key, as_of)
        self.registry._audit("notices", subject=key, purpose="subject's own notices",
                             detail={"as_of": as_of.isoformat()})
        return [n for n in self.store.notices_of(key) if n.issued <= as_of]

    def deliver(self, sender: NoticeSender, subject: str | None = None) -> list[Delivery]:
        """Send every notice not yet delivered on the sender's channel; records each attempt."""
        key = None if subject is None else self.registry.schemes.parse(subject).key
        pending = self.store.undelivered(sender.channel, key)
        results = sender.send(pending) if pending else []
        self.store.add_deliveries(results, sender.channel, actor=self.registry.actor)
        return results


def _objection_days(policies: Sequence[LoadedPolicy], type_id: str) -> int:
    days = [lp.policy.procedure.objection_days or 0 for lp in relevant_policies(policies, type_id)]
    return max(days, default=0)


def _record_notice(policies: Sequence[LoadedPolicy], r: Record) -> Notice:
    rt = next((t for lp in policies for t in lp.catalogue.record_types if t.id == r.type), None)
    act_by = r.decided + timedelta(days=_objection_days(policies, r.type))
    name = rt.name if rt else r.type
    return Notice(subject=r.subject, kind=NoticeKind.RECORD, issued=r.decided, ref=f"record:{r.id}",
                  title=f"New record: {name}",
                  body=(f"{r.source} recorded {r.type} ({name}) decided on {r.decided}, document {r.document}"
                        + (f", legal basis: {rt.legal_basis}" if rt and rt.legal_basis else "")
                        + f". You may object until {act_by}: xinyong object {r.subject} record:{r.id}"),
                  act_by=act_by)


_TITLES = {"proposed": "Proposed listing", "in_force": "Listing in force", "suspended": "Listing suspended",
           "ended": "Listing ended"}
_KINDS = {"proposed": NoticeKind.LISTING_PROPOSED, "in_force": NoticeKind.LISTING_IN_FORCE,
          "suspended": NoticeKind.LISTING_SUSPENDED, "ended": NoticeKind.LISTING_ENDED}


def _listing_notice(lp: LoadedPolicy, subject: str, t: Transition) -> Notice:
    lst = lp.policy.list_def(t.list_id)
    title = f"{_TITLES[t.stage]}: {lst.name} ({lp.policy.ref})"
    act_by = None
    body = f"{t.why}."
    if t.status is not None:
        s = t.status
        act_by = s.objection_by if s.objection_by >= t.on else None
        body += (f" Listed since {s.since} until {s.until} at the latest; legal basis: {lst.legal_basis}. "
                 f"Records behind it: {', '.join(s.triggered_by)}.")
        if t.stage == "proposed":
            body += f" It takes effect on {s.effective} unless an objection is upheld."
        if act_by is not None:
            body += f" You may object until {act_by}: xinyong object {subject} list:{t.list_id}"
    return Notice(subject=subject, kind=_KINDS[t.stage], issued=t.on, ref=f"list:{t.list_id}@{t.started}",
                  title=title, body=body, act_by=act_by)
