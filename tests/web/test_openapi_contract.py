"""The committed OpenAPI document is the contract: the generated one must equal it, and every date-time
it promises carries an offset (checked on a real response in test_hostile)."""

from __future__ import annotations

import difflib
from pathlib import Path

from xinyong.web.openapi import text

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_openapi_document_matches_the_app() -> None:
    committed = (ROOT / "docs/openapi.v1.json").read_text(encoding="utf-8")
    generated = text()
    if committed != generated:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True),
                                                 "docs/openapi.v1.json", "generated"))[:80])
        raise AssertionError("the API changed: review it, then regenerate with "
                             "`python -m xinyong.web.openapi > docs/openapi.v1.json`\n" + diff)
