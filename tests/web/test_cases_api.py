"""Due process through the real ASGI app over a real DuckDB store: objection, decision, appeal, repair,
notices, status — and who may do which (403/401 with no data leaked)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from fastapi.testclient import TestClient
from tests.web.conftest import AS_OF, CLEAN, DEBTOR, FLIGHT, OTHER_PERSON, World, auth, debt

from xinyong.model.record import Record
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.service.online_cases import case_actor
from xinyong.service.principals import Principals, Role
from xinyong.web import create_app

NOTICE_DAY = date(2026, 1, 12)  # two days after the court's decision: the objection window is open
BID = "procurement.bid"
PERSON = DEBTOR.removeprefix("cn.ric:")  # a bare id in the path works as well as scheme:value
RECORD = debt().id


def flight(subject: str = DEBTOR) -> dict[str, str]:
    return {"subject": subject, "action": FLIGHT, "purpose": "ticket sale"}


@contextmanager
def served(world: World, day: date) -> Iterator[TestClient]:
    """The app over the same store with the service's date set to ``day`` (a server started that day)."""
    online = Online(world.store, as_of=day, max_batch=1000, audit=AuditBuffer(world.store, max_delay=0.05))
    with TestClient(create_app(online)) as c:
        yield c


def add_key(world: World, name: str, role: Role, **scope: object) -> str:
    """A key made before the app starts (the service loads live keys at start-up)."""
    _, key = Principals(world.store).create(name, role, by="test", **scope)  # type: ignore[arg-type]
    return key


def effect(c: TestClient, key: str, ask: dict[str, str]) -> str:
    r = c.post("/v1/decisions", json=ask, headers=auth(key))
    assert r.status_code == 200, r.text
    return str(r.json()["effect"])


def test_objection_upheld_by_a_reviewer_takes_the_debtor_off_the_list_at_once(world: World) -> None:
    debtor, reviewer, airline = (auth(world.keys[k]) for k in ("debtor", "reviewer", "airline"))
    with served(world, NOTICE_DAY) as c:
        assert effect(c, world.keys["airline"], flight()) == "deny"
        r = c.post(f"/v1/subjects/{PERSON}/objections", headers=debtor,
                   json={"target": "list:shixin", "text": "I paid before the decision", "evidence": ["receipt 7"]})
        assert r.status_code == 201, r.text
        case = r.json()
        assert (case["kind"], case["status"], case["subject"], case["target"]) == (
            "objection", "open", DEBTOR, "list:shixin")
        assert case["expedited"] is True and case["filed_by"] == "subject:Debtor" and case["decision"] is None
        # a court list stays in force while its objection is decided on the expedited deadline
        assert effect(c, world.keys["airline"], flight()) == "deny"

        listed = c.get("/v1/cases", params={"state": "open"}, headers=reviewer)
        assert listed.status_code == 200 and [x["id"] for x in listed.json()] == [case["id"]]
        assert c.get("/v1/cases", params={"state": "upheld"}, headers=reviewer).json() == []

        r = c.post(f"/v1/cases/{case['id']}/decision", headers=reviewer,
                   json={"outcome": "upheld", "reasons": "the court confirms payment before the decision"})
        assert r.status_code == 200, r.text
        decided = r.json()
        assert decided["status"] == "upheld" and decided["decision"]["actor"] == "reviewer:Reviewer"
        assert decided["decision"]["amendments"]  # the record behind the listing, annulled from today

        # the index reflects it before the decision response was sent: the next check allows
        r = c.post("/v1/decisions", json=flight(), headers=airline)
        assert r.json()["effect"] == "allow" and r.json()["measures"] == []
        status = c.get(f"/v1/subjects/{DEBTOR}/status", headers=debtor).json()
        assert all(p["listings"] == [] for p in status["policies"]) and status["open_cases"] == []
        notices = c.get(f"/v1/subjects/{DEBTOR}/notices", headers=debtor).json()
        kinds = [n["kind"] for n in notices]
        assert {"record", "listing_in_force", "case_filed", "case_decided", "listing_ended"} <= set(kinds)
        told = next(n for n in notices if n["kind"] == "case_decided")
        assert "the court confirms payment" in told["body"] and told["act_by"] == "2026-01-22"  # 10-day appeal window
        mine = c.get(f"/v1/cases/{case['id']}", headers=debtor)
        assert mine.status_code == 200 and mine.json()["status"] == "upheld"
    # every read and write is in the subject's access log, naming the exact key that acted
    log = [(e.entry.actor, e.entry.action) for e in world.store.audit_of_subject(DEBTOR)]
    actions = {a for _, a in log}
    assert {"objection", "case_filed", "case_decision", "case_decided", "cases", "notices", "status"} <= actions
    assert any(a == "case_decision" and actor.startswith("reviewer:Reviewer#") for actor, a in log)
    assert any(a == "cases" and actor.startswith("reviewer:Reviewer#") for actor, a in log)


