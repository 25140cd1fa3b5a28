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
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner
from xinyong.cli import app
root = get_command(app)
def walk(c, path):
    yield path, c
    for name, sub in (c.commands.items() if isinstance(c, TyperGroup) else ()):
        yield from walk(sub, [*path, name])
found = list(walk(root, []))
paths = [p for p, _ in found]
assert ["policy", "lint"] in paths and ["audit", "verify"] in paths and ["lists", "public"] in paths, paths
for path, command in found:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    assert isinstance(command, TyperGroup) or "Exit codes:" in result.output, path  # every command's epilog
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
    loaded = _loaded_after(code)
    assert not loaded & {"fastapi", "starlette", "uvicorn", "duckdb", "pyarrow", "sqlglot", "httpx"}


def test_a_command_builds_only_its_own_group() -> None:
    """The root knows its commands by name: ``policy lint`` imports the policy commands, not the registry,
    case, lab or server commands nor the service layer, and prints its one line without Rich."""
    code = """
import sys
from typer.testing import CliRunner
from xinyong.cli import app
result = CliRunner().invoke(app, ["policy", "lint", "policies/shixin.yaml"])
assert result.exit_code == 0, result.output
assert "clean:" in result.output
"""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
                         cwd=ROOT)
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "xinyong.cli.policy_cmds" in modules
    assert not {m for m in modules if m.startswith(("xinyong.service", "xinyong.store", "xinyong.engines"))}
    others = {"registry_cmds", "case_cmds", "lab_cmds", "lake_cmds", "serve_cmds", "demo_cmd", "keys_cmds"}
    assert not {f"xinyong.cli.{m}" for m in others} & modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}


def test_serve_defaults_match_the_app() -> None:
    """``serve`` spells the body limit out so that its --help does not import the web stack."""
    from xinyong.cli.serve_cmds import DEFAULT_MAX_BODY
    from xinyong.web.app import DEFAULT_MAX_BODY as APP_DEFAULT

    assert DEFAULT_MAX_BODY == APP_DEFAULT
