"""Credit reports: a subject's own file, issued with a code anyone can verify, and the verification.

A report is what a company attaches to a procurement bid, so the reader is a third party who must be able
to tell a genuine, current report from an edited or outdated one without seeing the file. Issuing is a
read of the subject's own file (:meth:`Online.subject_file`: the same principal check and access-log
entry as ``GET /v1/subjects/{id}/file``) followed by a ``report_issued`` audit entry committed before the
report is returned; that entry holds the report's *content hash*, and the verification code names the
entry (its ``seq`` and the start of its chain hash) and the content hash.

The content hash covers what the report asserts, not when: the records and amendments (by id), and per
policy the version, score, tier and listings with their dates. Verifying looks the entry up in the audit
chain (genuine: it exists, is a report issuing, and both hashes match) and recomputes the hash from the
register today (current: the same assertions would be made now). Nothing else is disclosed to whoever
presents the code; the check itself is audited against the subject, so the subject can see it was made.
No table of its own: the audit log is the register of issued reports.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xinyong.audit import AuditEntry, ChainedEntry, canonical_json, utc_now
from xinyong.model.assessment import Assessment
from xinyong.model.errors import Forbidden, InvalidInput
from xinyong.model.record import Amendment, Record
from xinyong.policy.evaluate import evaluate
from xinyong.service.online import Online
from xinyong.service.principals import Principal, Role

ISSUED = "report_issued"
VERIFIED = "report_verified"
CODE_RE = re.compile(r"^XY-(\d{1,18})-([0-9a-f]{16})-([0-9a-f]{16})$")


@dataclass(frozen=True)
class CreditReport:
    """An issued report: the file as of ``as_of`` and what identifies it in the audit chain."""

    subject: str
    kind: str
    name: str | None
    as_of: date
    issued_at: datetime
    assessments: list[Assessment]
    records: list[Record]
    amendments: list[Amendment]
    content_hash: str
    audit_seq: int
    audit_hash: str

    @property
    def code(self) -> str:
        return verification_code(self.audit_seq, self.content_hash, self.audit_hash)


@dataclass(frozen=True)
class Verification:
    """What a verifier learns: genuine or not, current or not, when it was issued. Nothing more."""

    code: str
    genuine: bool
    current: bool
    issued_on: date | None = None


def verification_code(seq: int, content_hash: str, audit_hash: str) -> str:
    return f"XY-{seq}-{content_hash[:16]}-{audit_hash[:16]}"


def content_hash(subject: str, assessments: list[Assessment], records: list[Record],
                 amendments: list[Amendment]) -> str:
    """sha256 over what a report asserts about ``subject`` (see the module docstring), not its date."""
    body: dict[str, Any] = {
        "subject": subject,
        "records": sorted(r.id for r in records),
        "amendments": sorted(a.id for a in amendments),
        "assessments": sorted(
            ({"policy": a.policy, "version": a.policy_version, "score": a.score, "tier": a.tier,
              "listings": sorted([x.list_id, x.since.isoformat(), x.until.isoformat()] for x in a.listings)}
             for a in assessments), key=lambda d: str(d["policy"])),
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def issue(svc: Online, who: Principal, as_of: date | None = None) -> CreditReport:
    """The signed-in subject's own report, its issuing committed to the audit chain before it is shown."""
    if who.role is not Role.SUBJECT or who.subject is None:
        raise Forbidden("a credit report is issued to the subject itself, signed in with its own key",
                        field="role")
    f = svc.subject_file(who, who.subject, "credit report", as_of)
    digest = content_hash(f.subject, f.assessments, f.records, f.amendments)
    entry = AuditEntry(0, utc_now(), who.actor, ISSUED, f.subject, "credit report",
                       {"content_hash": digest, "as_of": f.as_of.isoformat()})
    with svc.store.lock:
        kind, name = svc.store.subject_names([f.subject]).get(
            f.subject, (svc.registry.schemes.kind_of(f.subject).value, None))
        with svc.store.transaction():
            [chained] = svc.store.append_audit([entry])
    return CreditReport(f.subject, kind, name, f.as_of, chained.entry.at, f.assessments, f.records, f.amendments,
                        digest, chained.entry.seq, chained.hash)


def _entry_at(svc: Online, seq: int) -> ChainedEntry | None:
    with svc.store.lock:
        entries = svc.store.audit_entries(seq - 1)
        try:
            ce = next(iter(entries), None)
        finally:
            close = getattr(entries, "close", None)
            if close is not None:
                close()
    return ce if ce is not None and ce.entry.seq == seq else None


def verify(svc: Online, code: str, subject: str) -> Verification:
    """Whether ``code`` names a report this register issued *about* ``subject`` (the identifier printed
    on the report), and whether it would say the same today.

    The subject is part of the question: a genuine code copied onto a report about another company must
    not verify. The verifier holds the report and so already knows whom it is about: asking tells them
    nothing, and the answer still names nobody."""
    code = code.strip()
    if code[:3].upper() == "XY-":  # typed or read aloud in capitals: the hex parts are case-free
        code = "XY-" + code[3:].lower()
    m = CODE_RE.match(code)
    if m is None:
        return Verification(code, False, False)
    try:
        key = svc.registry.schemes.parse(subject.strip()).key
    except InvalidInput:
        return Verification(code, False, False)
    seq, content_prefix, audit_prefix = int(m.group(1)), m.group(2), m.group(3)
    ce = _entry_at(svc, seq) if seq > 0 else None
    issued = str(ce.entry.detail.get("content_hash", "")) if ce is not None else ""
    if (ce is None or ce.entry.action != ISSUED or ce.entry.subject != key or not ce.hash.startswith(audit_prefix)
            or not issued.startswith(content_prefix)):
        return Verification(code, False, False)
    subject, day = ce.entry.subject, svc.today()
    with svc.store.lock:  # the file read once; evaluated outside the lock (what `Registry.assess` does)
        records, amendments = svc.store.records_of(subject), svc.store.amendments_of(subject)
    reg = svc.registry
    assessments = [evaluate(lp, subject, records, amendments, day, reg.schemes) for lp in reg.policies(day)]
    now = content_hash(subject, assessments, records, amendments)
    svc.audit.add(AuditEntry(0, utc_now(), "public", VERIFIED, subject, "report verification",
                             {"report": seq, "current": now == issued}))
    return Verification(code, True, now == issued, ce.entry.at.date())


__all__ = ["CreditReport", "Verification", "content_hash", "issue", "verification_code", "verify"]
