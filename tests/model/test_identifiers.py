"""Subject identifiers: schemes validated by python-stdnum, bare values resolved when unambiguous."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from xinyong.model.errors import InvalidIdentifier
from xinyong.model.identifiers import Scheme, SchemeRegistry, SubjectKind, SubjectRef, default_schemes

USCC = "914403001922038216"           # a real company (REFERENCE.md)
RIC = "11010519491231002X"
BOTH = "110105199006153037"           # valid as a resident ID *and* as a USCC check character


@pytest.fixture
def schemes() -> SchemeRegistry:
    return default_schemes()


def test_names_are_sorted(schemes: SchemeRegistry) -> None:
    assert schemes.names() == ["cn.ric", "cn.uscc", "id.nik", "id.npwp"]


def test_valid_uscc_with_scheme(schemes: SchemeRegistry) -> None:
    ref = schemes.parse(f"cn.uscc:{USCC}")
    assert ref == SubjectRef("cn.uscc", USCC, SubjectKind.ORGANISATION)
    assert ref.key == str(ref) == f"cn.uscc:{USCC}"


def test_valid_resident_id_with_scheme(schemes: SchemeRegistry) -> None:
    ref = schemes.parse(f"cn.ric:{RIC}")
    assert (ref.scheme, ref.value, ref.kind) == ("cn.ric", RIC, SubjectKind.PERSON)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (USCC, f"cn.uscc:{USCC}"),
        (RIC, f"cn.ric:{RIC}"),
        (f"  {USCC}\n", f"cn.uscc:{USCC}"),            # surrounding whitespace is stripped
        ("9144 0300 1922 0382 16", f"cn.uscc:{USCC}"),  # stdnum compacts spaces
    ],
)
def test_bare_values_resolve_to_the_one_scheme_that_validates_them(
    schemes: SchemeRegistry, text: str, key: str
) -> None:
    assert schemes.parse(text).key == key


def test_canonical_value_is_compacted(schemes: SchemeRegistry) -> None:
    assert schemes.parse("cn.uscc:9144 0300 1922 0382 16").value == USCC


def test_ambiguous_bare_value_must_name_its_scheme(schemes: SchemeRegistry) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        schemes.parse(BOTH)
    assert exc.value.field == "subject"
    assert "valid in several schemes (cn.uscc, cn.ric)" in exc.value.message
    assert "scheme:value" in exc.value.message
    assert schemes.parse(f"cn.ric:{BOTH}").kind is SubjectKind.PERSON
    assert schemes.parse(f"cn.uscc:{BOTH}").kind is SubjectKind.ORGANISATION


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cn.uscc:914403001922038217", "not a valid Unified Social Credit Code (cn.uscc)"),
        ("cn.ric:11010519491231002Y", "not a valid Resident Identity Card number (cn.ric)"),
        ("cn.ric:110105194913310028", "not a valid Resident Identity Card number"),   # 13th month
        ("cn.uscc:12345", "not a valid Unified Social Credit Code"),
    ],
)
def test_invalid_values_name_the_field_and_scheme(schemes: SchemeRegistry, text: str, words: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        schemes.parse(text)
    assert exc.value.field == "subject"
    assert words in exc.value.message
    assert str(exc.value).startswith("subject: ")


def test_a_bare_value_valid_nowhere(schemes: SchemeRegistry) -> None:
    with pytest.raises(InvalidIdentifier, match="not a valid identifier in any scheme") as exc:
        schemes.parse("hello")
    assert exc.value.field == "subject"


def test_unknown_scheme_lists_the_known_ones(schemes: SchemeRegistry) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        schemes.parse("us.ssn:078-05-1120")
    assert exc.value.field == "subject"
    assert "unknown identifier scheme 'us.ssn'; known: cn.ric, cn.uscc, id.nik, id.npwp" in exc.value.message


def test_kind_of_a_key(schemes: SchemeRegistry) -> None:
    assert schemes.kind_of(f"cn.uscc:{USCC}") is SubjectKind.ORGANISATION
    assert schemes.kind_of(f"cn.ric:{RIC}") is SubjectKind.PERSON
    with pytest.raises(InvalidIdentifier):
        schemes.kind_of("nope:1")


def test_a_registry_holds_only_the_schemes_it_was_given() -> None:
    only_ric = SchemeRegistry([Scheme("cn.ric", SubjectKind.PERSON, "RIC", ric.validate, ric.compact)])
    assert only_ric.parse(BOTH).key == f"cn.ric:{BOTH}"      # no longer ambiguous
    with pytest.raises(InvalidIdentifier, match=r"unknown identifier scheme 'cn\.uscc'"):
        only_ric.parse(f"cn.uscc:{USCC}")
