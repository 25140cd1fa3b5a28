"""The /v1 API through the real ASGI app over a real DuckDB store: what each role may do and see."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import AS_OF, CLEAN, DEBTOR, FLIGHT, OTHER_PERSON, World, auth, debt

from xinyong.web import create_app

ASK = {"subject": DEBTOR, "action": FLIGHT, "purpose": "ticket sale"}


def test_a_listed_debtor_is_denied_with_the_legal_basis_and_no_data(client: TestClient, world: World) -> None:
    r = client.post("/v1/decisions", json=ASK, headers=auth(world.keys["airline"]))
    assert r.status_code == 200
    body = r.json()
    assert body["effect"] == "deny"
    assert body["legal_basis"] == ["SPC Provisions on Restricting High Consumption (2015), art. 3(1)"]
    assert body["measures"][0]["agency"] and body["id"]
    assert set(body) == {"id", "subject", "action", "purpose", "as_of", "effect", "measures", "legal_basis",
                         "policy_versions"}  # no records, no score, no tier
    clean = client.post("/v1/decisions", json={**ASK, "subject": CLEAN}, headers=auth(world.keys["airline"]))
    assert clean.json()["effect"] == "allow" and clean.json()["measures"] == []


def test_a_record_posted_changes_the_decision_at_once(client: TestClient, world: World) -> None:
    airline, court = auth(world.keys["airline"]), auth(world.keys["court"])
    before = client.post("/v1/decisions", json={**ASK, "subject": OTHER_PERSON}, headers=airline).json()
    assert before["effect"] == "allow"
    record = {"subject": OTHER_PERSON, "type": "court.refuse_perform", "occurred": "2025-10-01",
              "decided": "2026-01-05", "document": "(2026) Jing 0105 Zhi 9"}
    r = client.post("/v1/records", json={"records": [record]}, headers=court)
    # the very next request, with no wait and no evaluate in between, sees it
    after = client.post("/v1/decisions", json={**ASK, "subject": OTHER_PERSON}, headers=airline).json()
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "new"
    assert after["effect"] == "deny"
    # idempotent: the same record again is a duplicate with the same id, nothing new stored
    again = client.post("/v1/records", json={"records": [record]}, headers=court).json()
    assert again["new"] == 0 and again["results"][0] == {**r.json()["results"][0], "status": "duplicate"}


def test_records_are_validated_per_row_as_in_a_file_ingest(client: TestClient, world: World) -> None:
    rows = [
        {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-01-05",
         "document": "A-1"},
        {"subject": "not-an-id", "type": "court.refuse_perform", "occurred": "2025-10-01",
         "decided": "2025-09-01", "document": "A-2"},
        {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-01-05",
         "document": "A-3", "colour": "red"},
        {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-03-02",
         "document": "A-4"},  # decided after the service's as-of date
    ]
    r = client.post("/v1/records", json={"records": rows}, headers=auth(world.keys["court"]))
    assert r.status_code == 200
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["new", "rejected", "rejected", "rejected"]
    assert [p["field"] for p in res[3]["problems"]] == ["decided"]
    assert {p["field"] for p in res[1]["problems"]} == {"subject", "decided"}
    assert res[2]["problems"] == [{"field": "colour", "reason": res[2]["problems"][0]["reason"], "value": None}]
    row = {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-01-06",
           "document": "N-1"}
    ndjson = json.dumps(row) + "\nnot json\n"
    r = client.post("/v1/records", content=ndjson, headers={**auth(world.keys["court"]),
                                                             "Content-Type": "application/x-ndjson"})
    assert [x["status"] for x in r.json()["results"]] == ["new", "rejected"]


def test_an_agency_submits_only_its_own_catalogue_types(client: TestClient, world: World) -> None:
    row = {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-01-05",
           "document": "T-1"}
    r = client.post("/v1/records", json={"records": [row]}, headers=auth(world.keys["tax"]))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "records[0].type"
    r = client.post("/v1/records", json={"records": [{**row, "source": "tax.bureau"}]},
                    headers=auth(world.keys["court"]))
    assert r.status_code == 403 and r.json()["field"] == "records[0].source"
    assert world.store.record_count() == 1  # nothing stored


def test_forbidden_paths_leak_nothing(client: TestClient, world: World) -> None:
    k = world.keys
    cases = [
        ("post", "/v1/decisions", ASK, None, 401),                              # no key
        ("post", "/v1/decisions", ASK, "xy_not-a-key", 401),                    # unknown key
        ("post", "/v1/decisions", ASK, k["revoked"], 401),                      # revoked key
        ("post", "/v1/decisions", ASK, k["bank"], 403),                         # unregistered action
        ("post", "/v1/decisions", ASK, k["debtor"], 403),                       # wrong role
        ("post", "/v1/decisions", ASK, k["court"], 403),                        # wrong role
        ("post", "/v1/decisions:batch", {**ASK, "subjects": [DEBTOR], "subject": None}, k["bank"], 422),
        ("get", f"/v1/subjects/{CLEAN}/file", None, k["debtor"], 403),          # another subject's file
        ("get", f"/v1/subjects/{DEBTOR}/file", None, k["airline"], 403),        # relying party reads a file
        ("get", f"/v1/subjects/{DEBTOR}/file", None, k["admin"], 403),          # admin is not a reader
        ("get", f"/v1/subjects/{DEBTOR}/file", None, None, 401),
        ("post", "/v1/records", {"records": []}, k["airline"], 403),             # relying party writes
        ("post", "/v1/records", {"records": []}, k["debtor"], 403),
        ("post", "/v1/amendments", {"amendments": [{"record": "0" * 32, "kind": "annul", "effective": "2026-03-01",
                                                    "reason": "r", "document": "d"}]}, k["airline"], 403),
    ]
    for method, path, body, key, status in cases:
        headers = auth(key) if key else {}
        r = client.request(method.upper(), path, json=body, headers=headers)
        assert r.status_code == status, (method, path, key, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        text = r.text
        for secret in ("deny", "shixin", "score", "legal_basis", "court.refuse_perform", "2026-01-10"):
            assert secret not in text, (path, secret, text)
    # the refused look-ups are in the subject's access log, who tried and why
    log = client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(k["debtor"])).json()["access_log"]
    refused = [e for e in log if e["action"].endswith("_refused")]
    assert any(e["actor"].startswith("relying_party:Bank") for e in refused)


def test_a_subject_reads_its_whole_file_and_who_looked(client: TestClient, world: World) -> None:
    client.post("/v1/decisions", json=ASK, headers=auth(world.keys["airline"]))
    r = client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(world.keys["debtor"]))
    assert r.status_code == 200
    f = r.json()
    assert f["records"][0]["type"] == "court.refuse_perform"
    shixin = next(a for a in f["assessments"] if a["policy"] == "shixin")
    assert shixin["listings"][0]["list"] == "shixin"
    looked = [(e["actor"], e["action"], e["purpose"]) for e in f["access_log"]]
    assert any(a.startswith("relying_party:Airline") and act == "decide" and p == "ticket sale"
               for a, act, p in looked)
    # a reviewer must say why
    r = client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(world.keys["reviewer"]))
    assert r.status_code == 422 and r.json()["field"] == "purpose"
    r = client.get(f"/v1/subjects/{DEBTOR}/file", params={"purpose": "objection case 7"},
                   headers=auth(world.keys["reviewer"]))
    assert r.status_code == 200


def test_batch_decisions_and_the_batch_limit(client: TestClient, world: World) -> None:
    airline = auth(world.keys["airline"])
    r = client.post("/v1/decisions:batch", json={"subjects": [DEBTOR, CLEAN], "action": FLIGHT,
                                                  "purpose": "manifest"}, headers=airline)
    assert r.status_code == 200
    body = r.json()
    assert [d["effect"] for d in body["decisions"]] == ["deny", "allow"]
    assert body["effects"] == {"deny": 1, "allow": 1}
    r = client.post("/v1/decisions:batch", json={"subjects": [CLEAN] * 1001, "action": FLIGHT,
                                                  "purpose": "manifest"}, headers=airline)
    assert r.status_code == 413 and r.json()["limit"] == 1000 and r.json()["field"] == "subjects"


def test_an_oversized_body_is_refused_with_the_limit(client: TestClient, world: World) -> None:
    big = {"records": [{"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01",
                        "decided": "2026-01-05", "document": "x" * 1000}] * 300}
    r = client.post("/v1/records", json=big, headers=auth(world.keys["court"]))
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["limit"] == 256 * 1024 and "262144 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(300):
            yield b" " * 1024

    r = client.post("/v1/records", content=chunks(), headers=auth(world.keys["court"]))
    assert r.status_code == 413 and r.json()["limit"] == 256 * 1024
    assert world.store.record_count() == 1


def test_bad_requests_name_the_field(client: TestClient, world: World) -> None:
    airline = auth(world.keys["airline"])
    r = client.post("/v1/decisions", json={**ASK, "purpose": ""}, headers=airline)
    assert r.status_code == 422 and r.json()["field"] == "purpose"
    r = client.post("/v1/decisions", json={**ASK, "subject": "cn.ric:110105194912310021"}, headers=airline)
    assert r.status_code == 422 and r.json()["field"] == "subject"
    r = client.post("/v1/decisions", json={**ASK, "as_of": "2026-02-30"}, headers=airline)
    assert r.status_code == 422 and r.json()["field"] == "as_of"


def test_amendments_end_a_listing_at_once_and_agencies_amend_only_their_own(client: TestClient,
                                                                            world: World) -> None:
    record_id = client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(world.keys["debtor"])).json()[
        "records"][0]["id"]
    amendment = {"record": record_id, "kind": "repair", "effective": AS_OF.isoformat(), "reason": "performed",
                 "document": "receipt 1"}
    r = client.post("/v1/amendments", json={"amendments": [amendment]}, headers=auth(world.keys["tax"]))
    # the same answer as for a record that is not stored: record ids are guessable content hashes, so a
    # different answer would tell an agency that another source holds a judgment about the subject
    assert r.status_code == 404 and "from your source" in r.json()["detail"]
    r = client.post("/v1/amendments", json={"amendments": [amendment]}, headers=auth(world.keys["court"]))
    assert r.status_code == 200 and len(r.json()["new"]) == 1
    d = client.post("/v1/decisions", json=ASK, headers=auth(world.keys["airline"])).json()
    assert d["effect"] == "allow"


def test_public_views_need_no_key_and_mask_persons(client: TestClient, world: World) -> None:
    world.store._run("UPDATE subjects SET name = 'Wang Wei' WHERE id = ?", [DEBTOR])
    r = client.get("/v1/lists/shixin")
    assert r.status_code == 200
    entry = r.json()["entries"][0]
    assert entry["name"] == "Wang*" and "Wei" not in r.text
    # shixin publishes [masked_name, reason]: no identifier of a person, not even masked, and no dates
    reason = entry.pop("reason")  # the subject's own ground: its record types behind the listing, the rule
    assert entry == {"subject": None, "name": "Wang*", "since": None, "until": None}
    assert "(court.refuse_perform); rule: " in reason and "Zhi" not in reason  # types, not documents
    assert DEBTOR not in r.text and DEBTOR.split(":")[1][:6] not in r.text
    assert client.get("/v1/lists/nope").status_code == 404
    assert {p["id"] for p in client.get("/v1/policies").json()} == {"shixin", "corporate", "rongcheng"}
    assert any(t["id"] == "court.refuse_perform" for t in client.get("/v1/catalogue").json()["record_types"])
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json()["status"] == "ready"


def test_the_fast_path_and_the_fastapi_route_answer_alike(world: World) -> None:
    """POST /v1/decisions is served in front of the router; the documented route must say the same."""
    requests = [
        (ASK, world.keys["airline"]), ({**ASK, "subject": CLEAN}, world.keys["airline"]),
        (ASK, None), (ASK, world.keys["bank"]), ({**ASK, "purpose": ""}, world.keys["airline"]),
        ({**ASK, "subject": "cn.ric:110105194912310021"}, world.keys["airline"]),
    ]
    answers = []
    for fast in (True, False):
        with TestClient(create_app(world.online, fast_path=fast)) as c:
            answers.append([(r.status_code, r.headers["content-type"], r.json()) for r in
                            (c.post("/v1/decisions", json=body, headers=auth(key) if key else {})
                             for body, key in requests)])
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0]] == [200, 200, 401, 403, 422, 422]


def test_decisions_never_wait_for_the_store(client: TestClient, world: World) -> None:
    """Every store access holds ``store.lock``; with it held elsewhere, decisions still flow."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with world.store.lock:
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(5)
        r = client.post("/v1/decisions", json=ASK, headers=auth(world.keys["airline"]))
        assert r.status_code == 200 and r.json()["effect"] == "deny"
    finally:
        release.set()
        t.join()


