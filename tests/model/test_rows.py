"""The row contract: one declaration of the record columns, formats and messages."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.model.rows import (
    NAMES,
    OPTIONAL,
    REQUIRED,
    cell_text,
    clip,
    column_problems,
    parse_date,
    unknown_column,
)


def test_columns() -> None:
    assert REQUIRED == ("subject", "type", "occurred", "decided", "document")
    assert OPTIONAL == ("amount", "source")
    assert NAMES == REQUIRED + OPTIONAL


def test_unknown_column_names_the_closest_known_one() -> None:
    assert unknown_column("amuont") == "`amuont`: unknown column; did you mean `amount`?"
    assert "did you mean `occurred`" in unknown_column("occured")
    assert "record columns: subject, type" in unknown_column("colour")
    assert column_problems(["subject", "type", "occurred", "decided", "document", "amuont"]) == [
        "`amuont`: unknown column; did you mean `amount`?"]
    assert column_problems(["subject", "type"]) == ["missing column(s) occurred, decided, document"]
    assert column_problems(NAMES) == []


@pytest.mark.parametrize("text", ["2025/02/03", "2025-2-3", "2025-02-03T00:00:00", "2025-02-03 10:00",
                                  "20250203", "25-02-03", " 2025-02-03", "2025-02-30", "2025-13-01", ""])
def test_dates_are_iso_only(text: str) -> None:
    assert parse_date(text) is None


def test_iso_date() -> None:
    assert parse_date("2025-02-03") == date(2025, 2, 3)


def test_clip_and_cell_text() -> None:
    assert clip("x" * 500) == "x" * 80 + "…"
    assert clip("a\nb") == "a\\nb"
    assert cell_text(None) is None and cell_text(True) == "true" and cell_text(12) == "12"
    assert cell_text([1]) == "[1]" and cell_text("2.50") == "2.50"
