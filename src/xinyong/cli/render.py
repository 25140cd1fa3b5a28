"""Human-readable renderings of assessments and decisions (the JSON form is the model itself)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from xinyong.model.assessment import Assessment, Decision
from xinyong.policy.schema import Policy
from xinyong.service.ingest import IngestSummary


def render_assessment(console: Console, policy: Policy, a: Assessment) -> None:
    console.print(f"[bold]{a.subject}[/] under [bold]{policy.ref}[/] ({policy.title}) as of {a.as_of}")
    if a.score is not None:
        console.print(f"  score [bold]{a.score}[/]   tier [bold]{a.tier}[/]")
    if a.listings:
        for x in a.listings:
            console.print(f"  [red]listed[/] on [bold]{x.list_id}[/] ({x.kind.value}) "
                          f"since {x.since} until {x.until}: {x.rule}")
            console.print(f"    legal basis: {x.legal_basis}; records: {', '.join(x.triggered_by)}",
                          markup=False)
    else:
        console.print("  on no list")
    if a.contributions:
        table = Table("decided", "type", "record", "points", "counts", "why", box=None)
        for c in a.contributions:
            table.add_row(str(c.decided), c.type, c.record[:12], f"{c.points:+d}" if c.counted else "",
                          "yes" if c.counted else "no", c.note)
        console.print(table)
    for cap in a.caps:
        console.print(f"  cap {cap.cap} ({cap.period}): {cap.raw:+d} capped to {cap.capped:+d}")


def render_decision(console: Console, d: Decision) -> None:
    colour = {"deny": "red", "review": "yellow", "benefit": "green", "allow": "green"}[d.effect.value]
    console.print(f"[bold {colour}]{d.effect.value.upper()}[/] {d.action} for {d.subject} "
                  f"(as of {d.as_of}, decision {d.id})")
    for m in d.measures:
        console.print(f"  {m.measure} ({m.because}) by {m.agency}: {m.legal_basis}", markup=False)
    if not d.measures:
        console.print("  no measure applies to this action")
    console.print(f"  policies: {', '.join(d.policy_versions)}", markup=False)


def render_ingest(console: Console, s: IngestSummary) -> None:
    colour = "green" if s.rejected == 0 else "yellow"
    console.print(f"[{colour}]ingest from {s.source}[/]: {s.rows_read:,} rows read, {s.accepted:,} new records, "
                  f"{s.duplicates:,} already stored, {s.rejected:,} rows rejected in {s.seconds:.1f} s "
                  f"({s.rows_per_second:,.0f} rows/s)")
    for f in s.files:
        if f.rejects_file:
            console.print(f"  {f.file}: {f.rejected:,} rejected rows listed in {f.rejects_file}", markup=False)
    for r in s.rejects[:10]:
        console.print(f"  {r.file}:{r.row}: {r.field}: {r.reason} (value {r.value!r})", markup=False)
    if len(s.rejects) > 10:
        console.print(f"  … and {s.rejected - 10:,} more rows (see the rejects file)")
