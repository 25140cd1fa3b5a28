"""Notices: generated from the subject's file, stored once, delivered through the outbox and a real webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from xinyong.model.case import NoticeKind
from xinyong.service.notices import NoticeService, OutboxSender, WebhookSender
from xinyong.store import FullStore

from .conftest import COMPANY, People, record


class Inbox(BaseHTTPRequestHandler):
    """A relying subject's webhook endpoint: keeps what it gets; answers 500 while ``failing``."""

    received: ClassVar[list[dict[str, object]]] = []
    raw: ClassVar[list[tuple[bytes, str | None]]] = []  # body bytes and X-Xinyong-Signature, as received
    failing: ClassVar[bool] = False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failing:
            self.send_response(500)
        else:
            type(self).received.append(json.loads(body))
            type(self).raw.append((body, self.headers.get("X-Xinyong-Signature")))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Inbox.received, Inbox.raw, Inbox.failing = [], [], False
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
    # what is read as of an earlier date does not show later notices
    assert [n.kind for n in listed.notices(COMPANY, date(2026, 2, 5))] == [NoticeKind.LISTING_PROPOSED,
                                                                            NoticeKind.RECORD]


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
    assert [x["kind"] for x in lines] == ["listing_proposed", "record", "listing_in_force"]
    assert all(x["subject"] == COMPANY and x["id"] for x in lines)


def test_webhook_delivery_to_a_real_server_retries_after_a_failure(listed: NoticeService, webhook: str) -> None:
    listed.sync(COMPANY, date(2026, 2, 5))
    sender = WebhookSender(webhook, timeout=5)
    Inbox.failing = True
    assert [(ok, detail) for _, ok, detail in listed.deliver(sender)] == [(False, "HTTP 500")] * 2
    Inbox.failing = False
    results = listed.deliver(sender)
    assert [ok for _, ok, _ in results] == [True, True]
    assert [x["kind"] for x in Inbox.received] == ["listing_proposed", "record"]
    assert listed.deliver(sender) == []
    unreachable = WebhookSender("http://127.0.0.1:9/none", timeout=2)
    assert all(not ok and "Error" in detail for _, ok, detail in listed.deliver(unreachable))


def test_webhook_deliveries_are_signed_with_the_shared_secret(listed: NoticeService, webhook: str) -> None:
    listed.sync(COMPANY, date(2026, 2, 5))
    secret = "s3cret-shared-with-the-receiver"
    assert "s3cret" not in repr(WebhookSender(webhook, secret=secret))  # never logged by accident
    assert [ok for _, ok, _ in listed.deliver(WebhookSender(webhook, timeout=5, secret=secret))] == [True, True]
    assert len(Inbox.raw) == 2
    for body, signature in Inbox.raw:  # what a receiver does: recompute over the exact bytes, compare
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert signature is not None and hmac.compare_digest(signature, expected)
        wrong = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
        assert not hmac.compare_digest(signature, wrong)
    # without a secret, no signature header (a receiver that requires one refuses the delivery)
    listed.sync(COMPANY, date(2026, 3, 1))
    Inbox.raw.clear()
    assert [ok for _, ok, _ in listed.deliver(WebhookSender(webhook, timeout=5))] == [True]
    assert [sig for _, sig in Inbox.raw] == [None]


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
