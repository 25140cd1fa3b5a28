"""The subject portal over the real app: the file page and its JSON twin (the /v1 body of the same service
call), another subject's pages (404, never 403, and audited), the due-process forms and their refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.web import create_app

from .conftest import BLACK_ORG, DEBTOR, PagesWorld, csrf_of, sign_in

NOTICE_DAY = date(2026, 1, 12)  # the court's listing is two days old: the objection window is open
FILE = f"/portal/subjects/{DEBTOR}/file"


@contextmanager
def served(world: PagesWorld, day: date) -> Iterator[TestClient]:
    """The app over the seeded store with the service's date set to ``day``."""
    online = Online(world.store, as_of=day, max_batch=1000, audit=AuditBuffer(world.store, max_delay=0.05))
    with TestClient(create_app(online)) as c:
        yield c


def person(c: TestClient, key: str) -> TestClient:
    """Another browser (its own cookies) on the same running app, signed in with ``key``."""
    other = TestClient(c.app)
    sign_in(other, key)
    return other


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def without_log(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "access_log"}  # every read adds to it


def test_the_file_page_shows_the_file_and_its_json_is_the_v1_file(pages_world: PagesWorld,
                                                                  pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["debtor"])
    r = c.get("/portal", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == FILE
    page = c.get(FILE)
    assert page.status_code == 200
    html = page.text
    assert "2028年1月10日" in html  # the listing's end date, in the Chinese format
    assert "(2026) Jing 0105 Zhi 1" in html and "SPC Provisions" in html  # document and legal basis
    assert "2029年1月9日" in html  # the record's validity
    assert "生效中" in html  # the listing's stage
    twin = c.get(FILE, params={"format": "json"}).json()
    api = c.get(f"/v1/subjects/{DEBTOR}/file", headers=bearer(pages_world.keys["debtor"])).json()
    assert without_log(twin["file"]) == without_log(api)
    status = c.get(f"/v1/subjects/{DEBTOR}/status", headers=bearer(pages_world.keys["debtor"])).json()
    assert twin["status"] == status
    assert twin["records"][0]["valid_until"] == "2029-01-09"
    # who looked: the page's own reads are in the access log it shows
    assert any(e["action"] == "explain" and e["actor"].startswith("subject:Debtor") for e in twin["file"]["access_log"])
    english = c.get(FILE, params={"lang": "en"}).text
    assert "January 10, 2028" in english and "Your listings" in english


def test_another_subjects_pages_are_not_found_and_the_attempt_is_audited(pages_world: PagesWorld,
                                                                         pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["debtor"])
    token = csrf_of(c.get(FILE).text)
    other = f"/portal/subjects/{BLACK_ORG}"
    for path in (f"{other}/file", f"{other}/status", f"{other}/notices"):
        r = c.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "Harbour" not in r.text and "procurement" not in r.text
    r = c.post(f"{other}/objections", data={"csrf_token": token, "target": "list:procurement_blacklist",
                                             "text": "not mine", "evidence": ""})
    assert r.status_code == 404
    assert c.get(f"{other}/file", params={"format": "json"}).status_code == 404
    pages_world.online.audit.flush()
    refused = [e.entry for e in pages_world.store.audit_of_subject(BLACK_ORG)
               if e.entry.actor.startswith("subject:Debtor")]
    assert {"explain_refused", "status_refused", "notices_refused", "object_refused"} <= {e.action for e in refused}
    assert pages_world.store.cases.cases(BLACK_ORG) == []  # nothing filed


def test_a_case_of_another_subject_is_not_found(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        debtor = person(c, pages_world.keys["debtor"])
        r = debtor.post(f"/portal/subjects/{DEBTOR}/objections", follow_redirects=False,
                        data={"csrf_token": csrf_of(debtor.get(FILE).text), "target": "list:shixin",
                              "text": "I paid before the decision", "evidence": "receipt 7"})
        assert r.status_code == 303
        case_url = r.headers["location"]
        org = person(c, pages_world.keys["org"])
        theirs = org.get(case_url, params={"format": "json"})
        missing = org.get(case_url.rsplit("/", 1)[0] + "/zzzz", params={"format": "json"})
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == {**missing.json(), "instance": theirs.json().get("instance")}  # the same answer
        r = org.post(f"{case_url}/appeal", data={"csrf_token": csrf_of(org.get("/portal").text), "text": "x"})
        assert r.status_code == 404
        pages_world.online.audit.flush()
        assert "cases_refused" in {e.entry.action for e in pages_world.store.audit_of_subject(DEBTOR)}


def test_a_form_without_its_csrf_token_is_refused(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        debtor = person(c, pages_world.keys["debtor"])
        form = {"target": "list:shixin", "text": "I paid", "evidence": "receipt 7"}
        assert debtor.post(f"/portal/subjects/{DEBTOR}/objections", data=form).status_code == 403
        r = debtor.post(f"/portal/subjects/{DEBTOR}/objections", data={**form, "csrf_token": "forged"})
        assert r.status_code == 403
        assert pages_world.store.cases.cases(DEBTOR) == []


def test_an_objection_is_filed_and_its_case_page_offers_an_appeal_once_decided(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        debtor = person(c, pages_world.keys["debtor"])
        page = debtor.get(FILE).text
        assert "对此列入提出异议" in page  # the listing's objection form, open until the 26th
        r = debtor.post(f"/portal/subjects/{DEBTOR}/objections", follow_redirects=False,
                        data={"csrf_token": csrf_of(page), "target": "list:shixin",
                              "text": "I paid before the decision", "evidence": "receipt 7\nbank slip 3"})
        case_url = r.headers["location"]
        case = debtor.get(case_url, params={"format": "json"}).json()["case"]
        assert case["evidence"] == ["receipt 7", "bank slip 3"] and case["status"] == "open"
        assert case == c.get(f"/v1/cases/{case['id']}", headers=bearer(pages_world.keys["debtor"])).json()
        reviewer = person(c, pages_world.keys["reviewer"])
        reviewer.post(f"/console/cases/{case['id']}/decision", data={
            "csrf_token": csrf_of(reviewer.get("/console").text), "outcome": "rejected",
            "reasons": "the receipt is for another debt"})
        shown = debtor.get(case_url).text
        assert "the receipt is for another debt" in shown and "2026年1月22日" in shown  # appeal until
        r = debtor.post(f"{case_url}/appeal", follow_redirects=False,
                        data={"csrf_token": csrf_of(shown), "text": "the receipt names this debt"})
        assert r.status_code == 303
        appeal = debtor.get(r.headers["location"], params={"format": "json"}).json()["case"]
        assert appeal["kind"] == "appeal" and appeal["appeal_of"] == case["id"]
        notices = debtor.get(f"/portal/subjects/{DEBTOR}/notices", params={"format": "json"}).json()
        assert any(n["act_by"] == "2026-01-26" for n in notices["notices"])
        assert "2026年1月26日" in debtor.get(f"/portal/subjects/{DEBTOR}/notices").text


def test_a_refused_form_comes_back_with_the_reason_and_what_was_typed(pages_world: PagesWorld,
                                                                      pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["debtor"])
    token = csrf_of(c.get(FILE).text)
    r = c.post(f"/portal/subjects/{DEBTOR}/objections",  # 2026-03-01: the window closed on 2026-01-26
               data={"csrf_token": token, "target": "list:shixin", "text": "late but right", "evidence": ""})
    assert r.status_code == 422 and "late but right" in r.text and "2026-01-26" in r.text
    r = c.post(f"/portal/subjects/{DEBTOR}/objections", data={"csrf_token": token, "target": "list:shixin",
                                                              "text": "  "})
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert pages_world.store.cases.cases(DEBTOR) == []


def test_repair_too_early_tells_the_earliest_date(pages_world: PagesWorld, pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["org"])
    file = c.get(f"/portal/subjects/{BLACK_ORG}/file", params={"format": "json"}).json()
    record = file["file"]["records"][0]["id"]
    token = csrf_of(c.get(f"/portal/subjects/{BLACK_ORG}/file").text)
    form = {"csrf_token": token, "record": record, "text": "fine paid", "evidence": "receipt"}
    r = c.post(f"/portal/subjects/{BLACK_ORG}/repairs", data=form)
    assert r.status_code == 422 and "2026年10月1日" in r.text  # a serious finding: a year after 2025-10-01
    r = c.post(f"/portal/subjects/{BLACK_ORG}/repairs", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "2026年10月1日" in r.text  # htmx: the form only
    r = c.post(f"/portal/subjects/{BLACK_ORG}/repairs", data=form, headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["earliest"] == "2026-10-01" and r.json()["field"] == "record"
    assert pages_world.store.cases.cases(BLACK_ORG) == []


def test_what_would_change_my_status(pages_world: PagesWorld, pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["debtor"])
    twin = c.get(f"/portal/subjects/{DEBTOR}/status", params={"format": "json"}).json()
    api = c.get(f"/v1/subjects/{DEBTOR}/status", params={"what_if": "true"},
                headers=bearer(pages_world.keys["debtor"])).json()
    assert twin["status"] == api
    changes = [x for p in api["policies"] for x in p["what_if"]]
    assert {(x["how"], x["on"]) for x in changes} >= {("expiry", "2028-01-10"), ("repair", "2026-03-01")}
    page = c.get(f"/portal/subjects/{DEBTOR}/status").text
    assert "通过信用修复" in page and "2028年1月10日" in page


def test_the_portal_needs_a_subject(pages_world: PagesWorld, pages_client: TestClient) -> None:
    c = pages_client
    r = c.get(FILE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert c.get(FILE, headers={"Accept": "application/json"}).status_code == 401
    sign_in(c, pages_world.keys["reviewer"])
    assert c.get("/portal").status_code == 403  # reviewers work in the console
