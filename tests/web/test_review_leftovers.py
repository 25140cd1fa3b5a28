"""Rights at every edge: a reviewer amends only through a case, key listings and refused ones are on
record, a relying party registers only for governed actions, and an ingest shows in the subject's log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from xinyong.model.errors import InvalidInput
from xinyong.policy.loader import load_catalogue
from xinyong.service.ingest import ingest_files
from xinyong.service.principals import Principals, Role

from .conftest import AS_OF, DEBTOR, ROOT, World, auth, debt


def test_a_reviewer_amends_only_through_a_case(client: TestClient, world: World) -> None:
    body = {"amendments": [{"record": debt().id, "kind": "annul", "effective": AS_OF.isoformat(),
                            "reason": "because", "document": "note"}]}
    r = client.post("/v1/amendments", json=body, headers=auth(world.keys["reviewer"]))
    assert r.status_code == 403 and "deciding a case" in r.json()["detail"]


def test_key_listings_and_refusals_are_audited(client: TestClient, world: World) -> None:
    assert client.get("/v1/keys", headers=auth(world.keys["admin"])).status_code == 200
    assert client.get("/v1/keys", headers=auth(world.keys["airline"])).status_code == 403
    world.online.audit.flush()
    actions = [c.entry.action for c in world.store.audit_entries()]
    assert "keys" in actions and "keys_refused" in actions


def test_a_relying_party_registers_only_for_governed_actions(world: World) -> None:
    p = Principals(world.store)
    p.create("Rail", Role.RELYING_PARTY, actions=["transport.rail"], by="test")  # a governed family
    with pytest.raises(InvalidInput, match=r"no published measure governs action 'dating\.app\.match'"):
        p.create("Dating app", Role.RELYING_PARTY, actions=["dating.app.match"], by="test")


def test_an_ingest_shows_in_the_subjects_access_log(world: World, tmp_path: Path) -> None:
    other = "cn.ric:110105198001010016"
    path = tmp_path / "court.parquet"
    pq.write_table(pa.table({"subject": [other], "type": ["court.refuse_perform"],
                             "occurred": pa.array([date(2025, 11, 1)]), "decided": pa.array([date(2026, 1, 10)]),
                             "document": ["(2026) Jing 0105 Zhi 500"]}), path)
    catalogue = load_catalogue(ROOT / "policies/catalogue.yaml")[0]
    ingest_files(world.store, [path], "court.enforcement", catalogue, world.online.registry.schemes, AS_OF,
                 write_reports=False, actor="court-bulk")
    log = world.store.audit_of_subject(other)
    assert any(c.entry.action == "ingest" and c.entry.actor == "court-bulk" for c in log)
    assert all(c.entry.action != "ingest" for c in world.store.audit_of_subject(DEBTOR))


def test_admins_see_what_a_version_changed(client: TestClient, world: World) -> None:
    admin = auth(world.keys["admin"])
    url = "/v1/policies/shixin/versions/2026.1/impact?population=2000"
    assert client.get(url, headers=admin).status_code == 404  # the first version: nothing to compare
    pv = next(v for v in world.store.policy_versions("shixin"))
    world.store.publish_policy("shixin", "2026.2", pv.document.replace('version: "2026.1"', 'version: "2026.2"')
                               .replace("max_duration_days: 730 ", "max_duration_days: 365 ")
                               .replace("      days: 730", "      days: 365"), pv.catalogue)
    url = "/v1/policies/shixin/versions/2026.2/impact?population=2000"
    assert client.get(url, headers=auth(world.keys["reviewer"])).status_code == 403
    r = client.get(url, headers=admin)
    assert r.status_code == 200, r.text
    assert "shixin" in str(r.json())
