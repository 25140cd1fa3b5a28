"""Reports a person reads: one self-contained HTML file, a JSON file with every figure, PNG charts.

The HTML inlines plotly.js (``include_plotlyjs=True``), so it opens offline and can be mailed as one
file; headline numbers come first, then charts, then tables of every figure. PNGs are drawn with
vl-convert (Vega-Lite rendered in-process, no browser to download), for READMEs and notes.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import vl_convert as vlc


@dataclass
class Report:
    """What a report says, in order: headlines, charts (plotly figures), tables."""

    title: str
    subtitle: str = ""
    headlines: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, go.Figure]] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)
    charts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # Vega-Lite specs for PNGs


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{margin-bottom:.2rem} .sub{color:#555;margin-top:0}
.heads{display:flex;flex-wrap:wrap;gap:1rem;margin:1.5rem 0}
.head{border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem;min-width:180px}
.head b{display:block;font-size:1.6rem} .head span{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem} td,th{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f4f4f4;text-align:left}
"""


def render_html(report: Report) -> str:
    """The report as one HTML document with plotly.js inlined once."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(report.title)}"
             f"</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(report.title)}</h1><p class='sub'>{html.escape(report.subtitle)}</p>",
             "<div class='heads' id='headlines'>"]
    for label, value in report.headlines:
        parts.append(f"<div class='head'><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>")
    parts.append("</div>")
    for i, (title, fig) in enumerate(report.figures):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"chart{i}"))
    for title, header, rows in report.tables:
        parts.append(f"<h2>{html.escape(title)}</h2><table><tr>")
        parts.extend(f"<th>{html.escape(h)}</th>" for h in header)
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def write(report: Report, data: dict[str, Any], out: Path, *, png: bool = True) -> list[Path]:
    """Write ``out``.html, ``out``.json and (``png``) ``out``-<n>.png; returns the paths written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out.with_suffix(".html"), out.with_suffix(".json")
    html_path.write_text(render_html(report), encoding="utf-8")
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    written = [html_path, json_path]
    if png:
        for i, (_title, spec) in enumerate(report.charts):
            path = out.with_name(f"{out.name}-{i + 1}.png")
            path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
            written.append(path)
    return written


def bar_spec(title: str, rows: list[dict[str, Any]], x: str, y: str, color: str | None = None) -> dict[str, Any]:
    """A Vega-Lite grouped bar chart of ``rows`` (for a PNG)."""
    enc: dict[str, Any] = {"x": {"field": x, "type": "nominal", "axis": {"labelAngle": -30}},
                           "y": {"field": y, "type": "quantitative"}}
    if color:
        enc["color"] = {"field": color, "type": "nominal"}
        enc["xOffset"] = {"field": color}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": 520,
            "height": 260, "data": {"values": rows}, "mark": "bar", "encoding": enc}


def line_spec(title: str, rows: list[dict[str, Any]], x: str, y: str, color: str) -> dict[str, Any]:
    """A Vega-Lite line chart of ``rows`` (for a PNG)."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": 520,
            "height": 260, "data": {"values": rows}, "mark": "line",
            "encoding": {"x": {"field": x, "type": "temporal"}, "y": {"field": y, "type": "quantitative"},
                         "color": {"field": color, "type": "nominal"}}}
