"""The public pages and the credit report in Debian Chromium against a real `xinyong serve`: they work
without JavaScript, HTMX only improves them, no serious or critical accessibility violation (axe-core),
and the Content-Security-Policy holds in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from .conftest import BLACK_ORG, Server, axe_check, screenshot, sign_in_page


def test_register_search_with_htmx_and_accessible(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/register")
    assert page.title().startswith("公示查询")
    axe_check(page)
    screenshot(page, "public-register")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.fill("#q", "Harbour")
    page.click("form.search button[type=submit]")
    page.wait_for_function("() => document.querySelector('#results h2').textContent.includes('1')")
    assert "Harbour Freight Ltd." in page.inner_text("#results")
    assert page.url.endswith("/register?q=Harbour&list=")  # hx-push-url keeps the address shareable
    assert any("/register?q=Harbour" in u for u in requests)
    assert page.evaluate("() => typeof htmx") == "object"  # swapped in place, not a page load
    axe_check(page)


def test_register_works_without_javascript(browser: Any, server: Server) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{server.url}/register?lang=en")
        page.fill("#q", "吉星")
        page.click("form.search button[type=submit]")
        page.wait_for_load_state()
        assert "q=%E5%90%89%E6%98%9F" in page.url and "1 listing in force" in page.inner_text("#results")
        page.select_option("#list", "shixin")
        page.fill("#q", "")
        page.click("form.search button[type=submit]")
        page.wait_for_load_state()
        assert "张*" in page.inner_text("#results")
    finally:
        context.close()


def test_policies_and_start_page_are_accessible(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/")
    axe_check(page)
    screenshot(page, "start")
    page.click("text=English")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("nav.areas >> text=Published policies")
    assert "Ministry of Finance" in page.inner_text("main")
    axe_check(page)
    screenshot(page, "published-policies", full_page=False)


def test_the_csp_blocks_inline_script_in_the_browser(page: Any, server: Server) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text))
    page.goto(f"{server.url}/verify")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.pwned") is None
    assert any("Content Security Policy" in e for e in errors)


def test_sign_in_report_pdf_and_verify(page: Any, server: Server) -> None:
    sign_in_page(page, server.url, server.keys["org"])
    page.goto(f"{server.url}/report")
    assert "Harbour Freight Ltd." in page.inner_text("main")
    axe_check(page)
    screenshot(page, "credit-report")
    code = re.search(r"XY-\d+-[0-9a-f]{16}-[0-9a-f]{16}", page.inner_text(".verification"))
    assert code is not None
    with page.expect_download() as dl:
        page.click("text=下载PDF")
    path = dl.value.path()
    assert path is not None and Path(path).read_bytes()[:4] == b"%PDF"
    page.click("text=退出")
    page.goto(f"{server.url}/verify")
    axe_check(page)
    page.fill("#code", code.group(0))
    page.fill("#subject", BLACK_ORG.split(":")[1])  # as printed on the report
    page.click("form.search button[type=submit]")
    assert page.inner_text("#verdict") == "真实且有效"
    assert BLACK_ORG.split(":")[1] not in page.inner_text("main")  # nothing shown but the verdict
    axe_check(page)
    screenshot(page, "verify-report")
    page.goto(f"{server.url}/signin")
    axe_check(page)


def test_error_pages_are_pages(page: Any, server: Server) -> None:
    r = page.goto(f"{server.url}/register?list=nope")
    assert r is not None and r.status == 404
    axe_check(page)
    assert httpx.get(f"{server.url}/register?list=nope&format=json").headers["content-type"] == \
        "application/problem+json"
