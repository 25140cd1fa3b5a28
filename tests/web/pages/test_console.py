"""The reviewer console over the real app: the queue by deadline with overdue cases marked, a case with its
matter, reasons required, and an appeal never offered to (nor decided by) the reviewer it contests."""

from __future__ import annotations

from datetime import date

import httpx
from fastapi.testclient import TestClient

from xinyong.service.online_cases import case_actor
from xinyong.service.principals import Principals, Role

from .conftest import DEBTOR, PagesWorld, csrf_of, sign_in
from .test_portal import FILE, NOTICE_DAY, bearer, person, served

RECORD_REPAIR_DAY = date(2026, 1, 13)
LATE = date(2026, 1, 16)  # the expedited objection of the 12th was due on the 15th


def object_to_listing(c: TestClient, world: PagesWorld) -> str:
    """The debtor objects to its court listing through the portal; returns the case id."""
    debtor = person(c, world.keys["debtor"])
    r = debtor.post(f"/portal/subjects/{DEBTOR}/objections", follow_redirects=False,
                    data={"csrf_token": csrf_of(debtor.get(FILE).text), "target": "list:shixin",
                          "text": "I paid before the decision", "evidence": "receipt 7"})
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def decide(reviewer: TestClient, case: str, outcome: str, reasons: str, **headers: str) -> httpx.Response:
    token = csrf_of(reviewer.get("/console").text)
    return reviewer.post(f"/console/cases/{case}/decision", follow_redirects=False, headers=headers,
                         data={"csrf_token": token, "outcome": outcome, "reasons": reasons})


