"""The HTML report is one self-contained file: it renders its charts in Chromium with no network."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from tests.lab.conftest import LAB_AS_OF, ROOT

from xinyong.engines.population import PopulationPaths, assess
from xinyong.lab.fairness import fairness
from xinyong.lab.report import write
from xinyong.lab.views import fairness_report
from xinyong.policy.loader import load_policy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def report(lab_population: PopulationPaths, tmp_path: Path) -> list[Path]:
    lp = load_policy(ROOT / "examples" / "lab" / "rongcheng-points.yaml")
    disparities = [asdict(d) for d in fairness(lp, assess(lab_population, lp, LAB_AS_OF), n_boot=50)]
    return write(fairness_report("rongcheng_lab 2026.1", disparities, []), {"disparities": disparities},
                 tmp_path / "fairness")


def test_report_files(report: list[Path]) -> None:
    html, data, png = report[0], report[1], report[2]
    assert html.suffix == ".html" and data.suffix == ".json" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and text.count("Plotly.newPlot") == 2
    assert text.index("id='headlines'") < text.index("Plotly.newPlot")  # headline numbers first


def test_report_renders_offline_in_chromium(report: list[Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    requested: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.on("request", lambda r: requested.append(r.url))
            page.goto(report[0].as_uri())
            page.wait_for_function("() => document.querySelectorAll('.plotly .main-svg').length >= 2",
                                   timeout=20_000)
            assert page.evaluate("() => typeof window.Plotly") == "object"
            assert "failing the four-fifths rule" in page.inner_text("#headlines")
        finally:
            browser.close()
    assert [u for u in requested if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
