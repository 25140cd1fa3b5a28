"""Storage behind a protocol: the embedded DuckDB file (default) or a PostgreSQL database.

``Store`` (and its capabilities) is what the service layer programs against; ``open_store(url)`` is the
one factory. Nothing here imports an adapter at import time.
"""

from xinyong.model.errors import StoreBusy, StoreError
from xinyong.store.factory import DEFAULT_URL, is_postgres, open_store
from xinyong.store.protocol import (
    Added,
    Appended,
    AssessmentRow,
    AssessmentRun,
    BulkIngest,
    CaseStore,
    FullStore,
    KeyRow,
    KeyStore,
    ListingRow,
    PolicyVersion,
    RunWriter,
    Store,
    SubjectRow,
)

__all__ = [
    "DEFAULT_URL",
    "Added",
    "Appended",
    "AssessmentRow",
    "AssessmentRun",
    "BulkIngest",
    "CaseStore",
    "FullStore",
    "KeyRow",
    "KeyStore",
    "ListingRow",
    "PolicyVersion",
    "RunWriter",
    "Store",
    "StoreBusy",
    "StoreError",
    "SubjectRow",
    "is_postgres",
    "open_store",
]
