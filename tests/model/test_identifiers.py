"""Subject identifiers: schemes validated by python-stdnum, bare values resolved when unambiguous."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from xinyong.model.errors import InvalidIdentifier
from xinyong.model.identifiers import Scheme, SchemeRegistry, SubjectKind, SubjectRef, default_schemes

USCC = "914403001922038216"           # a real company (REFERENCE.md)
RIC = "11010519491231002X"
BOTH = "110105196001014114"           # valid as a resident ID *and* as a USCC (both check characters)
# real organisations' codes, some with letters in the organisation code (positions 9-16)
REAL_USCC = ["914403001922038216", "91110000600037341L", "91440300708461136T", "91330100799655058B",
             "91110108551385082Q", "91350100M000100Y43", "91510100MA6BKY6U36", "91350500676532779B",
             "91370100780603055K", "91310110666007217T", "12100000400000624D"]
REAL_RIC = ["11010519491231002X", "360426199101010071", "11010119900307299X"]


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
    # both candidates named, as the keys to write instead
    assert exc.value.message == (f"'{BOTH}' is ambiguous: cn.uscc:{BOTH} (organisation) or cn.ric:{BOTH} "
                                 "(person); write it as scheme:value")
    assert len(exc.value.message) < 160  # whole in a reject file's reason
    assert schemes.parse(f"cn.ric:{BOTH}").kind is SubjectKind.PERSON
    assert schemes.parse(f"cn.uscc:{BOTH}").kind is SubjectKind.ORGANISATION


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cn.uscc:914403001922038217", "not a valid Unified Social Credit Code (cn.uscc)"),
        ("cn.ric:11010519491231002Y", "not a valid Resident Identity Card number (cn.ric)"),
        ("cn.ric:110105194913310028", "not a valid Resident Identity Card number"),   # 13th month
        ("cn.uscc:12345", "not a valid Unified Social Credit Code"),
        # stdnum.cn.uscc accepts these (mod-31 check right) but the organisation code's own check is wrong
        ("cn.uscc:110105199006153037", "organisation code (positions 9-17) fails its GB 11714 check"),
        ("cn.uscc:91110000600037342P", "organisation code (positions 9-17) fails its GB 11714 check"),
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


@pytest.mark.parametrize("value", REAL_USCC)
def test_real_organisations_are_accepted_bare_and_prefixed(schemes: SchemeRegistry, value: str) -> None:
    assert schemes.parse(value).key == f"cn.uscc:{value}"
    assert schemes.parse(f"cn.uscc:{value.lower()}").key == f"cn.uscc:{value}"


@pytest.mark.parametrize("value", REAL_RIC)
def test_real_resident_ids_are_accepted(schemes: SchemeRegistry, value: str) -> None:
    assert schemes.parse(value).key == f"cn.ric:{value}"


def test_stdnum_alone_would_take_an_impossible_resident_id_as_a_uscc(schemes: SchemeRegistry) -> None:
    """Month 13: no resident id; stdnum.cn.uscc accepts it by its mod-31 check, the organisation code
    check refuses it, so the bare value is valid nowhere instead of silently an organisation."""
    from stdnum.cn import uscc

    value = "110105199013010043"
    assert uscc.is_valid(value) and not ric.is_valid(value)
    with pytest.raises(InvalidIdentifier, match="not a valid identifier in any scheme"):
        schemes.parse(value)


@pytest.mark.parametrize(
    "value",
    [
        "110105194902300024",   # 30 February
        "110105190002290023",   # 29 February 1900 (not a leap year)
        "000000194912310024",   # no such birthplace
        "99010519491231002X",   # no such province
    ],
)
def test_resident_id_date_and_birthplace_are_checked(schemes: SchemeRegistry, value: str) -> None:
    body = value[:17]
    value = body + ric.calc_check_digit(body + "0")   # a right check character: only date/place are wrong
    with pytest.raises(InvalidIdentifier, match="not a valid Resident Identity Card number"):
        schemes.parse(f"cn.ric:{value}")


def test_org_code_check_character_of_a_letter_code() -> None:
    from xinyong.model.identifiers import org_code_check_char

    assert org_code_check_char("60003734") == "1"      # 91110000600037341L
    assert org_code_check_char("M000100Y") == "4"      # 91350100M000100Y43: letters count A=10 ... Z=35
    assert org_code_check_char("MA6BKY6U") == "3"
