"""Batch manifests: comments and blank lines, errors by line number, the rest still decided."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xinyong.model.errors import InvalidInput
from xinyong.model.record import Record
from xinyong.service.manifest import ManifestLine, check_manifest, parse_manifest, read_manifest
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
PERSON = "11010519491231002X"
COMPANY = "914403001922038216"
BOTH = "110105196001014114"
FLIGHT = "transport.flight.purchase"


def test_parse_skips_comments_and_blank_lines_and_keeps_line_numbers() -> None:
    text = f"\ufeff# header\n\n{PERSON}\n   \n  cn.uscc:{COMPANY}  # trailing comment\n#{COMPANY}\r\nx\n"
    assert parse_manifest(text) == [ManifestLine(3, PERSON), ManifestLine(5, f"cn.uscc:{COMPANY}"),
                                    ManifestLine(7, "x")]
    assert parse_manifest("") == [] and parse_manifest("# only a comment\n") == []


def test_read_refuses_what_cannot_be_read_naming_file_and_place(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the manifest") as exc:
        read_manifest(tmp_path / "missing.txt")
    assert exc.value.field == "--batch"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"# ok\n" + PERSON.encode() + b"\n\xff\xfe\n")
    with pytest.raises(InvalidInput, match=r"bad.txt:3: not UTF-8 \(byte offset 24\)"):
        read_manifest(bad)


@pytest.fixture
def registry(stores: Stores) -> Registry:
    store = stores.open()
    reg = Registry(store, actor="airline")
    reg.publish([ROOT / "policies"])
    store.add_records([Record(subject=f"cn.ric:{PERSON}", source="court.enforcement", type="court.refuse_perform",
                              occurred=date(2025, 11, 1), decided=date(2026, 1, 10), document="(2026) J 1")])
    return reg


def test_bad_and_ambiguous_lines_are_reported_and_the_rest_decided(registry: Registry) -> None:
    lines = parse_manifest(f"# flight\n{PERSON}\n11010519491231002Y\n{BOTH}\n{COMPANY}\n")
    result = check_manifest(registry, lines, FLIGHT, "boarding", date(2026, 3, 1))
    assert not result.ok
    assert [(n, d.subject, d.effect.value) for n, d in result.decisions] == [
        (2, f"cn.ric:{PERSON}", "deny"), (5, f"cn.uscc:{COMPANY}", "allow")]
    assert [(e.line, e.text) for e in result.errors] == [(3, "11010519491231002Y"), (4, BOTH)]
    assert "ambiguous" in result.errors[1].error and f"cn.ric:{BOTH}" in result.errors[1].error
    assert [x["line"] for x in result.as_json()] == [2, 3, 4, 5]
    # each decision is audited, the refused lines decide nothing
    decided = [e for e in registry.store.audit_entries() if e.entry.action == "decide"]
    assert len(decided) == 2


def test_strict_stops_at_the_first_bad_line_before_deciding(registry: Registry) -> None:
    lines = parse_manifest(f"{PERSON}\nnope\nalso nope\n")
    with pytest.raises(InvalidInput, match=r"^--batch: passengers.txt:2: 'nope' is not a valid identifier") as exc:
        check_manifest(registry, lines, FLIGHT, "boarding", date(2026, 3, 1), strict=True, name="passengers.txt")
    assert exc.value.field == "--batch"
    assert not [e for e in registry.store.audit_entries() if e.entry.action == "decide"]


def test_a_purpose_is_required_even_when_no_line_is_good(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="purpose"):
        check_manifest(registry, parse_manifest("nope\n"), FLIGHT, " ", date(2026, 3, 1))
