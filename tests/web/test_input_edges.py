"""Edges of the HTTP input: NDJSON lines, text that is not valid Unicode, and the order of the checks on
the decision endpoints (key first, then media type, then body), on the fast path and through the router."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import CLEAN, DEBTOR, FLIGHT, World, auth

from xinyong.web import create_app

ASK = {"subject": DEBTOR, "action": FLIGHT, "purpose": "ticket sale"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def row(document: str, **extra: Any) -> dict[str, Any]:
    return {"subject": CLEAN, "type": "court.refuse_perform", "occurred": "2025-10-01", "decided": "2026-01-06",
            "document": document, **extra}


def line(document: str, **extra: Any) -> bytes:
    return json.dumps(row(document, **extra), ensure_ascii=False).encode()


def post_ndjson(client: TestClient, world: World, body: bytes) -> dict[str, Any]:
    r = client.post("/v1/records", content=body, headers={**auth(world.keys["court"]), **NDJSON})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


# ---- NDJSON ------------------------------------------------------------------------------------------

def test_ndjson_splits_on_line_feeds_only(client: TestClient, world: World) -> None:
    """U+2028, U+2029 and U+0085 are valid unescaped in a JSON string: they do not end a line."""
    doc = "E-1\u2028x\u2029y\u0085z"
    out = post_ndjson(client, world, line(doc) + b"\r\n" + line("E-2") + b"\r\n")
    assert [(x["row"], x["status"]) for x in out["results"]] == [(1, "new"), (2, "new")]
    assert out["rows"] == 2 and out["new"] == 2


def test_ndjson_rows_are_numbered_by_physical_line(client: TestClient, world: World) -> None:
    body = b"\n" + line("L-2") + b"\n   \n\r\n" + b"{not json\n" + line("L-6") + b"\n\n"
    out = post_ndjson(client, world, body)
    assert [(x["row"], x["status"]) for x in out["results"]] == [(2, "new"), (5, "rejected"), (6, "new")]
    assert out["rows"] == 3 and out["new"] == 2 and out["rejected"] == 1


def test_a_line_that_is_not_json_is_refused_with_the_json_error_alone(client: TestClient, world: World) -> None:
    out = post_ndjson(client, world, line("J-1") + b"\nnot json\n")
    bad = out["results"][1]
    assert bad["row"] == 2 and bad["status"] == "rejected" and bad["id"] is None
    assert len(bad["problems"]) == 1  # no cascade of "missing" fields
    assert bad["problems"][0]["field"] == "row"
    assert bad["problems"][0]["reason"].startswith("line 2: not JSON (Expecting value")


def test_a_line_that_is_not_utf8_is_refused_not_stored_with_replacements(client: TestClient, world: World) -> None:
    latin1 = json.dumps(row("U-1 caf\u00e9"), ensure_ascii=False).encode("latin-1")
    out = post_ndjson(client, world, latin1 + b"\n" + line("U-2") + b"\n")
    assert [(x["row"], x["status"]) for x in out["results"]] == [(1, "rejected"), (2, "new")]
    problems = out["results"][0]["problems"]
    assert len(problems) == 1 and problems[0]["reason"].startswith("line 1: not UTF-8")
    stored = (world.store._scalar("SELECT count(*) FROM records WHERE document LIKE 'U-1%'"),)
    assert stored == (0,)


def test_a_leading_bom_is_tolerated(client: TestClient, world: World) -> None:
    out = post_ndjson(client, world, b"\xef\xbb\xbf" + line("B-1") + b"\n" + line("B-2"))
    assert [(x["row"], x["status"]) for x in out["results"]] == [(1, "new"), (2, "new")]


def test_a_line_that_is_json_but_not_an_object_is_refused_once(client: TestClient, world: World) -> None:
    out = post_ndjson(client, world, b"[1, 2]\n" + line("O-2") + b"\n")
    first = out["results"][0]
    assert first["status"] == "rejected" and len(first["problems"]) == 1
    assert first["problems"][0]["reason"] == "line 1: must be a JSON object with the record's fields, not an array"


# ---- text that is not valid Unicode --------------------------------------------------------------------

def test_a_lone_surrogate_in_a_json_body_refuses_that_row_naming_the_field(client: TestClient,
                                                                           world: World) -> None:
    lone = json.dumps(row("S-2")).replace('"S-2"', '"\\ud800"')  # JSON text with the escape, as a client sends it
    body = f'{{"records": [{json.dumps(row("S-1"))}, {lone}]}}'
    r = client.post("/v1/records", content=body.encode(),
                    headers={**auth(world.keys["court"]), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [(x["row"], x["status"]) for x in res] == [(1, "new"), (2, "rejected")]
    assert [p["field"] for p in res[1]["problems"]] == ["document"]
    assert "not valid Unicode" in res[1]["problems"][0]["reason"]


def test_a_lone_surrogate_in_an_ndjson_line_refuses_that_line(client: TestClient, world: World) -> None:
    bad = json.dumps(row("S-3")).replace('"S-3"', '"\\udc00x"').encode()
    out = post_ndjson(client, world, line("S-4") + b"\n\n" + bad + b"\n")
    assert [(x["row"], x["status"]) for x in out["results"]] == [(1, "new"), (3, "rejected")]
    problem = out["results"][1]["problems"]
    assert len(problem) == 1 and problem[0]["field"] == "document"
    assert problem[0]["reason"].startswith("line 3: not valid Unicode")


# ---- decisions: key first, then media type, then body --------------------------------------------------

@pytest.fixture(params=[True, False], ids=["fast-path", "router"])
def either(world: World, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with TestClient(create_app(world.online, max_body_bytes=4096, fast_path=request.param)) as c:
        yield c


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"not json", "application/json"),
    (b'{"subject": 1}', "application/json"),
    (json.dumps(ASK).encode(), "text/plain"),
    (b"", ""),
]


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions:batch"])
@pytest.mark.parametrize("key", [None, "xy_not-a-key", "revoked"])
def test_no_valid_key_is_401_whatever_the_body(either: TestClient, world: World, path: str, key: str | None
                                               ) -> None:
    headers = auth(world.keys.get(key, key)) if key else {}
    for body, content_type in BAD_BODIES:
        r = either.post(path, content=body, headers={**headers, "Content-Type": content_type} if content_type
                        else headers)
        assert r.status_code == 401, (body, content_type, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert "errors" not in r.json()  # nothing about the body's shape


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions:batch"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_not_declared_json_is_415(either: TestClient, world: World, path: str, content_type: str) -> None:
    body = {**ASK, "subjects": [DEBTOR]} if path.endswith("batch") else ASK
    body.pop("subject" if path.endswith("batch") else "subjects", None)
    headers = {**auth(world.keys["airline"]), **({"Content-Type": content_type} if content_type else {})}
    r = either.post(path, content=json.dumps(body).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "content-type"
    ok = either.post(path, content=json.dumps(body).encode(),
                     headers={**auth(world.keys["airline"]), "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200, ok.text


def test_both_paths_answer_edge_requests_alike(world: World) -> None:
    key = world.keys["airline"]
    requests: list[tuple[bytes, dict[str, str]]] = [
        (b"not json", {**auth(key), "Content-Type": "application/json"}),
        (b"not json", {"Content-Type": "application/json"}),
        (json.dumps(ASK).encode(), {**auth(key), "Content-Type": "text/plain"}),
        (json.dumps(ASK).encode(), auth(world.keys["revoked"])),
        (b'{"subject": "\\ud800", "action": "%s", "purpose": "p"}' % FLIGHT.encode(),
         {**auth(key), "Content-Type": "application/json"}),
        (b"x" * 5000, {"Content-Type": "application/json"}),  # declared length over the limit: 413 first
    ]
    answers = []
    for fast in (True, False):
        with TestClient(create_app(world.online, max_body_bytes=4096, fast_path=fast)) as c:
            answers.append([(r.status_code, r.headers["content-type"], r.json()) for r in
                            (c.post("/v1/decisions", content=body, headers=headers) for body, headers in requests)])
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0]] == [422, 401, 415, 401, 422, 413]


def test_the_batch_route_does_not_read_the_body_before_auth(world: World) -> None:
    """Without a key the body is never read: a body stream that would fail is not touched."""
    app = create_app(world.online, max_body_bytes=4096)
    received: list[object] = []

    with TestClient(app):
        async def call() -> list[dict[str, Any]]:
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                received.append(1)
                return {"type": "http.request", "body": b"[" * 3000, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            path = "/v1/decisions:batch"
            scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
                     "query_string": b"", "root_path": "", "scheme": "http", "server": ("test", 80),
                     "client": ("test", 1), "http_version": "1.1", "app": app,
                     "headers": [(b"content-type", b"application/json"), (b"content-length", b"3000")]}
            await app(scope, receive, send)  # type: ignore[arg-type]
            return sent

        sent = asyncio.run(call())
    assert sent[0]["status"] == 401
    assert received == []


def test_a_lone_surrogate_in_an_amendment_is_422_naming_the_field(client: TestClient, world: World) -> None:
    body = ('{"amendments": [{"record": "%s", "kind": "annul", "effective": "2026-01-20", "reason": "\\ud800", '
            '"document": "D-1"}]}') % ("0" * 32)
    r = client.post("/v1/amendments", content=body.encode(),
                    headers={**auth(world.keys["court"]), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "amendments.0.reason"
