"""Shared fixtures of the page tests: a seeded register (every backend) behind the real app, and, for
the browser tests, a real `xinyong serve` on 127.0.0.1 and one Debian Chromium for the whole session.

The seeded register has, as of :data:`AS_OF`: a person on the court's list (published by masked name), an
organisation on a red list and one on a black list (published by name), one whose listing ended before
that date (never published), and a clean organisation. Names are registered as a lab population would
register them (``import_subjects``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from tests.helpers.server import running
from tests.web.conftest import debt, make_keys

from xinyong.model.record import Record
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.service.principals import Principals, Role
from xinyong.service.registry import Registry
from xinyong.store import FullStore, open_store
from xinyong.web import create_app

from ...conftest import Stores

ROOT = Path(__file__).resolve().parents[3]
AS_OF = date(2026, 3, 1)
DEBTOR = "cn.ric:11010519491231002X"
RED_ORG = "cn.uscc:91110000MA0100008W"      # AEO certified: red list, published by name
BLACK_ORG = "cn.uscc:91310115MA1H00004A"    # procurement fraud: black list, after its notice period
ENDED_ORG = "cn.uscc:91440300MA5F000181"    # certified in 2022: its listing ended in 2025
CLEAN_ORG = "cn.uscc:914403001922038216"
NAMES = {DEBTOR: ("person", "张三"), RED_ORG: ("organisation", "北京吉星贸易有限公司"),
         BLACK_ORG: ("organisation", "Harbour Freight Ltd."), ENDED_ORG: ("organisation", "Old Port Trading Ltd."),
         CLEAN_ORG: ("organisation", "Clean Water Co.")}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def org_records() -> list[Record]:
    return [
        Record(subject=RED_ORG, source="customs.gacc", type="customs.aeo_certification", occurred=date(2025, 5, 20),
               decided=date(2025, 6, 1), document="GACC AEO (2025) 118"),
        Record(subject=BLACK_ORG, source="finance.procurement", type="procurement.fraud",
               occurred=date(2025, 9, 1), decided=date(2025, 10, 1), document="Hu Cai Cai (2025) 42"),
        Record(subject=ENDED_ORG, source="customs.gacc", type="customs.aeo_certification", occurred=date(2022, 5, 20),
               decided=date(2022, 6, 1), document="GACC AEO (2022) 7"),
    ]


def seed(store: FullStore, tmp: Path) -> None:
    """Publish the sample policies, add the records and register the names."""
    Registry(store, actor="test").publish([ROOT / "policies"])
    table = pa.table({"id": list(NAMES), "scheme": [k.split(":")[0] for k in NAMES],
                      "kind": [v[0] for v in NAMES.values()], "name": [v[1] for v in NAMES.values()]})
    pq.write_table(table, tmp / "subjects.parquet")
    store.import_subjects(tmp / "subjects.parquet", actor="test")  # names first: known subjects are kept
    store.add_records([debt(), *org_records()], actor="court")


def page_keys(store: FullStore) -> dict[str, str]:
    """The web tests' keys, plus a key for the black-listed organisation and a second reviewer."""
    keys = make_keys(store)
    p = Principals(store)
    keys["org"] = p.create("Harbour Freight Ltd.", Role.SUBJECT, by="test", subject=BLACK_ORG)[1]
    keys["reviewer2"] = p.create("Second reviewer", Role.REVIEWER, by="test")[1]
    return keys


@dataclass
class PagesWorld:
    store: FullStore
    online: Online
    keys: dict[str, str]


# Pages render what the service returns: the service and /v1 suites run on every backend, so the page suite
# runs on the embedded store only (running it twice doubled its time and found nothing the API suite does not).
PAGE_BACKENDS = ("duckdb",)


@pytest.fixture(params=PAGE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pages_world(stores: Stores, tmp_path: Path) -> Iterator[PagesWorld]:
    store = open_store(stores.url("pages"))
    seed(store, tmp_path)
    keys = page_keys(store)
    online = Online(store, as_of=AS_OF, max_batch=1000, audit=AuditBuffer(store, max_delay=0.05))
    yield PagesWorld(store, online, keys)
    store.close()


@pytest.fixture
def pages_client(pages_world: PagesWorld) -> Iterator[TestClient]:
    with TestClient(create_app(pages_world.online)) as c:
        yield c


@pytest.fixture(scope="module", params=PAGE_BACKENDS)
def shared_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[PagesWorld, TestClient]]:
    """One seeded register per module and backend, for tests that only read (seeding costs seconds)."""
    pg = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    if request.param == "postgres" and pg is None:
        pytest.skip("no PostgreSQL server (see the line printed at the start of the session)")
    tmp = tmp_path_factory.mktemp("pages")
    store = open_store(Stores(str(request.param), tmp, pg).url("pages"))
    seed(store, tmp)
    keys = page_keys(store)
    online = Online(store, as_of=AS_OF, max_batch=1000, audit=AuditBuffer(store, max_delay=0.05))
    try:
        with TestClient(create_app(online)) as c:
            yield PagesWorld(store, online, keys), c
    finally:
        store.close()


@pytest.fixture
def read_client(shared_world: tuple[PagesWorld, TestClient]) -> Iterator[TestClient]:
    """A client over the module's register with no cookies of an earlier test."""
    client = shared_world[1]
    client.cookies.clear()
    yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page put in its forms."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no form with a CSRF token"
    return m.group(1)


def sign_in(client: TestClient, key: str) -> None:
    """Sign a test client in through the form, as a browser would."""
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"key": key, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text


# -- a real server and a real browser ---------------------------------------------------------------------

@dataclass
class Server:
    url: str
    keys: dict[str, str]
    db: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`xinyong serve` over a seeded DuckDB file (keys created before it starts: one writer)."""
    tmp = tmp_path_factory.mktemp("pages-server")
    db = tmp / "pages.duckdb"
    with open_store(db) as store:
        seed(store, tmp)
        keys = page_keys(store)
    with running(db, "--as-of", AS_OF.isoformat()) as (_, base):
        yield Server(base, keys, db)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (Debian's; never downloaded). Not per session: while Playwright's sync
    API runs it marks an event loop as running in the main thread, and a later test calling
    ``asyncio.run`` (tests/web does) would fail; a module's browser is gone before the next module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page per test; Chinese unless a test switches."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_check(page: Any, *, exclude: tuple[str, ...] = ()) -> None:
    """axe-core (vendored) on the page as it is: no serious or critical accessibility violation.

    Evaluated through the DevTools protocol rather than ``add_script_tag``: the pages' CSP refuses inline
    scripts, which is what a script tag with the file's content is, and the test must not weaken it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("""async (exclude) => {
        const r = await axe.run(exclude.length ? {exclude: exclude.map(s => [s])} : document,
                                {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""", list(exclude))
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save the page for the documentation (never compared); ``full_page=False`` for long pages."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=full_page)
    return out


def sign_in_page(page: Any, base: str, key: str) -> None:
    """Sign a browser in through the form."""
    page.goto(f"{base}/signin")
    page.fill("#key", key)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
