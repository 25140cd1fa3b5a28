"""Languages of the pages: Simplified Chinese and English, from Babel message catalogues.

The catalogues are ``.po`` files under ``web/locale/<lang>/LC_MESSAGES/`` (every ``*.po`` there is read, so
each area of the site keeps its own file); they are compiled in memory when an app starts, so a fresh
``pip install -e .`` needs no build step and no ``.mo`` file can drift from its source. Message ids are
the English texts: a string missing from a catalogue shows in English rather than as a key.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
LANG_COOKIE = "xy_lang"
#: how each language names itself in the switch (never translated: a reader finds their own language)
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:
    """Marks a text for the catalogues where it is defined; it is translated where it is shown."""
    return message


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, gettext.NullTranslations]:
    """Every language's catalogues, merged and compiled in memory."""
    out: dict[str, gettext.NullTranslations] = {}
    for lang in LANGUAGES:
        merged: gettext.NullTranslations | None = None
        for po in sorted((locale_dir / lang / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            t = gettext.GNUTranslations(buf)
            if merged is None:
                merged = t
            else:
                merged.add_fallback(t)
        out[lang] = merged or gettext.NullTranslations()
    return out


def negotiate(request: Request) -> str:
    """``?lang=``, then the cookie the switch set, then ``Accept-Language``, then Chinese."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    header = request.headers.get("accept-language", "")
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part.strip()]
    best = Locale.negotiate(wanted, list(LANGUAGES), sep="_") if wanted else None
    return str(best) if best is not None and str(best) in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """One language's callables for the templates (``_``, ``gettext``, ``ngettext``) and its formats."""

    lang: str
    translations: gettext.NullTranslations

    def gettext(self, message: str, **variables: Any) -> Markup:
        """Catalogue texts are trusted markup; the variables put into them are escaped."""
        text = Markup(self.translations.gettext(message))
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> Markup:
        variables.setdefault("num", n)
        return Markup(self.translations.ngettext(singular, plural, n)) % variables

    def text(self, message: str) -> str:
        """A translated plain string (for headers, PDF metadata, JSON notes)."""
        return self.translations.gettext(message)

    def date(self, value: date | datetime | str | None, fmt: str = "long") -> str:
        """A date in the language's own format (2026年7月1日, July 1, 2026); empty for None."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=self.lang)
        return format_date(value, format=fmt, locale=self.lang)

    def callables(self) -> dict[str, Callable[..., Any]]:
        return {"_": self.gettext, "gettext": self.gettext, "ngettext": self.ngettext}
