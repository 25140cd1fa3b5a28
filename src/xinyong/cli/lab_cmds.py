"""`xinyong lab ...` and `xinyong stats`: the policy lab on a synthetic population, and DP statistics.

Everything runs on a seeded synthetic population (generated into a temporary directory, or kept in
``--population-dir`` and reused); nothing opens a register store. Heavy libraries (DuckDB, pandas,
fairlearn, plotly, OpenDP) are imported inside the commands, so `xinyong --help` stays fast.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xinyong.cli.options import JsonOpt
from xinyong.cli.output import console, err_console, print_json
from xinyong.model.errors import PolicyError

if TYPE_CHECKING:
    from xinyong.engines.population import PopulationPaths
    from xinyong.lab.report import Report
    from xinyong.policy.loader import LoadedPolicy

lab_app = typer.Typer(help="The policy lab: impact preview, fairness report, simulation (synthetic populations).",
                      no_args_is_help=True)

LAB_AS_OF = date(2026, 7, 1)
PopulationOpt = Annotated[int, typer.Option("--population", help="Synthetic subjects (about 10 records each).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same population.")]
DirOpt = Annotated[Path | None, typer.Option("--population-dir", help="Keep the population here (reused if "
                                             "it already holds one).")]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="Date of the population and the evaluation, YYYY-MM-DD.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Report path without suffix: writes .html, .json and .png.")]
BootOpt = Annotated[int, typer.Option("--boot", help="Bootstrap replicates for the confidence intervals.")]
PngOpt = Annotated[bool, typer.Option("--png/--no-png", help="Also draw PNG charts (vl-convert).")]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint="--as-of") from None


@contextmanager
def _population(lp: LoadedPolicy, subjects: int, seed: int, as_of: date, keep: Path | None
                ) -> Iterator[PopulationPaths]:
    from xinyong.engines.population import PopulationPaths
    from xinyong.lab import generate_population

    if subjects < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--population")
    with tempfile.TemporaryDirectory(prefix="xinyong-lab-") as tmp:
        where = keep or Path(tmp)
        paths = PopulationPaths.in_dir(where)
        if not (paths.subjects.exists() and paths.attributes.exists() and paths.records.exists()):
            with console.status(f"generating {subjects:,} synthetic subjects"):
                generate_population(lp.catalogue, where, subjects=subjects, seed=seed, as_of=as_of)
        yield paths


def _write(report: Report, data: dict[str, Any], out: Path, png: bool, json_out: bool) -> None:
    from xinyong.lab.report import write

    written = write(report, data, out, png=png)
    if json_out:
        print_json(data)
        return
    console.print(f"[bold]{report.title}[/]")
    for label, value in report.headlines:
        console.print(f"  {value:>14}  {label}")
    for path in written:
        err_console.print(f"wrote {path}")


@lab_app.command("impact")
def impact_cmd(
    old: Annotated[Path, typer.Argument(help="The policy version in force (a policy file).")],
    new: Annotated[Path, typer.Argument(help="The proposed version (a policy file).")],
    population: PopulationOpt = 100_000, seed: SeedOpt = 42, population_dir: DirOpt = None,
    as_of: AsOfOpt = LAB_AS_OF.isoformat(), out: OutOpt = Path("lab-report/impact"), boot: BootOpt = 200,
    png: PngOpt = True, json_out: JsonOpt = False,
) -> None:
    """What NEW would change against OLD on the same synthetic population: who enters and leaves each
    list, tier transitions, measures newly triggered per action, rates per group, four-fifths checks,
    and the five largest changes explained by the rules behind them."""
    from xinyong.engines.population import compare, records_of
    from xinyong.lab.impact import impact
    from xinyong.lab.views import impact_report
    from xinyong.policy.loader import load_policy

    day = _day(as_of)
    lp_old, lp_new = load_policy(old), load_policy(new)
    with (_population(lp_old, population, seed, day, population_dir) as paths,
          console.status("evaluating both versions over the population")):
        table = compare(paths, lp_old, lp_new, day)
        data = impact(lp_old, lp_new, table, day, partial(records_of, paths), n_boot=boot, seed=seed)
    _write(impact_report(data), data, out, png, json_out)


def preview_impact(paths: list[Path], published: dict[str, LoadedPolicy], population: int, json_out: bool) -> None:
    """``xinyong publish --preview``: each policy under ``paths`` against its published version, on the
    same synthetic population (``service.impact.versions_impact``, as admins get it over HTTP); a policy
    not published yet is named and skipped, there is nothing to compare it with."""
    from xinyong.lab.views import impact_report
    from xinyong.policy.lint import lint
    from xinyong.policy.loader import find_policy_files, load_policy
    from xinyong.service.impact import versions_impact

    if population < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--population")
    for path in find_policy_files(paths):
        new = load_policy(path)
        if problems := lint(new):  # the charter first: an unlawful version is not worth previewing
            raise PolicyError(problems)
        old = published.get(new.policy.id)
        if old is None:
            err_console.print(f"{new.policy.ref}: not published yet; nothing to compare with", markup=False)
            continue
        with console.status(f"{old.policy.ref} -> {new.policy.ref}: {population:,} synthetic subjects, "
                            "evaluating both"):
            data = versions_impact(old, new, LAB_AS_OF, population=population, seed=42)
        _write(impact_report(data), data, Path("lab-report") / f"preview-{new.policy.id}", False, json_out)


def _fairness_data(lp: LoadedPolicy, paths: PopulationPaths, day: date, boot: int, seed: int) -> dict[str, Any]:
    import numpy as np

    from xinyong.engines.population import assess, rule_points
    from xinyong.lab.fairness import fairness, rule_gaps

    table = assess(paths, lp, day)
    disparities = [asdict(d) for d in fairness(lp, table, n_boot=boot, seed=seed)]
    kinds = {getattr(k, "value", str(k)) for k in lp.policy.applies_to}
    applies = np.isin(np.asarray(table.column("kind").to_pylist(), dtype=object), list(kinds))
    gaps = rule_gaps(rule_points(paths, lp, day), table, applies) if lp.policy.scoring is not None else []
    return {"policy": lp.policy.id, "version": lp.policy.version, "as_of": day.isoformat(),
            "subjects": table.num_rows, "disparities": disparities, "rule_gaps": gaps}


@lab_app.command("fairness")
def fairness_cmd(
    policy: Annotated[Path, typer.Argument(help="A policy file.")],
    population: PopulationOpt = 100_000, seed: SeedOpt = 42, population_dir: DirOpt = None,
    as_of: AsOfOpt = LAB_AS_OF.isoformat(), out: OutOpt = Path("lab-report/fairness"), boot: BootOpt = 200,
    png: PngOpt = True, json_out: JsonOpt = False,
) -> None:
    """Selection rate per group for every list, tier and measure; ratio to the most favoured group
    (four-fifths rule) and difference, with bootstrap intervals; the rules whose points differ most."""
    from xinyong.lab.views import fairness_report
    from xinyong.policy.loader import load_policy

    day = _day(as_of)
    lp = load_policy(policy)
    with (_population(lp, population, seed, day, population_dir) as paths,
          console.status("evaluating the policy over the population")):
        data = _fairness_data(lp, paths, day, boot, seed)
    _write(fairness_report(f"{lp.policy.id} {lp.policy.version}", data["disparities"], data["rule_gaps"]),
           data, out, png, json_out)


def impact_warnings(policies: list[Path], population: int, seed: int, day: date,
                    population_dir: Path | None = None) -> list[Any]:
    """XF001 warnings of each policy file on a reference population (``lab lint-impact``, and
    ``policy lint --impact``)."""
    from xinyong.engines.population import assess
    from xinyong.lab.fairness import fairness, lint_warnings
    from xinyong.policy.loader import load_policy

    warnings: list[Any] = []
    for path in policies:
        lp = load_policy(path)
        with _population(lp, population, seed, day, population_dir) as paths:
            table = assess(paths, lp, day)
        warnings += lint_warnings(lp, fairness(lp, table, n_boot=200, seed=seed))
    return warnings


@lab_app.command("lint-impact")
def lint_impact_cmd(
    policies: Annotated[list[Path], typer.Argument(help="Policy files.")],
    population: PopulationOpt = 20_000, seed: SeedOpt = 42, population_dir: DirOpt = None,
    as_of: AsOfOpt = LAB_AS_OF.isoformat(), json_out: JsonOpt = False,
) -> None:
    """The linter's companion: warn (code XF001, never an error) where a policy's list, tier or measure
    fails the four-fifths rule on a reference population. Prints `file:line: XF001 message`; exit 0."""
    warnings = impact_warnings(policies, population, seed, _day(as_of), population_dir)
    if json_out:
        print_json([w.as_dict() for w in warnings])
        return
    for w in warnings:
        print(w)
    if not warnings:
        err_console.print("[green]clean:[/] every judged outcome meets the four-fifths rule")


@lab_app.command("simulate")
def simulate_cmd(
    policy: Annotated[Path, typer.Argument(help="A policy file.")],
    years: Annotated[float, typer.Option("--years", help="Years to simulate, month by month.")] = 5.0,
    population: PopulationOpt = 100_000, seed: SeedOpt = 42, population_dir: DirOpt = None,
    as_of: AsOfOpt = LAB_AS_OF.isoformat(), out: OutOpt = Path("lab-report/simulation"),
    object_share: Annotated[float, typer.Option(help="Share of listings objected to.")] = 0.10,
    upheld_share: Annotated[float, typer.Option(help="Share of objections upheld.")] = 0.30,
    repair_share: Annotated[float, typer.Option(help="Share of listings repaired once eligible.")] = 0.25,
    png: PngOpt = True, json_out: JsonOpt = False,
) -> None:
    """Records arrive at the population's rates; each month end the policy is evaluated; listings start,
    are objected to, repaired and expire. Per month: listed count, flows in and out, mean days listed per
    group. Also writes <out>-listings.parquet (the input of `xinyong stats`)."""
    import pyarrow.parquet as pq

    from xinyong.engines import population as engine
    from xinyong.lab.simulate import Process, due_process, future_records, month_ends, monthly
    from xinyong.lab.views import simulation_report
    from xinyong.policy.loader import load_policy

    if not 0 < years <= 50:
        raise typer.BadParameter("must be more than 0 and at most 50", param_hint="--years")
    day = _day(as_of)
    lp = load_policy(policy)
    process = Process(object_share=object_share, upheld_share=upheld_share, repair_share=repair_share)
    with (_population(lp, population, seed, day, population_dir) as paths,
          console.status(f"simulating {years:g} years month by month")):
        types = engine.relevant_types(lp)
        groups = engine.subjects_table(paths)
        future = future_records(lp.catalogue, groups.select(["subject", "kind"]),
                                engine.record_counts(paths, types), types, day, years, seed)
        ends = month_ends(day, round(years * 12))
        episodes = due_process(lp, engine.listings_by_month(paths, lp, future, ends), ends, process, seed)
        data = {"policy": f"{lp.policy.id} {lp.policy.version}", "years": years, "start": day.isoformat(),
                "subjects": groups.num_rows, "future_records": future.num_rows, "process": asdict(process),
                "monthly": monthly(episodes, ends, groups)}
    listings = episodes.join(groups.select(["subject", "region", "urban_rural", "kind"]), "subject",
                             join_type="left outer")
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(listings, out.with_name(out.name + "-listings.parquet"))
    _write(simulation_report(data), data, out, png, json_out)


def stats(
    listings: Annotated[Path, typer.Argument(help="Listings Parquet (subject, list, region, start), e.g. "
                                             "from `xinyong lab simulate`.")],
    epsilon: Annotated[float, typer.Option("--epsilon", help="Privacy loss of this release.")] = 0.5,
    budget: Annotated[float, typer.Option("--budget", help="Total epsilon the dataset may ever spend "
                                          "(fixed by its first release).")] = 2.0,
    start: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")] = "2026-07",
    end: Annotated[str, typer.Option("--to", help="Last month YYYY-MM.")] = "2031-06",
    max_per_subject: Annotated[int, typer.Option(help="Listings counted per subject at most (sensitivity).")] = 2,
    out: Annotated[Path, typer.Option("--out", help="Release file (JSON); the budget ledger is written "
                                      "next to it as privacy-ledger.json.")] = Path("lab-report/stats.json"),
    json_out: JsonOpt = False,
) -> None:
    """Counts of listings started by region, list and month, with differential privacy (OpenDP): a stated
    epsilon per release, a budget per dataset kept in a ledger, and a refusal once it is spent."""
    import json

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from xinyong.lab.profiles import REGIONS
    from xinyong.lab.stats import Ledger, dataset_id, release

    months = _months(start, end)
    table = pq.read_table(listings, columns=["subject", "list", "region", "start"])
    month = pc.strftime(table.column("start"), format="%Y-%m")
    rows = table.select(["subject", "list", "region"]).append_column("month", month)
    lists = sorted(set(table.column("list").to_pylist()))
    cells = [(r.name, lst, m) for r in REGIONS for lst in lists for m in months]
    result = release(rows, cells, dataset=dataset_id(listings), ledger=Ledger(out.with_name("privacy-ledger.json")),
                     epsilon=epsilon, budget=budget, max_per_subject=max_per_subject, note=str(out))
    data = {"dataset": str(listings), "mechanism": "discrete Laplace (OpenDP)", **asdict(result)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if json_out:
        print_json(data)
        return
    console.print(f"released {len(result.counts):,} noisy counts with epsilon {epsilon:g} (scale "
                  f"{result.scale:g}); budget spent {result.spent:g} of {result.budget:g}")
    err_console.print(f"wrote {out}")


def _months(start: str, end: str) -> list[str]:
    try:
        y, m = (int(x) for x in start.split("-"))
        y2, m2 = (int(x) for x in end.split("-"))
    except ValueError:
        raise typer.BadParameter("months are YYYY-MM", param_hint="--from/--to") from None
    out: list[str] = []
    while (y, m) <= (y2, m2) and len(out) < 1200:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if not out:
        raise typer.BadParameter("--from is after --to", param_hint="--from/--to")
    return out
