"""A batch evaluation as data: the query the engine hands to a store, and what the run produced.

The engine (``engines/``) compiles a policy into SQL for the store's dialect; the store runs it where the
records are and writes the snapshot (:class:`~xinyong.store.protocol.RunWriter`). Neither imports the
other: this module is what passes between them, plain values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class RunQuery:
    """One policy's run, compiled for one dialect.

    ``assessed_sql`` selects ``subject, score, tier`` and one ``since`` column per list (``lists`` maps
    list id → (column, kind)); ``listings_sql`` reads the table named ``assessed_table`` (the store
    materialises ``assessed_sql`` under that name first) and selects
    ``subject, list, kind, since, until``. ``records_sql`` counts the records the run read.
    """

    run: str
    policy: str
    version: str
    as_of: date
    dialect: str
    assessed_table: str
    assessed_sql: str
    listings_sql: str
    records_sql: str
    lists: dict[str, str]


@dataclass(frozen=True)
class RunSummary:
    run: str
    policy: str
    version: str
    as_of: date
    subjects: int
    records: int
    seconds: float
    tiers: dict[str | None, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        """The JSON form (``--json``): tier ``null`` is written as the key ``"none"``."""
        return {
            "run": self.run, "policy": self.policy, "version": self.version, "as_of": self.as_of.isoformat(),
            "subjects": self.subjects, "records": self.records, "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second),
            "tiers": {("none" if t is None else t): n for t, n in sorted(self.tiers.items(), key=_tier_key)},
            "lists": dict(sorted(self.lists.items())),
        }

    def describe(self) -> str:
        """One line for people: what was assessed, how fast, and how many landed in each tier and list."""
        tiers = ", ".join(f"{'none' if t is None else t}: {n:,}" for t, n in sorted(self.tiers.items(), key=_tier_key))
        lists = ", ".join(f"{k}: {n:,}" for k, n in sorted(self.lists.items())) or "no lists"
        return (f"{self.policy} v{self.version}: {self.subjects:,} subjects over {self.records:,} records "
                f"in {self.seconds:.2f} s ({self.records_per_second:,.0f} records/s); tiers {tiers or '-'}; "
                f"listed {lists}")


def _tier_key(item: tuple[str | None, int]) -> str:
    return "" if item[0] is None else item[0]