def test_a_key_revoked_while_serving_is_refused_at_once(client: TestClient, world: World) -> None:
    key = world.keys["airline"]
    assert client.post("/v1/decisions", json=ASK, headers=auth(key)).status_code == 200
    principal = world.online.principals.authenticate(key)
    world.online.principals.revoke(principal.id, by="test", reason="leaked")
    r = client.post("/v1/decisions", json=ASK, headers=auth(key))
    assert r.status_code == 401 and "deny" not in r.text


def test_a_relying_party_gets_decisions_as_of_today_only(client: TestClient, world: World) -> None:
    """Another date would show a listing still in its notice period, or one that has ended."""
    airline = auth(world.keys["airline"])
    assert client.post("/v1/decisions", json={**ASK, "as_of": AS_OF.isoformat()}, headers=airline).status_code == 200
    r = client.post("/v1/decisions", json={**ASK, "as_of": "2026-01-09"}, headers=airline)
    assert r.status_code == 403 and r.json()["field"] == "as_of" and "effect" not in r.text
    r = client.post("/v1/decisions:batch", json={"subjects": [DEBTOR, CLEAN], "action": FLIGHT, "purpose": "m",
                                                  "as_of": "2026-12-01"}, headers=airline)
    assert r.status_code == 403 and "effect" not in r.text
    world.online.audit.flush()
    refused = [e.entry.subject for e in world.store.audit_entries() if e.entry.action == "decide_refused"]
    assert refused.count(DEBTOR) == 2 and CLEAN in refused  # every refused look-up is in the subject's log


