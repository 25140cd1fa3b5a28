"""Loader errors name the file and the line, with a code (XS0xx schema, XS1xx resolve).

Fixtures are small files in tests/fixtures/loader/; each test finds the expected line by the text on it,
so the assertion says *which* line is meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.model.errors import PolicyError, Problem
from xinyong.policy.loader import (
    find_policy_files,
    load_catalogue,
    load_policy,
    load_policy_text,
    validate_doc,
)
from xinyong.policy.schema import Policy
from xinyong.policy.source import parse_yaml, read_yaml
from xinyong.policy.testing import discover, run_test_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loader"
ROOT = Path(__file__).resolve().parents[2]


def line_with(path: Path, text: str) -> int:
    """The 1-based number of the only line of ``path`` containing ``text``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(hits) == 1, f"{text!r} is on lines {hits} of {path.name}"
    return hits[0]


def problems_of(name: str) -> list[Problem]:
    with pytest.raises(PolicyError) as exc:
        load_policy(FIXTURES / name)
    return exc.value.problems


def only(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


def test_a_valid_policy_loads_with_its_catalogue() -> None:
    lp = load_policy(FIXTURES / "valid.yaml")
    assert lp.policy.ref == "valid@1"
    assert lp.catalogue.type_ids() == {"t.fine", "t.breach"}
    assert lp.path == FIXTURES / "valid.yaml"
    assert lp.catalogue_doc.path == (FIXTURES / "catalogue.yaml").resolve()
    assert lp.doc.line_of(("measures", 0, "effect")) == line_with(FIXTURES / "valid.yaml", "id: m,")


def test_bad_yaml_names_file_and_line() -> None:
    (p,) = problems_of("bad_yaml.yaml")
    assert p.code == "XS001" and p.file == str(FIXTURES / "bad_yaml.yaml")
    assert p.line == line_with(FIXTURES / "bad_yaml.yaml", "catalogue:")  # where the parser gave up
    assert "YAML syntax" in p.message
    assert str(p).startswith(f"{FIXTURES / 'bad_yaml.yaml'}:{p.line}: XS001 ")


def test_unreadable_file() -> None:
    with pytest.raises(PolicyError) as exc:
        read_yaml(FIXTURES / "does_not_exist.yaml")
    (p,) = exc.value.problems
    assert (p.code, p.line) == ("XS001", 0) and "cannot read file" in p.message


def test_duplicate_key_names_both_lines() -> None:
    path = FIXTURES / "duplicate_key.yaml"
    (p,) = problems_of("duplicate_key.yaml")
    assert p.code == "XS002"
    assert p.line == line_with(path, "base: 90")
    assert f"first at line {line_with(path, 'base: 100')}" in p.message


def test_unknown_field_is_an_error_not_ignored() -> None:
    path = FIXTURES / "unknown_field.yaml"
    (p,) = problems_of("unknown_field.yaml")
    assert p.code == "XS010" and p.file == str(path)
    assert p.line == line_with(path, "count_for_days")
    assert "scoring.rules.0.count_for_days" in p.message and "Extra inputs" in p.message


def test_unknown_record_type_in_a_nested_condition() -> None:
    path = FIXTURES / "unknown_record_type.yaml"
    (p,) = problems_of("unknown_record_type.yaml")
    assert p.code == "XS101"
    assert p.line == line_with(path, "t.speech")
    assert "'t.speech' is not in the catalogue (catalogue.yaml)" in p.message


def test_unknown_list_in_a_measure() -> None:
    path = FIXTURES / "unknown_list.yaml"
    (p,) = problems_of("unknown_list.yaml")
    assert p.code == "XS102"
    assert p.line == line_with(path, "list: fines")
    assert "measure 'm.bad' names unknown list 'fines'" in p.message


def test_last_tier_must_be_a_floor() -> None:
    path = FIXTURES / "floor_not_last.yaml"
    (p,) = problems_of("floor_not_last.yaml")
    assert p.code == "XS105"
    assert p.line == line_with(path, "name: B")
    assert "last tier (B) is the floor" in p.message


def test_a_tier_condition_cannot_depend_on_tiers() -> None:
    path = FIXTURES / "tier_in_tier.yaml"
    (p,) = problems_of("tier_in_tier.yaml")
    assert p.code == "XS105"
    assert p.line == line_with(path, "not:")       # where the offending condition starts
    assert "cannot depend on tiers" in p.message


def test_a_catalogue_source_allowed_an_unknown_type() -> None:
    path = FIXTURES / "catalogue_unknown_type.yaml"
    with pytest.raises(PolicyError) as exc:
        load_catalogue(path)
    (p,) = exc.value.problems
    assert p.code == "XS101" and p.file == str(path)
    assert p.line == line_with(path, "t.camera_sighting")
    assert "source 's.agency' may submit unknown record type 't.camera_sighting'" in p.message
    # the same problem is reported when a policy names that catalogue, in the catalogue's file
    (q,) = problems_of("uses_bad_catalogue.yaml")
    assert (q.file, q.line, q.code) == (str(path.resolve()), p.line, "XS101")


def test_missing_catalogue_file() -> None:
    path = FIXTURES / "missing_catalogue.yaml"
    (p,) = problems_of("missing_catalogue.yaml")
    assert p.code == "XS101" and p.line == line_with(path, "catalogue:")
    assert "no_such_catalogue.yaml" in p.message


def test_a_document_must_be_a_mapping() -> None:
    (p,) = problems_of("not_a_mapping.yaml")
    assert (p.code, p.line) == ("XS003", 1) and "expected a mapping for a Policy" in p.message
    with pytest.raises(PolicyError) as exc:
        validate_doc(parse_yaml("", Path("empty.yaml")), Policy)
    assert exc.value.problems[0].code == "XS003"


CATALOGUE = (FIXTURES / "catalogue.yaml").read_text()
HEAD = 'kind: policy\nid: p\nversion: "1"\ntitle: T\ncatalogue: catalogue.yaml\n'


def text_problems(body: str, catalogue: str = CATALOGUE) -> list[Problem]:
    with pytest.raises(PolicyError) as exc:
        load_policy_text(HEAD + body, catalogue, "p.yaml")
    return exc.value.problems


def test_schema_errors_of_values_and_models() -> None:
    problems = text_problems("scoring:\n  base: 1\n  rules:\n    - {type: t.fine}\n"
                             "lists: [{id: Bad-Id, name: x, kind: grey, entry: {types: []}}]\n")
    assert [(p.code, p.line, p.message.split(":")[0]) for p in problems] == [
        ("XS010", 9, "scoring.rules.0"),
        ("XS010", 10, "lists.0.id"),
        ("XS010", 10, "lists.0.kind"),
        ("XS010", 10, "lists.0.entry.record.types"),
    ]
    assert "give exactly one of points or points_per_unit" in problems[0].message
    assert "'red' or 'black'" in problems[2].message


def test_a_condition_needs_a_known_key() -> None:
    problems = text_problems("lists:\n  - id: l\n    name: L\n    kind: red\n    entry: {whatever: 1}\n")
    (p,) = problems
    assert p.code == "XS010" and p.line == 10
    assert "a condition needs one of: types, tier_in, all, any, not" in p.message


def test_duplicates_and_two_rules_or_caps_for_a_type() -> None:
    problems = text_problems("""scoring:
  base: 1
  rules:
    - {type: t.fine, points: -1}
    - {type: t.fine, points: -2}
  caps:
    - {types: [t.fine], max: 1}
    - {types: [t.fine, t.ghost], min: -1}
tiers: [{name: A, min: 1}, {name: A}]
lists:
  - {id: l, name: L, kind: red, entry: {tier_in: [Z]}}
  - {id: l, name: L, kind: red, entry: {types: [t.fine]}}
measures:
  - {id: m, tiers: [Q], action: a, effect: benefit, agency: x}
  - {id: m, list: l, action: a, effect: benefit, agency: x}
""")
    got = sorted((p.code, p.line, p.message) for p in problems)
    assert ("XS104", 15, "list 'l' is defined twice") in got
    assert ("XS104", 18, "measure 'm' is defined twice") in got
    assert ("XS104", 14, "tier 'A' is defined twice") in got
    assert ("XS106", 8, "record type 't.fine' has two score rules") in got
    assert ("XS106", 11, "record type 't.fine' is in two caps") in got
    assert ("XS103", 16, "unknown tier 'Z'") in got
    assert ("XS103", 19, "unknown tier 'Q'") in got
    assert any(c == "XS101" and line == 13 and "t.ghost" in m for c, line, m in got)


def test_tiers_need_scoring_and_catalogue_duplicates() -> None:
    (p,) = text_problems("tiers: [{name: A}]\n")
    assert (p.code, p.line, p.message) == ("XS105", 6, "tiers need a scoring section")
    doubled = CATALOGUE.replace("  - id: t.breach", "  - id: t.fine").replace("t.fine, t.breach", "t.fine")
    extra_source = "  - id: s.agency\n    name: A\n    may_submit: []\n"
    doubled = doubled.replace("  - id: s.agency\n", extra_source + "  - id: s.agency\n")
    problems = text_problems("", doubled)
    assert sorted(p.message for p in problems) == [
        "record type 't.fine' is defined twice", "source 's.agency' is defined twice"]
    assert all(p.file == "catalogue.yaml" for p in problems)


def test_policy_error_lists_every_problem() -> None:
    err = PolicyError([Problem("a.yaml", 3, "XS101", "one"), Problem("b.yaml", 4, "XS102", "two")])
    assert str(err) == "a.yaml:3: XS101 one\nb.yaml:4: XS102 two"
    assert err.problems[0].as_dict() == {"file": "a.yaml", "line": 3, "code": "XS101", "message": "one"}
    assert repr(err.problems[1]) == "Problem(b.yaml:4: XS102 two)"


# --- finding files ----------------------------------------------------------------------------------


def test_find_policy_files_skips_catalogues_tests_and_rejected(tmp_path: Path) -> None:
    found = find_policy_files([ROOT / "policies"])
    names = {p.name for p in found}
    assert {"shixin.yaml", "corporate.yaml", "rongcheng.yaml"} <= names
    assert not names & {"catalogue.yaml", "shixin.tests.yaml"}
    rejected = tmp_path / "examples" / "rejected"
    rejected.mkdir(parents=True)
    (rejected / "bad.yaml").write_text("kind: 'policy'\n")
    (tmp_path / "ok.yml").write_text("# a comment\nkind: policy\n")
    (tmp_path / "cat.yaml").write_text("kind: catalogue\n")
    assert [p.name for p in find_policy_files([tmp_path])] == ["ok.yml"]
    assert sorted(p.name for p in find_policy_files([tmp_path], include_rejected=True)) == ["bad.yaml",
                                                                                           "ok.yml"]
    assert find_policy_files([rejected]) == [rejected / "bad.yaml"]
    assert find_policy_files([tmp_path / "named.yaml"]) == [tmp_path / "named.yaml"]


def test_discover_test_files(tmp_path: Path) -> None:
    (tmp_path / "rejected").mkdir()
    (tmp_path / "rejected" / "x.tests.yaml").write_text("")
    (tmp_path / "a.tests.yaml").write_text("")
    (tmp_path / "a.yaml").write_text("")
    assert discover([tmp_path]) == [tmp_path / "a.tests.yaml"]
    assert discover([tmp_path / "a.yaml"]) == [tmp_path / "a.yaml"]


# --- policy-test files ------------------------------------------------------------------------------


def test_policy_test_runner_reports_each_mismatch_with_its_line() -> None:
    path = FIXTURES / "wrong_expectations.tests.yaml"
    result = run_test_file(path)
    assert result.policy == "valid@1" and not result.passed
    right, wrong, bad_id, bad_dates = result.cases
    assert right.passed and right.line == line_with(path, "name: all right")
    assert wrong.line == line_with(path, "name: everything wrong")
    assert wrong.failures == [
        "score: expected 100, got 90",
        "tier: expected B, got A",
        "lists: expected [], got ['fined']",
        "listing fined: since expected 2026-01-01, got 2026-01-02",
        "listing fined: until expected 2027-01-01, got 2027-01-02",
        "listing other: expected in force, it is not",
        "decision a.b: expected allow, got review",
    ]
    (msg,) = bad_id.failures
    assert msg.startswith("error: subject: '914403001922038217' is not a valid Unified Social Credit Code")
    (msg,) = bad_dates.failures
    assert msg.startswith("invalid case data:") and "before occurred" in msg


def test_policy_test_file_naming_a_missing_policy() -> None:
    path = FIXTURES / "missing_policy.tests.yaml"
    with pytest.raises(PolicyError) as exc:
        run_test_file(path)
    (p,) = exc.value.problems
    assert (p.code, p.line) == ("XS101", line_with(path, "policy:"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("scoring: {base: 1, rules: [{type: t.fine, points_per_unit: -1}]}\n",
         "points_per_unit needs unit"),
        ("scoring: {base: 1, caps: [{types: [t.fine]}]}\n", "a cap needs min or max"),
        ("scoring: {base: 1, caps: [{types: [t.fine], min: 5, max: 1}]}\n", "min is greater than max"),
        ("measures: [{id: m, list: l, tiers: [A], action: a, effect: deny, agency: x}]\n",
         "a measure applies either to a list or to tiers"),
        ("measures: [{id: m, list: l, action: a, effect: allow, agency: x}]\n", "measures.0.effect"),
    ],
)
def test_model_level_schema_errors(body: str, message: str) -> None:
    (p,) = text_problems(body)
    assert p.code == "XS010" and p.line == 6 and message in p.message


def test_list_def_by_id() -> None:
    policy = load_policy(FIXTURES / "valid.yaml").policy
    assert policy.list_def("fined").max_duration_days == 365
    with pytest.raises(KeyError):
        policy.list_def("nope")


# --- YAML edge cases: every malformed input must become a located PolicyError --------------------


def test_several_documents_in_one_file() -> None:
    with pytest.raises(PolicyError) as exc:
        parse_yaml("kind: policy\n---\nkind: policy\n", Path("two.yaml"))
    (p,) = exc.value.problems
    assert (p.code, p.line) == ("XS001", 2)


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "kind: policy\nscoring: {[a]: 1}\n"])
def test_an_unhashable_key_is_a_located_error(text: str) -> None:
    with pytest.raises(PolicyError) as exc:
        parse_yaml(text, Path("k.yaml"))
    assert exc.value.problems[0].line >= 1


def test_a_recursive_alias_is_a_located_error() -> None:
    with pytest.raises(PolicyError) as exc:
        parse_yaml("kind: policy\nloop: &x [*x]\n", Path("r.yaml"))
    assert exc.value.problems[0].line == 2


def test_aliases_are_not_expanded_exponentially() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 4)]
    text = "\n".join(lines) + "\n"              # 4 short lines; 11,110 values once expanded
    try:
        doc = parse_yaml(text, Path("bomb.yaml"))
    except PolicyError as exc:                  # refusing aliases outright is also a fix
        assert exc.problems[0].line >= 1
        return
    assert len(doc.lines) < 1000


def test_an_amendment_of_a_missing_record_index_fails_only_its_case() -> None:
    result = run_test_file(FIXTURES / "bad_amendment_index.tests.yaml")
    bad, good = result.cases
    assert bad.failures and "record" in bad.failures[0]
    assert good.passed
