"""Cases, case decisions, notices and deliveries in a SQL store (migration 004), DuckDB or PostgreSQL.

Uses the store's own transactions so that a case write, the amendments it produces and their audit
entries commit together. Append-only: nothing here UPDATEs or DELETEs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta

from xinyong.audit import AuditEntry, utc_now
from xinyong.model.case import Case, CaseEvent, CaseView, Notice
from xinyong.model.errors import NotFound
from xinyong.model.record import Amendment, Record
from xinyong.store.sql_store import SqlStore, dec

_CASE_COLS = "id, kind, subject, target, filed, filed_by, text, evidence, deadline, expedited, appeal_of"
_NOTICE_COLS = "id, subject, kind, issued, ref, title, body, act_by"


class SqlCases:
    """The :class:`~xinyong.store.protocol.CaseStore` of a SQL store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._query = store._query
        self._one = store._one

    # -- cases -----------------------------------------------------------------------------------------

    def add_case(self, case: Case, actor: str) -> bool:
        """Store a filed case; False if the same case (same content) is already stored."""
        with self.store.transaction():
            if self._one("SELECT 1 FROM cases WHERE id = ?", [case.id]):
                return False
            self.store._insert("cases", (*_CASE_COLS.split(", "), "received_at"), [
                (case.id, case.kind.value, case.subject, case.target, case.filed, case.filed_by, case.text,
                 json.dumps(case.evidence, ensure_ascii=False), case.deadline, case.expedited, case.appeal_of,
                 utc_now())])
            self.store.append_audit([AuditEntry(0, utc_now(), actor, "case_filed", case.subject, None, {
                "case": case.id, "kind": case.kind.value, "target": case.target,
                "filed": case.filed.isoformat(), "deadline": case.deadline.isoformat()})])
        return True

    def add_event(self, event: CaseEvent, subject: str, actor: str) -> None:
        with self.store.transaction():
            self.store._insert("case_events", ("case_id", "decided_on", "actor", "outcome", "reasons",
                                               "amendments", "received_at"),
                               [(event.case, event.at, event.actor, event.outcome.value, event.reasons,
                                 json.dumps(event.amendments), utc_now())])
            self.store.append_audit([AuditEntry(0, utc_now(), actor, "case_decided", subject, None, {
                "case": event.case, "outcome": event.outcome.value, "on": event.at.isoformat(),
                "reviewer": event.actor, "amendments": event.amendments})])

    def case(self, case_id: str) -> CaseView:
        rows = self._cases("WHERE id = ?", [case_id])
        if not rows:
            raise NotFound(f"no case {case_id!r}", field="case")
        return rows[0]

    def cases(self, subject: str | None = None) -> list[CaseView]:
        """Cases (of one subject, or all), oldest filing first."""
        if subject is None:
            return self._cases("", [])
        return self._cases("WHERE subject = ?", [subject])

    def _cases(self, where: str, params: list[object]) -> list[CaseView]:
        rows = self._query(f"SELECT {_CASE_COLS} FROM cases {where} ORDER BY filed, id", params)
        if not rows:
            return []
        ids = [r[0] for r in rows]
        events: dict[str, list[CaseEvent]] = {i: [] for i in ids}
        for e in self._query(
                "SELECT case_id, decided_on, actor, outcome, reasons, amendments FROM case_events WHERE case_id IN "
                "(SELECT unnest(?::VARCHAR[])) ORDER BY decided_on, received_at", [ids]):
            events[e[0]].append(CaseEvent.model_validate({
                "case": e[0], "at": e[1], "actor": e[2], "outcome": e[3], "reasons": e[4],
                "amendments": json.loads(e[5])}))
        out = []
        for r in rows:
            case = Case.model_validate({
                "kind": r[1], "subject": r[2], "target": r[3], "filed": r[4], "filed_by": r[5], "text": r[6],
                "evidence": json.loads(r[7]), "deadline": r[8], "expedited": r[9], "appeal_of": r[10]})
            out.append(CaseView(case=case, events=events[r[0]]))
        return out

    # -- notices ---------------------------------------------------------------------------------------

    def add_notices(self, notices: Sequence[Notice], actor: str) -> list[Notice]:
        """Store notices not stored yet (ids are content hashes); returns the new ones."""
        if not notices:
            return []
        with self.store.transaction():
            ids = [n.id for n in notices]
            have = {r[0] for r in self._query(
                "SELECT id FROM notices WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])}
            new: dict[str, Notice] = {}
            for n in notices:
                if n.id not in have and n.id not in new:
                    new[n.id] = n
            now = utc_now()
            if new:  # one bulk insert: row-at-a-time inserts cost ~1 ms each on DuckDB
                self.store._insert("notices", (*_NOTICE_COLS.split(", "), "created_at"), [
                    (n.id, n.subject, n.kind.value, n.issued, n.ref, n.title, n.body, n.act_by, now)
                    for n in new.values()])
                self.store.append_audit([AuditEntry(0, now, actor, "notice", n.subject, None, {
                    "notice": n.id, "kind": n.kind.value, "issued": n.issued.isoformat(), "ref": n.ref})
                    for n in new.values()])
        return list(new.values())

    def notices_of(self, subject: str) -> list[Notice]:
        return self._notices("WHERE subject = ?", [subject])

    def undelivered(self, channel: str, subject: str | None = None) -> list[Notice]:
        """Notices with no successful delivery on ``channel`` yet (of one subject, or all)."""
        where = "WHERE id NOT IN (SELECT notice FROM notice_deliveries WHERE channel = ? AND ok)"
        params: list[object] = [channel]
        if subject is not None:
            where += " AND subject = ?"
            params.append(subject)
        return self._notices(where, params)

    def _notices(self, where: str, params: list[object]) -> list[Notice]:
        rows = self._query(f"SELECT {_NOTICE_COLS} FROM notices {where} ORDER BY issued, kind, id", params)
        return [Notice.model_validate({"subject": r[1], "kind": r[2], "issued": r[3], "ref": r[4], "title": r[5],
                                       "body": r[6], "act_by": r[7]}) for r in rows]

    def add_deliveries(self, results: Sequence[tuple[str, bool, str]], channel: str, actor: str) -> None:
        """Record delivery attempts ``(notice id, ok, detail)`` on ``channel``, with one audit entry."""
        if not results:
            return
        now = utc_now()
        with self.store.transaction():
            self.store._insert("notice_deliveries", ("notice", "channel", "attempted_at", "ok", "detail"),
                               [(nid, channel, now, ok, detail) for nid, ok, detail in results])
            self.store.append_audit([AuditEntry(0, now, actor, "notice_delivery", None, None, {
                "channel": channel, "delivered": sum(ok for _, ok, _ in results),
                "failed": sum(not ok for _, ok, _ in results), "notices": [r[0] for r in results][:100]})])

    # -- helpers for due process over a run ------------------------------------------------------------

    def subjects_to_recheck(self, run: str, notice_lists: Sequence[str], notified_after: date,
                            as_of: date) -> list[str]:
        """Subjects whose run listing may not be in force yet: listed on an after-notice list with a
        ``since`` after ``notified_after`` (still in a notice period unless renewed), or with an
        objection open as of ``as_of``. Everyone else's run listing is in force as it stands."""
        rows = self._query(
            "SELECT DISTINCT subject FROM listings WHERE run = ? AND list IN (SELECT unnest(?::VARCHAR[])) "
            "AND since > ? UNION SELECT DISTINCT c.subject FROM cases c WHERE c.kind = 'objection' "
            "AND c.filed <= ? AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id "
            "AND e.decided_on <= ?) ORDER BY 1", [run, list(notice_lists), notified_after, as_of, as_of])
        return [r[0] for r in rows]

    def subjects_changing(self, offsets: Sequence[int], after: date, until: date) -> list[str]:
        """Subjects whose file may have changed stage in (after, until]: a record decided ``k`` days before
        a day in that range (for each offset ``k`` of the policies), or an amendment or case there."""
        ranges = " OR ".join("r.decided BETWEEN ? AND ?" for _ in offsets) or "1 = 0"
        params: list[object] = []
        for k in offsets:
            params += [after + timedelta(days=1 - k), until - timedelta(days=k)]
        rows = self._query(
            f"SELECT DISTINCT r.subject FROM records r WHERE {ranges} "
            "UNION SELECT DISTINCT r.subject FROM amendments a JOIN records r ON r.id = a.record "
            "WHERE a.effective > ? AND a.effective <= ? "
            "UNION SELECT DISTINCT c.subject FROM cases c WHERE c.filed > ? AND c.filed <= ? "
            "UNION SELECT DISTINCT c.subject FROM cases c JOIN case_events e ON e.case_id = c.id "
            "WHERE e.decided_on > ? AND e.decided_on <= ? ORDER BY 1",
            [*params, after, until, after, until, after, until])
        return [r[0] for r in rows]

    def files_of(self, subjects: Sequence[str]) -> dict[str, tuple[list[Record], list[Amendment], list[CaseView]]]:
        """Records, amendments and cases of several subjects in three queries (the notice sweep): a
        per-subject read scans the records table once per subject."""
        out: dict[str, tuple[list[Record], list[Amendment], list[CaseView]]] = {s: ([], [], []) for s in subjects}
        if not out:
            return out
        keys = sorted(out)
        # one subject (every decision's re-assessment): equality, so the subject index is used; an
        # IN-list over an unnested array is a scan on DuckDB
        match, arg = ("= ?", keys[0]) if len(keys) == 1 else ("IN (SELECT unnest(?::VARCHAR[]))", keys)
        for r in self._query(
                "SELECT DISTINCT subject, source, type, occurred, decided, document, amount FROM records "
                f"WHERE subject {match} ORDER BY subject, decided, occurred, type, document", [arg]):
            out[r[0]][0].append(Record(subject=r[0], source=r[1], type=r[2], occurred=r[3], decided=r[4],
                                       document=r[5], amount=dec(r[6])))
        for r in self._query(
                "SELECT DISTINCT s.subject, a.record, a.kind, a.effective, a.reason, a.document, a.amount "
                f"FROM amendments a JOIN (SELECT DISTINCT id, subject FROM records WHERE subject {match}) s "
                "ON s.id = a.record ORDER BY s.subject, a.effective, a.record, a.kind, a.document", [arg]):
            out[r[0]][1].append(Amendment.model_validate({
                "record": r[1], "kind": r[2], "effective": r[3], "reason": r[4], "document": r[5],
                "amount": dec(r[6])}))
        for view in self._cases(f"WHERE subject {match}", [arg]):
            out[view.case.subject][2].append(view)
        return out
