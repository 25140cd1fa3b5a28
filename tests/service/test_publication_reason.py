"""The public register names only what may be published: a listing's reason names the record types behind
it only while the catalogue lets each record be published (its ``publication_days`` after the decision)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from xinyong.model.record import Record
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import load_policy
from xinyong.service.publication import listing_reason

ROOT = Path(__file__).resolve().parents[2]
PERSON = "cn.ric:11010519491231002X"
AS_OF = date(2025, 8, 1)


def _record(type_: str, source: str, decided: date, n: int) -> Record:
    return Record(subject=PERSON, source=source, type=type_, occurred=date(2025, 1, 1), decided=decided,
                  document=f"D-{type_}-{n}")


def test_a_reason_names_only_records_within_their_publication_window() -> None:
    lp = load_policy(ROOT / "policies" / "rongcheng.yaml")
    sources = {t: next(s.id for s in lp.catalogue.sources if t in s.may_submit)
               for t in ("admin.damage_public_utilities", "court.breach_finding", "contract.breach")}
    records = [
        *(_record("admin.damage_public_utilities", sources["admin.damage_public_utilities"], date(2025, 6, 1), i)
          for i in range(3)),  # published for 90 days: still within the window on AS_OF
        *(_record("court.breach_finding", sources["court.breach_finding"], date(2025, 6, 1), i) for i in range(2)),
        _record("contract.breach", sources["contract.breach"], date(2025, 6, 1), 0),  # never published
    ]
    assessment = evaluate(lp, PERSON, records, [], AS_OF)
    [listing] = [x for x in assessment.listings if x.list_id == "rongcheng_untrustworthy"]
    reason = listing_reason(lp, listing, records, AS_OF)
    assert "admin.damage_public_utilities" in reason
    assert "court.breach_finding" not in reason and "contract.breach" not in reason.split("; rule:")[0]
    later = listing_reason(lp, listing, records, date(2025, 9, 30))  # 90 days on: nothing of it public
    assert later.startswith("own records; rule:")
