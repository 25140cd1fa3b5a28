"""A time budget per read: a subject with a very large file gets its answer within the budget or a clear
refusal, and a reviewer working meanwhile is not held up by it.

A real server (the budget protects its worker threads and store lock, which an in-process client would
not exercise): one subject with 10 000 records, one with 1 500 (under the what-if limit, so the search
runs until the budget stops it), ``--read-budget 1``. While their status and file are asked for, a
reviewer lists cases in a loop; no list may wait for the large reads, because they compute outside the
store lock and stop when the budget is spent: each long read has case lists asked and answered within it
(an order of events, not a time limit, so a loaded machine cannot fail it).
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import httpx
from fastapi.testclient import TestClient
from tests.helpers.server import running
from tests.web.conftest import AS_OF, DEBTOR, auth, build_store, make_keys

from xinyong.model.record import Record
from xinyong.service.online import Online
from xinyong.service.principals import Principals, Role
from xinyong.web import create_app

from ..conftest import Stores

BUDGET = 1.0
MID = "cn.ric:110105198001010016"


def _records(subject: str, n: int, tag: str) -> list[Record]:
    start = date(2020, 1, 1)
    return [Record(subject=subject, source="court.enforcement", type="court.refuse_perform",
                   occurred=start + timedelta(days=i % 2000), decided=start + timedelta(days=i % 2000 + 30),
                   document=f"({tag}) Zhi {i}") for i in range(n)]


def test_large_files_answer_within_the_budget_or_are_refused_and_reviewers_go_on(stores: Stores) -> None:
    url = stores.url("budget")
    store = build_store(url)
    keys = make_keys(store)
    store.add_records(_records(DEBTOR, 10_000, "big"), actor="court")
    store.add_records(_records(MID, 1_500, "mid"), actor="court")
    keys["mid"] = Principals(store).create("Mid", Role.SUBJECT, subject=MID, by="test")[1]
    store.close()

    calls: list[tuple[float, float]] = []  # each case list asked for: (sent, answered)
    stop = threading.Event()

    def reviewer(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30, headers=auth(keys["reviewer"])) as c:
            while not stop.is_set():
                t0 = time.monotonic()
                r = c.get("/v1/cases", params={"limit": 50})
                assert r.status_code == 200, r.text
                calls.append((t0, time.monotonic()))
                time.sleep(0.02)

    with running(url, "--as-of", AS_OF.isoformat(), "--read-budget", str(BUDGET)) as (_proc, base):
        watcher = threading.Thread(target=reviewer, args=(base,), daemon=True)
        watcher.start()
        try:
            with httpx.Client(base_url=base, timeout=60) as c:
                asks = [(f"/v1/subjects/{DEBTOR}/status", {"what_if": "true"}, "debtor"),
                        (f"/v1/subjects/{MID}/status", {"what_if": "true"}, "mid"),
                        (f"/v1/subjects/{DEBTOR}/file", {}, "debtor"),
                        (f"/v1/subjects/{MID}/status", {}, "mid")]
                answers = []
                for path, params, who in asks:
                    t0 = time.monotonic()
                    r = c.get(path, params=params, headers=auth(keys[who]))
                    answers.append((path, params, r, t0, time.monotonic()))
        finally:
            stop.set()
            watcher.join(timeout=30)
    for path, params, r, sent, answered in answers:
        took = answered - sent
        print(f"\n[{stores.backend}] {path} {params}: {r.status_code} in {took:.2f} s")
        if took > 0.3:  # a reviewer's list was answered while this read computed: no lock held meanwhile
            assert any(sent <= a and b <= answered for a, b in calls), (path, params, took)
        assert r.status_code in (200, 422, 503), r.text
        if r.status_code != 200:
            problem = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            if r.status_code == 503:  # the budget is named, with when to retry
                assert problem["budget"] == BUDGET and "budget" in problem["detail"] and r.headers["retry-after"]
            else:  # the what-if's own limit on records, named
                assert problem["field"] == "what_if" and "2,000" in problem["detail"]
    big_what_if = answers[0][2]
    assert big_what_if.status_code == 422  # 10 000 records: refused at once, before any evaluation
    print(f"[{stores.backend}] reviewer's case list meanwhile: {len(calls)} calls, "
          f"slowest {max(b - a for a, b in calls):.3f} s")
    assert calls


def test_a_spent_budget_is_a_503_that_names_it(stores: Stores) -> None:
    """The refusal itself, made certain: a budget too small for any evaluation (the check runs after each)."""
    store = build_store(stores.url("spent"))
    keys = make_keys(store)
    store.add_records(_records(MID, 40, "mid"), actor="court")
    keys["mid"] = Principals(store).create("Mid", Role.SUBJECT, subject=MID, by="test")[1]
    online = Online(store, as_of=AS_OF, read_budget=1e-9)
    try:
        with TestClient(create_app(online)) as c:
            r = c.get(f"/v1/subjects/{MID}/status", headers=auth(keys["mid"]))
    finally:
        store.close()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.headers["retry-after"]
    assert r.json()["budget"] == 1e-9 and "read budget" in r.json()["detail"]
