"""What protects the pages in a browser: CSRF tokens, the session cookie, headers, the sign-in limit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from xinyong.web.pages.security import CSP, RateLimit, Signer

from .conftest import PagesWorld, csrf_of, sign_in


def test_every_html_page_has_the_security_headers(read_client: TestClient) -> None:
    for path in ("/", "/register", "/policies", "/verify", "/signin", "/register?q=0"):
        r = read_client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert "'unsafe-inline'" not in CSP and "default-src 'self'" in CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    page = read_client.get("/register").text
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert 'src="/static/htmx.min.js' in page and "includeIndicatorStyles" in page
    assert read_client.get("/static/htmx.min.js").headers["content-type"].startswith("text/javascript")
    # the API keeps its own headers (no page CSP on JSON)
    assert "content-security-policy" not in read_client.get("/v1/lists/shixin").headers


def test_a_form_without_its_csrf_token_is_refused(read_client: TestClient, shared_world: tuple[PagesWorld, TestClient]
                                                  ) -> None:
    keys = shared_world[0].keys
    read_client.get("/signin")  # the CSRF cookie
    r = read_client.post("/signin", data={"key": keys["debtor"]}, follow_redirects=False)
    assert r.status_code == 403 and "csrf_token" in r.text and "<html" in r.text
    r = read_client.post("/signin", data={"key": keys["debtor"], "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    # a token from another browser (another cookie) does not pass either
    other = Signer(b"x" * 32).csrf_token("someone-elses-cookie")
    r = read_client.post("/signin", data={"key": keys["debtor"], "csrf_token": other}, follow_redirects=False)
    assert r.status_code == 403 and "xy_session" not in r.headers.get("set-cookie", "")
    r = read_client.post("/signout", follow_redirects=False)
    assert r.status_code == 403


def test_sign_in_sets_a_strict_session_cookie_and_sign_out_ends_it(read_client: TestClient,
                                                                   shared_world: tuple[PagesWorld, TestClient]
                                                                   ) -> None:
    keys = shared_world[0].keys
    token = csrf_of(read_client.get("/signin").text)
    r = read_client.post("/signin", data={"key": keys["debtor"], "csrf_token": token, "next": "//evil.example"},
                         follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal"  # never off-site
    cookie = r.headers["set-cookie"]
    assert "xy_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=28800" in cookie
    assert keys["debtor"] not in cookie
    page = read_client.get("/signin").text
    assert "Debtor" in page
    r = read_client.post("/signout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and 'xy_session=""' in r.headers["set-cookie"]
    wrong = read_client.post("/signin", data={"key": "xy_nope", "csrf_token": token})
    assert wrong.status_code == 401 and 'aria-invalid="true"' in wrong.text


def test_a_forged_or_expired_session_is_nobody(read_client: TestClient) -> None:
    read_client.cookies.set("xy_session", "eyJrIjoiYSJ9.forged")
    assert read_client.get("/report", follow_redirects=False).status_code == 303
    signer = Signer(b"k" * 32)
    assert signer.session("garbage") is None and signer.session(None) is None


def test_revoking_the_key_ends_the_session(pages_client: TestClient, pages_world: PagesWorld) -> None:
    sign_in(pages_client, pages_world.keys["org"])
    assert pages_client.get("/report").status_code == 200
    key_id = next(p.id for p in pages_world.online.principals.list() if p.name == "Harbour Freight Ltd.")
    pages_world.online.principals.revoke(key_id, by="test")
    r = pages_client.get("/report", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_sign_in_attempts_are_rate_limited(read_client: TestClient) -> None:
    token = csrf_of(read_client.get("/signin").text)
    codes = [read_client.post("/signin", data={"key": "xy_wrong", "csrf_token": token}).status_code
             for _ in range(12)]
    assert codes.count(429) >= 2 and set(codes) <= {401, 429}
    limited = read_client.post("/signin", data={"key": "xy_wrong", "csrf_token": token})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    limit = RateLimit(attempts=2, window=60)
    assert limit.allow("a", now=0) == 0 and limit.allow("a", now=1) == 0 and limit.allow("a", now=2) > 0
    assert limit.allow("b", now=2) == 0 and limit.allow("a", now=61) == 0


def test_pages_escape_what_they_show(read_client: TestClient) -> None:
    r = read_client.get("/register", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_an_unknown_address_is_a_page_for_a_browser_and_a_problem_for_a_client(read_client: TestClient) -> None:
    page = read_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text and "content-security-policy" in page.headers
    api = read_client.get("/v1/no/such/thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_signed_in_pages_are_not_stored_and_fragments_vary_on_htmx(pages_client: TestClient,
                                                                    pages_world: PagesWorld) -> None:
    """A file must not come back from the browser's cache after sign-out; a page and its HTMX fragment
    share a URL, so caches key on ``HX-Request``; htmx restoring history it did not keep gets the page."""
    public = pages_client.get("/register")
    assert "no-store" not in public.headers.get("cache-control", "")  # nobody's file: cacheable
    assert public.headers["vary"] == "HX-Request"
    fragment = pages_client.get("/register", headers={"HX-Request": "true"}).text
    assert "<form" not in fragment and "<html" not in fragment
    restored = pages_client.get("/register", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text and "<form" in restored.text
    sign_in(pages_client, pages_world.keys["debtor"])
    for path in ("/portal", "/register", "/portal?format=json"):
        r = pages_client.get(path, follow_redirects=True)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path
