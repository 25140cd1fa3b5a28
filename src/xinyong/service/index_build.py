"""Build a decision index in bulk from a snapshot's columns, with no Python loop over subjects.

The store hands over, per run, only the subjects whose state a measure reads (``RunStates``: a tier some
measure names, or an in-force listing on a list some measure names), as Arrow columns. Each policy's
distinct (tier, lists) pairs are dictionary-encoded (a handful of values); the per-policy codes are
combined into one mixed-radix code per subject (a subject appears at most once per run), summed over the
runs after one hash pass numbers the subjects, and the distinct combined codes become the index's state table. The only
per-subject Python work left is the dict the look-ups probe, filled from two lists in one C call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xinyong.policy.loader import LoadedPolicy
from xinyong.service.decisions import DecisionIndex, PolicyPart, State
from xinyong.store.protocol import RunStates

_SEP = "|"  # between the tier and the lists of a state key (ids never contain it)


def build_index(store: RunStates, policies: list[LoadedPolicy], runs: Sequence[str], as_of: date
                ) -> DecisionIndex:
    """The index of ``runs`` (one per policy, in the order of ``policies``), before due process."""
    index = DecisionIndex(policies, as_of)
    subjects: list[pa.ChunkedArray] = []
    codes: list[np.ndarray] = []
    parts: list[list[PolicyPart]] = []  # per policy: code - 1 → (tier, lists); code 0 is blank
    stride = 1
    for reads, run in zip(index.reads, runs, strict=True):
        table = store.run_state_table(run, sorted(reads.tiers), sorted(reads.lists))
        keys = pc.binary_join_element_wise(pc.fill_null(table["tier"], ""), table["lists"], _SEP)
        encoded = keys.combine_chunks().dictionary_encode() if table.num_rows else None
        mine: list[PolicyPart] = []
        if encoded is not None:
            for text in encoded.dictionary.to_pylist():
                tier, _, lists = text.partition(_SEP)
                mine.append(reads.reduce(tier or None, lists.split(",") if lists else ()))
            subjects.append(table["subject"])
            codes.append((encoded.indices.to_numpy().astype(np.int64) + 1) * stride)
        parts.append(mine)
        stride *= len(mine) + 1
        if stride >= 2**52:  # summed exactly in float64 below
            raise ValueError("too many distinct states across policies for one combined code")
    if not subjects:
        return index
    # a subject's number in the union of the runs' subjects, then its codes summed (one per run at most)
    keys = pa.chunked_array([c for s in subjects for c in s.chunks], pa.string()).combine_chunks()
    numbered = keys.dictionary_encode()
    summed = np.bincount(numbered.indices.to_numpy(), weights=np.concatenate(codes).astype(np.float64))
    distinct, rows = np.unique(summed.astype(np.int64), return_inverse=True)
    table_rows = np.array([index.row(_decode(int(code), parts, index.blank)) for code in distinct])
    index.load(numbered.dictionary.to_pylist(), table_rows[rows].tolist())
    return index


def _decode(code: int, parts: list[list[PolicyPart]], blank: State) -> State:
    out = []
    for i, mine in enumerate(parts):
        code, digit = divmod(code, len(mine) + 1)
        out.append(mine[digit - 1] if digit else blank[i])
    return tuple(out)
