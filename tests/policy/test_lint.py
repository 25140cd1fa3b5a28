"""The charter linter: one fixture per code at an exact line, shipped policies clean, rejected examples
refused with their rule's code, load errors reported as problems."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xinyong.model.errors import Problem
from xinyong.policy.lint import RULES, lint, lint_catalogue, lint_paths, policy_files, prohibited_ground
from xinyong.policy.loader import load_catalogue, load_policy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lint"
POLICIES = ROOT / "policies"
REJECTED = POLICIES / "examples" / "rejected"
CHARTER_RULE = {r.code: r.charter_rule for r in RULES}


def located(problems: list[Problem]) -> set[tuple[str, int, str]]:
    return {(Path(p.file).name, p.line, p.code) for p in problems}


# (fixture, code, every (file, line) where the fixture must be flagged with that code)
CASES = [
    ("xc101", "XC101", [("xc101.yaml", 16), ("xc101.yaml", 19)]),
    ("xc102", "XC102", [("xc102.yaml", 25)]),
    ("xc103", "XC103", [("xc103.yaml", 14)]),
    ("xc201", "XC201", [("xc201.yaml", 12), ("catalogue-bad.yaml", 13), ("catalogue-bad.yaml", 18)]),
    ("xc202", "XC202", [("xc202.yaml", 17)]),
    ("xc203", "XC203", [("xc203.yaml", 12), ("catalogue-bad.yaml", 84)]),
    ("xc204", "XC204", [("xc204.yaml", 12), ("catalogue-bad.yaml", 91)]),
    ("xc301", "XC301", [("xc301.yaml", 15), ("catalogue-bad.yaml", 22)]),
    ("xc302", "XC302", [("xc302.yaml", 21)]),
    ("xc303", "XC303", [("xc303.yaml", 12), ("catalogue-bad.yaml", 59)]),
    ("xc401", "XC401", [("xc401.yaml", 13), ("xc401.yaml", 15), ("xc401.yaml", 18), ("catalogue-bad.yaml", 32)]),
    ("xc402", "XC402", [("xc402.yaml", 16)]),
    ("xc403", "XC403", [("xc403.yaml", 19), ("xc403.yaml", 23), ("catalogue-bad.yaml", 43)]),
    ("xc404", "XC404", [("xc404.yaml", 20), ("xc404.yaml", 29), ("xc404.yaml", 35)]),
    ("xc405", "XC405", [("xc405.yaml", 15), ("xc405.yaml", 16), ("xc405.yaml", 21), ("catalogue-bad.yaml", 69)]),
    ("xc501", "XC501", [("xc501.yaml", 10), ("xc501.yaml", 25), ("xc501.yaml", 26)]),
    ("xc601", "XC601", [("xc601.yaml", 25)]),
    ("xc701", "XC701", [("xc701.yaml", 21), ("xc701.yaml", 22)]),
]


@pytest.mark.parametrize(("fixture", "code", "where"), CASES, ids=[c[0] for c in CASES])
def test_fixture_is_flagged_at_the_offending_line(
    fixture: str, code: str, where: list[tuple[str, int]]
) -> None:
    problems = lint(load_policy(FIXTURES / f"{fixture}.yaml"))
    found = located(problems)
    for file, line in where:
        assert (file, line, code) in found, "\n".join(map(str, problems))
    # precise: the policy file itself is flagged with this code only, at exactly these lines
    in_policy = {(line, c) for f, line, c in found if f == f"{fixture}.yaml"}
    assert in_policy == {(line, code) for f, line in where if f == f"{fixture}.yaml"}


def test_every_code_has_a_fixture() -> None:
    assert [c[1] for c in CASES] == [r.code for r in RULES]


def test_problem_names_file_line_code_and_charter_rule() -> None:
    [problem] = lint(load_policy(FIXTURES / "xc102.yaml"))
    text = str(problem)
    assert text.startswith(f"{FIXTURES / 'xc102.yaml'}:25: XC102 ")
    assert "'guarantor'" in text and "charter rule 1" in text and "charter-rules.md#xc102" in text


def test_clean_fixture_has_no_problem() -> None:
    """Harmless words (high consumption, public health, bad faith, employees in prose), a `not` under
    `all`, and an enterprise list publishing the enterprise's name are all lawful."""
    assert lint(load_policy(FIXTURES / "clean.yaml")) == []


