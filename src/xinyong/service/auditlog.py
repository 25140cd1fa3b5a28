"""Group commit of audit entries for the online service.

One DuckDB transaction per request caps a server near the rate of single-row inserts (≈ 1.2 k/s here),
so reads are logged into an in-memory buffer and appended to the hash chain in groups: the flusher
thread appends whatever is buffered every ``max_delay`` seconds, or sooner once ``max_entries`` are
waiting, and :meth:`AuditBuffer.close` appends the rest on a clean shutdown. Chaining happens at
append time (:meth:`Store.append_audit` links each group onto the stored head), so the log stays
one unbroken chain whatever mix of grouped reads and transactional writes produced it, and several
processes (API workers on one PostgreSQL database) can share it.

Who pays for what. The flusher shares the GIL with the event loop: whatever Python work it does per
entry is time the loop waits, and the waits land on a few requests (the tail), not on all. So an entry's
canonical text (everything hashed but its ``seq`` and the previous hash: :meth:`AuditEntry.prepare`) is
built when it is buffered, on the request that caused it, spread evenly; the flusher is left numbering,
one sha256 over a short text per entry, and the insert (:meth:`Store.append_audit_group`: flat rows, no
entry object per row). It also remembers the head it wrote, so the store finds the head with two key
lookups instead of a scan of ``seq`` (checked each time: another writer's entries are never skipped).
The rest of a group's cost is the store's per-commit work, which grows with the number of groups, not
of entries: fewer, larger groups are cheaper, and ``max_delay`` bounds how few.

Durability window: entries not yet stored are lost if the process dies without a clean shutdown (SIGKILL,
power loss): the group being gathered (up to ``max_delay`` seconds' worth, default 0.05 s, or
``max_entries``) and the group being written, so about two intervals plus one group commit. Writes
(records, amendments, keys) are not buffered: each commits with its own audit entry in one transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from xinyong.audit import AuditEntry
from xinyong.model.errors import Overloaded

if TYPE_CHECKING:  # the command line reads the defaults below without importing the storage stack
    from xinyong.store.protocol import Store

DEFAULT_MAX_DELAY = 0.05  # measured: 0.2 s groups put p99 at 5.8 ms, 0.05 s at 5.4 ms (bench/http_load.py)
DEFAULT_MAX_ENTRIES = 8192
#: Seconds the oldest unflushed entry may wait before reads are refused (back-pressure): the bound on
#: what a crash can lose when the store stalls, instead of an ever-growing buffer.
DEFAULT_MAX_LAG = 5.0


class AuditBuffer:
    """Buffered, hash-chained audit appends; thread-safe; ``close`` flushes everything."""

    def __init__(self, store: Store, *, max_delay: float = DEFAULT_MAX_DELAY,
                 max_entries: int = DEFAULT_MAX_ENTRIES, max_lag: float = DEFAULT_MAX_LAG) -> None:
        self.store = store
        self.max_delay = max_delay
        self.max_entries = max_entries
        self.max_lag = max_lag
        self._pending: list[AuditEntry] = []
        self._oldest: float | None = None  # monotonic time of the oldest unflushed entry
        self._mutex = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.flushed = 0
        self.groups = 0
        #: the chain head this buffer last wrote: where the store looks first for the head (a hint, checked)
        self._head: tuple[int, str] | None = None

    def start(self) -> None:
        """Start the flusher thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-flusher", daemon=True)
            self._thread.start()

    def _admit(self) -> None:
        """Back-pressure, under the mutex: when the flusher has not stored anything for ``max_lag``
        seconds (a blocked store, a full disk) or the backlog passes 16 groups, refuse the work, so no
        read is answered that the log could not record within its window."""
        if self._oldest is None:
            self._oldest = time.monotonic()
        elif (time.monotonic() - self._oldest > self.max_lag
              or len(self._pending) >= 16 * self.max_entries):
            raise Overloaded(f"the audit log is {time.monotonic() - self._oldest:.1f} s behind (limit "
                             f"{self.max_lag} s): reads are refused until it catches up; retry shortly",
                             field="audit")

    def add(self, entry: AuditEntry) -> None:
        """Buffer one entry: its canonical text is prepared here, by the caller, then a list append under
        a lock."""
        entry.prepare()
        with self._mutex:
            self._admit()
            self._pending.append(entry)
            full = len(self._pending) >= self.max_entries
        if full:
            self._wake.set()

    def extend(self, entries: Iterable[AuditEntry]) -> None:
        entries = [e.prepare() for e in entries]
        with self._mutex:
            self._admit()
            self._pending.extend(entries)
            full = len(self._pending) >= self.max_entries
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def lag(self) -> float:
        """Seconds the oldest unflushed entry has waited (0 when nothing waits): the durability window now."""
        oldest = self._oldest
        return 0.0 if oldest is None else time.monotonic() - oldest

    def flush(self) -> int:
        """Append everything buffered, as one group, in one transaction; returns how many."""
        # Groups enter the chain in the order they leave the buffer, and a flush returns only once
        # everything buffered before it is stored (a reader may rely on it): one flush at a time. The
        # store's lock orders it on DuckDB but is a no-op on PostgreSQL, hence a lock of our own (taken
        # second, so a caller already holding the store's lock cannot deadlock with the flusher).
        with self.store.lock, self._flushing:
            with self._mutex:
                group, self._pending = self._pending, []
                oldest, self._oldest = self._oldest, None
            if not group:
                return 0
            try:
                self._head = self.store.append_audit_group(group, self._head[0] if self._head else None)
            except BaseException:
                self._head = None
                with self._mutex:  # keep them for the next attempt, in order (and their age)
                    self._pending[:0] = group
                    self._oldest = oldest
                raise
        self.flushed += len(group)
        self.groups += 1
        return len(group)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.max_delay)
            self._wake.clear()
            if self._stop:
                break
            try:
                self.flush()
            except Exception:  # the store is closing or failing; entries stay buffered for close()
                continue

    def close(self) -> int:
        """Stop the flusher and append whatever is left (a clean shutdown loses nothing)."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        return self.flush()
