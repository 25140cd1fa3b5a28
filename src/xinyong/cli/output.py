"""Consoles and JSON output shared by the commands (one place decides how results are printed)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def to_jsonable(value: Any) -> Any:
    from pydantic import BaseModel
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    """Machine-readable output on stdout (no colours, no wrapping), for scripts."""
    print(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, default=str))
