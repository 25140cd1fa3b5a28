"""The committed API contract: ``python -m xinyong.web.openapi > docs/openapi.v1.json`` writes it, and a
test fails when the app's generated spec drifts from the committed one (an API change is then a
deliberate, reviewed change of that file)."""

from __future__ import annotations

import json
from typing import Any

from xinyong.web.app import Settings, create_app


def spec() -> dict[str, Any]:
    """The OpenAPI document of the app, built without opening a store (routes and schemas only)."""
    return create_app(Settings(db="unused.duckdb")).openapi()


def text() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(text(), end="")
