"""`xinyong demo`: build a demo registry end to end and print what each user would see."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from xinyong.cli.options import JsonOpt, parse_as_of
from xinyong.cli.output import console, err_console, print_json
from xinyong.cli.render import render_assessment, render_decision
from xinyong.cli.serve_cmds import run_server

if TYPE_CHECKING:
    from xinyong.service.demo import DemoResult


def demo(
    db: Annotated[str, typer.Option("--db", help="Demo store: a DuckDB file (replaced if it exists) or a "
                                   "PostgreSQL URL postgresql://user@host:port/dbname.")] = "xinyong-demo.duckdb",
    subjects: Annotated[int, typer.Option(help="Synthetic subjects (about 10 records each).")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same registry.")] = 42,
    policies: Annotated[Path, typer.Option(help="Directory of policies to publish.")] = Path("policies"),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Evaluation date YYYY-MM-DD.")] = None,
    json_out: JsonOpt = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Then serve the HTTP API with demo keys "
                                        "(blocks until Ctrl-C).")] = True,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
) -> None:
    """Build a registry of synthetic subjects and records from the sample policies: publish, ingest,
    evaluate, decide, explain, verify the audit log — print a summary, then serve the HTTP API with
    demo keys and ready `curl` lines (unless --no-serve)."""
    from xinyong.service.demo import DEMO_AS_OF, build_demo
    if subjects < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--subjects")
    day = parse_as_of(as_of) if as_of else DEMO_AS_OF
    started = time.perf_counter()
    with console.status("building the demo registry") as status:
        result = build_demo(db, policies, subjects=subjects, seed=seed, as_of=day,
                            step=lambda s: status.update(s))
    total = time.perf_counter() - started
    if json_out:
        print_json(_as_json(result, total))
    else:
        _print(result, total)
    if not result.audit.ok:
        err_console.print("[red]the audit log does not verify[/]")
        raise typer.Exit(1)
    if serve:
        serve_demo(result, host, port)


def serve_demo(r: DemoResult, host: str, port: int) -> None:
    """Create demo keys, print the URL and ready `curl` lines, and serve (blocks)."""
    from xinyong.service.principals import create_demo_keys
    from xinyong.store import open_store
    from xinyong.web import Settings
    debtor = r.decisions[0].subject if r.decisions else None
    clean = r.decisions[-1].subject if r.decisions else None
    with open_store(r.db, create=False) as store:
        keys = create_demo_keys(store, debtor or "cn.ric:11010519491231002X")
    url = f"http://{host}:{port}"
    console.rule(f"serving the HTTP API on {url} (docs: {url}/docs) — Ctrl-C stops")
    for label, k in keys.items():
        print(f"{label:9} key ({k.principal.role.value}, id {k.principal.id}): {k.key}")
    air = keys["airline"].key
    lines = [f"curl -s {url}/v1/decisions -H 'Authorization: Bearer {air}' -H 'Content-Type: application/json' "
             f"-d '{{\"subject\": \"{s}\", \"action\": \"transport.flight.purchase\", \"purpose\": "
             f"\"ticket sale\"}}'" for s in (debtor, clean) if s]
    if debtor:
        lines.append(f"curl -s {url}/v1/subjects/{debtor}/file -H 'Authorization: Bearer {keys['subject'].key}'")
    lines.append(f"curl -s '{url}/v1/lists/shixin?limit=5'")
    print("try (a listed debtor is denied with the legal basis, a clean subject allowed):")
    for line in lines:
        print("  " + line, flush=True)
    print("web pages (zh / en; sign in at " + url + "/signin with a key):")
    print(f"  public register   {url}/register?list=shixin   (no sign-in)")
    print(f"  subject portal    {url}/portal   sign in with {keys['subject'].key} (the listed debtor)")
    print(f"  reviewer console  {url}/console   sign in with {keys['reviewer'].key} or, for an appeal, "
          f"{keys['reviewer2'].key}", flush=True)
    run_server(Settings(db=r.db, as_of=r.as_of), host, port)


def _print(r: DemoResult, total: float) -> None:
    p, i = r.population, r.ingest
    console.rule(f"xinyong demo registry: {r.db} (as of {r.as_of})")
    console.print(f"population: {p.subjects:,} subjects ({p.persons:,} persons, {p.organisations:,} "
                  f"organisations), {p.records:,} records generated in {r.seconds['generate']:.1f} s")
    accepted, read = sum(x.accepted for x in i), sum(x.rows_read for x in i)
    rejected = sum(x.rejected for x in i)
    console.print(f"ingest: {len(i)} agencies' files, {read:,} rows, {accepted:,} records accepted, "
                  f"{rejected:,} rejected in {r.seconds['ingest']:.1f} s "
                  f"({read / max(r.seconds['ingest'], 1e-9):,.0f} rows/s incl. file splitting)")
    for run in r.runs:
        console.print(run.describe())
    console.rule("decisions for relying parties (no records, no score)")
    for d in r.decisions:
        render_decision(console, d)
    if r.explained:
        console.rule("the listed subject's own file")
        for lp, a in r.explained:
            render_assessment(console, lp.policy, a)
    console.rule("audit")
    if r.audit.ok:
        console.print(f"[green]audit log intact[/]: {r.audit.checked:,} entries, head {r.audit.head_hash}")
    else:
        console.print(f"[red]audit log broken at {r.audit.first_bad_seq}[/]: {r.audit.reason}")
    table = Table("step", "seconds", box=None)
    for k, v in r.seconds.items():
        table.add_row(k, f"{v:.2f}")
    table.add_row("total", f"{total:.2f}")
    console.print(table)
    console.print(f"next: xinyong check --db {r.db} SUBJECT transport.flight.purchase --purpose "
                  f"'ticket sale' --as-of {r.as_of}", markup=False)
    console.print(f"      xinyong lists show shixin --db {r.db} --as-of {r.as_of}", markup=False)


def _as_json(r: DemoResult, total: float) -> dict[str, object]:
    return {
        "db": str(r.db), "as_of": r.as_of.isoformat(), "subjects": r.population.subjects,
        "records": r.population.records, "ingest": [x.as_dict() for x in r.ingest],
        "runs": [run.as_dict() for run in r.runs],
        "decisions": [{**d.model_dump(mode="json"), "id": d.id} for d in r.decisions],
        "audit": {"ok": r.audit.ok, "checked": r.audit.checked, "head": r.audit.head_hash},
        "seconds": {**r.seconds, "total": total},
    }
