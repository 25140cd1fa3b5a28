"""Signed checkpoints of the audit chain: what the log alone cannot prove about its own end.

A hash chain shows that no entry was edited, removed from the middle or moved; it cannot show that its
tail was cut off, that its last entry was rewritten with a recomputed hash, or that a correctly chained
forgery was appended. Transparency logs (RFC 6962/9162) solve this with signed tree heads kept outside
the log; xinyong does the same for its chain: a **checkpoint** is (count, head hash, time) signed with an
Ed25519 key the store never holds, written outside the database. Verification then requires the entry
at ``count`` to carry exactly ``head``: fewer entries is truncation, another hash is a rewrite. Entries
after the latest checkpoint are reported as not yet anchored; ``expect_count``/``expect_head`` (from a
checkpoint made at shutdown, or published elsewhere) close that window too.

Why not a Merkle tree: the chain is already the platform's order of events and a subject's entries are
found by seq; an inclusion proof for one entry is the chain segment from it to the next checkpoint
(linear, but checkpoints are frequent), which keeps one structure instead of two. Pure: no I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from xinyong.audit import GENESIS, ChainedEntry, VerifyResult, verify


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain head at one moment: ``count`` entries, the last one's ``head`` hash."""

    count: int
    head: str
    at: datetime
    log: str = "xinyong audit log"

    def message(self) -> bytes:
        """The exact bytes signed: canonical JSON (sorted keys, no spaces)."""
        return json.dumps({"count": self.count, "head": self.head, "at": self.at.isoformat(), "log": self.log},
                          sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: str  # hex
    key_id: str     # sha256 prefix of the public key, so a verifier knows which key to use

    def to_json(self) -> str:
        cp = asdict(self.checkpoint)
        cp["at"] = self.checkpoint.at.isoformat()
        return json.dumps({"checkpoint": cp, "signature": self.signature, "key_id": self.key_id}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SignedCheckpoint:
        raw = json.loads(text)
        cp = raw["checkpoint"]
        return cls(Checkpoint(int(cp["count"]), str(cp["head"]), datetime.fromisoformat(cp["at"]),
                              str(cp.get("log", "xinyong audit log"))), str(raw["signature"]), str(raw["key_id"]))


class CheckpointError(ValueError):
    """A checkpoint that is malformed or whose signature does not verify."""


def new_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM (private, public). Keep the private key away from the store."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def key_id(public_pem: bytes) -> str:
    import hashlib

    return hashlib.sha256(public_pem.strip()).hexdigest()[:16]


def sign(checkpoint: Checkpoint, private_pem: bytes) -> SignedCheckpoint:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the checkpoint key must be an Ed25519 private key (xinyong audit keygen)")
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return SignedCheckpoint(checkpoint, key.sign(checkpoint.message()).hex(), key_id(public))


def check_signature(signed: SignedCheckpoint, public_pem: bytes) -> None:
    """Raise :class:`CheckpointError` unless ``signed`` was signed by the key of ``public_pem``."""
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the checkpoint public key must be an Ed25519 key")
    if signed.key_id != key_id(public_pem):
        raise CheckpointError(f"checkpoint signed by key {signed.key_id}, not by the configured key "
                              f"{key_id(public_pem)}")
    try:
        key.verify(bytes.fromhex(signed.signature), signed.checkpoint.message())
    except (InvalidSignature, ValueError):
        raise CheckpointError(f"checkpoint at count {signed.checkpoint.count}: the signature does not verify "
                              "(the checkpoint was altered or forged)") from None


@dataclass(frozen=True, slots=True)
class AnchoredResult:
    """The chain's verdict plus what the anchor says: ``unanchored`` entries after the checkpoint."""

    result: VerifyResult
    anchored: int
    unanchored: int


def verify_anchored(entries: Iterable[ChainedEntry], anchor: Checkpoint | None = None, *,
                    expect_count: int | None = None, expect_head: str | None = None) -> AnchoredResult:
    """Verify the chain, then its end against ``anchor`` and the expectations.

    Truncation (fewer entries than the anchor's count), a rewritten anchored entry (another hash at
    ``count``) and, with ``expect_count``/``expect_head``, any append after the head that was expected
    are reported with the first bad position."""
    head_at: dict[int, str] = {}
    wanted = {n for n in (anchor.count if anchor else None, expect_count) if n}

    def watch(stream: Iterable[ChainedEntry]) -> Iterable[ChainedEntry]:
        for ce in stream:
            if ce.entry.seq in wanted:
                head_at[ce.entry.seq] = ce.hash
            yield ce

    result = verify(watch(entries))
    if not result.ok:
        return AnchoredResult(result, min(result.checked, anchor.count if anchor else 0), 0)
    total = result.checked
    for count, head, label in ((anchor.count if anchor else None, anchor.head if anchor else None, "checkpoint"),
                               (expect_count, expect_head, "expected head")):
        if count is None and head is None:
            continue
        if count is not None and total < count:
            why = (f"the log ends at entry {total} but the {label} covers {count} entries: "
                   f"entries {total + 1}..{count} were cut off")
            return AnchoredResult(VerifyResult(False, total, total + 1, why, result.head_hash), total, 0)
        if count is not None and head is not None and count > 0 and head_at.get(count) != head:
            why = f"entry {count} does not match the {label}: it was rewritten (its hash recomputed)"
            return AnchoredResult(VerifyResult(False, count - 1, count, why, result.head_hash), count - 1, 0)
        if count == 0 and head not in (None, GENESIS):
            return AnchoredResult(VerifyResult(False, 0, 1, f"the {label} is malformed", result.head_hash), 0, 0)
        if label == "expected head" and count is not None and total > count:
            why = f"{total - count} entries after the expected head (entry {count + 1} on): appended since"
            return AnchoredResult(VerifyResult(False, count, count + 1, why, result.head_hash), count, 0)
    anchored = anchor.count if anchor else 0
    return AnchoredResult(result, anchored, total - anchored)
