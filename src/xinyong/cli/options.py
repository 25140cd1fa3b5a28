"""Options shared by the registry commands, and parsing of dates at the edge."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

DbOpt = Annotated[str, typer.Option(
    "--db", envvar="XINYONG_DB",
    help="The store: a DuckDB file (a path or duckdb:///path/file.duckdb) or a PostgreSQL database "
         "(postgresql://user@host:port/dbname).")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts, for the audit log.",
                                       envvar="XINYONG_ACTOR")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Evaluation date YYYY-MM-DD "
                                                             "(default: today, at this edge only).")]
DEFAULT_DB = "xinyong.duckdb"


def parse_as_of(text: str | None) -> date:
    """The as-of date; the core never reads the clock, the command line may default to today."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint="--as-of") from None
