"""Storage behind a protocol: the DuckDB file (default) now, PostgreSQL later.

``Store`` is what the service layer programs against; ``DuckDBStore`` is the embedded adapter.
"""

from xinyong.store.duckdb_store import DEFAULT_PATH, DuckDBStore, StoreError, open_store
from xinyong.store.protocol import (
    Added,
    AssessmentRow,
    AssessmentRun,
    ListingRow,
    PolicyVersion,
    Store,
    SubjectRow,
)

__all__ = [
    "DEFAULT_PATH",
    "Added",
    "AssessmentRow",
    "AssessmentRun",
    "DuckDBStore",
    "ListingRow",
    "PolicyVersion",
    "Store",
    "StoreError",
    "SubjectRow",
    "open_store",
]
