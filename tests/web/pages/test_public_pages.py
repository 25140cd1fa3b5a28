"""The public register and the policies page, as HTML and as JSON from one view context."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.service.register import PublicRegister

from .conftest import BLACK_ORG, CLEAN_ORG, DEBTOR, ENDED_ORG, PagesWorld, org_records


def hits(client: TestClient, **params: str) -> dict:  # type: ignore[type-arg]
    r = client.get("/register", params={**params, "format": "json"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_register_lists_only_listings_in_force_with_published_fields(read_client: TestClient) -> None:
    body = hits(read_client)
    by_list = {h["list_id"]: h for h in body["hits"]}
    assert set(by_list) == {"customs_aeo", "procurement_blacklist", "shixin"}
    assert body["total"] == 3 and body["as_of"] == "2026-03-01"
    # fields: [name, reason] for the organisations' lists: the name, no code, no dates
    red = by_list["customs_aeo"]
    assert red["name"] == "北京吉星贸易有限公司" and red["subject"] is None and red["since"] is None
    assert red["list_kind"] == "red" and "GACC" in red["legal_basis"] and "customs.aeo_certification" in red["reason"]
    # a person: masked name only, never the identifier
    person = by_list["shixin"]
    assert person["name"] == "张*" and person["subject"] is None
    assert "11010519491231002X" not in str(body) and "张三" not in str(body)
    assert "Old Port" not in str(body)  # the ended listing is not published


def test_search_by_code_and_by_name(read_client: TestClient) -> None:
    code = hits(read_client, q=BLACK_ORG.split(":")[1])
    assert [h["list_id"] for h in code["hits"]] == ["procurement_blacklist"]
    assert hits(read_client, q="harbour")["total"] == 1
    assert hits(read_client, q="吉星")["hits"][0]["list_id"] == "customs_aeo"
    assert hits(read_client, q=ENDED_ORG.split(":")[1])["total"] == 0  # ended: nothing, not even the list
    assert hits(read_client, q="张")["total"] == 0  # a person's real name is never searched
    assert hits(read_client, list="shixin")["total"] == 1


def test_a_person_is_not_searched_by_identifier(read_client: TestClient) -> None:
    r = read_client.get("/register", params={"q": DEBTOR.split(":")[1]})
    assert r.status_code == 422 and "masked name" in r.text and "<html" in r.text
    r = read_client.get("/register", params={"q": DEBTOR.split(":")[1], "format": "json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_register_html_count_empty_state_and_pagination(read_client: TestClient) -> None:
    page = read_client.get("/register?lang=en").text
    assert "3 listings in force" in page and "北京吉星贸易有限公司" in page and "张*" in page
    empty = read_client.get("/register", params={"q": "nobody at all", "lang": "en"}).text
    assert "0 listings in force" in empty and "No listing in force matches" in empty
    assert read_client.get("/register?page=2&format=json").json()["hits"] == []
    assert read_client.get("/register?page=0").status_code == 422
    assert read_client.get("/register?list=nope").status_code == 404


def test_htmx_gets_only_the_results(read_client: TestClient) -> None:
    r = read_client.get("/register", params={"q": "harbour"}, headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<section id="results"') and "<html" not in r.text


def test_the_register_agrees_with_the_api(read_client: TestClient) -> None:
    api = read_client.get("/v1/lists/shixin").json()
    page = hits(read_client, list="shixin")
    assert [(e["name"], e["reason"]) for e in api["entries"]] == [(h["name"], h["reason"]) for h in page["hits"]]


def test_policies_page_shows_lists_measures_and_record_types(read_client: TestClient) -> None:
    body = read_client.get("/policies", headers={"Accept": "application/json"}).json()
    corporate = next(p for p in body["policies"] if p["id"] == "corporate")
    aeo = next(x for x in corporate["lists"] if x["id"] == "customs_aeo")
    assert aeo["legal_basis"] and aeo["max_duration_days"] == 1095
    assert all(m["agencies"] and m["action"] for m in corporate["measures"])
    assert any(len(m["agencies"]) > 1 for m in corporate["measures"])  # "A; B" is two agencies
    assert {r["id"] for r in body["record_types"]} >= {"court.refuse_perform", "procurement.fraud"}
    html = read_client.get("/policies?lang=en").text
    assert "Ministry of Finance" in html and "1,095 days" not in html and "1095 days" in html


def test_a_new_listing_shows_at_once(pages_client: TestClient, pages_world: PagesWorld) -> None:
    assert hits(pages_client, q="Clean Water")["total"] == 0  # the register's lists are now worked out
    pages_world.store.add_records([Record(subject=CLEAN_ORG, source="finance.procurement", type="procurement.fraud",
                                          occurred=date(2025, 11, 1), decided=date(2025, 12, 1),
                                          document="Cai (2025) 9")], actor="finance")
    found = hits(pages_client, q="Clean Water")
    assert found["total"] == 1 and "procurement.fraud" in found["hits"][0]["reason"]


def test_an_annulled_listing_leaves_at_once(pages_client: TestClient, pages_world: PagesWorld) -> None:
    assert hits(pages_client, q="harbour")["total"] == 1
    record = next(r for r in org_records() if r.subject == BLACK_ORG)
    pages_world.store.add_amendments([Amendment(record=record.id, kind=AmendmentKind.ANNUL, effective=date(2026, 2, 1),
                                                reason="upheld objection", document="Cai (2026) 1")], actor="finance")
    assert hits(pages_client, q="harbour")["total"] == 0
    assert hits(pages_client)["total"] == 2  # the others are still there, in order


def test_pages_run_across_lists(shared_world: tuple[PagesWorld, TestClient]) -> None:
    reg = PublicRegister(shared_world[0].online)
    every = reg.search("", None, limit=10)
    one_by_one = [reg.search("", None, limit=1, offset=k) for k in range(4)]
    assert [r.total for r in one_by_one] == [3, 3, 3, 3]
    assert [h.list_id for r in one_by_one for h in r.hits] == [h.list_id for h in every.hits]
    assert one_by_one[3].hits == [] and [h.list_id for h in reg.search("", None, 2, 1).hits] == \
        [h.list_id for h in every.hits[1:3]]
