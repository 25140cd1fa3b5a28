"""Storage faults, recognised once for every adapter: a full disk, an I/O error, a read-only file system,
a permission refused.

Drivers report these in their own words (DuckDB: an ``IOException`` or a failed commit whose text carries
the operating system's message; PostgreSQL: SQLSTATE classes 53 and 58, or a read-only transaction on a
replica). The operator needs one answer whatever the backend: what failed, that nothing was stored, and
what to do. Adapters call :func:`storage_fault` on a driver error and raise what it returns.
"""

from __future__ import annotations

import errno
import os

from xinyong.model.errors import StorageFault

#: errno values that mean "the storage under the store failed", not "the request was wrong"
FAULT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM)
_TEXTS = [(os.strerror(e).lower(), os.strerror(e)) for e in FAULT_ERRNOS]
_ADVICE = "nothing was stored; fix the storage (free space, permissions, a writable volume), then retry"


def os_reason(text: str) -> str | None:
    """The operating system's reason named in a driver's message (e.g. ``No space left on device``)."""
    low = text.lower()
    return next((reason for needle, reason in _TEXTS if needle in low), None)


def storage_fault(where: str, exc: BaseException, reason: str | None = None) -> StorageFault | None:
    """The :class:`StorageFault` for a driver error about ``where`` (a file or a server), or None when
    the error is something else. ``reason`` is the adapter's own classification (e.g. from a SQLSTATE)."""
    if isinstance(exc, OSError) and exc.errno in FAULT_ERRNOS:
        reason = reason or os.strerror(exc.errno)
    reason = reason or os_reason(str(exc))
    if reason is None:
        return None
    first = " ".join(str(exc).split())[:300]
    return StorageFault(f"storage fault at {where}: {reason} ({first}); {_ADVICE}", field="db")
