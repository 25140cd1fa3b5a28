"""Notices: what the subject is told, generated from its file, stored per subject, delivered by a sender.

Notices are *derived*, like assessments: :meth:`NoticeService.sync` walks the subject's timeline
(``policy/counterfactual.timeline``) up to an as-of date and stores a notice for every event so far — a
new record, a proposed listing (effective date, the records behind it, how to object and by when), a
listing in force, its end — plus the case notices the case service writes when a case is filed or
decided. Notice ids are content hashes, so syncing twice stores nothing new.

A notice is stored once, in the words for the HTTP service and whatever ships the outbox (how to act
names the API endpoint: :func:`how_to`); the command line shows the same notice with the command instead
(:func:`for_channel`), since a subject reading notices in a terminal acts there. Notices are listed in
time order, and on one day cause before effect (:func:`ordered`).

Delivery is pluggable: a sender takes notices and says which arrived. ``OutboxSender`` appends JSON
lines to a file (the embedded default: another process ships the file); ``WebhookSender`` POSTs each
notice as JSON, signed with the Standard Webhooks scheme when given a secret. Every attempt is recorded
per channel, so a failed delivery is retried next time and a delivered notice is never sent twice on the
same channel.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, Protocol

import httpx

from xinyong.model.case import CaseView, Notice, NoticeKind
from xinyong.model.errors import InvalidInput
from xinyong.model.record import Amendment, Record
from xinyong.policy.casework import objection_deadline, sentence
from xinyong.policy.counterfactual import Transition, change_offsets, timeline
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import relevant_policies
from xinyong.service.registry import Registry
from xinyong.store.protocol import CaseStore

Delivery = tuple[str, bool, str]  # notice id, delivered, detail
Channel = Literal["api", "cli"]
Action = Literal["object", "appeal"]
_SWEEP_CHUNK = 1000  # subjects read per query in a sweep
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # the Standard Webhooks recommendation (24 to 64 random bytes)

# On one day, cause before effect: the record before the listing it brings, the filing before the
# suspension it causes, the decision before the listing it ends or lets take effect.
_SAME_DAY_ORDER = {k: i for i, k in enumerate([
    NoticeKind.RECORD, NoticeKind.CASE_FILED, NoticeKind.LISTING_SUSPENDED, NoticeKind.CASE_DECIDED,
    NoticeKind.LISTING_PROPOSED, NoticeKind.LISTING_IN_FORCE, NoticeKind.LISTING_ENDED])}


def ordered(notices: Iterable[Notice]) -> list[Notice]:
    """Notices by date, on one day cause before effect, then by reference and id (a stable order)."""
    return sorted(notices, key=lambda n: (n.issued, _SAME_DAY_ORDER.get(n.kind, 99), n.ref, n.id))


def how_to(action: Action, subject: str, target: str, channel: Channel = "api") -> str:
    """How the subject acts on a notice, in the words of the channel it reads the notice on.

    ``target`` is ``record:<id>`` or ``list:<id>`` (object) or a case id (appeal).
    """
    if channel == "cli":
        return (f"xinyong object {subject} {target}" if action == "object"
                else f"xinyong cases appeal {target}")
    if action == "object":
        return f"POST /v1/subjects/{subject}/objections with target {target}"
    return f"POST /v1/cases/{target}/appeal"


_OLD_COMMAND = re.compile(r": xinyong (object|cases appeal) \S+(?: \S+)?$")


def for_channel(n: Notice, channel: Channel) -> Notice:
    """The notice as shown on ``channel``: the API endpoint (as stored) or the command line's command."""
    action = _action_of(n)
    if action is None:
        return n
    body = _OLD_COMMAND.sub("", n.body)  # notices stored before the text named the endpoint
    api, wanted = how_to(*action, "api"), how_to(*action, channel)
    body = body.replace(api, wanted) if api in body else body.rstrip(".") + f". How: {wanted}."
    return n if body == n.body else n.model_copy(update={"body": body})


def _action_of(n: Notice) -> tuple[Action, str, str] | None:
    if n.act_by is None:
        return None
    kind, _, rest = n.ref.partition(":")
    if n.kind is NoticeKind.CASE_DECIDED and kind == "case":
        return "appeal", n.subject, rest
    if kind in ("record", "list"):
        return "object", n.subject, f"{kind}:{rest.partition('@')[0]}"
    return None


def notice_json(n: Notice) -> dict[str, object]:
    return {"id": n.id, **n.model_dump(mode="json")}


