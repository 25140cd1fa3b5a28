"""Notices: generated from the subject's file, stored once, in time order, worded for the channel, and
delivered through the outbox and a real webhook signed with the Standard Webhooks scheme."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from xinyong.model.case import CaseStatus, NoticeKind
from xinyong.model.errors import InvalidInput
from xinyong.service.notices import NoticeService, OutboxSender, WebhookSender, for_channel, ordered
from xinyong.store import FullStore

from .conftest import COMPANY, PERSON, People, record

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Inbox(BaseHTTPRequestHandler):
    """An integrator's webhook endpoint, written as the README tells them: it verifies each request with
    the ``standardwebhooks`` library (signature over id, timestamp and body; timestamp within five
    minutes) and refuses an id it has already accepted. Answers 500 while ``failing``."""

    received: ClassVar[list[dict[str, object]]] = []
    raw: ClassVar[list[tuple[bytes, dict[str, str]]]] = []  # body bytes and headers, as received
    refused: ClassVar[list[str]] = []
    seen: ClassVar[set[str]] = set()
    failing: ClassVar[bool] = False
    secret: ClassVar[str | None] = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k: v for k, v in self.headers.items()}
        type(self).raw.append((body, headers))
        if type(self).failing:
            self.send_response(500)
            self.end_headers()
            return
        if type(self).secret is not None:
            try:
                Webhook(type(self).secret).verify(body, headers)
            except WebhookVerificationError as exc:
                type(self).refused.append(str(exc))
                self.send_response(401)
                self.end_headers()
                return
            msg_id = headers["webhook-id"]
            if msg_id in type(self).seen:  # a replay within the tolerance window
                type(self).refused.append("repeated id")
                self.send_response(409)
                self.end_headers()
                return
            type(self).seen.add(msg_id)
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Inbox.received, Inbox.raw, Inbox.refused, Inbox.seen, Inbox.failing, Inbox.secret = [], [], [], set(), False, None
    server = HTTPServer(("127.0.0.1", 0), Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notices"
    server.shutdown()
    server.server_close()


@pytest.fixture
def listed(people: People, store: FullStore) -> NoticeService:
    store.add_records([record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7",
                              source="finance.procurement")])
    return NoticeService(people.registry("notifier"))


def test_notices_follow_the_listing_and_are_stored_once(listed: NoticeService) -> None:
    first = listed.sync(COMPANY, date(2026, 2, 5))
    assert [(n.kind, n.issued) for n in first] == [(NoticeKind.RECORD, date(2026, 2, 2)),
                                                   (NoticeKind.LISTING_PROPOSED, date(2026, 2, 2))]
    assert listed.sync(COMPANY, date(2026, 2, 5)) == []
    later = listed.sync(COMPANY, date(2026, 3, 1))
    assert [(n.kind, n.issued) for n in later] == [(NoticeKind.LISTING_IN_FORCE, date(2026, 2, 12))]
    # what is read as of an earlier date does not show later notices; on one day, the record comes first
    assert [n.kind for n in listed.notices(COMPANY, date(2026, 2, 5))] == [NoticeKind.RECORD,
                                                                            NoticeKind.LISTING_PROPOSED]


def test_an_objection_suspends_and_the_subject_is_told(people: People, listed: NoticeService) -> None:
    people.cases("subject").object(COMPANY, "list:procurement_blacklist", "not ours", date(2026, 2, 10))
    kinds = [(n.kind, n.issued) for n in listed.notices(COMPANY, date(2026, 2, 20))]
    assert (NoticeKind.CASE_FILED, date(2026, 2, 10)) in kinds
    assert (NoticeKind.LISTING_SUSPENDED, date(2026, 2, 12)) in kinds  # would have taken effect that day
    assert not any(k is NoticeKind.LISTING_IN_FORCE for k, _ in kinds)


def test_outbox_delivery_writes_json_lines_once(listed: NoticeService, tmp_path: Path) -> None:
    listed.sync(COMPANY, date(2026, 3, 1))
    sender = OutboxSender(tmp_path / "outbox" / "notices.jsonl")
    assert [ok for _, ok, _ in listed.deliver(sender)] == [True, True, True]
    assert listed.deliver(sender) == []  # delivered notices are not sent again on this channel
    lines = [json.loads(x) for x in sender.path.read_text(encoding="utf-8").splitlines()]
    assert [x["kind"] for x in lines] == ["record", "listing_proposed", "listing_in_force"]
    assert all(x["subject"] == COMPANY and x["id"] for x in lines)


def test_webhook_delivery_to_a_real_server_retries_after_a_failure(listed: NoticeService, webhook: str) -> None:
    listed.sync(COMPANY, date(2026, 2, 5))
    sender = WebhookSender(webhook, timeout=5)
    Inbox.failing = True
    assert [(ok, detail) for _, ok, detail in listed.deliver(sender)] == [(False, "HTTP 500")] * 2
    Inbox.failing = False
    results = listed.deliver(sender)
    assert [ok for _, ok, _ in results] == [True, True]
    assert [x["kind"] for x in Inbox.received] == ["record", "listing_proposed"]
    assert listed.deliver(sender) == []
    unreachable = WebhookSender("http://127.0.0.1:9/none", timeout=2)
    assert all(not ok and "Error" in detail for _, ok, detail in listed.deliver(unreachable))


def test_webhook_deliveries_are_signed_by_standard_webhooks(listed: NoticeService, webhook: str) -> None:
    listed.sync(COMPANY, date(2026, 2, 5))
    Inbox.secret = SECRET
    assert SECRET not in repr(WebhookSender(webhook, secret=SECRET))  # never logged by accident
    results = listed.deliver(WebhookSender(webhook, timeout=5, secret=SECRET))
    assert [ok for _, ok, _ in results] == [True, True] and Inbox.refused == []
    for (body, headers), (notice_id, _, _) in zip(Inbox.raw, results, strict=True):
        # the id is the notice id (the same on a retry), the time is now, the signature covers both
        assert headers["webhook-id"] == notice_id
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
        assert headers["webhook-signature"].startswith("v1,")
        assert "X-Xinyong-Signature" not in headers  # the body-only HMAC is gone
        with pytest.raises(WebhookVerificationError):  # another secret does not verify
            Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(body, headers)
        with pytest.raises(WebhookVerificationError):  # nor does an altered body
            Webhook(SECRET).verify(body.replace(b"cn.uscc", b"cn.ric"), headers)


def test_a_captured_webhook_cannot_be_replayed(listed: NoticeService, webhook: str) -> None:
    import httpx

    listed.sync(COMPANY, date(2026, 2, 5))
    Inbox.secret = SECRET
    assert all(ok for _, ok, _ in listed.deliver(WebhookSender(webhook, timeout=5, secret=SECRET)))
    body, headers = Inbox.raw[0]
    # replayed as captured: the receiver has seen the id
    replay = httpx.post(webhook, content=body, headers=headers)
    assert replay.status_code == 409 and Inbox.refused == ["repeated id"]
    # an old message (signed ten minutes ago, e.g. captured then) is refused by the timestamp tolerance
    old = WebhookSender(webhook, timeout=5, secret=SECRET, clock=lambda: time.time() - 600)
    listed.sync(COMPANY, date(2026, 3, 1))
    assert [ok for _, ok, _ in listed.deliver(old)] == [False]
    assert Inbox.refused[-1] == "Message timestamp too old"
    # and a fresh signature over an old id and time cannot be made without the secret: rewriting the
    # timestamp breaks the signature
    forged = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 60)}
    assert httpx.post(webhook, content=body, headers=forged).status_code == 401


def test_without_a_secret_nothing_is_signed_and_a_bad_secret_is_refused(listed: NoticeService,
                                                                        webhook: str) -> None:
    listed.sync(COMPANY, date(2026, 2, 5))
    assert [ok for _, ok, _ in listed.deliver(WebhookSender(webhook, timeout=5))] == [True, True]
    assert all("webhook-signature" not in h for _, h in Inbox.raw)
    for bad, words in [("s3cret-shared-with-the-receiver", "starts with 'whsec_'"),
                       ("whsec_not base64!", "not base64"),
                       ("whsec_" + base64.b64encode(b"short").decode(), "at least 24")]:
        with pytest.raises(InvalidInput, match=words) as exc:
            WebhookSender(webhook, secret=bad)
        assert exc.value.field == "--webhook-secret"


def test_notice_texts_are_sentences_ordered_and_worded_for_the_channel(people: People, store: FullStore) -> None:
    store.add_records([record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 1", amount=250000)])
    subject = people.cases("subject")
    case = subject.object(PERSON, "list:shixin", "I paid before the decision", date(2026, 1, 12),
                          evidence=["receipt 7"])
    people.cases("reviewer:li").decide(case.id, CaseStatus.REJECTED, "the receipt is for another debt",
                                       date(2026, 1, 16))
    svc = NoticeService(people.registry("subject"))
    api = svc.notices(PERSON, date(2026, 1, 20))
    decided = next(n for n in api if n.kind is NoticeKind.CASE_DECIDED)
    # the reviewer's reasons end a sentence before the next one starts
    assert "Reasons: the receipt is for another debt. You may appeal" in decided.body
    # over HTTP, outbox and webhook: the API endpoint, not a command
    assert f"POST /v1/cases/{case.id}/appeal" in decided.body and "xinyong" not in decided.body
    record_notice = next(n for n in api if n.kind is NoticeKind.RECORD)
    assert f"POST /v1/subjects/{PERSON}/objections with target record:" in record_notice.body
    assert all("xinyong " not in n.body for n in api)
    # on the command line: the command
    cli = svc.notices(PERSON, date(2026, 1, 20), channel="cli")
    told = next(n for n in cli if n.kind is NoticeKind.CASE_DECIDED)
    assert told.body.endswith(f"You may appeal to a different reviewer until {told.act_by}: "
                              f"xinyong cases appeal {case.id}.")
    assert "POST /v1" not in " ".join(n.body for n in cli)
    assert [n.id for n in cli] == [n.id for n in api]  # the same notices, only worded differently
    assert for_channel(decided, "api") == decided  # stored in the API's words
    # every body ends with a full stop, and no sentence runs into the next
    assert all(n.body.endswith(".") and ". ." not in n.body and ".." not in n.body for n in api)


def test_on_one_day_the_filing_comes_before_its_decision(people: People, store: FullStore) -> None:
    store.add_records([record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 1", amount=250000)])
    rec = store.records_of(PERSON)[0]
    day = date(2026, 3, 2)
    repair = people.cases("subject").repair(PERSON, rec.id, "paid in full", day, evidence=["bank transfer"])
    people.cases("reviewer:wang").decide(repair.id, CaseStatus.GRANTED, "the court confirms performance", day)
    notices = NoticeService(people.registry("subject")).notices(PERSON, day)
    titles = [n.title for n in notices if n.issued == day]
    assert titles.index("Repair received: case " + repair.id) < titles.index("Decision on your repair: granted")
    ended = [i for i, n in enumerate(notices) if n.issued == day and n.kind is NoticeKind.LISTING_ENDED]
    assert ended and ended[0] > titles.index("Decision on your repair: granted")  # cause before effect
    assert ordered(reversed(notices)) == notices  # a total, stable order


def test_an_expedited_appeal_gets_the_expedited_deadline(people: People, store: FullStore) -> None:
    store.add_records([record(PERSON, "court.refuse_perform", date(2026, 1, 10), "(2026) J 1", amount=250000)])
    case = people.cases("subject").object(PERSON, "list:shixin", "paid", date(2026, 1, 12), evidence=["r"])
    assert case.case.expedited
    people.cases("reviewer:li").decide(case.id, CaseStatus.REJECTED, "not this debt", date(2026, 1, 16))
    appeal = people.cases("subject").appeal(case.id, "look again", date(2026, 1, 20))
    assert appeal.case.expedited
    objection_days = (case.case.deadline - case.case.filed).days
    appeal_days = (appeal.case.deadline - appeal.case.filed).days
    assert appeal_days <= objection_days + 4  # the expedited working days (a weekend at most between)
    assert appeal.case.deadline < date(2026, 1, 30)  # not the ten working days of an ordinary review


def test_the_daily_sweep_notifies_only_subjects_whose_file_changed(people: People, store: FullStore,
                                                                   tmp_path: Path) -> None:
    from .conftest import OTHER_COMPANY, PERSON

    store.add_records([
        record(COMPANY, "procurement.fraud", date(2026, 2, 2), "Cai Ku 7", source="finance.procurement"),
        record(OTHER_COMPANY, "procurement.fraud", date(2025, 1, 5), "Cai Ku 1", source="finance.procurement"),
        record(PERSON, "court.refuse_perform", date(2024, 2, 15), "(2024) J 3"),
    ])
    svc = NoticeService(people.registry("notifier"))
    day1 = svc.sweep(date(2026, 2, 11), date(2026, 2, 12))
    # the fraud's listing takes effect on 2026-02-12; the person's court listing ended on 2026-02-14 - not yet
    assert {(n.subject, n.kind) for n in day1} >= {(COMPANY, NoticeKind.LISTING_IN_FORCE)}
    assert {n.subject for n in day1} == {COMPANY}
    day3 = svc.sweep(date(2026, 2, 13), date(2026, 2, 14))
    assert [(n.subject, n.kind, n.issued) for n in day3 if n.kind is NoticeKind.LISTING_ENDED] == [
        (PERSON, NoticeKind.LISTING_ENDED, date(2026, 2, 14))]
    assert OTHER_COMPANY not in {n.subject for n in day3}  # nothing changed for it those days
    assert svc.sweep(date(2026, 2, 13), date(2026, 2, 14)) == []
    sent = svc.deliver(OutboxSender(tmp_path / "out.jsonl"))
    assert len(sent) == len(day1) + len(day3)


def test_the_case_store_is_a_case_store(store: FullStore) -> None:
    from xinyong.store.protocol import CaseStore, KeyStore

    assert isinstance(store.cases, CaseStore) and isinstance(store.keys, KeyStore)
    assert store.schema_version() >= 4
