"""``episode_start(..., stop_at=day)`` answers "did the episode start after ``day``?" exactly as the full
search does, on generated histories under every sample policy (walked and jumped entries alike): an
answer after ``day`` is the episode's first day, any other answer is on or before ``day``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.policy.evaluate import evaluate
from xinyong.policy.procedure import episode_start

from .test_episode_scaling import POLICIES, SETTINGS, SUBJECTS, files


@pytest.mark.parametrize("name", sorted(POLICIES))
@SETTINGS
@given(data=st.data())
def test_stop_at_keeps_the_answer_after_it(name: str, data: st.DataObject) -> None:
    lp, subject = POLICIES[name], SUBJECTS[name]
    records, amendments, days = data.draw(files(name))
    for as_of in days:
        for listing in evaluate(lp, subject, records, amendments, as_of).listings:
            full = episode_start(lp, subject, records, amendments, listing)
            stop = listing.since - timedelta(days=data.draw(st.integers(-2, 60)))
            stopped = episode_start(lp, subject, records, amendments, listing, stop_at=stop)
            if full > stop:
                assert stopped == full, (listing.list_id, as_of, stop)
            else:
                assert stopped <= stop, (listing.list_id, as_of, stop)