def webhook_secret(text: str) -> str:
    """A Standard Webhooks secret (``whsec_`` and base64 of 24-64 random bytes), checked at the edge so a
    typo is an input error, not a key every receiver would decode differently."""
    if not text.startswith(SECRET_PREFIX):
        raise InvalidInput(f"a webhook secret starts with {SECRET_PREFIX!r} (Standard Webhooks); make one with "
                           "`python -c \"import base64, secrets; print('whsec_' + "
                           "base64.b64encode(secrets.token_bytes(32)).decode())\"`", field="--webhook-secret")
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the webhook secret after 'whsec_' is not base64", field="--webhook-secret") from None
    if len(key) < MIN_SECRET_BYTES:
        raise InvalidInput(f"the webhook secret holds {len(key)} bytes; use at least {MIN_SECRET_BYTES} random "
                           "bytes", field="--webhook-secret")
    return text


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

    With a ``secret`` (``whsec_...``) every request is signed by the Standard Webhooks scheme
    (``standardwebhooks``): ``webhook-id`` (the notice id: the same on a retry, so a receiver can drop a
    repeat), ``webhook-timestamp`` (Unix seconds when sent) and ``webhook-signature``
    (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``). Signing the id and the time with the body is
    what makes a captured request useless later: a receiver refuses a timestamp outside its tolerance
    (five minutes in the library) and an id it has already seen. The URL alone proves nothing; anybody
    who learns it can POST to it.
    """

    url: str
    timeout: float = 10.0
    secret: str | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.secret is not None:
            webhook_secret(self.secret)

    @property
    def channel(self) -> str:
        return f"webhook:{self.url}"

    def send(self, notices: Sequence[Notice]) -> list[Delivery]:
        from standardwebhooks import Webhook  # only a signing sender needs it

        signer = Webhook(self.secret) if self.secret is not None else None
        out: list[Delivery] = []
        with httpx.Client(timeout=self.timeout) as client:
            for n in notices:
                body = json.dumps(notice_json(n), ensure_ascii=False, sort_keys=True)
                headers = {"Content-Type": "application/json", "X-Xinyong-Notice": n.id}
                if signer is not None:
                    sent = datetime.fromtimestamp(int(self.clock()), tz=UTC)
                    headers |= {"webhook-id": n.id, "webhook-timestamp": str(int(sent.timestamp())),
                                "webhook-signature": signer.sign(n.id, sent, body)}
                try:
                    res = client.post(self.url, content=body.encode(), headers=headers)
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

    def notices(self, subject: str, as_of: date, channel: Channel = "api") -> list[Notice]:
        """The subject's notices issued up to ``as_of`` (syncing first), oldest first, worded for
        ``channel``. Audited as a read."""
        key = self.registry.schemes.parse(subject).key
        self.sync(key, as_of)
        self.registry._audit("notices", subject=key, purpose="subject's own notices",
                             detail={"as_of": as_of.isoformat()})
        return [for_channel(n, channel) for n in ordered(self.store.notices_of(key)) if n.issued <= as_of]

    def deliver(self, sender: NoticeSender, subject: str | None = None) -> list[Delivery]:
        """Send every notice not yet delivered on the sender's channel; records each attempt."""
        key = None if subject is None else self.registry.schemes.parse(subject).key
        pending = ordered(self.store.undelivered(sender.channel, key))
        results = sender.send(pending) if pending else []
        self.store.add_deliveries(results, sender.channel, actor=self.registry.actor)
        return results


def _record_notice(policies: Sequence[LoadedPolicy], r: Record) -> Notice:
    rt = next((t for lp in policies for t in lp.catalogue.record_types if t.id == r.type), None)
    knowing = relevant_policies(policies, r.type)
    # the window in calendar days, ending on a working day of the policy's calendar (policy/casework.py)
    act_by = objection_deadline(r.decided, knowing) if knowing else r.decided
    name = rt.name if rt else r.type
    return Notice(subject=r.subject, kind=NoticeKind.RECORD, issued=r.decided, ref=f"record:{r.id}",
                  title=f"New record: {name}",
                  body=(sentence(f"{r.source} recorded {r.type} ({name}) decided on {r.decided}, document "
                                 f"{r.document}" + (f", legal basis: {rt.legal_basis}" if rt and rt.legal_basis
                                                    else ""))
                        + f" You may object until {act_by}: {how_to('object', r.subject, f'record:{r.id}')}."),
                  act_by=act_by)


_TITLES = {"proposed": "Proposed listing", "in_force": "Listing in force", "suspended": "Listing suspended",
           "ended": "Listing ended"}
_KINDS = {"proposed": NoticeKind.LISTING_PROPOSED, "in_force": NoticeKind.LISTING_IN_FORCE,
          "suspended": NoticeKind.LISTING_SUSPENDED, "ended": NoticeKind.LISTING_ENDED}


def _listing_notice(lp: LoadedPolicy, subject: str, t: Transition) -> Notice:
    lst = lp.policy.list_def(t.list_id)
    title = f"{_TITLES[t.stage]}: {lst.name} ({lp.policy.ref})"
    act_by = None
    body = sentence(t.why[:1].upper() + t.why[1:])
    if t.status is not None:
        s = t.status
        act_by = s.objection_by if s.objection_by >= t.on else None
        body += (f" Listed since {s.since} until {s.until} at the latest; legal basis: "
                 f"{sentence(lst.legal_basis or 'none stated')} Records behind it: {', '.join(s.triggered_by)}.")
        if t.stage == "proposed":
            body += f" It takes effect on {s.effective} unless an objection is upheld."
        if act_by is not None:
            body += f" You may object until {act_by}: {how_to('object', subject, f'list:{t.list_id}')}."
    return Notice(subject=subject, kind=_KINDS[t.stage], issued=t.on, ref=f"list:{t.list_id}@{t.started}",
                  title=title, body=body, act_by=act_by)
