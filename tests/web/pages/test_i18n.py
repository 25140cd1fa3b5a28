"""Chinese and English from Babel catalogues: every text in a template or page module is catalogued."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

from xinyong.web.pages.i18n import LOCALE_DIR, load_translations

WEB = Path(__file__).resolve().parents[3] / "src" / "xinyong" / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "text": None, "N_": None}


def used_messages() -> set[str]:
    method_map = [("**/pages/*.py", "python"), ("**/templates/**.html", "jinja2")]
    out = set()
    for _, _, message, _, _ in extract_from_dir(str(WEB), method_map, keywords=KEYWORDS):
        out.add(message if isinstance(message, str) else message[0])
    return out


def test_every_used_message_is_translated_into_chinese() -> None:
    zh = load_translations()["zh_CN"]
    used = used_messages()
    assert len(used) > 100
    missing = sorted(m for m in used if zh.gettext(m) == m and zh.ngettext(m, m + "s", 2) in (m, m + "s"))
    assert missing == [], f"add these to a .po file under {LOCALE_DIR}/zh_CN/LC_MESSAGES: {missing}"


def test_language_by_query_cookie_and_header(read_client: TestClient) -> None:
    assert "公示查询" in read_client.get("/register").text  # no preference: Chinese
    assert 'lang="zh-CN"' in read_client.get("/register").text
    assert "Public register" in read_client.get("/register", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    r = read_client.get("/register?lang=en")
    assert "Public register" in r.text and "xy_lang=en" in r.headers["set-cookie"]
    assert 'lang="en"' in read_client.get("/policies").text  # the cookie keeps the choice
    assert "公示查询" in read_client.get("/register?lang=zh_CN").text
    assert "公示查询" in read_client.get("/register", headers={"Accept-Language": "zh-CN"}).text


def test_dates_in_the_locale_format(read_client: TestClient) -> None:
    assert "2026年3月1日" in read_client.get("/register?lang=zh_CN").text
    assert "March 1, 2026" in read_client.get("/register?lang=en").text


def test_plural_forms(read_client: TestClient) -> None:
    assert "1 listing in force" in read_client.get("/register?lang=en&q=harbour").text
    assert "有效列入1条" in read_client.get("/register?lang=zh_CN&q=harbour").text
