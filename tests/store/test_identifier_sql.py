"""The vectorised identifier checks equal the per-value validators, on random and on valid strings.

The per-value side is python-stdnum (``stdnum.cn.ric``; ``stdnum.cn.uscc`` plus the organisation-code
check stdnum lacks: ``xinyong.model.identifiers.validate_uscc``) and, for whole values with prefixes and
case, :class:`SchemeRegistry` itself.
"""

from __future__ import annotations

import random
import string

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from xinyong.model.checkdigits import org_code_check_chars, ric_valid, uscc_valid
from xinyong.model.errors import InvalidIdentifier
from xinyong.model.identifiers import default_schemes, org_code_check_char, validate_uscc
from xinyong.store.identifier_sql import (
    REGIONS_TABLE,
    USCC_ALPHABET,
    _region_arrays,
    compact_keys,
    ric_ok_sql,
    ric_regions,
    ric_regions_by_info,
    uscc_ok_sql,
)

_CON = duckdb.connect()
_CON.execute(f"CREATE TABLE {REGIONS_TABLE} (code VARCHAR, lo INTEGER, hi INTEGER)")
_CON.executemany(f"INSERT INTO {REGIONS_TABLE} VALUES (?, ?, ?)", list(ric_regions()))
_CODES = sorted({r[0] for r in ric_regions()})


class _Uscc:
    """``validate_uscc`` with the ``is_valid`` face of a stdnum module."""

    @staticmethod
    def is_valid(value: str) -> bool:
        try:
            return bool(validate_uscc(value))
        except Exception:
            return False


uscc = _Uscc()


def _stdnum(check: object, value: str) -> bool:
    try:
        return bool(check.is_valid(value))  # type: ignore[attr-defined]
    except Exception:  # stdnum.cn.ric raises KeyError for a province-only birthplace code
        return False


def _sql(values: list[str]) -> list[tuple[bool, bool]]:
    rows = _CON.execute(f"SELECT {uscc_ok_sql('v')}, {ric_ok_sql('v')} FROM "
                        "(SELECT unnest(?::VARCHAR[]) AS v, generate_subscripts(?::VARCHAR[], 1) AS i) "
                        "ORDER BY i", [values, values]).fetchall()
    return [(bool(a), bool(b)) for a, b in rows]


def _valid_uscc(r: random.Random) -> str:
    org = "".join(r.choice(USCC_ALPHABET) for _ in range(8))
    body = "".join(r.choice(string.digits) for _ in range(8)) + org
    body += org_code_check_char(org) if r.random() < 0.9 else r.choice(USCC_ALPHABET)  # some wrong
    return body + stdnum_uscc.calc_check_digit(body)


def _valid_ric(r: random.Random) -> str:
    body = r.choice(_CODES) + f"{r.randint(1900, 2030):04d}{r.randint(1, 12):02d}{r.randint(1, 31):02d}"
    body += f"{r.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


compact18 = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV", min_size=18, max_size=18)


@settings(max_examples=300, deadline=None)
@given(st.lists(compact18, min_size=1, max_size=50), st.integers(0, 2**32))
def test_equal_to_stdnum(randoms: list[str], seed: int) -> None:
    r = random.Random(seed)
    values = randoms + [_valid_uscc(r) for _ in range(20)] + [_valid_ric(r) for _ in range(20)]
    # a near miss: a valid value with one character changed
    values += [v[:5] + r.choice("0123456789") + v[6:] for v in values[-10:]]
    expected = [(_stdnum(uscc, v), _stdnum(ric, v)) for v in values]
    assert _sql(values) == expected
    assert any(e[0] for e in expected) and any(e[1] for e in expected)


