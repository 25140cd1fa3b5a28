"""Commands over a registry (a store file): publish, ingest, evaluate, check, lists, audit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.cli.exitcodes import FINDINGS, INPUT_ERROR, OK
from xinyong.cli.options import DEFAULT_DB, ActorOpt, AsOfOpt, DbOpt, JsonOpt, parse_as_of
from xinyong.cli.output import console, err_console, print_json
from xinyong.cli.render import esc, print_table, render_assessment, render_decision, render_ingest

if TYPE_CHECKING:
    from xinyong.service.ingest import Progress as IngestProgress
    from xinyong.service.registry import Registry

lists_app = typer.Typer(help="Lists (red and black) and the listings in force.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@contextmanager
def open_registry(db: str | Path, actor: str, *, read_only: bool = False, create: bool = False
                  ) -> Iterator[Registry]:
    """The registry over the store ``db`` names; only commands that create a store pass ``create``
    (a typo in ``--db`` must not silently answer from an empty register)."""
    from xinyong.service.registry import Registry
    from xinyong.store import open_store
    store = open_store(db, read_only=read_only, create=create, migrate=bool(create))
    try:
        yield Registry(store, actor=actor)
    finally:
        store.close()


def publish(
    paths: Annotated[list[Path], typer.Argument(help="Policy files or directories.")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", json_out: JsonOpt = False,
    preview: Annotated[bool, typer.Option("--preview", help="Publish nothing: show what each new version would "
                                                            "change against the published one on a synthetic "
                                                            "population (the policy lab's impact report).")] = False,
    population: Annotated[int, typer.Option(help="--preview: synthetic subjects.")] = 20_000,
) -> None:
    """Publish policies into the store (refused whole if any breaks the charter). A published version
    is immutable: change a policy by publishing a new version. With --preview, nothing is published:
    the impact of each new version is reported first (lab-report/preview-POLICY.html and .json)."""
    if preview:
        from xinyong.cli.lab_cmds import preview_impact

        with open_registry(db, actor) as reg:
            published = {lp.policy.id: lp for lp in reg.policies()}
        preview_impact(paths, published, population, json_out)
        return
    with open_registry(db, actor, create=True) as reg:
        out = reg.publish(paths, today=date.today())  # the edge reads the clock: no retroactive versions
    if json_out:
        print_json([p.__dict__ for p in out])
        return
    for p in out:
        console.print(f"{p.policy}@{p.version}: {'published' if p.new else 'already published'}")


def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, JSON Lines or Parquet files of records.")],
    source: Annotated[str, typer.Option("--source", help="The submitting agency (a catalogue source).")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
    on_error: Annotated[Literal["skip", "stop"], typer.Option(
        "--on-error", help="skip: store the good rows, report bad rows and unreadable parts (line, byte, "
        "row group) in <file>.rejects.csv; stop: exit 2 at the first one.")] = "skip",
) -> None:
    """Ingest records: every row validated (identifier checksum, known type, source allowed, dates
    YYYY-MM-DD, fields); bad rows go to <file>.rejects.csv with row, field and reason; good rows are
    committed in whole batches. Re-running the same file adds nothing. An unknown column (e.g. a
    misspelled `amount`) refuses the file before anything is stored."""
    from xinyong.model.identifiers import default_schemes
    from xinyong.service.ingest import ingest_files
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        catalogue = reg.policies()[0].catalogue
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                      TimeElapsedColumn(), console=err_console, disable=json_out) as bar:
            task = bar.add_task("ingest", total=None, info="")
            started = time.perf_counter()

            def progress(p: IngestProgress) -> None:
                rate = p.rows_read / max(time.perf_counter() - started, 1e-9)
                bar.update(task, description=Path(p.file).name, info=(
                    f"{p.rows_read:,} rows · {p.accepted:,} new · {p.duplicates:,} dup · "
                    f"{p.rejected:,} rejected · {rate:,.0f} rows/s"))

            summary = ingest_files(reg.store, files, source=source, catalogue=catalogue,
                                   schemes=default_schemes(), as_of=day, actor=actor, progress=progress,
                                   on_error=on_error)
    if json_out:
        print_json(summary.as_dict())
    else:
        render_ingest(console, summary)
    raise typer.Exit(0 if summary.rejected == 0 else 1)


def evaluate(
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
    engine: Annotated[str | None, typer.Option("--engine", help="With --lake: duckdb or spark (default: "
                                               "the store runs the query itself).")] = None,
    lake: Annotated[Path | None, typer.Option("--lake", help="Evaluate over this Parquet lake (`xinyong "
                                              "export`); snapshots go to LAKE/snapshots.")] = None,
    master: Annotated[str, typer.Option("--master", help="Spark master: local[N] or spark://host:port.")
                      ] = "local[2]",
) -> None:
    """Evaluate every published policy over the whole population (compiled SQL) and store the snapshot.
    With --lake, an engine (DuckDB or Spark) runs the same query over the lake and writes snapshots that
    `xinyong import-snapshot` loads."""
    day = parse_as_of(as_of)
    if lake is not None or engine is not None:
        from xinyong.cli.lake_cmds import evaluate_lake

        if lake is None:
            raise typer.BadParameter("--engine needs --lake DIR (export one with `xinyong export`)",
                                     param_hint="--lake")
        evaluate_lake(db, actor, day, engine or "duckdb", lake, master, None, json_out)
        return
    with open_registry(db, actor) as reg, console.status(f"evaluating as of {day}"):
        summaries = reg.evaluate(day)
    if json_out:
        print_json([s.as_dict() for s in summaries])
        return
    for s in summaries:
        console.print(s.describe())


def check(
    subject: Annotated[str | None, typer.Argument(help="Subject id (scheme:value or bare code).")] = None,
    action: Annotated[str | None, typer.Argument(help="Action, e.g. transport.flight.purchase.")] = None,
    purpose: Annotated[str, typer.Option("--purpose", help="Why you ask (required, audited).")] = "",
    batch: Annotated[Path | None, typer.Option("--batch", help="File of subject ids, one per line "
                                               "(a manifest; blank lines and # comments allowed); ACTION "
                                               "is then the only argument.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="With --batch: stop at the first bad line "
                                                          "(exit 2, nothing decided).")] = False,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """May SUBJECT do ACTION? Prints the effect (allow / deny / review / benefit) with the measures,
    imposing agencies and legal basis. Discloses no records and no score.

    With --batch, a bad or ambiguous line is reported with its line number (on stderr; in --json as an
    object with "line" and "error") and every other line is still decided."""
    day = parse_as_of(as_of)
    if batch is not None:
        from xinyong.service.manifest import check_manifest, read_manifest

        act = action or subject
        if act is None:
            raise typer.BadParameter("give the ACTION to check the manifest against")
        lines = read_manifest(batch)
        with open_registry(db, actor) as reg:
            result = check_manifest(reg, lines, act, purpose, day, strict=strict, name=str(batch))
        if json_out:
            print_json(result.as_json())
        else:
            for _, d in result.decisions:
                print(f"{d.subject}\t{d.effect.value}\t{d.id}")  # tab-separated, for scripts
            for e in result.errors:
                err_console.print(f"{batch}:{e.line}: {e.title}: {e.error}", markup=False)
        denied = any(d.effect.value == "deny" for _, d in result.decisions)
        raise typer.Exit(INPUT_ERROR if not result.ok else FINDINGS if denied else OK)
    with open_registry(db, actor) as reg:
        if subject is None or action is None:
            raise typer.BadParameter("give SUBJECT and ACTION (or --batch FILE ACTION)")
        decision = reg.check(subject, action, purpose, day)
    if json_out:
        print_json({**decision.model_dump(mode="json"), "id": decision.id})
    else:
        render_decision(console, decision)
    raise typer.Exit(FINDINGS if decision.effect.value == "deny" else OK)


def explain_registry(reg_db: str | Path, actor: str, subject: str, as_of: str | None, json_out: bool) -> None:
    """`xinyong explain SUBJECT` over the store: the subject's own file under every policy."""
    day = parse_as_of(as_of)
    with open_registry(reg_db, actor) as reg:
        pairs = reg.explain(subject, day)
    if json_out:
        print_json([a for _, a in pairs])
        return
    for lp, a in pairs:
        render_assessment(console, lp.policy, a)


@lists_app.command("show")
def lists_show(
    list_id: Annotated[str, typer.Argument(help="List id, e.g. shixin.")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
    limit: Annotated[int, typer.Option(help="Rows to print (all with --json).")] = 20,
) -> None:
    """The listings in force on a list, from the latest evaluation (as of --as-of if given)."""
    day = parse_as_of(as_of) if as_of else None
    with open_registry(db, actor, read_only=True) as reg:
        lp, rows = reg.listings(list_id, day)
    if json_out:
        print_json([{"subject": r.subject, "list": r.list_id, "kind": r.kind, "since": str(r.since),
                     "until": str(r.until)} for r in rows])
        return
    ldef = lp.policy.list_def(list_id)
    console.print(f"[bold]{esc(ldef.name)}[/] ({esc(list_id)}, {ldef.kind.value} list, {esc(lp.policy.ref)}): "
                  f"{len(rows):,} listings in force")
    print_table(console, ("subject", "since", "until"), ((r.subject, r.since, r.until) for r in rows[:limit]),
                ids=("subject",))
