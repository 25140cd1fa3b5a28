"""Human-readable renderings of assessments and decisions (the JSON form is the model itself).

Two rules for everything printed here. Values are escaped (:func:`esc`) or printed as plain
:class:`~rich.text.Text`: rule texts, reasons and names contain square brackets
(``[court.refuse_perform, ...]``) that Rich would otherwise take for markup and drop. And identifiers are
never cut: :func:`print_table` keeps id columns whole and, on a terminal too narrow for them, prints the
table wider rather than truncating a case id or subject key that a person needs to copy.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from xinyong.model.assessment import Assessment, Decision
    from xinyong.policy.schema import Policy
    from xinyong.service.ingest import IngestSummary


def esc(value: object) -> str:
    """``value`` as text that Rich prints literally (square brackets kept)."""
    return escape(str(value))


def print_table(console: Console, headers: Sequence[str], rows: Iterable[Sequence[object]],
                ids: Collection[str] = ()) -> None:
    """A borderless table; the ``ids`` columns are never wrapped nor cut, other columns wrap.

    Rich shrinks a table to the terminal and cuts what does not fit, even a ``no_wrap`` column; when the
    whole ids do not fit, the table is printed at the width they need (the terminal wraps the long lines,
    the ids stay whole and copyable).
    """
    table = Table(box=None)
    for h in headers:
        table.add_column(h, no_wrap=h in ids, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    need = Measurement.get(console, console.options.update_width(10_000), table).minimum
    if need <= console.width:
        console.print(table)
        return
    Console(width=need, file=console.file, force_terminal=console.is_terminal, no_color=console.no_color,
            highlight=False).print(table)


def render_assessment(console: Console, policy: Policy, a: Assessment) -> None:
    console.print(f"[bold]{esc(a.subject)}[/] under [bold]{esc(policy.ref)}[/] ({esc(policy.title)}) "
                  f"as of {a.as_of}")
    if a.score is not None:
        console.print(f"  score [bold]{a.score}[/]   tier [bold]{esc(a.tier)}[/]")
    if a.listings:
        for x in a.listings:
            console.print(f"  [red]listed[/] on [bold]{esc(x.list_id)}[/] ({x.kind.value}) "
                          f"since {x.since} until {x.until}: {esc(x.rule)}")
            console.print(f"    legal basis: {x.legal_basis}; records: {', '.join(x.triggered_by)}",
                          markup=False)
    else:
        console.print("  on no list")
    if a.contributions:
        print_table(console, ("decided", "type", "record", "points", "counts", "why"),
                    ((c.decided, c.type, c.record, f"{c.points:+d}" if c.counted else "",
                      "yes" if c.counted else "no", c.note) for c in a.contributions), ids=("type", "record"))
    for cap in a.caps:
        console.print(f"  cap {esc(cap.cap)} ({esc(cap.period)}): {cap.raw:+d} capped to {cap.capped:+d}")


def render_decision(console: Console, d: Decision) -> None:
    colour = {"deny": "red", "review": "yellow", "benefit": "green", "allow": "green"}[d.effect.value]
    console.print(f"[bold {colour}]{d.effect.value.upper()}[/] {esc(d.action)} for {esc(d.subject)} "
                  f"(as of {d.as_of}, decision {esc(d.id)})")
    for m in d.measures:
        console.print(f"  {m.measure} ({m.because}) by {m.agency}: {m.legal_basis}", markup=False)
    if not d.measures:
        console.print("  no measure applies to this action")
    console.print(f"  policies: {', '.join(d.policy_versions)}", markup=False)


def render_ingest(console: Console, s: IngestSummary) -> None:
    colour = "green" if s.rejected == 0 else "yellow"
    console.print(f"[{colour}]ingest from {esc(s.source)}[/]: {s.rows_read:,} rows read, {s.accepted:,} new records, "
                  f"{s.duplicates:,} already stored, {s.rejected:,} rows rejected in {s.seconds:.1f} s "
                  f"({s.rows_per_second:,.0f} rows/s)")
    for f in s.files:
        if f.rejects_file:
            console.print(f"  {f.file}: {f.rejected:,} rejected rows listed in {f.rejects_file}", markup=False)
    for r in s.rejects[:10]:
        console.print(f"  {r.file}:{r.row}: {r.field}: {r.reason} (value {r.value!r})", markup=False)
    if len(s.rejects) > 10:
        console.print(f"  … and {s.rejected - 10:,} more rows (see the rejects file)")
