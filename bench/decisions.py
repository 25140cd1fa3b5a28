"""Benchmark: batch decisions in-process from the snapshot index, against a bare dict lookup.

Usage: python bench/decisions.py [--subjects 100_000] [--checks 1_000_000]

Builds a demo registry (synthetic population, sample policies, one evaluation), then times, over the same
manifest of subject keys drawn with repetition:

- ``dict-lookup``  the floor: ``states.get(key)`` for every key (no decision at all);
- ``effects``      ``DecisionIndex.effects``: the effect per subject (the relying party's batch hot path);
- ``decisions``    ``DecisionIndex.decision``: a full Decision (measures, legal basis, id) per subject;
- ``check-batch``  ``Registry.check_batch``: identifiers parsed and validated, decisions, one audit entry
                   per decision appended in one group (what ``xinyong check --batch`` does).

Prints decisions/s and the ratio to the dict lookup. Nothing is asserted: figures go to the closing note.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from xinyong.service.demo import DEMO_AS_OF, build_demo
from xinyong.service.registry import Registry
from xinyong.store.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]
ACTION = "transport.flight.purchase"


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t = time.perf_counter()
    n = fn()
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--checks", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--batch-checks", type=lambda s: int(s.replace("_", "")), default=100_000,
                    help="manifest size for the full check-batch path (it audits every decision)")
    args = ap.parse_args()
    as_of: date = DEMO_AS_OF
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        db = Path(tmp) / "demo.duckdb"
        t = time.perf_counter()
        build_demo(db, ROOT / "policies", subjects=args.subjects, seed=7, as_of=as_of)
        print(f"registry: {args.subjects:,} subjects built in {time.perf_counter() - t:.1f} s")
        store = DuckDBStore.open(db)
        try:
            reg = Registry(store, actor="bench")
            t = time.perf_counter()
            index = reg.decision_index(as_of)
            print(f"index: {len(index.states):,} subjects with a state, loaded in {time.perf_counter() - t:.2f} s")
            everyone = [s for (s,) in store.connection.execute("SELECT id FROM subjects").fetchall()]
            rng = random.Random(1)
            keys = rng.choices(everyone, k=args.checks)
            states = index.states

            results: dict[str, tuple[float, int]] = {
                "dict-lookup": timed(lambda: sum(1 for k in keys if states.get(k) is not None) * 0 + len(keys)),
                "effects": timed(lambda: sum(1 for _ in index.effects(keys, ACTION))),
                "decisions": timed(lambda: len([index.decision(k, ACTION, "bench") for k in keys])),
            }
            manifest = keys[: args.batch_checks]
            results["check-batch"] = timed(lambda: len(reg.check_batch(manifest, ACTION, "bench", as_of)))
        finally:
            store.close()
    base = results["dict-lookup"][1] / results["dict-lookup"][0]
    print(f"{'path':<14}{'checks':>12}{'seconds':>10}{'decisions/s':>16}{'vs dict':>10}")
    for name, (secs, n) in results.items():
        rate = n / secs
        print(f"{name:<14}{n:>12,}{secs:>10.3f}{rate:>16,.0f}{rate / base:>10.3f}")
    print("target: batch decisions >= 1,000,000/s in-process")


if __name__ == "__main__":
    main()