def test_an_agency_cannot_backdate_an_amendment(client: TestClient, world: World) -> None:
    """A backdated annulment would rewrite assessments already issued (history must stay recomputable)."""
    court = auth(world.keys["court"])
    record_id = debt().id
    amendment = {"record": record_id, "kind": "annul", "effective": "2026-01-11", "reason": "error",
                 "document": "ruling 2"}
    r = client.post("/v1/amendments", json={"amendments": [amendment]}, headers=court)
    assert r.status_code == 422 and r.json()["field"] == "amendments[0].effective"
    assert client.post("/v1/decisions", json=ASK, headers=auth(world.keys["airline"])).json()["effect"] == "deny"


def test_an_admin_issues_and_revokes_keys_while_serving(client: TestClient, world: World) -> None:
    admin = auth(world.keys["admin"])
    spec = {"name": "Rail ticketing", "role": "relying_party", "actions": ["transport.rail"]}
    assert client.post("/v1/keys", json=spec, headers=auth(world.keys["airline"])).status_code == 403
    r = client.post("/v1/keys", json=spec, headers=admin)
    assert r.status_code == 201
    new = r.json()
    rail = {**ASK, "action": "transport.rail.g_series"}
    assert client.post("/v1/decisions", json=rail, headers=auth(new["key"])).json()["effect"] == "deny"
    listed = client.get("/v1/keys", headers=admin).json()
    assert new["id"] in {k["id"] for k in listed} and all(k["key"] is None for k in listed)
    r = client.post(f"/v1/keys/{new['id']}/revoke", json={"reason": "contract ended"}, headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert client.post("/v1/decisions", json=rail, headers=auth(new["key"])).status_code == 401


def test_an_oversized_decision_request_is_refused_before_it_is_read(client: TestClient, world: World) -> None:
    r = client.post("/v1/decisions", json={**ASK, "purpose": "x" * 300_000}, headers=auth(world.keys["airline"]))
    assert r.status_code == 413 and r.json()["limit"] == 256 * 1024


def test_after_midnight_the_index_is_rebuilt_off_the_event_loop(client: TestClient, world: World) -> None:
    """The rebuild takes the store lock and may evaluate: while it runs, /healthz must still answer."""
    if not hasattr(world.store.lock, "acquire"):
        pytest.skip("PostgreSQL has no store-wide lock: nothing there can hold a rebuild back")
    online = world.online
    assert online.indexed(None)
    online.fixed_as_of = AS_OF + timedelta(days=1)
    assert not online.indexed(None)  # stale: decisions go to a worker thread until it is rebuilt
    released = threading.Event()
    with online.store.lock:
        worker = threading.Thread(target=lambda: (client.post("/v1/decisions", json=ASK,
                                                              headers=auth(world.keys["airline"])),
                                                  released.set()))
        worker.start()
        time.sleep(0.2)  # the decision now waits for the lock in the thread pool, not on the loop
        health: list[int] = []
        probe = threading.Thread(target=lambda: health.append(client.get("/healthz").status_code), daemon=True)
        probe.start()
        probe.join(timeout=10)  # a blocked loop would not answer (and the test fails, not hangs)
        assert health == [200] and not released.is_set()
    worker.join(timeout=60)
    assert released.is_set() and online.indexed(None)
