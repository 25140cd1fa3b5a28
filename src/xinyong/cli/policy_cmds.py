"""Commands for policy authors: lint against the charter, run policy tests, export the JSON Schema,
and explain one subject's assessment from a records file (no store needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xinyong.cli import output
from xinyong.cli.options import parse_as_of
from xinyong.cli.output import print_json
from xinyong.model.errors import InvalidInput

if TYPE_CHECKING:
    from xinyong.model.record import Amendment, Record

policy_app = typer.Typer(help="Write, check and test policies (YAML).", no_args_is_help=True)

PathsArg = Annotated[list[Path], typer.Argument(help="Policy files or directories to search.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@policy_app.command("lint")
def lint_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="Policy files or directories.")] = None,
    json_out: JsonOpt = False,
    rules: Annotated[bool, typer.Option("--rules", help="List the charter rules and exit.")] = False,
    impact: Annotated[bool, typer.Option("--impact", help="Also warn (XF001, never an error) where a list, "
                                                          "tier or measure fails the four-fifths rule on a "
                                                          "synthetic reference population (20 000 subjects).")
                      ] = False,
) -> None:
    """Check policies against the charter (DESIGN.md §2). Prints `file:line: CODE message`; exit 1 on
    any violation (XF warnings do not change the exit code). Rules are documented in docs/charter-rules.md."""
    from xinyong.policy.lint import RULES, lint_paths
    if rules:
        from rich.table import Table

        table = Table("code", "charter rule", "what it refuses")
        for rule in RULES:
            table.add_row(rule.code, str(rule.charter_rule), rule.title)
        output.console.print(table)
        return
    if not paths:
        raise typer.BadParameter("give at least one policy file or directory", param_hint="PATHS")
    problems = lint_paths(list(paths))
    warnings: list[Any] = []
    if impact and not problems:  # only a lawful policy is worth simulating
        from xinyong.cli.lab_cmds import LAB_AS_OF, impact_warnings
        from xinyong.policy.loader import find_policy_files

        warnings = impact_warnings(find_policy_files(list(paths)), 20_000, 42, LAB_AS_OF)
    if json_out:
        print_json([p.as_dict() for p in problems] + [w.as_dict() for w in warnings])
    else:
        for p in problems:
            print(p)  # one problem per line, never wrapped: editors and CI parse file:line
        for w in warnings:
            print(w)
        if not problems:
            output.status("clean:", "no charter violations")
    raise typer.Exit(1 if problems else 0)


@policy_app.command("test")
def test_cmd(paths: PathsArg, json_out: JsonOpt = False) -> None:
    """Run policy tests (`*.tests.yaml`): records and an as-of date in, expected score, tier, lists and
    decisions out. Exit 1 on any failure."""
    from xinyong.policy.testing import discover, run_test_file
    files = discover(list(paths))
    if not files:
        raise typer.BadParameter("no *.tests.yaml files found", param_hint="PATHS")
    results = [run_test_file(f) for f in files]
    if json_out:
        print_json([
            {"file": str(r.path), "policy": r.policy,
             "cases": [{"name": c.name, "line": c.line, "passed": c.passed, "failures": c.failures}
                       for c in r.cases]}
            for r in results
        ])
    else:
        for r in results:
            passed = sum(c.passed for c in r.cases)
            colour = "green" if r.passed else "red"
            output.console.print(f"[{colour}]{r.path}[/] ({r.policy}): {passed}/{len(r.cases)} cases passed")
            for c in r.cases:
                if not c.passed:
                    for failure in c.failures:
                        print(f"  {r.path}:{c.line}: {c.name}: {failure}")
    raise typer.Exit(0 if all(r.passed for r in results) else 1)


@policy_app.command("schema")
def schema_cmd(
    kind: Annotated[str, typer.Option(help="policy | catalogue | policy-test")] = "policy",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export the JSON Schema of a document kind, for editors (e.g. yaml-language-server)."""
    from xinyong.model.catalogue import Catalogue
    from xinyong.policy.schema import Policy
    from xinyong.policy.testing import PolicyTestFile
    models: dict[str, Any] = {"policy": Policy, "catalogue": Catalogue, "policy-test": PolicyTestFile}
    if kind not in models:
        raise typer.BadParameter(f"unknown kind {kind!r}; choose one of {', '.join(models)}")
    schema = models[kind].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:xinyong:schema:{kind}:1"
    text = json.dumps(schema, indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        output.err_console.print(f"wrote {out}")


def read_records_file(path: Path) -> tuple[list[Record], list[Amendment]]:
    """Records (and amendments) from JSON Lines of records, or a YAML/JSON mapping with ``records`` and
    ``amendments`` lists. Errors name the line or item."""
    import yaml

    from xinyong.model.record import Amendment, Record
    text = path.read_text(encoding="utf-8")
    records: list[Record] = []
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(Record.model_validate_json(line))
                except ValueError as exc:
                    raise InvalidInput(f"{path}:{n}: {exc}", field="records") from None
        return records, []
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: expected a mapping with 'records' and 'amendments'")
    item = "records[?]"
    try:
        for i, x in enumerate(data.get("records") or []):
            item = f"records[{i}]"
            records.append(Record.model_validate(x))
        amendments = []
        for i, x in enumerate(data.get("amendments") or []):
            item = f"amendments[{i}]"
            amendments.append(Amendment.model_validate(x))
    except ValueError as exc:  # pydantic's message names the field
        raise InvalidInput(f"{path}: {item}: {exc}", field=item) from None
    return records, amendments


def explain_file(subject: str, policy: Path, records: Path, as_of: str | None, json_out: bool) -> None:
    """`xinyong explain --policy P --records FILE SUBJECT --as-of DATE`: no store needed."""
    from xinyong.cli.render import render_assessment
    from xinyong.model.identifiers import default_schemes
    from xinyong.policy.evaluate import evaluate
    from xinyong.policy.loader import load_policy
    if as_of is None:
        raise typer.BadParameter("give --as-of YYYY-MM-DD", param_hint="--as-of")
    day = parse_as_of(as_of)
    schemes = default_schemes()
    key = schemes.parse(subject).key
    lp = load_policy(policy)
    recs, amends = read_records_file(records)
    own = [r for r in recs if r.subject == key]
    own_ids = {r.id for r in own}
    assessment = evaluate(lp, key, own, [a for a in amends if a.record in own_ids], day, schemes)
    if json_out:
        print_json(assessment)
    else:
        render_assessment(output.console, lp.policy, assessment)
