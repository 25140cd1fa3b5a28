"""The adversarial corpus: disguised violations must all be refused with their code, lawful policies from
real regimes must all pass.

``tests/fixtures/charter_corpus/violations/`` holds policies written the way a hostile author would
(synonyms, Chinese names, conditions on another subject hidden inside ``any``, measures on namespaces that
name other people, over-long durations, sources that are no authority); the first line of each says
``# expect: CODE``. ``lawful/`` holds policies drawn from real regimes (tax, customs AEO, environment,
food safety, procurement debarment, drunk driving, medical-insurance fraud, wage arrears...). The summary
test prints the recall and the false-positive rate (``pytest -s``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.policy.lint import lint, lint_catalogue
from xinyong.policy.loader import declared_kind, load_catalogue, load_policy

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "charter_corpus"


def _policies(folder: str) -> list[Path]:
    return sorted(p for p in (CORPUS / folder).glob("*.yaml") if declared_kind(p) == "policy")


VIOLATIONS = _policies("violations")
LAWFUL = _policies("lawful")


def expected(path: Path) -> set[str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path.name
    return set(first.removeprefix("# expect: ").split())


def codes(path: Path) -> set[str]:
    return {p.code for p in lint(load_policy(path))}


def test_the_corpus_is_large_enough_and_covers_every_charter_rule() -> None:
    assert len(VIOLATIONS) >= 40 and len(LAWFUL) >= 20
    rules = {code[2] for path in VIOLATIONS for code in expected(path)}
    assert rules == set("1234567")


@pytest.mark.parametrize("path", VIOLATIONS, ids=lambda p: p.stem)
def test_violation_is_refused_with_its_code(path: Path) -> None:
    found = codes(path)
    assert expected(path) <= found, f"{path.name}: expected {expected(path)}, got {found or 'nothing'}"


@pytest.mark.parametrize("path", LAWFUL, ids=lambda p: p.stem)
def test_lawful_policy_passes(path: Path) -> None:
    problems = lint(load_policy(path))
    assert problems == [], "\n".join(map(str, problems))


def test_the_shared_catalogue_is_clean_on_its_own() -> None:
    assert lint_catalogue(*load_catalogue(CORPUS / "catalogue.yaml")) == []


def test_recall_and_false_positive_rate() -> None:
    caught = [p for p in VIOLATIONS if expected(p) <= codes(p)]
    refused = [p for p in LAWFUL if codes(p)]
    recall = len(caught) / len(VIOLATIONS)
    fp_rate = len(refused) / len(LAWFUL)
    print(f"\ncharter corpus: recall {recall:.1%} ({len(caught)}/{len(VIOLATIONS)} violations refused with "
          f"their code), false-positive rate {fp_rate:.1%} ({len(refused)}/{len(LAWFUL)} lawful policies refused)")
    assert recall == 1.0, [p.name for p in VIOLATIONS if p not in caught]
    assert fp_rate == 0.0, [p.name for p in refused]
