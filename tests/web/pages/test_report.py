"""The credit report: the subject's own, printable and as PDF, with a code anyone can verify."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from xinyong.model.record import Record
from xinyong.web import create_app

from .conftest import BLACK_ORG, PagesWorld, sign_in

CODE = re.compile(r"XY-\d+-[0-9a-f]{16}-[0-9a-f]{16}")


def verify(client: TestClient, code: str, subject: str = BLACK_ORG) -> dict:  # type: ignore[type-arg]
    params = {"code": code, "subject": subject, "format": "json"}
    return client.get("/verify", params=params).json()  # type: ignore[no-any-return]


def test_report_needs_a_signed_in_subject(read_client: TestClient, shared_world: tuple[PagesWorld, TestClient]
                                          ) -> None:
    r = read_client.get("/report", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Freport"
    assert read_client.get("/report?format=json").status_code == 401
    sign_in(read_client, shared_world[0].keys["reviewer"])
    assert read_client.get("/report").status_code == 403  # a report is the subject's own


def test_report_page_pdf_and_verification(read_client: TestClient, shared_world: tuple[PagesWorld, TestClient]
                                          ) -> None:
    world = shared_world[0]
    sign_in(read_client, world.keys["org"])
    page = read_client.get("/report?lang=en")
    assert page.status_code == 200 and "Harbour Freight Ltd." in page.text and "procurement_blacklist" in page.text
    code = CODE.search(page.text)
    assert code is not None
    data = read_client.get("/report?format=json").json()
    assert data["subject"] == BLACK_ORG and data["records"][0]["type"] == "procurement.fraud"
    assert data["code"] != code.group(0)  # each issuing is its own audit entry
    assert verify(read_client, code.group(0)) | {"issued_on": None} == {
        "code": code.group(0), "checked": True, "genuine": True, "current": True, "issued_on": None}
    world.online.audit.flush()
    with world.store.lock:
        issued = [c for c in world.store.audit_entries() if c.entry.action == "report_issued"]
    assert issued[-1].entry.subject == BLACK_ORG and issued[-1].entry.actor.startswith("subject:")
    pdf = read_client.get("/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf" and "attachment" in pdf.headers["content-disposition"]


def test_verification_shows_nothing_more(read_client: TestClient, shared_world: tuple[PagesWorld, TestClient]
                                         ) -> None:
    sign_in(read_client, shared_world[0].keys["org"])
    code = read_client.get("/report?format=json").json()["code"]
    read_client.cookies.clear()  # the verifier is anyone
    html = read_client.get("/verify", params={"code": code, "subject": BLACK_ORG.split(":")[1], "lang": "en"}).text
    assert "Genuine and current" in html
    shown = re.sub(r'href="[^"]*"', "", html)  # the language links keep the verifier's own query
    assert "Harbour" not in shown and BLACK_ORG.split(":")[1] not in shown and "procurement" not in shown


def test_a_forged_code_is_not_genuine(read_client: TestClient, shared_world: tuple[PagesWorld, TestClient]) -> None:
    sign_in(read_client, shared_world[0].keys["org"])
    code = read_client.get("/report?format=json").json()["code"]
    seq, content, audit = code.split("-")[1:]
    tampered = [f"XY-{seq}-{'0' * 16}-{audit}", f"XY-{seq}-{content}-{'f' * 16}",
                f"XY-{int(seq) - 1}-{content}-{audit}", f"XY-999999-{content}-{audit}", "XY-1", "not a code",
                "XY-0-" + "0" * 16 + "-" + "0" * 16]
    for bad in tampered:
        assert verify(read_client, bad)["genuine"] is False, bad
    assert "Not genuine" in read_client.get("/verify", params={"code": tampered[0], "subject": BLACK_ORG,
                                                               "lang": "en"}).text
    # a genuine code copied onto a report about someone else, or a subject that is no identifier at all
    for other in ("cn.ric:11010519491231002X", "91110000600037341L", "not an id", ""):
        assert verify(read_client, code, other)["genuine"] is False, other
    assert verify(read_client, code.upper().replace("XY-", "xy-"))["genuine"] is True  # case-free code


def test_a_report_is_stale_once_the_file_changes(pages_client: TestClient, pages_world: PagesWorld) -> None:
    sign_in(pages_client, pages_world.keys["org"])
    code = pages_client.get("/report?format=json").json()["code"]
    assert verify(pages_client, code)["current"] is True
    pages_world.store.add_records([Record(subject=BLACK_ORG, source="tax.bureau", type="tax.late_filing",
                                          occurred=date(2026, 1, 5), decided=date(2026, 2, 1), document="T-1")],
                                  actor="tax")
    after = verify(pages_client, code)
    assert after["genuine"] is True and after["current"] is False
    assert "no longer current" in pages_client.get("/verify", params={"code": code, "subject": BLACK_ORG,
                                                                      "lang": "en"}).text
    fresh = pages_client.get("/report?format=json").json()["code"]
    assert verify(pages_client, fresh)["current"] is True
    pages_world.online.audit.flush()
    with pages_world.store.lock:
        checks = [c.entry for c in pages_world.store.audit_entries() if c.entry.action == "report_verified"]
    assert checks and all(e.subject == BLACK_ORG and e.actor == "public" for e in checks)  # the subject sees it


def test_the_report_and_the_api_file_come_from_the_same_call(read_client: TestClient,
                                                             shared_world: tuple[PagesWorld, TestClient]) -> None:
    key = shared_world[0].keys["org"]
    api = read_client.get(f"/v1/subjects/{BLACK_ORG}/file", headers={"Authorization": f"Bearer {key}"}).json()
    sign_in(read_client, key)
    report = read_client.get("/report?format=json").json()
    assert [r["id"] for r in report["records"]] == [r["id"] for r in api["records"]]
    assert [(a["policy"], a["score"], a["tier"]) for a in report["assessments"]] == \
        [(a["policy"], a["score"], a["tier"]) for a in api["assessments"]]


def test_the_printed_verify_link_uses_the_public_address(pages_world: PagesWorld) -> None:
    """A request's Host header must not decide where a genuine report's verification link points."""
    pages_world.online.public_url = "https://credit.example.gov.cn"
    with TestClient(create_app(pages_world.online)) as c:
        sign_in(c, pages_world.keys["org"])
        page = c.get("/report", headers={"Host": "evil.example"}).text
    assert "https://credit.example.gov.cn/verify?code=XY-" in page and "evil.example" not in page