def test_an_appeal_goes_to_another_reviewer(world: World) -> None:
    debtor, li = auth(world.keys["debtor"]), auth(world.keys["reviewer"])
    li_new_key = auth(add_key(world, "Reviewer", Role.REVIEWER))  # the same person, a rotated key
    wang = auth(add_key(world, "Wang", Role.REVIEWER))
    with served(world, NOTICE_DAY) as c:
        case = c.post(f"/v1/subjects/{DEBTOR}/objections", headers=debtor,
                      json={"target": "list:shixin", "text": "I paid", "evidence": ["receipt 7"]}).json()
        r = c.post(f"/v1/cases/{case['id']}/decision", headers=li,
                   json={"outcome": "rejected", "reasons": "the receipt is for another debt"})
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        # a reviewer cannot appeal for the subject, and the subject cannot decide
        assert c.post(f"/v1/cases/{case['id']}/appeal", headers=li, json={"text": "x"}).status_code == 403
        r = c.post(f"/v1/cases/{case['id']}/appeal", headers=debtor,
                   json={"text": "the receipt names this debt", "evidence": ["receipt 7", "bank letter"]})
        assert r.status_code == 201, r.text
        appeal = r.json()
        assert appeal["kind"] == "appeal" and appeal["appeal_of"] == case["id"] and appeal["status"] == "open"
        assert c.post(f"/v1/cases/{appeal['id']}/decision", headers=debtor,
                      json={"outcome": "upheld", "reasons": "mine"}).status_code == 403
        for same in (li, li_new_key):  # the reviewer who decided the objection, whichever key they use
            r = c.post(f"/v1/cases/{appeal['id']}/decision", headers=same,
                       json={"outcome": "rejected", "reasons": "still another debt"})
            assert r.status_code == 403, r.text
            problem = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            assert problem["field"] == "reviewer" and "different reviewer" in problem["detail"]
        assert effect(c, world.keys["airline"], flight()) == "deny"
        r = c.post(f"/v1/cases/{appeal['id']}/decision", headers=wang,
                   json={"outcome": "upheld", "reasons": "the bank letter names this debt"})
        assert r.status_code == 200 and r.json()["decision"]["actor"] == "reviewer:Wang"
        assert effect(c, world.keys["airline"], flight()) == "allow"
        # decided cases are not decided again
        again = c.post(f"/v1/cases/{appeal['id']}/decision", headers=wang, json={"outcome": "rejected",
                                                                                  "reasons": "changed my mind"})
        assert again.status_code == 422 and again.json()["field"] == "case"


