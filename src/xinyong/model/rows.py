"""The row contract of a submitted record: one declaration for every door (files and HTTP).

A file ingest and ``POST /v1/records`` accept the same columns with the same formats, and refuse the
same things with the same words, because both read this module. Unknown columns are refused with the
closest known name rather than dropped: a misspelled ``amount`` silently ignored would store a record
without its amount, and fixing the header later would store a second record for the same document.

Dates are ISO 8601 calendar dates (``YYYY-MM-DD``) and nothing else: lenient parsing took ``25-02-03``
for the year 25 and let one agency's ``2025/02/03`` through while another's ``20250203`` was refused.

An optional column that is present but empty is the same as an absent one (the content id hashes an
absent amount as the empty text), so adding an empty column to a header never changes an id.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    SUBJECT = "subject"
    DATE = "date"
    AMOUNT = "amount"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    required: bool
    format: str


#: Every column a record row may have, in canonical order.
COLUMNS: tuple[Column, ...] = (
    Column("subject", ColumnType.SUBJECT, True, "a subject identifier: scheme:value or a bare code"),
    Column("type", ColumnType.TEXT, True, "a record type id from the catalogue"),
    Column("occurred", ColumnType.DATE, True, "YYYY-MM-DD"),
    Column("decided", ColumnType.DATE, True, "YYYY-MM-DD, not before occurred nor after the as-of date"),
    Column("document", ColumnType.TEXT, True, "the decision document's reference, no control characters"),
    Column("amount", ColumnType.AMOUNT, False, "a number ≥ 0 with at most 2 decimals and 16 integer digits"),
    Column("source", ColumnType.TEXT, False, "the submitting source; when given, the one submitting"),
)
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
OPTIONAL: tuple[str, ...] = tuple(c.name for c in COLUMNS if not c.required)
NAMES: tuple[str, ...] = REQUIRED + OPTIONAL

#: The only accepted date text (a regular expression for ``re.fullmatch`` and DuckDB's
#: ``regexp_full_match``); the calendar check is done by the date parser.
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
AMOUNT_DECIMALS = 2
AMOUNT_INTEGER_DIGITS = 16
#: The longest line a text file may have (bytes); longer lines are unreadable, not rows.
MAX_LINE_BYTES = 2 * 1024 * 1024
#: How much of an offending value a message quotes (input is never echoed whole).
MAX_QUOTED = 80

_ISO_DATE = re.compile(ISO_DATE)


def clip(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis), control characters made visible."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in shown) else shown


def unknown_column(name: str) -> str:
    """The message for a column the contract does not know, naming the closest known one."""
    close = difflib.get_close_matches(name.strip().lower(), NAMES, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else f"record columns: {', '.join(NAMES)}"
    return f"`{clip(name)}`: unknown column; {hint}"


def column_problems(names: Iterable[str]) -> list[str]:
    """Messages for unknown and missing columns of a header, unknown first (empty when it is fine)."""
    seen = list(names)
    problems = [unknown_column(n) for n in seen if n not in NAMES]
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    return problems


def parse_date(text: str) -> date | None:
    """The date of an ISO ``YYYY-MM-DD`` text, or None for anything else (other forms, impossible days)."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def not_a_date(text: str) -> str:
    """Why a date text is refused."""
    return f"{clip(text)!r} is not a date (YYYY-MM-DD)"


def cell_text(value: object) -> str | None:
    """A parsed JSON value as the text a CSV cell would hold (None stays None).

    Booleans and nested values are never valid field values; they are kept visible (as JSON) so the
    rejection quotes what was sent.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def json_kind(value: object) -> str:
    """The JSON name of a parsed value's type (for "must be an object, not …")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
