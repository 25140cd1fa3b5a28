"""What each scheme's check characters catch: every single-character change of a valid identifier.

The claims, per scheme, proved here on random valid identifiers (a "change" replaces one character by
another digit or upper-case letter; a case-only change is no change, since every scheme upper-cases):

- ``cn.uscc``: every single change is refused. The last character is ISO 7064 MOD 31-3 over the 31-symbol
  alphabet: each weight 3^i mod 31 is non-zero modulo the prime 31 and two symbols differ by 1..30, so a
  substitution always changes the sum mod 31 (a letter outside the alphabet is a format error). The
  GB 11714 organisation-code check (positions 9-17) is a second, independent net.
- ``cn.ric``: every single change is refused: MOD 11-2, each weight 2^k mod 11 non-zero modulo the prime
  11 and two digits differ by 1..9; a letter anywhere but the last place is a format error.
- ``id.npwp`` (15 digits): only the first nine digits carry a check (Luhn, which catches every single
  digit substitution); the six digits of the tax office and branch carry none, so a change there gives
  another valid number. Stated, not hidden: the property asserts exactly that.
- ``id.nik``: no check character at all (only a registration place and a birth date are verified), so
  many single changes give another valid NIK. And every NIK is also a 16-digit NPWP, so a bare NIK is
  always ambiguous and refused, naming both readings.

Bare values: a change never resolves to the scheme of the original; it is refused, resolved to another
scheme (a different kind of subject, which the key then says), or refused as ambiguous.
"""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from xinyong.model.errors import InvalidIdentifier
from xinyong.model.identifiers import SchemeRegistry, default_schemes, org_code_check_char
from xinyong.store.identifier_sql import USCC_ALPHABET, ric_regions

SCHEMES: SchemeRegistry = default_schemes()
REPLACEMENTS = string.digits + string.ascii_uppercase
_REGIONS = [(code, lo, hi) for code, lo, hi in ric_regions() if hi >= 1900 and lo <= 2020]


def valid_uscc(r: random.Random) -> str:
    head = "".join(r.choice(string.digits) for _ in range(8))
    org = "".join(r.choice(USCC_ALPHABET) for _ in range(8))
    body = head + org + org_code_check_char(org)
    return body + uscc.calc_check_digit(body)


def valid_ric(r: random.Random) -> str:
    code, lo, hi = r.choice(_REGIONS)
    year = r.randint(max(lo, 1900), min(hi, 2020))
    body = f"{code}{year:04d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_npwp(r: random.Random) -> str:
    head = "".join(r.choice(string.digits) for _ in range(8))
    return head + luhn.calc_check_digit(head) + "".join(r.choice(string.digits) for _ in range(6))


def changes(value: str) -> list[tuple[int, str]]:
    """Every single-character substitution: (position, changed value)."""
    return [(i, value[:i] + c + value[i + 1:]) for i in range(len(value)) for c in REPLACEMENTS
            if c != value[i]]


def accepted(scheme: str, value: str) -> bool:
    try:
        SCHEMES.parse(f"{scheme}:{value}")
    except InvalidIdentifier:
        return False
    return True


def bare_never_same_scheme(scheme: str, changed: str) -> None:
    """A changed bare value is refused, resolved to another scheme, or refused as ambiguous."""
    try:
        ref = SCHEMES.parse(changed)
    except InvalidIdentifier as exc:
        if "ambiguous" in exc.message:
            assert exc.message.count(f":{changed} (") >= 2   # both candidates named
        return
    assert ref.scheme != scheme, f"{changed} still reads as {scheme}"


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_uscc_every_single_change_is_refused(r: random.Random) -> None:
    value = valid_uscc(r)
    assert accepted("cn.uscc", value)
    for _, changed in changes(value):
        assert not accepted("cn.uscc", changed), changed
        bare_never_same_scheme("cn.uscc", changed)


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_resident_id_every_single_change_is_refused(r: random.Random) -> None:
    value = valid_ric(r)
    assert accepted("cn.ric", value)
    for _, changed in changes(value):
        assert not accepted("cn.ric", changed), changed
        bare_never_same_scheme("cn.ric", changed)


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_npwp_changes_are_refused_exactly_where_the_luhn_check_reaches(r: random.Random) -> None:
    value = valid_npwp(r)
    assert accepted("id.npwp", value)
    for i, changed in changes(value):
        if not changed.isdigit():
            assert not accepted("id.npwp", changed)          # format
        elif i < 9:
            assert not accepted("id.npwp", changed), changed  # Luhn over the first nine digits
        else:
            assert accepted("id.npwp", changed)              # tax office and branch: no check
        if i < 9:
            bare_never_same_scheme("id.npwp", changed)


def test_nik_has_no_check_character_and_a_bare_nik_is_ambiguous() -> None:
    value = "3171011708450001"
    assert accepted("id.nik", value)
    # the sequence number (last four digits) is covered by nothing: another valid NIK
    assert accepted("id.nik", value[:-1] + "2")
    # a registration place that does not exist is refused
    assert not accepted("id.nik", "99" + value[2:])
    # every 16-digit NIK is also a valid NPWP (the 2024 format), so bare it is refused with both readings
    with pytest.raises(InvalidIdentifier) as exc:
        SCHEMES.parse(value)
    assert f"id.nik:{value}" in exc.value.message and f"id.npwp:{value}" in exc.value.message


def test_a_case_only_change_is_the_same_identifier() -> None:
    assert SCHEMES.parse("cn.uscc:91350100m000100y43").key == "cn.uscc:91350100M000100Y43"
    assert SCHEMES.parse("cn.ric:11010519491231002x").key == "cn.ric:11010519491231002X"
