"""The ``xinyong`` command line: a thin edge over the policy core and the service layer.

Commands are grouped by user: policy authors (``policy``), agencies (``ingest``), relying parties
(``check``), subjects (``explain``), auditors (``audit``). Domain errors are mapped to messages and exit
codes once, in :func:`main`.
"""

from __future__ import annotations

import sys

from xinyong.cli.app import app
from xinyong.cli.exitcodes import INPUT_ERROR
from xinyong.model.errors import PolicyError, XinyongError

EXIT_DOMAIN_ERROR = INPUT_ERROR


def main() -> None:
    """Console-script entry point: run the Typer app, turning domain errors into clear messages."""
    try:
        app(standalone_mode=True)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        sys.exit(EXIT_DOMAIN_ERROR)
    except XinyongError as exc:
        from rich.markup import escape

        from xinyong.cli.output import err_console

        err_console.print(f"[bold red]{escape(exc.title)}:[/] {escape(str(exc))}", highlight=False)
        sys.exit(EXIT_DOMAIN_ERROR)


__all__ = ["app", "main"]
