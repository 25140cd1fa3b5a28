"""Subject identifiers checked vectorised, exactly as python-stdnum checks them: over Arrow, and in SQL.

python-stdnum stays the authority (charter: identifiers are never validated by hand): these are the
same algorithms written for a column at a time, and Hypothesis tests hold them equal to the per-value
validators of :mod:`xinyong.model.identifiers` (``stdnum.cn.ric``, and ``stdnum.cn.uscc`` plus the GB
11714 check character of the embedded organisation code, which stdnum does not verify). They only decide
values already in compact form (18 ASCII letters or digits, optionally ``cn.uscc:`` / ``cn.ric:`` in
front); anything else (spaces, dashes, full-width characters, other schemes) is resolved per row by
:class:`SchemeRegistry`.

The bulk ingest uses :func:`compact_keys`: numpy over the Arrow buffers of the subject column (with
:mod:`xinyong.model.checkdigits`), about 20 times faster than splitting strings into characters in SQL.
The SQL expressions stay for queries inside the database and as a second, independent implementation.

The resident-ID birthplace table comes from python-stdnum's own ``cn/loc`` database, with the years each
county code was in use, so a code retired in 2010 is valid only for people born by 2010.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import numdb

from xinyong.model.checkdigits import I64, U8, all_rows, region_table, ric_valid, uscc_valid
from xinyong.model.identifiers import ORG_CODE_WEIGHTS

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_RIC_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
FAST_PATTERN = r"(?:(?:cn\.uscc|cn\.ric):)?[0-9A-Za-z]{18}"
REGIONS_TABLE = "_xy_ric_regions"
FAST_SCHEMES = frozenset({"cn.uscc", "cn.ric"})
# schemes that can never accept an 18-character value, so a bare one is decided by uscc/ric alone
NEVER_18 = frozenset({"id.npwp", "id.nik"})


def _uscc_value(c: str) -> str:
    """The value of one USCC character from its ASCII code (digits, then A-Y without I, O, S, V, Z)."""
    a = f"ascii({c})"
    return (f"(CASE WHEN {a} < 65 THEN {a} - 48 ELSE {a} - 55 - ({a} > 73)::INT - ({a} > 79)::INT "
            f"- ({a} > 83)::INT - ({a} > 86)::INT END)")


def _org_value(c: str) -> str:
    """The GB 11714 value of one organisation-code character (digits 0-9, then A=10 ... Z=35)."""
    a = f"ascii({c})"
    return f"(CASE WHEN {a} < 65 THEN {a} - 48 ELSE {a} - 55 END)"


def uscc_ok_sql(v: str) -> str:
    """True when ``v`` (18 upper-case characters) is a valid USCC: 8 digits, alphabet, mod-31 check,
    and the GB 11714 check character of the organisation code in positions 9-17.

    Character values come from ASCII arithmetic (twice as fast as ``strpos`` in the alphabet); the
    regular expression has already kept out every character outside the alphabet.
    """
    total = " + ".join(f"{_uscc_value(f'{v}[{i + 1}]')} * {w}" for i, w in enumerate(_USCC_WEIGHTS))
    org = " + ".join(f"{_org_value(f'{v}[{i + 9}]')} * {w}" for i, w in enumerate(ORG_CODE_WEIGHTS))
    return (f"(regexp_full_match({v}, '[0-9]{{8}}[{USCC_ALPHABET}]{{10}}') AND "
            f"{v}[18] = substr('{USCC_ALPHABET}', ((31 - ({total}) % 31) % 31) + 1, 1) AND "
            f"{v}[17] = substr('0123456789X', ((11 - ({org}) % 11) % 11) + 1, 1))")


def ric_pre_sql(v: str) -> str:
    """The resident-ID checks that need no table: format, MOD 11-2 check character, birth date."""
    total = " + ".join(f"(ascii({v}[{i + 1}]) - 48) * {w}" for i, w in enumerate(_RIC_WEIGHTS))
    birth = f"try_cast({v}[7:10] || '-' || {v}[11:12] || '-' || {v}[13:14] AS DATE)"
    return (f"(regexp_full_match({v}, '[0-9]{{17}}[0-9X]') AND "
            f"{v}[18] = substr('0123456789X', ((12 - ({total}) % 11) % 11) + 1, 1) AND "
            f"{v}[7:10] <> '0000' AND {birth} IS NOT NULL)")


def ric_region_join(v: str, pre: str, alias: str = "g") -> str:
    """LEFT JOIN the birthplace table for rows that passed ``pre``; ``{alias}.code IS NOT NULL`` = ok.

    The table holds disjoint year intervals per code, so a row matches at most once.
    """
    return (f"LEFT JOIN {REGIONS_TABLE} {alias} ON {alias}.code = CASE WHEN {pre} THEN {v}[1:6] END "
            f"AND TRY_CAST({v}[7:10] AS INTEGER) BETWEEN {alias}.lo AND {alias}.hi")


def ric_ok_sql(v: str) -> str:
    """True when ``v`` is a valid resident ID (a scalar form, for tests and small lookups)."""
    return (f"({ric_pre_sql(v)} AND EXISTS (SELECT 1 FROM {REGIONS_TABLE} g WHERE g.code = {v}[1:6] "
            f"AND TRY_CAST({v}[7:10] AS INTEGER) BETWEEN g.lo AND g.hi))")


_UPPER_ALNUM = np.zeros(256, dtype=np.uint8)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _UPPER_ALNUM[_c] = ord(bytes([_c]).upper())
_PREFIXES = ((b"cn.uscc:", 1), (b"cn.ric:", 2))
KIND_NAMES = ("organisation", "person")  # kind codes 1, 2 (0: not decided here)


def compact_keys(subjects: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.bool_], pa.Array,
                                                                 npt.NDArray[np.int8]]:
    """Decide subjects in compact form, vectorised: ``(compact, key, kind)`` per row.

    ``compact`` marks the rows this decides (the SQL ``FAST_PATTERN``): their ``key`` is the canonical
    ``cn.uscc:…`` / ``cn.ric:…`` when exactly one scheme accepts the value (and the prefix, if any,
    names that scheme), else null; ``kind`` is 1 (organisation), 2 (person) or 0. Other rows (null,
    other lengths or characters) are left to the registry: null key, kind 0.
    """
    arr = subjects.combine_chunks() if isinstance(subjects, pa.ChunkedArray) else subjects
    if arr.type != pa.large_string():
        arr = pc.cast(arr, pa.large_string())
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    length = np.diff(offsets)
    cand = (length == 18) | (length == 25) | (length == 26)
    if arr.null_count:
        cand &= arr.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(cand)
    # the last 18 bytes of each candidate, as 18 contiguous columns
    cols: U8 = data[offsets[1:][rows][None, :] + np.arange(-18, 0)[:, None]] if len(rows) else \
        np.zeros((18, 0), np.uint8)
    cols = _UPPER_ALNUM[cols]  # upper case; 0 for anything but an ASCII letter or digit
    ok = np.logical_and.reduce(cols != 0, axis=0) if len(rows) else np.zeros(0, np.bool_)
    pfx = np.zeros(len(rows), dtype=np.int8)
    for prefix, code in _PREFIXES:
        sel = np.flatnonzero(length[rows] == 18 + len(prefix))
        if len(sel):
            head = data[offsets[:-1][rows[sel], None] + np.arange(len(prefix))]
            ok[sel] &= all_rows(head == np.frombuffer(prefix, dtype=np.uint8))
            pfx[sel] = code
    compact = np.zeros(n, dtype=np.bool_)
    compact[rows[ok]] = True
    if not ok.all():
        rows, pfx, cols = rows[ok], pfx[ok], cols[:, ok]
    u_ok = (pfx != 2) & uscc_valid(cols, columns=True)
    r_ok = (pfx != 1) & ric_valid(cols, _region_arrays(), columns=True)
    kind_rows = np.where(u_ok & ~r_ok, 1, np.where(r_ok & ~u_ok, 2, 0)).astype(np.int8)
    kind = np.zeros(n, dtype=np.int8)
    kind[rows] = kind_rows
    return compact, _key_array(kind, cols[:, kind_rows > 0].T, kind_rows[kind_rows > 0]), kind


def _key_array(kind: npt.NDArray[np.int8], v: U8, kinds: npt.NDArray[np.int8]) -> pa.Array:
    """``cn.uscc:<v>`` / ``cn.ric:<v>`` where ``kind`` is 1 / 2, null elsewhere, built from buffers.

    ``v`` and ``kinds`` hold the identifiers and kinds of the rows with a key, in row order.
    """
    n = len(kind)
    lengths = np.where(kind == 1, 26, np.where(kind == 2, 25, 0)).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    mat = np.empty((len(v), 26), dtype=np.uint8)
    mat[:, :8] = np.frombuffer(b"cn.uscc:", np.uint8)
    mat[:, 8:] = v
    keep = np.ones((len(v), 26), dtype=np.bool_)
    person = kinds == 2
    if person.any():
        mat[person, :25] = np.concatenate([np.broadcast_to(np.frombuffer(b"cn.ric:", np.uint8),
                                                           (int(person.sum()), 7)), v[person]], axis=1)
        keep[person, 25] = False
    valid = np.packbits(kind > 0, bitorder="little")
    return pa.Array.from_buffers(pa.large_string(), n, [pa.py_buffer(valid), pa.py_buffer(offsets),
                                                         pa.py_buffer(mat[keep])])


@cache
def _region_arrays() -> tuple[I64, I64]:
    rows = ric_regions()
    return region_table(np.array([int(r[0]) for r in rows], dtype=np.int64),
                        np.array([r[1] for r in rows], dtype=np.int64),
                        np.array([r[2] for r in rows], dtype=np.int64))


@cache
def ric_regions() -> tuple[tuple[str, int, int], ...]:
    """(code, first year, last year) for each birthplace code, as ``stdnum.cn.ric`` accepts them.

    Mirrors ``ric.get_birth_place``: the county entries of the code, each either always valid or
    valid for ``[start-end]`` years. A code with no county (only a province matches) is refused.
    The properties of a code are those ``NumDB.info`` gives (every matching entry of a level, later
    ones overriding), computed once per province instead of one ``info`` walk of the whole database
    per code, which dominated the start of every ingest process; :func:`ric_regions_by_info` is the
    walk itself, and a test holds the two equal.
    """
    db = numdb.get("cn/loc")
    if any(p[0] != 2 or any(c[0] != 4 for c in p[4]) for p in db.prefixes):
        return ric_regions_by_info()  # another layout than the one the shortcut assumes
    rows: list[tuple[str, int, int]] = []
    for _, lo1, hi1, _, children in db.prefixes:
        for p in _expand(lo1, hi1):
            merged = _province_props(db, p)
            for _, lo2, hi2, _, _ in children:
                for c in _expand(lo2, hi2):
                    rows.extend(_merged(_years(p + c, merged[0], merged[1].get(c, {}))))
    return tuple(rows)


@cache
def ric_regions_by_info() -> tuple[tuple[str, int, int], ...]:
    """:func:`ric_regions` through ``NumDB.info`` per code (the reference; slow)."""
    db = numdb.get("cn/loc")
    rows: list[tuple[str, int, int]] = []
    for _, lo1, hi1, _, children in db.prefixes:
        for p in _expand(lo1, hi1):
            for _, lo2, hi2, _, _ in children:
                for c in _expand(lo2, hi2):
                    rows.extend(_merged(_county_years(db, p + c)))
    return tuple(rows)


_PROVINCES: dict[str, tuple[dict[str, str], dict[str, dict[str, str]]]] = {}


def _province_props(db: numdb.NumDB, p: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The level-1 properties of province ``p`` and the level-2 properties of each county code under
    it, merged in entry order as ``NumDB._find`` merges them."""
    if p not in _PROVINCES:
        top: dict[str, str] = {}
        below: dict[str, dict[str, str]] = {}
        for _, lo, hi, props, children in db.prefixes:
            if lo <= p <= hi:
                top.update(props)
                for _, lo2, hi2, props2, _ in children:
                    for c in _expand(lo2, hi2):
                        below.setdefault(c, {}).update(props2)
        _PROVINCES[p] = (top, below)
    return _PROVINCES[p]


def _years(code: str, top: dict[str, str], county_props: dict[str, str]) -> list[tuple[str, int, int]]:
    return _county_list(code, {**top, **county_props})


def _merged(rows: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping or adjacent year intervals of one code merged into disjoint ones."""
    out: list[tuple[str, int, int]] = []
    for code, lo, hi in sorted(rows):
        if out and lo <= out[-1][2] + 1:
            out[-1] = (code, out[-1][1], max(hi, out[-1][2]))
        else:
            out.append((code, lo, hi))
    return out


def _expand(lo: str, hi: str) -> list[str]:
    return [str(i).zfill(len(lo)) for i in range(int(lo), int(hi) + 1)]


def _county_years(db: numdb.NumDB, code: str) -> list[tuple[str, int, int]]:
    return _county_list(code, {k: v for _, props in db.info(code) for k, v in props.items()})


def _county_list(code: str, info: dict[str, str]) -> list[tuple[str, int, int]]:
    out = []
    for county in str(info.get("county", "")).split(","):
        if not county:
            continue
        if not county.startswith("["):
            out.append((code, 1, 9999))
            continue
        start, _, end = county[1:].split("]")[0].partition("-")
        out.append((code, int(start) if start else 1, int(end) if end else 9999))
    return out
