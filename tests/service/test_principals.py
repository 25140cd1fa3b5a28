"""A relying party registers only for actions the policies in force govern: a measure that a later version
dropped governs nothing any more, while a version published to take effect later already counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xinyong.model.errors import InvalidInput
from xinyong.service.principals import Principals, Role
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
SHIP = "transport.ship.second_class_cabin"  # governed by shixin 2026.1's measure shixin.ship_cabin
FLIGHT = "transport.flight.purchase"


def _version(tmp: Path, version: str, effective_from: str | None) -> Path:
    """The shixin policy under another version, without the ship-cabin measure."""
    d = tmp / f"v{version}"
    d.mkdir()
    shutil.copy(ROOT / "policies/catalogue.yaml", d / "catalogue.yaml")
    text = (ROOT / "policies/shixin.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: shixin.ship_cabin")
    end = text.index("  - id:", start + 1)
    text = (text[:start] + text[end:]).replace('version: "2026.1"', f'version: "{version}"')
    if effective_from:
        text = text.replace("catalogue: catalogue.yaml", f"effective_from: {effective_from}\ncatalogue: catalogue.yaml")
    (d / "shixin.yaml").write_text(text, encoding="utf-8")
    return d / "shixin.yaml"


def test_an_action_only_a_superseded_version_governed_is_refused(stores: Stores, tmp_path: Path) -> None:
    with stores.open() as store:
        reg = Registry(store, actor="office")
        reg.publish([ROOT / "policies/shixin.yaml"])
        keys = Principals(store, registry=reg)
        keys.create("Ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")  # governed today
        reg.publish([_version(tmp_path, "2026.2", None)])  # drops the measure, in force at once
        with pytest.raises(InvalidInput, match=r"no published measure governs action 'transport\.ship"):
            keys.create("Another ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")
        keys.create("Airline", Role.RELYING_PARTY, actions=[FLIGHT], by="test")  # still governed
        # a key store without a registry of its own reads the same in-force versions
        with pytest.raises(InvalidInput, match="no published measure governs"):
            Principals(store).create("Third ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")


def test_the_version_in_force_counts_until_its_successor_takes_effect(stores: Stores, tmp_path: Path) -> None:
    with stores.open() as store:
        reg = Registry(store, actor="office")
        reg.publish([ROOT / "policies/shixin.yaml"])
        reg.publish([_version(tmp_path, "2026.2", "2099-01-01")])  # published now, applies later
        principal, _ = Principals(store, registry=reg).create("Ferry line", Role.RELYING_PARTY, actions=[SHIP],
                                                              by="test")
        assert principal.actions == (SHIP,)


def test_nothing_is_governed_in_an_empty_register(stores: Stores) -> None:
    with stores.open() as store, pytest.raises(InvalidInput, match="no published measure governs"):
        Principals(store).create("Airline", Role.RELYING_PARTY, actions=[FLIGHT], by="test")


def test_a_version_another_process_published_counts_at_once(stores: Stores, tmp_path: Path) -> None:
    """The service's registry keeps its loaded versions; key registration still sees what the store holds."""
    with stores.open() as store:
        service = Registry(store, actor="http")
        service.publish([ROOT / "policies/shixin.yaml"])
        keys = Principals(store, registry=service)
        keys.create("Ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")  # loads and keeps 2026.1
        Registry(store, actor="cli").publish([_version(tmp_path, "2026.2", None)])  # as another process would
        with pytest.raises(InvalidInput, match=r"no published measure governs action 'transport\.ship"):
            keys.create("Another ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")


def test_the_services_day_decides_which_version_is_in_force(stores: Stores, tmp_path: Path) -> None:
    """A service with a fixed as-of date (the demo) governs by the versions in force on that date, not on
    the calendar's: the successor dated later has not yet dropped the measure there."""
    from datetime import date

    with stores.open() as store:
        reg = Registry(store, actor="office")
        reg.publish([ROOT / "policies/shixin.yaml"])
        reg.publish([_version(tmp_path, "2026.2", "2030-01-01")])
        reg.publish([_version(tmp_path, "2026.3", "2031-01-01")])  # the latest also drops it
        on_2030 = Principals(store, registry=reg, today=lambda: date(2030, 6, 1))
        with pytest.raises(InvalidInput, match="no published measure governs"):
            on_2030.create("Ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")
        earlier = Principals(store, registry=reg, today=lambda: date(2029, 6, 1))
        assert earlier.create("Ferry line", Role.RELYING_PARTY, actions=[SHIP], by="test")[0].actions == (SHIP,)