def test_the_queue_is_ordered_by_deadline_and_marks_overdue_cases(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        objection = object_to_listing(c, pages_world)
    with served(pages_world, RECORD_REPAIR_DAY) as c:
        debtor = person(c, pages_world.keys["debtor"])
        record = debtor.get(FILE, params={"format": "json"}).json()["records"][0]["id"]
        r = debtor.post(f"/portal/subjects/{DEBTOR}/repairs", follow_redirects=False, data={
            "csrf_token": csrf_of(debtor.get(FILE).text), "record": record, "text": "paid in full",
            "evidence": "bank transfer"})
        assert r.status_code == 303, r.text
    with served(pages_world, LATE) as c:
        reviewer = person(c, pages_world.keys["reviewer"])
        queue = reviewer.get("/console", params={"format": "json"}).json()
        deadlines = [i["case"]["deadline"] for i in queue["items"]]
        assert deadlines == sorted(deadlines) and len(deadlines) == 2
        first = queue["items"][0]["case"]
        assert first["id"] == objection and first["overdue"] is True and queue["overdue"] == 1
        assert queue["items"][1]["case"]["overdue"] is False
        api = c.get("/v1/cases", params={"state": "open"}, headers=bearer(pages_world.keys["reviewer"])).json()
        assert sorted(x["id"] for x in api) == sorted(i["case"]["id"] for i in queue["items"])
        html = reviewer.get("/console").text
        assert html.count('class="badge overdue"') == 1 and "1件案件已逾期" in html
        assert html.index(objection) < html.index(queue["items"][1]["case"]["id"])


def test_a_case_page_shows_the_matter_and_reasons_are_required(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        case = object_to_listing(c, pages_world)
        reviewer = person(c, pages_world.keys["reviewer"])
        page = reviewer.get(f"/console/cases/{case}").text
        assert "receipt 7" in page and "I paid before the decision" in page  # evidence and the subject's words
        assert "SPC Provisions" in page and "court.refuse_perform" in page  # the rule that applies
        assert "(2026) Jing 0105 Zhi 1" in page  # the record behind the listing
        view = reviewer.get(f"/console/cases/{case}", params={"format": "json"}).json()
        assert view["case"] == c.get(f"/v1/cases/{case}", headers=bearer(pages_world.keys["reviewer"])).json()
        assert view["may_decide"] is True and view["outcomes"] == ["upheld", "rejected"]

        r = decide(reviewer, case, "rejected", "   ")
        assert r.status_code == 422 and "a decision must give its reasons" in r.text
        r = decide(reviewer, case, "rejected", "", **{"HX-Request": "true"})
        assert r.status_code == 200 and r.text.lstrip().startswith("<section")
        assert pages_world.store.cases.case(case).events == []  # nothing decided

        r = decide(reviewer, case, "rejected", "the receipt is for another debt")
        assert r.status_code == 303
        done = reviewer.get(f"/console/cases/{case}").text
        assert "the receipt is for another debt" in done and 'name="reasons"' not in done
        pages_world.online.audit.flush()
        reads = [e.entry for e in pages_world.store.audit_of_subject(DEBTOR) if e.entry.action == "explain"]
        assert any(e.purpose == f"case {case}" and e.actor.startswith("reviewer:") for e in reads)


def test_an_appeal_is_offered_only_to_a_different_reviewer(pages_world: PagesWorld) -> None:
    with served(pages_world, NOTICE_DAY) as c:
        case = object_to_listing(c, pages_world)
        first = person(c, pages_world.keys["reviewer"])
        assert decide(first, case, "rejected", "the receipt is for another debt").status_code == 303
        debtor = person(c, pages_world.keys["debtor"])
        page = debtor.get(f"/portal/cases/{case}").text
        r = debtor.post(f"/portal/cases/{case}/appeal", follow_redirects=False,
                        data={"csrf_token": csrf_of(page), "text": "the receipt names this debt"})
        appeal = r.headers["location"].rsplit("/", 1)[1]

        queue = first.get("/console", params={"format": "json"}).json()
        item = next(i for i in queue["items"] if i["case"]["id"] == appeal)
        assert item["for_you"] is False and item["why_not"] == "own_decision"
        shown = first.get(f"/console/cases/{appeal}").text
        assert 'name="reasons"' not in shown and "the receipt is for another debt" in shown  # history
        r = decide(first, appeal, "upheld", "on reflection")  # posted anyway: the service refuses
        assert r.status_code == 403
        assert pages_world.store.cases.case(appeal).events == []

        second = person(c, pages_world.keys["reviewer2"])
        assert 'name="reasons"' in second.get(f"/console/cases/{appeal}").text
        assert decide(second, appeal, "rejected", "the receipt is dated after the judgment").status_code == 303
        assert pages_world.store.cases.case(appeal).events[0].actor == "reviewer:Second reviewer"


def test_the_same_person_with_a_rotated_key_is_the_same_reviewer(pages_world: PagesWorld) -> None:
    """Reviewers are compared by holder, as the case service does, not by key."""
    p = Principals(pages_world.store)
    a, key_a = p.create("Li Wei (desk 1)", Role.REVIEWER, by="test", holder="staff-0007")
    b, key_b = p.create("Li Wei (new key)", Role.REVIEWER, by="test", holder="staff-0007")
    assert case_actor(a) == case_actor(b)
    with served(pages_world, NOTICE_DAY) as c:
        case = object_to_listing(c, pages_world)
        assert decide(person(c, key_a), case, "rejected", "not this debt").status_code == 303
        debtor = person(c, pages_world.keys["debtor"])
        r = debtor.post(f"/portal/cases/{case}/appeal", follow_redirects=False,
                        data={"csrf_token": csrf_of(debtor.get(FILE).text), "text": "it is this debt"})
        appeal = r.headers["location"].rsplit("/", 1)[1]
        rotated = person(c, key_b)
        assert 'name="reasons"' not in rotated.get(f"/console/cases/{appeal}").text
        assert decide(rotated, appeal, "upheld", "changed my mind").status_code == 403


def test_the_console_is_for_reviewers_and_its_forms_need_the_token(pages_world: PagesWorld,
                                                                   pages_client: TestClient) -> None:
    c = pages_client
    sign_in(c, pages_world.keys["debtor"])
    assert c.get("/console").status_code == 403
    reviewer = person(c, pages_world.keys["reviewer"])
    assert reviewer.get("/console").status_code == 200
    r = reviewer.post("/console/cases/0000000000000000/decision", data={"outcome": "rejected", "reasons": "x"})
    assert r.status_code == 403  # no CSRF token: refused before the view runs
    admin = person(c, pages_world.keys["admin"])
    assert admin.get("/console", params={"format": "json"}).json()["read_only"] is True
