"""Benchmark: the decision index — build time, bytes per subject, and look-ups against a plain dict.

Usage: python bench/decisions.py [--subjects 1_000_000] [--checks 1_000_000] [--rounds 7]

Builds a demo registry (synthetic population, sample policies, one evaluation), then measures:

- ``build``      ``Registry.decision_index``: the snapshot's columns into the index, due process applied
                 (median of ``--build-rounds``; the split between columns and due process is printed,
                 and the process's first build, which also compiles the notice period's queries);
- ``memory``     bytes per registered subject the index keeps (tracemalloc, a build of its own) and the
                 process's RSS growth across the first build (includes the database's buffers);
- ``effects``    ``DecisionIndex.effects`` over a manifest of ``--checks`` subject keys drawn with
                 repetition (fresh strings, as a request's are), against the obvious alternative: a
                 dict of every subject's precomputed effect, looked up per key
                 (``[pre.get(k, ALLOW) for k in keys]``). Contender and baseline alternate (A B A B ...)
                 for ``--rounds`` rounds on the same manifest; the ratio is baseline seconds / contender
                 seconds per round (>= 1 means the index is faster), and the median with min-max is
                 printed. The fastest dict look-up Python has, ``list(map(pre.get, keys))``, is timed
                 in the same rounds and shown for reference.
- ``decision``   ``DecisionIndex.decision`` (a full Decision per key) against a dict of precomputed
                 Decisions copied per key the same way, fewer keys (``--decision-checks``).

Nothing is asserted: figures go to the changelog and the README table.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from abtable import Row, write_rows
from xinyong.model.assessment import Effect
from xinyong.service.demo import DEMO_AS_OF, build_demo
from xinyong.service.index_build import build_index
from xinyong.service.index_due import apply_due_process
from xinyong.service.registry import Registry
from xinyong.store import open_store

ROOT = Path(__file__).resolve().parents[1]
ACTION = "procurement.bid"  # governed by a list, a benefit tier and a deny: every effect occurs


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _count(text: str) -> int:
    return int(text.replace("_", ""))


def alternate(rounds: int, contender: Callable[[], Any], baseline: Callable[[], Any],
              *extra: Callable[[], Any]) -> tuple[list[float], list[float], list[list[float]]]:
    """Seconds per round of each, run in turn (A B [C ...], A B ...) so load shifts hit both alike."""
    a: list[float] = []
    b: list[float] = []
    more: list[list[float]] = [[] for _ in extra]
    for _ in range(rounds):
        for fn, out in ((contender, a), (baseline, b), *zip(extra, more, strict=True)):
            gc.collect()
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return a, b, more


def spread(contender: list[float], baseline: list[float]) -> tuple[float, float, float]:
    """Median, min and max of the per-round ratios baseline / contender (> 1: the contender is faster)."""
    r = [b / a for a, b in zip(contender, baseline, strict=True)]
    return statistics.median(r), min(r), max(r)


def ratios(contender: list[float], baseline: list[float]) -> str:
    r = [b / a for a, b in zip(contender, baseline, strict=True)]
    return f"{statistics.median(r):.2f}x (min {min(r):.2f}, max {max(r):.2f}, {len(r)} rounds)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=_count, default=1_000_000)
    ap.add_argument("--checks", type=_count, default=1_000_000)
    ap.add_argument("--decision-checks", type=_count, default=100_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--build-rounds", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None, help="reuse a demo store built earlier at this path")
    ap.add_argument("--json", type=Path, default=None, help="append the table rows here (bench/all.py)")
    args = ap.parse_args()
    as_of: date = DEMO_AS_OF
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        db = args.db or Path(tmp) / "demo.duckdb"
        if args.db is None or not db.exists():
            t = time.perf_counter()
            build_demo(db, ROOT / "policies", subjects=args.subjects, seed=7, as_of=as_of)
            print(f"registry: {args.subjects:,} subjects built in {time.perf_counter() - t:.1f} s")
        with open_store(str(db), create=False) as store:
            run(Registry(store, actor="bench"), store.subject_count(),
                [r.id for r in store.subjects(limit=10**9)], as_of, args)


def run(reg: Registry, registered: int, everyone: list[str], as_of: date, args: argparse.Namespace) -> None:
    policies = reg.policies(as_of)
    runs = [r for lp in policies if (r := reg.store.latest_run(lp.policy.id, as_of)) is not None]
    gc.collect()
    before = _rss()
    t = time.perf_counter()
    reg.decision_index(as_of)  # the process's first: also compiles the notice period's queries
    first = time.perf_counter() - t
    grown = _rss() - before
    builds, columns, due = [], [], []
    for _ in range(args.build_rounds):  # the whole build, then its two halves on their own
        gc.collect()
        t = time.perf_counter()
        reg.decision_index(as_of)
        builds.append(time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        part = build_index(reg.store, policies, [r.run for r in runs], as_of)
        columns.append(time.perf_counter() - t)
        t = time.perf_counter()
        rechecked = apply_due_process(part, reg.store, runs, as_of, reg.schemes)
        due.append(time.perf_counter() - t)
        del part
    gc.collect()
    tracemalloc.start()
    index = reg.decision_index(as_of)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    med = statistics.median
    print(f"build: {med(builds):.2f} s median of {len(builds)} (min {min(builds):.2f}, max {max(builds):.2f}) at "
          f"{registered:,} subjects; of which columns {med(columns):.2f} s, due process {med(due):.2f} s "
          f"({rechecked:,} subjects re-derived); the process's first build {first:.2f} s")
    print(f"memory: {kept / registered:.1f} bytes per subject kept (tracemalloc); {len(index.states):,} "
          f"subjects ({len(index.states) / registered:.0%}) carry a state a measure reads, "
          f"{len(index.table)} distinct states; RSS grew {grown / registered:.0f} bytes per subject")

    rng = random.Random(1)
    # a manifest arrives as fresh strings: neither dict may find its keys by identity
    keys = [k.encode().decode() for k in rng.choices(everyone, k=args.checks)]
    for k in keys:
        hash(k)  # computed once per string, as the first look-up of a request would, outside the rounds
    pre = dict(zip(everyone, index.effects(everyone, ACTION), strict=True))
    counts = {e.value: n for e in Effect if (n := sum(1 for x in pre.values() if x is e))}
    print(f"effects of {ACTION} over the register: {counts}")
    allow = Effect.ALLOW
    a, b, (floor,) = alternate(args.rounds, lambda: list(index.effects(keys, ACTION)),
                               lambda: [pre.get(k, allow) for k in keys], lambda: list(map(pre.get, keys)))
    a_eff, b_eff = a, b
    print(f"effects, {args.checks:,} checks: index {statistics.median(a):.3f} s, dict {statistics.median(b):.3f} s, "
          f"ratio {ratios(a, b)}; against map(dict.get) {statistics.median(floor):.3f} s: {ratios(a, floor)}")

    few = keys[: args.decision_checks]
    decided = {k: index.decision(k, ACTION, "bench") for k in set(few)}
    a, b, _ = alternate(args.rounds, lambda: [index.decision(k, ACTION, "bench") for k in few],
                        lambda: [decided[k].model_copy(update={"purpose": "bench"}) for k in few])
    print(f"decision, {len(few):,} checks: index {statistics.median(a):.3f} s, dict {statistics.median(b):.3f} s, "
          f"ratio {ratios(a, b)}")
    print("targets: build <= 2 s and <= 64 bytes per subject at 1 M subjects; effects >= 0.9x the dict")
    eff = spread(a_eff, b_eff)
    per_subject = kept / registered
    write_rows(args.json, [
        Row(f"decision index build, {registered:,} subjects", f"{med(builds):.2f} s", "", None,
            target="<= 2 s", met=med(builds) <= 2.0,
            note=f"columns {med(columns):.2f} s, due process {med(due):.2f} s; min {min(builds):.2f} s; "
                 f"first build {first:.2f} s"),
        Row(f"decision index memory, {registered:,} subjects", f"{per_subject:.0f} bytes/subject", "", None,
            target="<= 64 bytes/subject", met=per_subject <= 64),
        Row(f"in-process `effects`, {args.checks:,} checks", f"{med(a_eff):.3f} s", f"dict {med(b_eff):.3f} s",
            eff[0], eff[1], eff[2], target=">= 0.9x", met=eff[0] >= 0.9),
    ])


if __name__ == "__main__":
    main()
