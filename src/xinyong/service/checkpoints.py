"""Checkpoints of the audit chain written outside the database, and verification against them.

The private key is read from a file the operator keeps away from the store (``xinyong audit keygen``);
checkpoints go to a directory (one JSON file per checkpoint, never rewritten), which can be a mount of
another machine or copied to a witness. The server writes one every ``interval`` seconds when the head
has moved and one at shutdown; ``xinyong audit checkpoint`` writes one on demand.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from xinyong.audit import utc_now
from xinyong.checkpoint import (
    AnchoredResult,
    Checkpoint,
    CheckpointError,
    SignedCheckpoint,
    check_signature,
    sign,
    verify_anchored,
)
from xinyong.model.errors import InvalidInput
from xinyong.store.protocol import Store


def write_checkpoint(store: Store, private_key: Path, directory: Path) -> SignedCheckpoint | None:
    """Sign the current head and write it as ``<count>.json``; None when the log is empty or the head
    already has a checkpoint."""
    count, head = store.audit_head()
    if count == 0:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{count:012d}.json"
    if path.exists():
        return None
    try:
        signed = sign(Checkpoint(count, head, utc_now()), private_key.read_bytes())
    except (OSError, ValueError, CheckpointError) as exc:
        raise InvalidInput(f"{private_key}: cannot sign a checkpoint: {exc}", field="checkpoint_key") from None
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(signed.to_json() + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a checkpoint
    return signed


def latest_checkpoint(directory: Path, public_key: Path) -> SignedCheckpoint | None:
    """The checkpoint with the highest count whose signature verifies; a bad one is an error, not skipped
    (a forged or altered checkpoint is itself evidence of tampering)."""
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        return None
    try:
        public = public_key.read_bytes()
        signed = SignedCheckpoint.from_json(files[-1].read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{files[-1]}: unreadable checkpoint: {exc}", field="checkpoints") from None
    try:
        check_signature(signed, public)
    except (CheckpointError, ValueError) as exc:
        raise InvalidInput(f"{files[-1]}: {exc}", field="checkpoints") from None
    return signed


def verify_with_checkpoints(store: Store, directory: Path | None, public_key: Path | None, *,
                            expect_count: int | None = None, expect_head: str | None = None) -> AnchoredResult:
    anchor = None
    if directory is not None:
        if public_key is None:
            raise InvalidInput("verifying against checkpoints needs the public key (--public-key)", field="public_key")
        signed = latest_checkpoint(directory, public_key)
        anchor = signed.checkpoint if signed else None
    return verify_anchored(store.audit_entries(), anchor, expect_count=expect_count, expect_head=expect_head)


@dataclass
class Checkpointer:
    """A server's periodic checkpoints (a thread), and the last one at shutdown."""

    store: Store
    private_key: Path
    directory: Path
    interval: float = 60.0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def once(self) -> None:
        with self.store.lock:
            if write_checkpoint(self.store, self.private_key, self.directory) is not None:
                self.written += 1

    def start(self) -> None:
        self.once()  # fails fast on a bad key, before the server serves
        self._thread = threading.Thread(target=self._loop, name="xinyong-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.once()
            except Exception:  # the next round retries; shutdown writes the last one
                continue

    def close(self) -> None:
        """After the audit buffer is flushed: the final head is anchored."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.once()
