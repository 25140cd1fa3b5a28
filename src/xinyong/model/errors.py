"""One exception hierarchy for the whole platform.

The core raises domain errors only; the edges (CLI, HTTP) map them to exit codes and problem+json in one
place. Each error carries a ``field`` or a location so that a user can find what to fix.
"""

from __future__ import annotations

from datetime import date


class XinyongError(Exception):
    """Base of every error the platform raises on purpose."""

    title = "xinyong error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(XinyongError):
    """A value supplied by a user or an agency is malformed (bad identifier, bad date, missing field)."""

    title = "invalid input"


class InvalidIdentifier(InvalidInput):
    """A subject identifier fails its scheme's format or check character."""

    title = "invalid identifier"


class NotYetEligible(InvalidInput):
    """Credit repair applied for before the record may be repaired; ``earliest`` is the first day it may
    (None when the list admits no repair at all)."""

    title = "not yet eligible"

    def __init__(self, message: str, *, earliest: date | None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.earliest = earliest


class NotFound(XinyongError):
    """A subject, record, list, policy or case that was named does not exist."""

    title = "not found"


class PolicyError(XinyongError):
    """A policy, catalogue or policy-test file does not load; ``problems`` name file and line."""

    title = "invalid policy"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class CharterViolation(XinyongError):
    """Something would break the charter (DESIGN.md §2); refused whatever the caller's rights."""

    title = "charter violation"


class Forbidden(XinyongError):
    """The principal may not do this (wrong role, scope, subject or action)."""

    title = "forbidden"


class Unauthenticated(XinyongError):
    """No credential, or one that is unknown or revoked: the caller is not known (HTTP 401)."""

    title = "unauthenticated"


class StoreError(XinyongError):
    """The store cannot be opened, reached or used: a bad URL, a server that refuses, a database at
    an older migration, a file held by another writer, a full disk. Adapters translate their driver's
    errors into this, so nothing above the store sees a DuckDB or psycopg exception."""

    title = "store error"


class Overloaded(StoreError):
    """The service cannot keep its promises right now (e.g. the audit log cannot be written fast enough):
    it refuses work instead of doing it unrecorded. Retry shortly."""

    title = "overloaded"


class StorageFault(StoreError):
    """The storage under the store failed: disk full, an I/O error, a read-only file system or replica,
    permission denied. Nothing was written (the transaction rolled back); the operator must act (free
    space, fix permissions), then the same command or request can be retried."""

    title = "storage fault"


class OverBudget(StoreError):
    """A read would take longer than the service's time budget per request: it is stopped, so it does
    not hold a worker, and refused with the budget named. Retry later, or ask for less (a narrower page,
    no what-if)."""

    title = "over budget"

    def __init__(self, message: str, *, budget: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.budget = budget


class StoreBusy(StoreError):
    """Another process holds the store for writing (an embedded file has one writer)."""

    title = "store busy"


class TooLarge(InvalidInput):
    """A request or batch exceeds a stated limit; the message names the limit (HTTP 413)."""

    title = "too large"

    def __init__(self, message: str, *, limit: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.limit = limit


class Problem:
    """One located problem in a source file: ``file:line: CODE message``."""

    __slots__ = ("code", "file", "line", "message")

    def __init__(self, file: str, line: int, code: str, message: str) -> None:
        self.file = file
        self.line = line
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code} {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "code": self.code, "message": self.message}
