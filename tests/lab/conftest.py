"""A small seeded synthetic population shared by the policy-lab tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xinyong.engines.population import PopulationPaths
from xinyong.lab import generate_population
from xinyong.policy.loader import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
LAB_AS_OF = date(2026, 7, 1)


@pytest.fixture(scope="session")
def lab_population(tmp_path_factory: pytest.TempPathFactory) -> PopulationPaths:
    catalogue = load_catalogue(ROOT / "policies" / "catalogue.yaml")[0]
    out = tmp_path_factory.mktemp("lab-population")
    generate_population(catalogue, out, subjects=4_000, seed=11, as_of=LAB_AS_OF)
    return PopulationPaths.in_dir(out)
