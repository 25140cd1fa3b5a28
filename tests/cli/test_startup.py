"""The command line starts without the heavy libraries: a command imports what it needs when it runs.

No timing is asserted (a shared machine swings); what is asserted is the cause of a slow start, the
imports. ``bench/cli_startup.py`` measures the time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("fastapi", "starlette", "uvicorn", "duckdb", "pyarrow", "sqlglot", "httpx", "polars", "numpy", "pandas",
         "plotly", "opendp", "pyspark", "psycopg", "sklearn", "fairlearn")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
                         cwd=ROOT)
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert not _loaded_after("import xinyong.cli") & set(HEAVY)


def test_every_help_page_renders_without_heavy_libraries() -> None:
    """Building every command (Typer resolves each one's options) and printing its --help."""
    code = """
import click
from typer.main import get_command
from typer.testing import CliRunner
from xinyong.cli import app
root = get_command(app)
def walk(c, path):
    yield path
    for name, sub in (c.commands.items() if isinstance(c, click.Group) else ()):
        yield from walk(sub, [*path, name])
for path in walk(root, []):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
"""
    assert not _loaded_after(code) & set(HEAVY)


def test_policy_lint_imports_no_storage_or_web_library() -> None:
    code = """
import sys
from pathlib import Path
from typer.testing import CliRunner
from xinyong.cli import app
result = CliRunner().invoke(app, ["policy", "lint", "policies/shixin.yaml"])
assert result.exit_code == 0, result.output
"""
    assert not _loaded_after(code) & {"fastapi", "starlette", "uvicorn", "duckdb", "pyarrow", "sqlglot", "httpx"}


def test_serve_defaults_match_the_app() -> None:
    """``serve`` spells the body limit out so that its --help does not import the web stack."""
    from xinyong.cli.serve_cmds import DEFAULT_MAX_BODY
    from xinyong.web.app import DEFAULT_MAX_BODY as APP_DEFAULT

    assert DEFAULT_MAX_BODY == APP_DEFAULT
