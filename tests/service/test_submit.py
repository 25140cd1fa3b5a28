"""``submit_records`` on every backend: the row contract, per-row results, ids equal to Record.id, and the
store's BulkIngest append (DuckDB from Arrow, PostgreSQL via COPY) behind the same validator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from xinyong.model.record import Record
from xinyong.service.auditlog import AuditBuffer
from xinyong.service.online import Online
from xinyong.service.principals import Principal, Role
from xinyong.service.registry import Registry
from xinyong.service.submit import submit_records

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 1, 1)
ORG = "91110000600037341L"
TAX = Principal(id="k1", name="Tax", role=Role.AGENCY, source="tax.bureau")


def _row(doc: str, **kw: object) -> dict[str, object]:
    return {"subject": ORG, "type": "tax.arrears", "occurred": "2024-01-02", "decided": "2024-02-03",
            "document": doc, "amount": 100.5, **kw}


def test_per_row_results_and_ids(stores: Stores) -> None:
    store = stores.open()
    try:
        Registry(store, actor="test").publish([ROOT / "policies"])
        online = Online(store, as_of=AS_OF, audit=AuditBuffer(store))
        rows: list[object] = [_row("T-1"), _row("T-1"), _row("T-2", amuont="5"), _row("T-3", decided="2024/02/03"),
                              42, _row("T-4", amount="", source=""), _row("T-5\ud800")]
        out = submit_records(online, TAX, rows)
        assert [r.status for r in out.results] == ["new", "duplicate", "rejected", "rejected", "rejected", "new",
                                                   "rejected"]
        assert (out.new, out.duplicates, out.rejected) == (2, 1, 4)
        assert "lone surrogate" in out.results[6].problems[0].reason
        assert out.results[2].problems[0].reason == "`amuont`: unknown column; did you mean `amount`?"
        assert out.results[3].problems[0].field == "decided"
        assert "not a number" in out.results[4].problems[0].reason
        rec = Record(subject="cn.uscc:" + ORG, source="tax.bureau", type="tax.arrears", occurred=date(2024, 1, 2),
                     decided=date(2024, 2, 3), document="T-1", amount="100.50")  # type: ignore[arg-type]
        assert out.results[0].id == out.results[1].id == rec.id
        again = submit_records(online, TAX, [_row("T-1"), _row("T-2")])
        assert [r.status for r in again.results] == ["duplicate", "new"]
        assert store.record_count() == 3
    finally:
        store.close()
