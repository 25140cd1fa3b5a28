"""Consoles and JSON output shared by the commands (one place decides how results are printed).

The Rich consoles are made on first use (``output.console``, ``from xinyong.cli.output import
console``): Rich is a few dozen imported modules, and a command that prints a line or two
(``policy lint`` on a clean policy) uses :func:`status` instead, which styles one line with click.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console


def __getattr__(name: str) -> Any:
    """``console`` (stdout) and ``err_console`` (stderr), made when first asked for."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = Console(highlight=False, stderr=name == "err_console")
    globals()[name] = made
    return made


def status(label: str, text: str, colour: str = "green") -> None:
    """One status line on stderr, ``label`` coloured on a terminal (``clean: no charter violations``)."""
    typer.secho(label, fg=colour, bold=False, err=True, nl=False)
    typer.echo(f" {text}", err=True)


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
