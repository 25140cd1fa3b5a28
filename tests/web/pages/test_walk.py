"""The README's due-process walk, done by clicking in Chromium against real `xinyong serve` processes.

A debtor signs in, sees its court listing and when it ends, and objects; a reviewer rejects with reasons;
the debtor appeals; the appeal is not offered to that reviewer, and a second one decides it; the debtor
applies for repair, is told the earliest date, applies again on that date and is granted; the public
register no longer shows the listing and the airline's decision flips to allow.

A server serves one date, so the walk runs two servers over the same store one after the other: the
days around the listing, then the day repair becomes possible. The court in this register accepts proof
of performance thirty days after its decision (the sample policy accepts it at once, which would leave
nothing to wait for): the policies are the samples with that one period changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.helpers.server import running

from xinyong.service.principals import Principals, Role
from xinyong.service.registry import Registry
from xinyong.store import open_store

from ..conftest import debt
from .conftest import AXE, ROOT, axe_check, screenshot, sign_in_page

pytestmark = pytest.mark.slow

DEBTOR = "cn.ric:11010519491231002X"
DAY_ONE, REPAIR_DAY = "2026-01-12", "2026-02-09"  # the decision was on 2026-01-10; repair from 30 days on
FLIGHT = {"subject": DEBTOR, "action": "transport.flight.purchase", "purpose": "ticket sale"}


def walk_register(tmp: Path) -> tuple[Path, dict[str, str]]:
    policies = tmp / "policies"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("examples", "*.tests.yaml"))
    shixin = policies / "shixin.yaml"
    text = shixin.read_text(encoding="utf-8")
    old = "repair_min_days: {minor: 0, general: 0, serious: 0}"
    assert old in text
    shixin.write_text(text.replace(old, "repair_min_days: {minor: 0, general: 0, serious: 30}"), encoding="utf-8")
    db = tmp / "walk.duckdb"
    with open_store(db) as store:
        Registry(store, actor="test").publish([policies])
        pq.write_table(pa.table({"id": [DEBTOR], "scheme": ["cn.ric"], "kind": ["person"], "name": ["张三"]}),
                       tmp / "names.parquet")
        store.import_subjects(tmp / "names.parquet", actor="test")
        store.add_records([debt()], actor="court")
        p = Principals(store)
        keys = {"debtor": p.create("Zhang San", Role.SUBJECT, by="test", subject=DEBTOR)[1],
                "li": p.create("Li", Role.REVIEWER, by="test")[1],
                "wang": p.create("Wang", Role.REVIEWER, by="test")[1],
                "airline": p.create("Airline", Role.RELYING_PARTY, by="test",
                                    actions=["transport.flight.purchase"])[1]}
    return db, keys


@pytest.fixture
def people(browser: Any) -> Iterator[dict[str, Any]]:
    """One browser context (its own cookies) per person."""
    contexts = {who: browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
                for who in ("debtor", "li", "wang", "public")}
    try:
        yield {who: ctx.new_page() for who, ctx in contexts.items()}
    finally:
        for ctx in contexts.values():
            ctx.close()


def airline(base: str, key: str) -> str:
    r = httpx.post(f"{base}/v1/decisions", json=FLIGHT, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["effect"])


def on_register(page: Any, base: str) -> bool:
    page.goto(f"{base}/register?list=shixin")
    return "张*" in page.inner_text("main")


def decide(page: Any, base: str, case_url: str, outcome: str, reasons: str) -> None:
    page.goto(base + case_url.replace("/portal/", "/console/"))
    page.check(f"#decide input[value={outcome}]")
    page.fill("#reasons", reasons)
    page.click("#decide button[type=submit]")
    page.wait_for_selector("ol.history li.event")  # the case page again, now with the decision
    assert reasons in page.inner_text("main")


def test_the_due_process_walk_by_clicking(people: dict[str, Any], tmp_path: Path) -> None:
    assert AXE.exists()
    db, keys = walk_register(tmp_path)
    debtor, li, wang, public = people["debtor"], people["li"], people["wang"], people["public"]
    with running(db, "--as-of", DAY_ONE) as (_, base):
        assert on_register(public, base) and airline(base, keys["airline"]) == "deny"

        sign_in_page(debtor, base, keys["debtor"])  # lands on the file
        listing = debtor.locator("#listing-shixin")
        assert "2028年1月10日" in listing.locator(".until").inner_text()  # the listing's end date
        axe_check(debtor)
        screenshot(debtor, "portal-file")
        listing.locator("summary").click()
        listing.locator("textarea[name=text]").fill("I paid before the decision")
        listing.locator("textarea[name=evidence]").fill("receipt 7")
        listing.locator("button[type=submit]").click()
        debtor.wait_for_url("**/portal/cases/*")
        objection = debtor.url.removeprefix(base)
        assert "待处理" in debtor.inner_text(".case-status")

        sign_in_page(li, base, keys["li"])  # lands on the queue
        assert objection.rsplit("/", 1)[1] in li.inner_text("table.queue")
        axe_check(li)
        screenshot(li, "console-queue")
        li.click(f"a[href='{objection.replace('/portal/', '/console/')}']")
        li.click("#decide button[type=submit]")  # no reasons: the form says so, nothing is decided
        li.wait_for_selector("#decide-error")
        axe_check(li)
        decide(li, base, objection, "rejected", "the receipt is for another debt")

        debtor.goto(base + objection)
        assert "the receipt is for another debt" in debtor.inner_text("main")
        form = debtor.locator("form[id^=form-appeal]")
        form.locator("textarea[name=text]").fill("the receipt names this debt")
        form.locator("button[type=submit]").click()
        debtor.wait_for_url(lambda url: "/portal/cases/" in url and not url.endswith(objection))
        appeal = debtor.url.removeprefix(base)
        axe_check(debtor)

        li.goto(base + appeal.replace("/portal/", "/console/"))
        assert li.locator("#reasons").count() == 0 and li.locator(".not-offered").count() == 1
        sign_in_page(wang, base, keys["wang"])
        decide(wang, base, appeal, "rejected", "the receipt is dated after the judgment")

        debtor.goto(f"{base}/portal")
        record = debtor.locator("article.record").first
        record.locator("details.act").nth(1).locator("summary").click()
        form = record.locator("form[id^=form-repair]")
        form.locator("textarea[name=text]").fill("paid in full")
        form.locator("textarea[name=evidence]").fill("bank transfer 2026-01-11")
        form.locator("button[type=submit]").click()
        debtor.wait_for_selector(".earliest")
        assert "2026年2月9日" in debtor.inner_text(".earliest")  # told the earliest date; nothing filed
        assert airline(base, keys["airline"]) == "deny"

    with running(db, "--as-of", REPAIR_DAY) as (_, base):  # that date: a server started on it
        sign_in_page(debtor, base, keys["debtor"])
        record = debtor.locator("article.record").first
        record.locator("details.act").nth(1).locator("summary").click()
        form = record.locator("form[id^=form-repair]")
        form.locator("textarea[name=text]").fill("paid in full")
        form.locator("textarea[name=evidence]").fill("bank transfer 2026-01-11")
        form.locator("button[type=submit]").click()
        debtor.wait_for_url("**/portal/cases/*")
        repair = debtor.url.removeprefix(base)

        sign_in_page(wang, base, keys["wang"])
        decide(wang, base, repair, "granted", "the court confirms performance")
        axe_check(wang)

        assert not on_register(public, base)  # the listing ended with the repair: no longer published
        assert airline(base, keys["airline"]) == "allow"
        debtor.goto(f"{base}/portal")
        assert debtor.locator("#listing-shixin").count() == 0
        assert "已修复" in debtor.inner_text("article.record")
