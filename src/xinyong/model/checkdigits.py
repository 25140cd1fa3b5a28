"""Check characters and validity of Chinese identifiers, vectorised with numpy (no I/O).

``python-stdnum`` is the authority on what is valid (charter: identifiers are never validated by hand):
these are the same algorithms written for a million values at a time, and Hypothesis tests hold them
equal to ``stdnum.cn.uscc`` and ``stdnum.cn.ric``. The lab uses the check characters to *generate*
identifiers; the bulk ingest uses the validity functions to decide values already in compact form.
A USCC is valid here exactly when :func:`xinyong.model.identifiers.validate_uscc` accepts it: stdnum's
checks plus the GB 11714 check character of the organisation code in positions 9-17, which stdnum lacks.

Identifiers are ``(n, 18)`` uint8 matrices of ASCII codes, one row per identifier (upper case).
The resident-ID birthplace table is a parameter (the store draws it from stdnum's own ``cn/loc``
database), so this module stays pure.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from xinyong.model.identifiers import ORG_CODE_WEIGHTS

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

USCC_ALPHABET = b"0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_ORG_CODE_WEIGHTS = np.array(ORG_CODE_WEIGHTS, dtype=np.int64)
# GB 11714 character values: digits 0-9, letters A=10 ... Z=35 (the USCC alphabet is a subset)
_ORG_VALUE8 = np.zeros(256, dtype=np.uint8)
_ORG_VALUE8[ord("0"):ord("9") + 1] = np.arange(10, dtype=np.uint8)
_ORG_VALUE8[ord("A"):ord("Z") + 1] = np.arange(10, 36, dtype=np.uint8)

_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[_c] = _i
_USCC_CHARS = np.frombuffer(USCC_ALPHABET, dtype=np.uint8)
_RIC_CHARS = np.frombuffer(b"0123456789X", dtype=np.uint8)
_USCC_VALUE8 = np.where(_USCC_VALUE < 0, 255, _USCC_VALUE).astype(np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def uscc_check_chars(body: U8) -> U8:
    """GB 32100-2015 check character (ASCII) of each row of 17 USCC characters (ASCII)."""
    values = _USCC_VALUE[body]
    if (values < 0).any():
        raise ValueError("USCC body contains a character outside the USCC alphabet")
    total = (values * _USCC_WEIGHTS).sum(axis=1)
    result: U8 = _USCC_CHARS[(31 - total % 31) % 31]
    return result


def ric_check_chars(body: U8) -> U8:
    """GB 11643 (ISO 7064 MOD 11-2) check character (ASCII) of each row of 17 digits (ASCII)."""
    total = ((body.astype(np.int64) - ord("0")) * _RIC_WEIGHTS).sum(axis=1)
    result: U8 = _RIC_CHARS[(12 - total % 11) % 11]
    return result


def org_code_check_chars(body: U8) -> U8:
    """GB 11714 check character of each 8-character organisation code body inside a USCC (``X`` for 10)."""
    total = (_ORG_VALUE8[body].astype(np.int64) * _ORG_CODE_WEIGHTS).sum(axis=1)
    check = (11 - total % 11) % 11
    result: U8 = _RIC_CHARS[check]
    return result


def all_rows(m: Bools) -> Bools:
    """True for each row of a boolean matrix that is all true."""
    out: Bools = np.logical_and.reduce(m, axis=1)
    return out


def _columns(v: U8) -> U8:
    """The ``(18, n)`` transpose, so that each character position is one contiguous vector."""
    out: U8 = np.ascontiguousarray(v.T)
    return out


def _number(cols: U8) -> I64:
    """The decimal number written by rows of digit values (0-9) given as columns."""
    out = np.zeros(cols.shape[1], dtype=np.int64)
    for col in cols:
        out = out * 10 + col
    return out


def uscc_valid(v: U8, *, columns: bool = False) -> Bools:
    """``validate_uscc`` of each row: 8 digits, 10 alphabet characters, mod-31 check, and the GB 11714
    check character of the organisation code (positions 9-17).

    With ``columns=True``, ``v`` is given as ``(18, n)`` columns instead of ``(n, 18)`` rows.
    """
    cols = v if columns else _columns(v)
    values = _USCC_VALUE8[cols]  # 255 outside the alphabet
    ok = np.ones(cols.shape[1], dtype=np.bool_)
    total = np.zeros(cols.shape[1], dtype=np.uint16)  # at most 17 * 30 * 30 < 2**16
    org = np.zeros(cols.shape[1], dtype=np.uint16)  # at most 8 * 35 * 10 < 2**16
    for i in range(18):
        ok &= values[i] <= 9 if i < 8 else values[i] != 255
        if i < 17:
            total += values[i].astype(np.uint16) * np.uint16(_USCC_WEIGHTS[i])
        if 8 <= i < 16:
            org += _ORG_VALUE8[cols[i]].astype(np.uint16) * np.uint16(_ORG_CODE_WEIGHTS[i - 8])
    ok &= values[17] == (31 - total % 31) % 31
    ok &= cols[16] == _RIC_CHARS[(11 - org % 11) % 11]
    return ok


def region_table(codes: I64, first_year: I64, last_year: I64) -> tuple[I64, I64]:
    """A birthplace table for :func:`ric_valid` from (code, first year, last year) rows.

    The intervals of one code must be disjoint (each code's years merged beforehand).
    """
    key = codes.astype(np.int64) * 10_000 + first_year
    order = np.argsort(key, kind="stable")
    return key[order], last_year.astype(np.int64)[order]


def ric_valid(v: U8, regions: tuple[I64, I64], *, columns: bool = False) -> Bools:
    """``stdnum.cn.ric.is_valid`` of each row: 17 digits, MOD 11-2 check, birth date, birthplace.

    ``regions`` comes from :func:`region_table`; a birthplace is valid when its code was in use in
    the year of birth. With ``columns=True``, ``v`` is given as ``(18, n)`` columns.
    """
    cols = v if columns else _columns(v)
    n = cols.shape[1]
    d = cols[:17] - np.uint8(ord("0"))  # wraps above 9 for anything but a digit
    ok = np.ones(n, dtype=np.bool_)
    total = np.zeros(n, dtype=np.uint16)  # at most 17 * 9 * 10 < 2**16
    for i in range(17):
        ok &= d[i] <= 9
        total += d[i].astype(np.uint16) * np.uint16(_RIC_WEIGHTS[i])
    ok &= _RIC_CHARS[(12 - total % 11) % 11] == cols[17]
    d = np.where(ok, d, 0).astype(np.uint8)
    year, month, day = _number(d[6:10]), _number(d[10:12]), _number(d[12:14])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    in_month = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= in_month)
    keys, last = regions
    if not len(keys):
        return np.zeros(n, dtype=np.bool_)
    code = _number(d[:6])
    at = np.maximum(np.searchsorted(keys, code * 10_000 + year, side="right") - 1, 0)
    ok &= (keys[at] // 10_000 == code) & (keys[at] % 10_000 <= year) & (year <= last[at])
    return ok
