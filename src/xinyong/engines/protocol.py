"""What an engine over a Parquet lake promises: the same compiled policy, a snapshot on disk.

The store's own run (:class:`~xinyong.store.protocol.RunWriter`) executes where the records are; a
register too large for that is exported to a lake (``xinyong export``) and evaluated by an engine that
reads Parquet: DuckDB on one machine (larger than memory: it spills), Spark on many. Both run the query
:func:`~xinyong.engines.compiler.compile_policy` produces for their dialect — there is no second
semantics — and both write the same snapshot layout, which ``xinyong import-snapshot`` loads as a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from xinyong.model.runs import RunSummary
from xinyong.policy.loader import LoadedPolicy

if TYPE_CHECKING:
    from xinyong.engines.lake import Lake


@dataclass(frozen=True)
class Snapshot:
    """One policy's run over a lake, written to ``directory`` (``_manifest.json`` says the rest)."""

    directory: Path
    run: str
    policy: str
    version: str
    as_of: date
    engine: str
    subjects: int
    records: int
    seconds: float
    content_hash: str
    tiers: dict[str | None, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)

    def summary(self) -> RunSummary:
        return RunSummary(run=self.run, policy=self.policy, version=self.version, as_of=self.as_of,
                          subjects=self.subjects, records=self.records, seconds=self.seconds,
                          tiers=self.tiers, lists=self.lists)


@runtime_checkable
class LakeEngine(Protocol):
    """Evaluate a policy over a lake and write the snapshot (assessments, listings, manifest)."""

    name: str

    def evaluate(self, lp: LoadedPolicy, as_of: date, lake: Lake, out: Path, *,
                 run: str | None = None) -> Snapshot: ...

    def close(self) -> None: ...
