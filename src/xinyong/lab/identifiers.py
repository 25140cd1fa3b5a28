"""Vectorised subject identifiers for synthetic data: USCC and resident IDs with their check characters.

``python-stdnum`` is the authority on what is valid (charter: identifiers are never validated by hand);
this module only *generates* identifiers, millions at a time, with numpy. A Hypothesis test holds the
check characters computed here equal to ``stdnum.cn.uscc`` and ``stdnum.cn.ric`` on random bodies.

Identifiers are handled as ``(n, 18)`` uint8 matrices of ASCII codes, one row per identifier, so that
formatting, gathering rows for records and building Arrow string arrays are all array operations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from xinyong.model.checkdigits import I64 as I64
from xinyong.model.checkdigits import U8 as U8
from xinyong.model.checkdigits import USCC_ALPHABET as USCC_ALPHABET
from xinyong.model.checkdigits import Bools as Bools
from xinyong.model.checkdigits import org_code_check_chars as org_code_check_chars
from xinyong.model.checkdigits import ric_check_chars as ric_check_chars
from xinyong.model.checkdigits import uscc_check_chars as uscc_check_chars

PERSON_PREFIX = b"cn.ric:"
ORG_PREFIX = b"cn.uscc:"
KEY_WIDTH = len(ORG_PREFIX) + 18


def digit_matrix(values: I64, width: int) -> U8:
    """Zero-padded decimal digits of non-negative integers as an ``(n, width)`` ASCII matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    result: U8 = ((values[:, None] // powers) % 10 + ord("0")).astype(np.uint8)
    return result


def person_body(region_code: I64, birth_yyyymmdd: I64, sequence: I64) -> I64:
    """The first 17 digits of a resident ID as one integer: region, birth date, sequence."""
    result: I64 = (region_code * 10**11 + birth_yyyymmdd * 10**3 + sequence).astype(np.int64)
    return result


def org_body(entity: I64, region_code: I64, org_code: I64) -> I64:
    """Registering authority and entity type (two digits), region, 8-digit organisation code."""
    result: I64 = (entity * 10**14 + region_code * 10**8 + org_code).astype(np.int64)
    return result


def person_ids(body: I64) -> U8:
    """``(n, 18)`` ASCII resident IDs from 17-digit bodies."""
    out = np.empty((len(body), 18), dtype=np.uint8)
    out[:, :17] = digit_matrix(body, 17)
    out[:, 17] = ric_check_chars(out[:, :17])
    return out


def org_ids(body: I64) -> U8:
    """``(n, 18)`` ASCII USCCs from 16-digit bodies (the organisation-code check is computed here)."""
    out = np.empty((len(body), 18), dtype=np.uint8)
    out[:, :16] = digit_matrix(body, 16)
    out[:, 16] = org_code_check_chars(out[:, 8:16])
    out[:, 17] = uscc_check_chars(out[:, :17])
    return out


def id_matrix(is_person: Bools, body: I64) -> U8:
    """Identifiers of a mixed population: resident IDs where ``is_person``, USCCs elsewhere."""
    out = np.empty((len(body), 18), dtype=np.uint8)
    out[is_person] = person_ids(body[is_person])
    out[~is_person] = org_ids(body[~is_person])
    return out


def key_array(ids: U8, is_person: Bools) -> pa.StringArray:
    """Canonical keys ``cn.ric:<id>`` / ``cn.uscc:<id>`` as an Arrow string array, built from buffers."""
    n = len(ids)
    mat = np.zeros((n, KEY_WIDTH), dtype=np.uint8)
    mat[:, : len(ORG_PREFIX)] = np.frombuffer(ORG_PREFIX, dtype=np.uint8)
    mat[:, len(ORG_PREFIX):] = ids
    persons = np.flatnonzero(is_person)
    mat[persons, : len(PERSON_PREFIX)] = np.frombuffer(PERSON_PREFIX, dtype=np.uint8)
    mat[persons, len(PERSON_PREFIX): len(PERSON_PREFIX) + 18] = ids[persons]
    keep = np.ones((n, KEY_WIDTH), dtype=np.bool_)
    keep[persons, -1] = False
    data = mat[keep]
    lengths = KEY_WIDTH - is_person.astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def id_strings(ids: U8) -> list[str]:
    """Bare identifiers as Python strings (for tests and small samples)."""
    return [row.tobytes().decode() for row in ids]


def make_unique(key: I64, redraw: Callable[[npt.NDArray[np.intp]], I64], *, max_rounds: int = 64) -> I64:
    """Replace repeated keys (all but the first occurrence) with fresh draws until all are unique.

    ``redraw(positions)`` returns new keys for those positions; it must be deterministic for a seeded
    generator, which keeps the whole population reproducible.
    """
    key = key.copy()
    for _ in range(max_rounds):
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        dup = np.flatnonzero(sorted_key[1:] == sorted_key[:-1]) + 1
        if len(dup) == 0:
            return key
        positions = np.sort(order[dup])
        key[positions] = redraw(positions)
    raise ValueError("could not draw unique identifiers; the identifier space is too small")
