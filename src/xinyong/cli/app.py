"""The Typer application and its command groups (each group lives in its own module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xinyong.cli import (
    audit_cmds,
    case_cmds,
    demo_cmd,
    keys_cmds,
    lab_cmds,
    lake_cmds,
    policy_cmds,
    registry_cmds,
    serve_cmds,
)
from xinyong.cli.options import DEFAULT_DB, ActorOpt, AsOfOpt, DbOpt, JsonOpt

app = typer.Typer(
    name="xinyong",
    help=(
        "xinyong (信用): a credit-information platform built for the rule of law.\n\n"
        "Agencies submit adjudicated records; a versioned policy turns them into scores, tiers, lists "
        "and measures; relying parties get decisions with their legal basis, never the data behind "
        "them; subjects see their whole file.\n\n"
        "Start with `xinyong demo`, or `xinyong policy lint policies/` to check policies against the "
        "charter. Typical flow: publish → ingest → evaluate → check / explain → audit verify."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(policy_cmds.policy_app, name="policy")
app.add_typer(registry_cmds.lists_app, name="lists")
app.add_typer(registry_cmds.audit_app, name="audit")
registry_cmds.audit_app.command("verify")(audit_cmds.audit_verify)
registry_cmds.audit_app.command("keygen")(audit_cmds.audit_keygen)
registry_cmds.audit_app.command("checkpoint")(audit_cmds.audit_checkpoint)
app.command("publish")(registry_cmds.publish)
app.command("ingest")(registry_cmds.ingest)
app.command("evaluate")(registry_cmds.evaluate)
app.command("check")(registry_cmds.check)
app.command("demo")(demo_cmd.demo)
app.command("migrate")(serve_cmds.migrate)
app.command("export")(lake_cmds.export)  # the Parquet lake and its engines
app.command("import-snapshot")(lake_cmds.import_snapshot)
# HTTP service (issue #4)
app.command("serve")(serve_cmds.serve)
app.add_typer(keys_cmds.keys_app, name="keys")
# due process (issue #5)
app.add_typer(case_cmds.cases_app, name="cases")
app.add_typer(case_cmds.repair_app, name="repair")
app.command("object")(case_cmds.object_cmd)
app.command("notices")(case_cmds.notices_cmd)
app.command("status")(case_cmds.status_cmd)
registry_cmds.lists_app.command("public")(case_cmds.lists_public)
lab_cmds.register(app)  # the policy lab (`xinyong lab ...`) and DP statistics (`xinyong stats`)


@app.command("explain")
def explain(
    subject: Annotated[str, typer.Argument(help="Subject id: scheme:value or a bare USCC / resident ID.")],
    policy: Annotated[Path | None, typer.Option(help="Policy file (with --records).")] = None,
    records: Annotated[Path | None, typer.Option(help="Records file (.jsonl, or YAML/JSON with records "
                                                       "and amendments); without it, read the store.")] = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """The subject's own file: score, tier, listings, and every record's contribution with the reason.

    From the store (every published policy), or from a records file under one --policy."""
    if records is not None:
        policy_cmds.explain_file(subject, policy or Path("policies/shixin.yaml"), records, as_of, json_out)
    else:
        registry_cmds.explain_registry(db, actor, subject, as_of, json_out)