def _arrow(values: list[str | None]) -> list[tuple[bool, bool]]:
    """(uscc valid, ric valid) per value by the numpy path (compact_keys and checkdigits)."""
    v = np.frombuffer("".join(x.upper() for x in values if x is not None).encode(), np.uint8)
    mat = v.reshape(-1, 18)
    u, r = uscc_valid(mat), ric_valid(mat, _region_arrays())
    return [(bool(a), bool(b)) for a, b in zip(u, r, strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(compact18, min_size=1, max_size=50), st.integers(0, 2**32))
def test_numpy_checks_equal_to_stdnum(randoms: list[str], seed: int) -> None:
    r = random.Random(seed)
    values = randoms + [_valid_uscc(r) for _ in range(20)] + [_valid_ric(r) for _ in range(20)]
    values += [v[:5] + r.choice("0123456789") + v[6:] for v in values[-10:]]
    # dates that only a calendar rejects: 29 February, day 31, month 13, year 0000
    values += [v[:6] + d + v[14:] for v in values[-5:] for d in ("19000229", "20000229", "20230431",
                                                                  "20231301", "00000101")]
    values = [v[:17] + ric.calc_check_digit(v) if v[:17].isdigit() and r.random() < 0.5 else v
              for v in values]
    expected = [(_stdnum(uscc, v), _stdnum(ric, v)) for v in values]
    assert _arrow(values) == expected
    # and through compact_keys: prefixes, lower case, other forms left to the registry
    forms = [*values, "cn.uscc:" + values[-41], "cn.ric:" + values[-21], values[-41].lower(),
             "cn.ric:" + values[-41], " " + values[-41][1:] + "  ", None, "x" * 26, "cn.usc:" + values[-41]]
    compact, keys, kind = compact_keys(pa.array(forms, pa.string()))
    for value, c, key, k in zip(forms, compact, keys.to_pylist(), kind, strict=True):
        form = value is not None and (len(value) == 18 or value.startswith(("cn.uscc:", "cn.ric:")))
        assert c == (form and value is not None and value[-18:].isalnum() and value.isascii())
        if not c or value is None:
            assert key is None and k == 0
            continue
        bare, scheme = value[-18:].upper(), value.partition(":")[0] if ":" in value else None
        u, ric_ok = _stdnum(uscc, bare) and scheme != "cn.ric", _stdnum(ric, bare) and scheme != "cn.uscc"
        want = f"cn.uscc:{bare}" if u and not ric_ok else f"cn.ric:{bare}" if ric_ok and not u else None
        assert key == want and k == (0 if want is None else 1 if u else 2)


def test_org_code_check_chars_equal_per_value() -> None:
    r = random.Random(7)
    bodies = ["".join(r.choice(USCC_ALPHABET) for _ in range(8)) for _ in range(2000)]
    mat = np.frombuffer("".join(bodies).encode(), np.uint8).reshape(-1, 8)
    assert bytes(org_code_check_chars(mat)).decode() == "".join(org_code_check_char(b) for b in bodies)


_SCHEMES = default_schemes()


def _per_value(text: str) -> str | None:
    try:
        return _SCHEMES.parse(text).key
    except InvalidIdentifier:
        return None


def _mutate(r: random.Random, v: str) -> str:
    i = r.randrange(len(v))
    return v[:i] + r.choice(string.digits + string.ascii_uppercase) + v[i + 1:]


@settings(max_examples=200, deadline=None)
@given(st.lists(compact18, max_size=30), st.integers(0, 2**32))
def test_compact_keys_equal_the_registry_on_every_value_it_decides(randoms: list[str], seed: int) -> None:
    """Vectorised == per-value: for each row ``compact_keys`` decides, its key is the registry's key for the
    same text (None where the registry refuses it, invalid or ambiguous)."""
    r = random.Random(seed)
    valid = [_valid_uscc(r) for _ in range(15)] + [_valid_ric(r) for _ in range(15)] + ["110105196001014114"]
    values = randoms + valid + [_mutate(r, v) for v in valid]
    forms = [r.choice(["", "cn.uscc:", "cn.ric:", "cn.USCC:"]) + (v.lower() if r.random() < 0.2 else v)
             for v in values]
    compact, keys, kind = compact_keys(pa.array(forms, pa.string()))
    for text, c, key, k in zip(forms, compact, keys.to_pylist(), kind, strict=True):
        if not c:
            assert text.startswith("cn.USCC:") and key is None and k == 0
            continue
        expected = _per_value(text)
        assert key == expected, text
        assert k == (0 if expected is None else 1 if expected.startswith("cn.uscc:") else 2)


def test_region_table_shortcut_equals_numdb_info_walk() -> None:
    """The per-province merge gives exactly what one ``NumDB.info`` call per code gives."""
    assert ric_regions() == ric_regions_by_info()
