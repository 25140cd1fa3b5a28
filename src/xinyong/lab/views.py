"""The lab's figures as reports (:mod:`xinyong.lab.report`): what to put first, which charts, which tables.

Each function takes the plain data the lab computed (the same dict written to JSON), so the HTML shows
exactly the figures in the JSON file.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from xinyong.lab.fairness import FOUR_FIFTHS
from xinyong.lab.report import Report, bar_spec, line_spec


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _judged(disparities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in disparities if d["favourable"] is not None]


def _ratio_figure(disparities: list[dict[str, Any]], attribute: str, name: str = "") -> go.Figure:
    rows = [d for d in _judged(disparities) if d["attribute"] == attribute]
    fig = go.Figure(go.Bar(x=[d["outcome"] for d in rows], y=[d["ratio"] for d in rows], name=name or attribute,
                           error_y={"type": "data", "symmetric": False,
                                    "array": [d["ratio_ci"][1] - d["ratio"] for d in rows],
                                    "arrayminus": [d["ratio"] - d["ratio_ci"][0] for d in rows]}))
    fig.add_hline(y=FOUR_FIFTHS, line_dash="dash", annotation_text="four fifths")
    fig.update_layout(yaxis_title=f"worst-off / most favoured ({attribute})", yaxis_range=[0, 1.05], height=380)
    return fig


def _disparity_table(disparities: list[dict[str, Any]]) -> tuple[str, list[str], list[list[Any]]]:
    rows = [[d["outcome"], d["attribute"], d["most_favoured"], d["least_favoured"], d["ratio"],
             f"{d['ratio_ci'][0]:.3f}-{d['ratio_ci'][1]:.3f}", d["difference"],
             {True: "pass", False: "FAIL", None: "not judged"}[d["passes_four_fifths"]],
             "; ".join(f"{g['value']} {_pct(g['rate'])} (n={g['n']})" for g in d["groups"][:16])]
            for d in disparities]
    return ("Selection rate per group (fairlearn MetricFrame), four-fifths rule, 95 % bootstrap intervals",
            ["outcome", "attribute", "most favoured", "least favoured", "ratio", "ratio 95 % CI", "difference",
             "four fifths", "rates"], rows)


def fairness_report(policy: str, disparities: list[dict[str, Any]], gaps: list[dict[str, Any]]) -> Report:
    judged = _judged(disparities)
    failing = [d for d in judged if d["passes_four_fifths"] is False]
    worst = min(judged, key=lambda d: d["ratio"], default=None)
    r = Report(f"Fairness report: {policy}", "Selection rates of every list, tier and measure per group; "
               "ratio of the worst-off group to the most favoured (four-fifths rule).")
    r.headlines.append(("judged outcomes x attributes failing the four-fifths rule",
                        f"{len(failing)} of {len(judged)}"))
    if worst is not None:
        r.headlines.append((f"lowest ratio: {worst['outcome']} by {worst['attribute']} "
                            f"({worst['least_favoured']} vs {worst['most_favoured']})", f"{worst['ratio']:.2f}"))
    if gaps:
        r.headlines.append((f"largest rule gap: {gaps[0]['rule']} by {gaps[0]['attribute']} "
                            f"({gaps[0]['highest']} vs {gaps[0]['lowest']}), mean points", f"{gaps[0]['gap']:.1f}"))
    r.figures.append(("Four-fifths ratio by urban/rural", _ratio_figure(disparities, "urban_rural")))
    r.figures.append(("Four-fifths ratio by region", _ratio_figure(disparities, "region")))
    r.tables.append(_disparity_table(disparities))
    r.tables.append(("Rules whose points differ most between groups (mean points per subject, before caps)",
                     ["rule", "attribute", "highest", "lowest", "gap", "mean points"],
                     [[g["rule"], g["attribute"], g["highest"], g["lowest"], g["gap"], g["mean_points"]]
                      for g in gaps]))
    r.charts.append(("ratio", bar_spec(f"{policy}: four-fifths ratio (urban/rural)",
                                       [{"outcome": d["outcome"], "ratio": d["ratio"]} for d in judged
                                        if d["attribute"] == "urban_rural"], "outcome", "ratio")))
    return r


def impact_report(data: dict[str, Any]) -> Report:
    old, new = data["old"], data["new"]
    label = f"{old['policy']} {old['version']} -> {new['policy']} {new['version']}"
    r = Report(f"Impact preview: {label}", f"{data['subjects']:,} synthetic subjects, as of {data['as_of']}")
    for lid, x in data["lists"].items():
        r.headlines.append((f"list {lid}: {x['before']:,} -> {x['after']:,} listed",
                            f"+{x['entered']:,} / -{x['left']:,}"))
    newly = sum(m["newly"] for m in data["measures"].values())
    r.headlines.append(("subject-measures newly triggered (all actions)", f"{newly:,}"))
    fails = data["four_fifths_failures"]
    r.headlines.append(("four-fifths failures, old -> new", f"{len(fails['old'])} -> {len(fails['new'])}"))
    worst = {side: min((d for d in data["fairness"][side] if d["attribute"] == "urban_rural"
                        and d["passes_four_fifths"] is not None), key=lambda d: d["ratio"], default=None)
             for side in ("old", "new")}
    if worst["old"] is not None and worst["new"] is not None:
        r.headlines.append((f"lowest judged rural/urban ratio (old: {worst['old']['outcome']}; new: "
                            f"{worst['new']['outcome']})",
                            f"{worst['old']['ratio']:.2f} -> {worst['new']['ratio']:.2f}"))
    tiers = sorted({t["from"] for t in data["tier_transitions"]} | {t["to"] for t in data["tier_transitions"]})
    z = [[next((t["subjects"] for t in data["tier_transitions"] if t["from"] == a and t["to"] == b), 0)
          for b in tiers] for a in tiers]
    heat = go.Figure(go.Heatmap(z=z, x=tiers, y=tiers, colorscale="Blues", text=z, texttemplate="%{text}"))
    heat.update_layout(xaxis_title="new tier", yaxis_title="old tier", height=420)
    r.figures.append(("Tier transitions", heat))
    lists = go.Figure([go.Bar(name="entered", x=list(data["lists"]), y=[x["entered"] for x in data["lists"].values()]),
                       go.Bar(name="left", x=list(data["lists"]), y=[x["left"] for x in data["lists"].values()])])
    r.figures.append(("Who enters and leaves each list", lists))
    both = go.Figure()
    for side in ("old", "new"):
        rows = [d for d in _judged(data["fairness"][side]) if d["attribute"] == "urban_rural"]
        both.add_bar(name=side, x=[d["outcome"] for d in rows], y=[d["ratio"] for d in rows])
    both.add_hline(y=FOUR_FIFTHS, line_dash="dash", annotation_text="four fifths")
    both.update_layout(yaxis_title="rural/urban four-fifths ratio", yaxis_range=[0, 1.05], height=380)
    r.figures.append(("Four-fifths ratio by urban/rural, old and new", both))
    r.tables.append(("The largest changes, explained by the reference evaluator on a sample",
                     ["change", "subjects", "sample", "mean points change by rule", "listing rules"],
                     [[c["change"], c["subjects"], c.get("sample", 0),
                       "; ".join(f"{x['rule']} {x['mean_change']:+}" for x in c.get("mean_points_change_by_rule", [])),
                       "; ".join(f"{x['rule']} ({x['subjects']})" for x in c.get("listing_rules", []))]
                      for c in data["largest_changes"]]))
    r.tables.append(("Measures per action", ["action (effect)", "before", "after", "newly", "no longer"],
                     [[a, m["before"], m["after"], m["newly"], m["no_longer"]] for a, m in data["measures"].items()]))
    r.tables.append(("Tier transition matrix", ["old tier", "new tier", "subjects"],
                     [[t["from"], t["to"], t["subjects"]] for t in data["tier_transitions"]]))
    title, header, cells = _disparity_table(data["fairness"]["new"])
    r.tables.append(("New version. " + title, header, cells))
    r.charts.append(("ratio", bar_spec(f"{label}: rural/urban four-fifths ratio",
                                       [{"outcome": d["outcome"], "ratio": d["ratio"], "version": side}
                                        for side in ("old", "new") for d in _judged(data["fairness"][side])
                                        if d["attribute"] == "urban_rural"], "outcome", "ratio", "version")))
    return r


def simulation_report(data: dict[str, Any]) -> Report:
    m = data["monthly"]
    r = Report(f"Simulation: {data['policy']} over {data['years']} years",
               f"{data['subjects']:,} synthetic subjects from {data['start']}; due process: {data['process']}")
    r.headlines += [("listed at the start", f"{m['listed'][0]:,}"), ("listed at the end", f"{m['listed'][-1]:,}"),
                    ("listings started", f"{sum(m['inflow']):,}"), ("listings ended", f"{sum(m['outflow']):,}")]
    r.headlines += [(f"ended by {k}", f"{v:,}") for k, v in m["ended_by"].items()]
    line = go.Figure(go.Scatter(x=m["months"], y=m["listed"], name="listed"))
    r.figures.append(("Listed subjects at each month end", line))
    flows = go.Figure([go.Bar(name="in", x=m["months"], y=m["inflow"]),
                       go.Bar(name="out", x=m["months"], y=[-x for x in m["outflow"]])])
    flows.update_layout(barmode="relative")
    r.figures.append(("Flows in and out per month", flows))
    by = m["mean_days_listed"]["by_group"]
    mean = go.Figure([go.Scatter(x=m["months"], y=v, name=g) for g, v in by.items()])
    r.figures.append((f"Mean days listed, by {m['mean_days_listed']['attribute']}", mean))
    r.tables.append(("Per month", ["month", "listed", "in", "out", *by],
                     [[mo, m["listed"][i], m["inflow"][i], m["outflow"][i], *(by[g][i] for g in by)]
                      for i, mo in enumerate(m["months"])]))
    r.charts.append(("listed", line_spec(f"{data['policy']}: listed subjects", [
        {"month": mo, "subjects": v, "series": "listed"} for mo, v in zip(m["months"], m["listed"], strict=True)],
        "month", "subjects", "series")))
    return r
