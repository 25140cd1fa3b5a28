"""Every sample policy's own test file passes (files are discovered, not listed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.policy.loader import find_policy_files, load_policy
from xinyong.policy.testing import discover, run_test_file

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TEST_FILES = discover([POLICIES])


def test_there_are_test_files_for_every_sample_policy() -> None:
    tested = {p.name.removesuffix(".tests.yaml") for p in TEST_FILES}
    policies = {p.stem for p in find_policy_files([POLICIES])}
    assert policies and policies <= tested


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_policy_test_file_passes(path: Path) -> None:
    result = run_test_file(path)
    failures = [f"{path.name}:{c.line}: {c.name}: {f}" for c in result.cases for f in c.failures]
    assert not failures, "\n".join(failures)
    assert len(result.cases) >= 1


@pytest.mark.parametrize("path", find_policy_files([POLICIES]), ids=lambda p: p.name)
def test_sample_policy_loads(path: Path) -> None:
    lp = load_policy(path)
    assert lp.policy.procedure.notice_days is not None
    assert all(x.max_duration_days and x.legal_basis for x in lp.policy.lists)
    assert all(m.legal_basis for m in lp.policy.measures)