def test_another_subject_is_refused_and_learns_nothing(world: World, client: TestClient) -> None:
    debtor = auth(world.keys["debtor"])
    other_key = world.online.principals.create("Other", Role.SUBJECT, subject=OTHER_PERSON, by="test")[1]
    other = auth(other_key)
    repair = client.post(f"/v1/subjects/{DEBTOR}/repairs", headers=debtor,
                         json={"record": RECORD, "text": "paid in full", "evidence": ["bank transfer"]})
    assert repair.status_code == 201, repair.text
    case_id = repair.json()["id"]
    refused = [
        client.post(f"/v1/subjects/{DEBTOR}/objections", headers=other,
                    json={"target": "list:shixin", "text": "not me", "evidence": []}),
        client.post(f"/v1/subjects/{DEBTOR}/repairs", headers=other,
                    json={"record": RECORD, "text": "paid", "evidence": ["x"]}),
        client.get(f"/v1/subjects/{DEBTOR}/notices", headers=other),
        client.get(f"/v1/subjects/{DEBTOR}/status", params={"what_if": "true"}, headers=other),
        client.get(f"/v1/cases/{case_id}", headers=other),
        client.post(f"/v1/cases/{case_id}/appeal", headers=other, json={"text": "x"}),
        client.get("/v1/cases", headers=other),
    ]
    for r in refused:
        assert r.status_code == 403, (r.request.url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        for secret in (RECORD, "shixin", "Zhi", "paid in full", "2026-01-10", "bank transfer"):
            assert secret not in r.text, (r.request.url, secret)
    # the subject's own reads work, and it sees who tried
    assert client.get(f"/v1/cases/{case_id}", headers=debtor).json()["text"] == "paid in full"
    world.online.audit.flush()
    tried = {e.entry.action for e in world.store.audit_of_subject(DEBTOR) if e.entry.actor.startswith("subject:Other")}
    assert {"object_refused", "repair_refused", "notices_refused", "status_refused", "cases_refused"} <= tried


def test_reviewer_endpoints_need_a_reviewer_key(world: World, client: TestClient) -> None:
    repair = client.post(f"/v1/subjects/{DEBTOR}/repairs", headers=auth(world.keys["debtor"]),
                         json={"record": RECORD, "text": "paid in full", "evidence": ["bank transfer"]})
    case_id = repair.json()["id"]
    decide = {"outcome": "granted", "reasons": "paid"}
    for label in ("airline", "court", "debtor", "admin"):
        r = client.post(f"/v1/cases/{case_id}/decision", json=decide, headers=auth(world.keys[label]))
        assert r.status_code == 403 and r.json()["field"] == "role", (label, r.text)
        assert "paid in full" not in r.text
    for label in ("airline", "court", "debtor"):
        r = client.get("/v1/cases", headers=auth(world.keys[label]))
        assert r.status_code == 403 and r.json()["field"] == "role", label
        assert RECORD not in r.text and DEBTOR not in r.text
    for label in ("airline", "court"):
        assert client.get(f"/v1/cases/{case_id}", headers=auth(world.keys[label])).status_code == 403
    assert client.get("/v1/cases", headers=auth(world.keys["admin"])).status_code == 200  # admins read
    reviewer = auth(world.keys["reviewer"])
    assert [x["id"] for x in client.get("/v1/cases", params={"subject": PERSON}, headers=reviewer).json()] == [case_id]
    assert client.get("/v1/cases", params={"subject": OTHER_PERSON}, headers=reviewer).json() == []
    assert client.get("/v1/cases", params={"offset": 1}, headers=reviewer).json() == []  # one page after the only case
    for bad in ({}, auth(world.keys["revoked"]), auth("xy_not-a-key")):
        for r in (client.get("/v1/cases", headers=bad), client.get(f"/v1/cases/{case_id}", headers=bad),
                  client.post(f"/v1/cases/{case_id}/decision", json=decide, headers=bad),
                  client.get(f"/v1/subjects/{DEBTOR}/notices", headers=bad)):
            assert r.status_code == 401 and "paid" not in r.text, r.request.url
    # nothing was decided by any of them
    assert client.get(f"/v1/cases/{case_id}", headers=auth(world.keys["reviewer"])).json()["status"] == "open"


def test_a_repaired_debtor_is_allowed_the_same_day(world: World, client: TestClient) -> None:
    debtor, reviewer = auth(world.keys["debtor"]), auth(world.keys["reviewer"])
    status = client.get(f"/v1/subjects/{DEBTOR}/status", params={"what_if": "true"}, headers=debtor).json()
    shixin = next(p for p in status["policies"] if p["listings"])
    assert [(x["list"], x["stage"]) for x in shixin["listings"]] == [("shixin", "in_force")]
    assert any(w["how"] == "repair" and w["records"] == [RECORD] and w["on"] == AS_OF.isoformat()
               for w in shixin["what_if"])
    without = client.get(f"/v1/subjects/{DEBTOR}/status", headers=debtor).json()
    assert all(p["what_if"] == [] for p in without["policies"])

    missing = client.post(f"/v1/subjects/{DEBTOR}/repairs", headers=debtor, json={"record": RECORD, "text": "paid"})
    assert missing.status_code == 422 and missing.json()["field"] == "evidence"
    r = client.post(f"/v1/subjects/{DEBTOR}/repairs", headers=debtor,
                    json={"record": RECORD, "text": "paid in full", "evidence": ["bank transfer 2026-02-28"]})
    assert r.status_code == 201 and r.json()["kind"] == "repair", r.text
    assert effect(client, world.keys["airline"], flight()) == "deny"  # applying is not yet repair
    r = client.post(f"/v1/cases/{r.json()['id']}/decision", headers=reviewer,
                    json={"outcome": "granted", "reasons": "the court confirms performance"})
    assert r.status_code == 200 and r.json()["status"] == "granted", r.text
    assert effect(client, world.keys["airline"], flight()) == "allow"
    assert effect(client, world.keys["airline"], flight(CLEAN)) == "allow"
    after = client.get(f"/v1/subjects/{DEBTOR}/status", headers=debtor).json()
    assert all(p["listings"] == [] for p in after["policies"])


def test_a_serious_penalty_is_repaired_only_after_its_window(world: World) -> None:
    fraud = Record(subject=CLEAN, source="finance.procurement", type="procurement.fraud", occurred=date(2025, 1, 1),
                   decided=date(2025, 3, 15), document="Cai Ku 1")
    world.store.add_records([fraud], actor="finance")
    company = auth(add_key(world, "Company", Role.SUBJECT, subject=CLEAN))
    buyer = add_key(world, "Procurement office", Role.RELYING_PARTY, actions=[BID])
    ask = {"subject": CLEAN, "action": BID, "purpose": "tender 7"}
    body = {"record": fraud.id, "text": "fine paid, compliance programme", "evidence": ["receipt"]}
    with served(world, AS_OF) as c:
        assert effect(c, buyer, ask) == "deny"
        r = c.post(f"/v1/subjects/{CLEAN}/repairs", headers=company, json=body)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["field"] == "record" and problem["earliest"] == "2026-03-15"
        assert "2026-03-15" in problem["detail"]
        assert c.get("/v1/cases", headers=auth(world.keys["reviewer"])).json() == []  # nothing was filed
    with served(world, date(2026, 3, 15)) as c:
        r = c.post(f"/v1/subjects/{CLEAN}/repairs", headers=company, json=body)
        assert r.status_code == 201, r.text
        assert effect(c, buyer, ask) == "deny"
        decided = c.post(f"/v1/cases/{r.json()['id']}/decision", headers=auth(world.keys["reviewer"]),
                         json={"outcome": "granted", "reasons": "obligations met"})
        assert decided.status_code == 200, decided.text
        assert effect(c, buyer, ask) != "deny"


def test_a_look_alike_reviewer_is_refused_and_holders_are_people(world: World) -> None:
    """"Li" and "Lі" (Cyrillic і) are one look: a second key for the look-alike needs --force, and keys
    rotated under one holder id are the same reviewer whatever their names."""
    import pytest

    from xinyong.model.errors import InvalidInput

    add_key(world, "Li", Role.REVIEWER)
    with pytest.raises(InvalidInput, match="looks like the existing holder 'Li'"):
        add_key(world, "L\u0456", Role.REVIEWER)
    p = Principals(world.store)
    first, _ = p.create("Wang Fang (desk 3)", Role.REVIEWER, by="test", holder="staff-0042")
    second, _ = p.create("W. Fang", Role.REVIEWER, by="test", holder="staff-0042")
    assert first.person == second.person == "staff-0042" and first.actor != second.actor
    assert case_actor(first) == case_actor(second) == "reviewer:staff-0042"