def test_catalogue_problems_are_reported_once_across_policies() -> None:
    problems = lint_paths([FIXTURES / "xc403.yaml", FIXTURES / "xc403.yaml", FIXTURES / "xc201.yaml"])
    over = [p for p in problems if p.code == "XC403" and Path(p.file).name == "catalogue-bad.yaml"]
    assert len(over) == 1
    assert [(p.file, p.line, p.code) for p in problems] == sorted((p.file, p.line, p.code) for p in problems)


def test_catalogue_path_is_shown_as_the_policy_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    problems = lint_paths([Path("tests/fixtures/lint/xc201.yaml")])
    assert "tests/fixtures/lint/catalogue-bad.yaml" in {p.file for p in problems}


@pytest.mark.parametrize(
    ("text", "ground"),
    [
        ("petitions", "political opinion and expression"),
        ("online.rumour_spreading", "political opinion and expression"),
        ("Criticising the government online", "political opinion and expression"),
        ("religious_activity", "religion or belief"),
        ("ethnic_origin", "ethnicity or national origin"),
        ("face_scan", "biometric data"),
        ("mental_health", "health"),
        ("social_relationships", "social relationships"),
        ("Excessive video gaming hours", "lawful consumption and lifestyle"),
        ("judicial_enforcement", None),
        ("Breaching a restriction-on-high-consumption order", None),
        ("public_health", None),
        ("Voluntary blood donation, certified by the blood station", None),
        ("Bad faith litigation", None),
        ("越级上访", "political opinion and expression"),
        ("上訪", "political opinion and expression"),
        ("Volunteering for a party branch", "political opinion and expression"),
        ("宗教活动", "religion or belief"),
        ("民族成分", "ethnicity or national origin"),
        ("离婚登记", "lawful consumption and lifestyle"),
        ("Online game hours", "lawful consumption and lifestyle"),
        ("Drunk driving conviction (醉驾)", None),
        ("Medical-insurance fund fraud", None),
        ("骗取医保基金：虚构住院", None),
        ("Smoking in a no-smoking area", None),
    ],
)
def test_prohibited_grounds_by_keyword(text: str, ground: str | None) -> None:
    found = prohibited_ground(text)
    assert (found[0] if found else None) == ground


def shipped_policies() -> list[Path]:
    return policy_files([POLICIES])


def test_shipped_policies_are_found() -> None:
    names = {p.name for p in shipped_policies()}
    assert "shixin.yaml" in names
    assert not any("rejected" in p.parts for p in shipped_policies())
    assert "catalogue.yaml" not in names and "shixin.tests.yaml" not in names


@pytest.mark.parametrize("path", shipped_policies(), ids=lambda p: p.name)
def test_shipped_policy_lints_clean(path: Path) -> None:
    problems = lint_paths([path])
    assert problems == [], "\n".join(map(str, problems))


# A measure on anyone but the listed subject cannot even be expressed: no charter measure kind governs a
# child's school, so the relatives example is refused by XC404 (rule 4) as well.
ALSO = {"rule1-relatives.yaml": {"XC404"}}

REJECTED_EXAMPLES = [
    ("rule1-relatives.yaml", "XC101"),
    ("rule2-camera-feed.yaml", "XC201"),
    ("rule3-petitions.yaml", "XC301"),
    ("rule4-no-duration.yaml", "XC402"),
    ("rule5-no-objection.yaml", "XC501"),
    ("rule6-discloses-score.yaml", "XC601"),
    ("rule7-shaming.yaml", "XC701"),
]


@pytest.mark.parametrize(("name", "code"), REJECTED_EXAMPLES)
def test_rejected_example_fails_with_its_rule(name: str, code: str) -> None:
    path = REJECTED / name
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#") and f"charter rule {CHARTER_RULE[code]}" in first and code in first
    problems = lint(load_policy(path))  # schema-valid: it loads
    codes = {p.code for p in problems}
    assert code in codes, "\n".join(map(str, problems))
    assert any(Path(p.file).name == name and p.code == code for p in problems)
    # it illustrates one rule: nothing else in it is wrong
    assert {CHARTER_RULE[c] for c in codes - ALSO.get(name, set())} == {CHARTER_RULE[code]}
    for also in ALSO.get(name, set()):
        assert also in first


