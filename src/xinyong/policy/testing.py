"""Policy tests: YAML cases (given records and amendments, as of a date) with expected outcomes.

A ``kind: policy-test`` file names its policy; ``xinyong policy test`` runs every case through the
reference evaluator and ``decide`` and reports each mismatch with the case's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import Field

from xinyong.model.assessment import Assessment, Effect
from xinyong.model.base import Frozen
from xinyong.model.errors import InvalidInput, PolicyError, XinyongError
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.decide import decide
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy, load_policy, validate_doc
from xinyong.policy.source import SourceDoc, read_yaml


class CaseRecord(Frozen):
    type: str
    source: str
    occurred: date
    decided: date
    document: str
    amount: Decimal | None = None


class CaseAmendment(Frozen):
    record: int | str = Field(description="Index of the record in this case, or a record id")
    kind: AmendmentKind
    effective: date
    reason: str = "policy test"
    document: str = "policy test"
    amount: Decimal | None = None


class ListingExpectation(Frozen):
    since: date | None = None
    until: date | None = None


class Expectation(Frozen):
    score: int | None = None
    tier: str | None = None
    lists: list[str] | None = None
    listings: dict[str, ListingExpectation] = Field(default_factory=dict)
    decisions: dict[str, Effect] = Field(default_factory=dict)


class CaseDefaults(Frozen):
    subject: str = "cn.uscc:914403001922038216"


class Case(Frozen):
    name: str
    subject: str | None = None
    records: list[CaseRecord] = Field(default_factory=list)
    amendments: list[CaseAmendment] = Field(default_factory=list)
    as_of: date
    expect: Expectation


class PolicyTestFile(Frozen):
    kind: str = Field(default="policy-test", pattern="^policy-test$")
    schema_version: int = 1
    policy: str
    defaults: CaseDefaults = Field(default_factory=CaseDefaults)
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    name: str
    line: int
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestFileResult:
    path: Path
    policy: str
    cases: list[CaseResult]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)


def build_case(case: Case, default_subject: str, schemes: SchemeRegistry
               ) -> tuple[str, list[Record], list[Amendment]]:
    """The records and amendments a case describes, with its subject validated."""
    subject = schemes.parse(case.subject or default_subject).key
    records = [Record(subject=subject, **r.model_dump()) for r in case.records]
    amendments = []
    for a in case.amendments:
        if isinstance(a.record, int) and not 0 <= a.record < len(records):
            raise InvalidInput(f"amendment of record {a.record}: the case has records 0 to "
                               f"{len(records) - 1}", field="amendments.record")
        target = records[a.record].id if isinstance(a.record, int) else a.record
        amendments.append(Amendment(record=target, kind=a.kind, effective=a.effective,
                                    reason=a.reason, document=a.document, amount=a.amount))
    return subject, records, amendments


def check_case(lp: LoadedPolicy, case: Case, assessment: Assessment) -> list[str]:
    exp, failures = case.expect, []
    if exp.score is not None and assessment.score != exp.score:
        failures.append(f"score: expected {exp.score}, got {assessment.score}")
    if exp.tier is not None and assessment.tier != exp.tier:
        failures.append(f"tier: expected {exp.tier}, got {assessment.tier}")
    got_lists = sorted(assessment.listed_on())
    if exp.lists is not None and got_lists != sorted(exp.lists):
        failures.append(f"lists: expected {sorted(exp.lists)}, got {got_lists}")
    by_list = {x.list_id: x for x in assessment.listings}
    for list_id, want in exp.listings.items():
        got = by_list.get(list_id)
        if got is None:
            failures.append(f"listing {list_id}: expected in force, it is not")
            continue
        if want.since is not None and got.since != want.since:
            failures.append(f"listing {list_id}: since expected {want.since}, got {got.since}")
        if want.until is not None and got.until != want.until:
            failures.append(f"listing {list_id}: until expected {want.until}, got {got.until}")
    for action, effect in exp.decisions.items():
        decision = decide([(lp.policy, assessment)], action, "policy test", case.as_of)
        if decision.effect is not effect:
            failures.append(f"decision {action}: expected {effect.value}, got {decision.effect.value}")
    return failures


def run_test_file(path: Path, schemes: SchemeRegistry | None = None) -> TestFileResult:
    schemes = schemes or default_schemes()
    doc: SourceDoc = read_yaml(path)
    spec = validate_doc(doc, PolicyTestFile)
    policy_path = (path.parent / spec.policy).resolve()
    if not policy_path.is_file():
        raise PolicyError([doc.problem(("policy",), "XS101", f"policy file not found: {policy_path}")])
    lp = load_policy(policy_path)
    results = []
    for i, case in enumerate(spec.cases):
        line = doc.line_of(("cases", i))
        try:
            subject, records, amendments = build_case(case, spec.defaults.subject, schemes)
            assessment = evaluate(lp, subject, records, amendments, case.as_of, schemes)
            failures = check_case(lp, case, assessment)
        except XinyongError as exc:
            failures = [f"error: {exc}"]
        except ValueError as exc:  # pydantic validation of a case's record
            failures = [f"invalid case data: {exc}"]
        results.append(CaseResult(case.name, line, failures))
    return TestFileResult(path, lp.policy.ref, results)


def discover(paths: list[Path]) -> list[Path]:
    """Test files among ``paths``: files named ``*.tests.yaml``, searched in directories (not rejected/)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(x for x in p.rglob("*.tests.yaml") if "rejected" not in x.parts))
        else:
            found.append(p)
    return found
