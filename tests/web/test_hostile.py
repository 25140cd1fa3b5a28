"""Hostile requests get a documented answer, never a 500: duplicate Authorization headers (400 on every
route, the fast path included) and JSON nested past the decoder's limit (422 naming the body)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import DEBTOR, FLIGHT, World, auth


def test_duplicate_authorization_headers_are_refused_everywhere(client: TestClient, world: World) -> None:
    two = [("Authorization", f"Bearer {world.keys['airline']}"), ("Authorization", f"Bearer {world.keys['debtor']}")]
    for method, path, body in (("POST", "/v1/decisions", {"subject": DEBTOR, "action": FLIGHT, "purpose": "t"}),
                               ("GET", f"/v1/subjects/{DEBTOR}/file", None),
                               ("GET", "/v1/keys", None)):
        r = client.request(method, path, json=body, headers=two)
        assert r.status_code == 400, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "authorization"
    one = client.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "t"},
                      headers=auth(world.keys["airline"]))
    assert one.status_code == 200


def test_deeply_nested_json_is_a_clear_422(client: TestClient, world: World) -> None:
    court = auth(world.keys["court"])
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/v1/records", content='{"records": ' + deep + "}", headers={**court,
                                                                              "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = client.post("/v1/records", content=deep + "\n", headers={**court, "Content-Type": "application/x-ndjson"})
    assert r.status_code in (200, 422) and "nested" in r.text
    r = client.post("/v1/decisions", content='{"subject": ' + deep + "}",
                    headers={**auth(world.keys["airline"]), "Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text


def test_wrong_methods_say_what_is_allowed(client: TestClient) -> None:
    for path in ("/v1/decisions", "/v1/records", "/v1/lists/shixin"):
        r = client.options(path)
        assert r.status_code == 405 and r.headers.get("allow"), (path, r.headers)


def test_access_log_times_carry_their_offset(client: TestClient, world: World) -> None:
    r = client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(world.keys["debtor"]))
    assert r.status_code == 200
    stamps = [e["at"] for e in r.json()["access_log"]]
    assert stamps and all(s.endswith(("Z", "+00:00")) for s in stamps)


def test_decisions_stop_rather_than_go_unaudited_when_the_log_stalls(world: World) -> None:
    """Back-pressure: with the audit flusher blocked (here: the store lock held elsewhere, as a stalled
    disk would), decisions are refused with 503 + Retry-After once the oldest entry is older than the
    window, instead of being answered with no record of them."""
    import threading
    import time

    import pytest

    from xinyong.service.auditlog import AuditBuffer
    from xinyong.service.online import Online
    from xinyong.web import create_app

    from .conftest import AS_OF

    if not hasattr(world.store.lock, "acquire"):
        pytest.skip("PostgreSQL has no store-wide lock to stall the flusher with")
    online = Online(world.store, as_of=AS_OF, audit=AuditBuffer(world.store, max_delay=0.02, max_lag=0.3))
    ask = {"subject": DEBTOR, "action": FLIGHT, "purpose": "t"}
    with TestClient(create_app(online)) as c:
        assert c.post("/v1/decisions", json=ask, headers=auth(world.keys["airline"])).status_code == 200
        released = threading.Event()

        def stall() -> None:
            with world.store.lock:  # type: ignore[attr-defined]
                released.wait(10)

        t = threading.Thread(target=stall)
        t.start()
        try:
            codes = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and 503 not in codes:
                r = c.post("/v1/decisions", json=ask, headers=auth(world.keys["airline"]))
                codes.append(r.status_code)
                time.sleep(0.02)
            assert 503 in codes and r.headers.get("retry-after") == "1"
            assert r.json()["title"] == "overloaded"
        finally:
            released.set()
            t.join()
        time.sleep(0.2)  # the flusher catches up; decisions are answered again
        assert c.post("/v1/decisions", json=ask, headers=auth(world.keys["airline"])).status_code == 200


def test_metrics_and_request_ids(client: TestClient, world: World) -> None:
    r = client.post("/v1/decisions", json={"subject": DEBTOR, "action": FLIGHT, "purpose": "t"},
                    headers={**auth(world.keys["airline"]), "X-Request-Id": "abc-123"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
    assert client.get(f"/v1/subjects/{DEBTOR}/file", headers=auth(world.keys["debtor"])).headers["x-request-id"]
    text = client.get("/metrics").text
    assert 'xinyong_decisions_total{effect="deny"} 1.0' in text
    assert 'route="/v1/subjects/{subject}/file"' in text and DEBTOR not in text  # templates, never ids
    assert "xinyong_audit_queue_depth" in text and "xinyong_audit_flush_lag_seconds" in text