def test_rejected_directory_is_linted_only_when_given() -> None:
    assert lint_paths([POLICIES]) == []
    problems = lint_paths([REJECTED])
    assert {Path(p.file).name for p in problems} >= {n for n, _ in REJECTED_EXAMPLES}
    assert {p.code for p in problems} >= {c for _, c in REJECTED_EXAMPLES}


def test_broken_yaml_is_a_located_problem(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: policy\nid: x\nlists:\n  - id: a\n   name: b\n", encoding="utf-8")
    [problem] = lint_paths([tmp_path])
    assert (problem.file, problem.line, problem.code) == (str(bad), 5, "XS001")


def test_schema_error_is_a_located_problem(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("kind: policy\nid: x\nversion: '1'\ntitle: t\ncatalogue: c.yaml\nlists: 3\n",
                   encoding="utf-8")
    problems = lint_paths([bad])
    assert (str(bad), 6, "XS010") in {(p.file, p.line, p.code) for p in problems}


def test_a_catalogue_problem_fails_only_the_policies_that_use_the_entry() -> None:
    """catalogue-bad.yaml holds an entry for every catalogue-level code; a policy over it that reads only
    clean entries lints clean, and each offending entry is reported on its catalogue line only for the
    policy that uses it."""
    assert lint(load_policy(FIXTURES / "xc202.yaml")) != []  # reads an unsourced type: its own problem
    for fixture, code in [("xc201", "XC201"), ("xc203", "XC203"), ("xc303", "XC303"), ("xc405", "XC405")]:
        codes = {(Path(p.file).name, p.code) for p in lint(load_policy(FIXTURES / f"{fixture}.yaml"))}
        assert {c for f, c in codes if f == "catalogue-bad.yaml"} == {code}, (fixture, codes)


def test_a_policy_over_a_shared_catalogue_with_bad_entries_it_does_not_read_is_clean(tmp_path: Path) -> None:
    text = (FIXTURES / "xc203.yaml").read_text(encoding="utf-8").replace("admin.noise_fine", "court.refuse_perform")
    (tmp_path / "catalogue-bad.yaml").write_text((FIXTURES / "catalogue-bad.yaml").read_text(encoding="utf-8"),
                                                 encoding="utf-8")
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    assert lint(load_policy(tmp_path / "p.yaml")) == []


def test_a_catalogue_linted_on_its_own_is_refused_for_every_bad_entry() -> None:
    problems = lint_catalogue(*load_catalogue(FIXTURES / "catalogue-bad.yaml"))
    assert {p.code for p in problems} == {"XC201", "XC203", "XC204", "XC301", "XC303", "XC401", "XC403", "XC405"}
    assert all(Path(p.file).name == "catalogue-bad.yaml" for p in problems)
    assert list(map(str, lint_paths([FIXTURES / "catalogue-bad.yaml"]))) == list(map(str, problems))
    assert lint_catalogue(*load_catalogue(POLICIES / "catalogue.yaml")) == []


def test_explicit_clean_catalogues_and_test_files_pass_and_missing_ones_are_reported(tmp_path: Path) -> None:
    assert lint_paths([FIXTURES / "catalogue.yaml", POLICIES / "shixin.tests.yaml"]) == []
    [problem] = lint_paths([tmp_path / "missing.yaml"])
    assert problem.code == "XS001" and problem.file == str(tmp_path / "missing.yaml")


def test_rules_table_and_docs_agree() -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"XC[1-7]0[1-9]", c) for c in codes)
    assert all(int(r.code[2]) == r.charter_rule and r.title for r in RULES)
    docs = (ROOT / "docs" / "charter-rules.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="(xc\d{3})"></a>', docs))
    assert anchors == {r.anchor for r in RULES}
    assert all(r.doc == f"docs/charter-rules.md#{r.anchor}" for r in RULES)
