"""What a policy version changes against another on a synthetic population: the policy lab's impact
report as a use case of the service, so every edge gets the same figures — admins over HTTP (a published
version against the one before it) and ``xinyong publish --preview`` (a version about to be published
against the one in the register).

The population is generated in a temporary directory from the old version's catalogue and never touches
the register; the real register is not used here (it would need the same analysis over the store's
records, which stays inside the process — a next step).
"""

from __future__ import annotations

import tempfile
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from xinyong.engines.population import PopulationPaths, compare, records_of
from xinyong.lab import generate_population
from xinyong.lab.impact import impact
from xinyong.model.errors import InvalidInput, NotFound
from xinyong.policy.loader import LoadedPolicy, load_published
from xinyong.store.protocol import PolicyVersion

MAX_POPULATION = 100_000


def versions_impact(old: LoadedPolicy, new: LoadedPolicy, as_of: date, *, population: int = 5_000,
                    seed: int = 42, n_boot: int = 100) -> dict[str, Any]:
    """The impact report of ``new`` against ``old`` (plain data, JSON-ready) on ``population`` synthetic
    subjects drawn from ``old``'s catalogue with ``seed``."""
    if population < 1:
        raise InvalidInput("population must be at least 1", field="population")
    with tempfile.TemporaryDirectory(prefix="xinyong-impact-") as tmp:
        paths = PopulationPaths.in_dir(Path(tmp))
        generate_population(old.catalogue, Path(tmp), subjects=population, seed=seed, as_of=as_of)
        table = compare(paths, old, new, as_of)
        return impact(old, new, table, as_of, partial(records_of, paths), n_boot=n_boot, seed=seed)


def version_impact(versions: list[PolicyVersion], policy: str, version: str, as_of: date, *,
                   population: int = 5_000, seed: int = 42) -> dict[str, Any]:
    """The impact of ``policy`` ``version`` against the version published before it (``versions``: the
    policy's published versions, oldest first, as the store lists them)."""
    if not 1 <= population <= MAX_POPULATION:
        raise InvalidInput(f"population must be between 1 and {MAX_POPULATION:,}", field="population")
    found = [i for i, pv in enumerate(versions) if pv.version == version]
    if not found:
        raise NotFound(f"policy {policy!r} has no published version {version!r}", field="version")
    if found[0] == 0:
        raise NotFound(f"{policy} {version} is the first published version: nothing to compare it with",
                       field="version")
    old, new = load_published(versions[found[0] - 1]), load_published(versions[found[0]])
    return versions_impact(old, new, as_of, population=population, seed=seed)
