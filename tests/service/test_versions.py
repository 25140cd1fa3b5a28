"""Versions in force by date: replaying a register across a version change uses the rules of each date,
and no version may take effect before it is published (no retroactive punishment)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from xinyong.model.assessment import Effect
from xinyong.model.errors import InvalidInput
from xinyong.model.record import Record
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
DEBTOR = "cn.ric:11010519491231002X"
FLIGHT = "transport.flight.purchase"


def _version(tmp: Path, version: str, effective_from: str | None, duration: int) -> Path:
    """The shixin policy under another version, starting date and listing duration."""
    d = tmp / f"v{version}"
    d.mkdir()
    shutil.copy(ROOT / "policies/catalogue.yaml", d / "catalogue.yaml")
    text = (ROOT / "policies/shixin.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "2026.1"', f'version: "{version}"')
    text = text.replace("max_duration_days: 730 ", f"max_duration_days: {duration} ")
    text = text.replace("      days: 730", f"      days: {duration}")
    if effective_from:
        text = text.replace("catalogue: catalogue.yaml", f"effective_from: {effective_from}\ncatalogue: catalogue.yaml")
    (d / "shixin.yaml").write_text(text, encoding="utf-8")
    return d / "shixin.yaml"


def test_replay_across_a_version_change(stores: Stores, tmp_path: Path) -> None:
    with stores.open() as store:
        reg = Registry(store, actor="office")
        reg.publish([_version(tmp_path, "1", None, 730)], today=date(2026, 1, 1))
        store.add_records([Record(subject=DEBTOR, source="court.enforcement", type="court.refuse_perform",
                                  occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document="(2026) 1")])
        # version 2 lists for 90 days only, from 2026-06-01: published in May, before it applies
        reg.publish([_version(tmp_path, "2", "2026-06-01", 90)], today=date(2026, 5, 2))
        assert [lp.policy.version for lp in reg.policies(date(2026, 5, 31))] == ["1"]
        assert [lp.policy.version for lp in reg.policies(date(2026, 6, 1))] == ["2"]
        # May: version 1 (730 days) keeps the debtor listed; June: version 2's 90 days have run out
        may = reg.check(DEBTOR, FLIGHT, "ticket sale", date(2026, 5, 15))
        june = reg.check(DEBTOR, FLIGHT, "ticket sale", date(2026, 6, 15))
        assert may.effect is Effect.DENY and june.effect is Effect.ALLOW
        assert [d.effect for d in reg.check_batch([DEBTOR], FLIGHT, "t", date(2026, 5, 15))] == [Effect.DENY]
        assert [d.effect for d in reg.check_batch([DEBTOR], FLIGHT, "t", date(2026, 6, 15))] == [Effect.ALLOW]
        (lp, a), = [(lp, a) for lp, a in reg.explain(DEBTOR, date(2026, 5, 15)) if a.listings]
        assert lp.policy.ref.endswith("1") and a.listings[0].until == date(2028, 1, 10)


def test_a_version_may_not_take_effect_in_the_past(stores: Stores, tmp_path: Path) -> None:
    with stores.open() as store:
        reg = Registry(store, actor="office")
        with pytest.raises(InvalidInput, match="before today"):
            reg.publish([_version(tmp_path, "3", "2026-01-01", 90)], today=date(2026, 2, 1))
        assert store.policy_versions() == []
