"""Commands for registers larger than one store's run: `export` to a Parquet lake, evaluation over the
lake (`evaluate --lake`, with DuckDB or Spark), and `import-snapshot` of what the engine computed.

The store stays the truth: the lake is a copy stamped with the audit entry of its export, and a
snapshot comes back only if that entry is in the store's chain. Engines are imported inside the
commands (PySpark starts a JVM), so other commands do not pay for them.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from xinyong.cli.options import DEFAULT_DB, ActorOpt, DbOpt, JsonOpt
from xinyong.cli.output import console, err_console, print_json
from xinyong.model.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from xinyong.store.protocol import Store

TABLE_NAMES = ("records", "amendments", "subjects")
ENGINES = ("duckdb", "spark")


def _store_id(store: Store) -> str:
    """The register's identity: the hash of its first audit entry (or its URL before it has one)."""
    entries = store.audit_entries(0)
    try:
        first = next(iter(entries), None)
    finally:
        close = getattr(entries, "close", None)
        if callable(close):
            close()
    return first.hash if first is not None else store.url


def export(
    tables: Annotated[list[str] | None, typer.Argument(
        help="records, amendments, subjects (default: all three).")] = None,
    parquet: Annotated[Path, typer.Option("--parquet", help="The lake directory (created if missing).")] = Path("lake"),
    buckets: Annotated[int, typer.Option(help="Hash buckets of the subject (1-256): one Parquet file each.")] = 16,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", json_out: JsonOpt = False,
) -> None:
    """Export tables to a Parquet lake: one file per hash bucket of the subject, sorted by subject, and a
    manifest (rows, sha256 of every file, content hash, the audit entry of the export). Streams in
    bounded memory; re-running when nothing changed writes nothing."""
    from xinyong.audit import AuditEntry, utc_now
    from xinyong.engines.lake import unchanged, write_table
    from xinyong.store import open_store
    from xinyong.store.protocol import LakeExport

    chosen = tables or list(TABLE_NAMES)
    for t in chosen:
        if t not in TABLE_NAMES:
            raise typer.BadParameter(f"{t!r}: choose from {', '.join(TABLE_NAMES)}", param_hint="TABLES")
    results: list[dict[str, Any]] = []
    store = open_store(db, create=False, migrate=False)
    try:
        if not isinstance(store, LakeExport):
            raise InvalidInput(f"store {store.url} cannot export to a lake", field="db")
        store_id = _store_id(store)
        for t in chosen:
            started = time.perf_counter()
            pages = store.export_table(t, buckets=buckets)
            if unchanged(parquet, pages, store_id):
                close = getattr(pages.batches, "close", None)
                if callable(close):
                    close()
                results.append({"table": t, "rows": pages.rows, "written": False, "seconds": 0.0})
                continue
            with Progress(TextColumn(f"export {t}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                          TimeElapsedColumn(), console=err_console, disable=json_out) as bar:
                task = bar.add_task(t, total=pages.rows)

                def advance(n: int, task: TaskID = task) -> None:
                    bar.advance(task, n)

                staged = write_table(parquet, pages, store_id=store_id, store_schema=store.schema_version(),
                                     progress=advance)
            if staged.same_as_current():
                staged.discard()
                results.append({"table": t, "rows": pages.rows, "written": False,
                                "seconds": time.perf_counter() - started})
                continue
            m = staged.manifest
            (chained,) = store.append_audit([AuditEntry(0, utc_now(), actor, "export", detail={
                "table": t, "rows": m["rows"], "buckets": buckets, "content_hash": m["content_hash"],
                "source_audit_seq": m["source_audit_seq"], "lake": str(parquet)})])
            staged.commit({"seq": chained.entry.seq, "hash": chained.hash, "actor": actor, "action": "export",
                           "at": chained.entry.at.isoformat()})
            results.append({"table": t, "rows": m["rows"], "written": True, "files": len(m["files"]),
                            "content_hash": m["content_hash"], "audit_seq": chained.entry.seq,
                            "seconds": time.perf_counter() - started})
    finally:
        store.close()
    if json_out:
        print_json(results)
        return
    for r in results:
        if r["written"]:
            rate = r["rows"] / max(r["seconds"], 1e-9)
            console.print(f"{r['table']}: {r['rows']:,} rows in {r['files']} files, {r['seconds']:.2f} s "
                          f"({rate:,.0f} rows/s); audit entry {r['audit_seq']}; content {r['content_hash'][:16]}")
        else:
            console.print(f"{r['table']}: {r['rows']:,} rows, unchanged (nothing written)")


def evaluate_lake(db: str, actor: str, day: date, engine: str, lake_dir: Path, master: str,
                  snapshots: Path | None, json_out: bool) -> None:
    """`xinyong evaluate --lake DIR`: every published policy over the lake, one snapshot each, written
    under DIR/snapshots/<run> (import them with `xinyong import-snapshot DIR/snapshots`)."""
    from xinyong.engines.lake import DuckDBLakeEngine, Lake, new_run_id
    from xinyong.engines.protocol import LakeEngine
    from xinyong.service.registry import Registry
    from xinyong.store import open_store

    if engine not in ENGINES:
        raise typer.BadParameter(f"{engine!r}: choose from {', '.join(ENGINES)}", param_hint="--engine")
    try:
        lake = Lake.open(lake_dir)
    except FileNotFoundError as exc:
        raise NotFound(str(exc), field="lake") from None
    with open_store(db, read_only=True, create=False, migrate=False) as store:
        policies = Registry(store, actor=actor).policies(day)  # the versions in force on the date
    out_root = snapshots or lake_dir / "snapshots"
    runner: LakeEngine
    if engine == "spark":
        from xinyong.engines.spark_engine import SparkEngine

        runner = SparkEngine(master)
    else:
        runner = DuckDBLakeEngine(temp_directory=out_root / ".duckdb-tmp")
        out_root.mkdir(parents=True, exist_ok=True)
    done = []
    try:
        with console.status(f"evaluating over {lake_dir} with {engine} as of {day}"):
            for lp in policies:
                run = new_run_id(lp, day)
                done.append(runner.evaluate(lp, day, lake, out_root / run, run=run))
    finally:
        runner.close()
    if json_out:
        print_json([{**s.summary().as_dict(), "engine": s.engine, "snapshot": str(s.directory),
                     "content_hash": s.content_hash} for s in done])
        return
    for s in done:
        console.print(f"{s.summary().describe()} [{s.engine}] → {s.directory}")
    console.print(f"load into the store with: xinyong import-snapshot {out_root} --db {db}")


def import_snapshot(
    directory: Annotated[Path, typer.Argument(help="A snapshot directory, or a directory of them "
                                                   "(each with _manifest.json).")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", json_out: JsonOpt = False,
) -> None:
    """Load snapshots computed over a lake (`xinyong evaluate --lake`) into the store as normal runs:
    decisions, the public list and the subject file then use them. Runs already imported are skipped."""
    from xinyong.store import open_store
    from xinyong.store.protocol import SnapshotImport
    found = ([directory] if (directory / "_manifest.json").is_file()
             else sorted((p.parent for p in directory.glob("*/_manifest.json")), key=lambda p: p.stat().st_mtime))
    if not found:
        raise NotFound(f"no snapshot in {directory} (no _manifest.json)", field="snapshot")
    out: list[dict[str, Any]] = []
    with open_store(db, create=False, migrate=False) as store:
        if not isinstance(store, SnapshotImport):
            raise InvalidInput(f"store {store.url} cannot import snapshots", field="db")
        known = {r.run for r in store.runs()}
        for snap in found:
            run = str(json.loads((snap / "_manifest.json").read_text(encoding="utf-8")).get("run"))
            if run in known:
                out.append({"snapshot": str(snap), "run": run, "imported": False})
                continue
            started = time.perf_counter()
            summary = store.import_snapshot(snap, actor=actor)
            seconds = time.perf_counter() - started
            out.append({**summary.as_dict(), "snapshot": str(snap), "imported": True,
                        "import_seconds": round(seconds, 3)})
    if json_out:
        print_json(out)
        return
    for r in out:
        if r["imported"]:
            console.print(f"{r['policy']} v{r['version']}: run {r['run']} imported, {r['subjects']:,} subjects "
                          f"in {r['import_seconds']:.2f} s")
        else:
            console.print(f"run {r['run']}: already in the store")
