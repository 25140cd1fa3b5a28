"""Run the real command line in a subprocess, as a user would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def xinyong() -> Run:
    def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xinyong", *args], cwd=cwd, capture_output=True,
                              text=True, timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", **(env or {})})
    return run
