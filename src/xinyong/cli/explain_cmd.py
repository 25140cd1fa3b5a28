"""`xinyong explain`: a subject's own file, from the store or from a records file under one policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, ActorOpt, AsOfOpt, DbOpt, JsonOpt


def explain(
    subject: Annotated[str, typer.Argument(help="Subject id: scheme:value or a bare USCC / resident ID.")],
    policy: Annotated[Path | None, typer.Option(help="Policy file (with --records).")] = None,
    records: Annotated[Path | None, typer.Option(help="Records file (.jsonl, or YAML/JSON with records "
                                                       "and amendments); without it, read the store.")] = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """The subject's own file: score, tier, listings, and every record's contribution with the reason.

    From the store (every published policy), or from a records file under one --policy."""
    from xinyong.cli import policy_cmds, registry_cmds

    if records is not None:
        policy_cmds.explain_file(subject, policy or Path("policies/shixin.yaml"), records, as_of, json_out)
    else:
        registry_cmds.explain_registry(db, actor, subject, as_of, json_out)
