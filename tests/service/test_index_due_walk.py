"""The set-based notice-period walk of the decision index against ``episode_start``, on every backend.

``index_due.began_after`` answers, for many listings at once, whether a listing's episode began within
the notice period, with the compiled query run as of each day of that period over the candidates' files.
Here seeded files (bursts of renewals just before the date, gaps, points added back, amendments that end
or correct records) are stored for many subjects, and every listing on an after-notice list is
answered both ways: by ``began_after``, and one subject at a
time by ``procedure.episode_start`` (with and without ``stop_at``) over the subject's file.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from xinyong.model.identifiers import default_schemes
from xinyong.model.record import Amendment, AmendmentKind, Record
from xinyong.policy.casework import notice_period_lists
from xinyong.policy.evaluate import evaluate
from xinyong.policy.loader import LoadedPolicy, load_policy
from xinyong.policy.procedure import episode_start
from xinyong.service.demo import DEMO_AS_OF, build_demo
from xinyong.service.index_due import began_after
from xinyong.service.registry import Registry

from ..conftest import Stores

ROOT = Path(__file__).resolve().parents[2]
AS_OF = DEMO_AS_OF
#: per policy, the record types a file is drawn from (those that list, and one that adds points back)
TYPES = {
    "corporate": ["procurement.fraud", "customs.smuggling_penalty", "customs.declaration_violation",
                  "tax.evasion", "tax.late_filing", "tax.arrears"],
    "rongcheng": ["admin.damage_public_utilities", "court.breach_finding", "contract.breach",
                  "civic.blood_donation"],
}
KIND = {"corporate": "organisation", "rongcheng": "person"}


def _file(rng: random.Random, lp: LoadedPolicy, subject: str, types: list[str]) -> tuple[list[Record],
                                                                                      list[Amendment]]:
    """Bursts of records decided a few days apart, the last ones near the date (renewals inside and just
    before the notice period), sometimes after a gap of months; a few amendments."""
    source = {t: s.id for s in lp.catalogue.sources for t in s.may_submit}
    records: list[Record] = []
    for burst in range(rng.randint(1, 3)):
        day = AS_OF - timedelta(days=rng.choice([rng.randint(0, 30), rng.randint(30, 400), rng.randint(700, 800)]))
        kind = rng.choice(types)
        for i in range(rng.randint(1, 8)):
            if day > AS_OF:
                break
            t = rng.choice([kind, kind, *types])
            records.append(Record(subject=subject, source=source[t], type=t, occurred=day, decided=day,
                                  document=f"w{burst}-{i}",
                                  amount=rng.choice([None, 60_000, 900_000]) if t == "tax.arrears" else None))
            day += timedelta(days=rng.choice([0, 1, 2, 3, 5, 8, 13, 40]))
    amendments = []
    for r in rng.sample(records, k=min(len(records), rng.choice([0, 0, 1, 2]))):
        kind = rng.choice([AmendmentKind.ANNUL, AmendmentKind.EXPIRE, AmendmentKind.REPAIR, AmendmentKind.CORRECT])
        amendments.append(Amendment(
            record=r.id, kind=kind, effective=r.decided + timedelta(days=rng.randint(0, 20)),
            reason="objection upheld", document="amend",
            amount=0 if kind is AmendmentKind.CORRECT else None))
    return records, amendments


def test_began_after_agrees_with_episode_start(stores: Stores, tmp_path: Path) -> None:
    url = stores.url()
    build_demo(url if stores.backend == "postgres" else Path(url), ROOT / "policies", subjects=300, seed=5,
               as_of=AS_OF, data_dir=tmp_path / "data")
    rng = random.Random(12)
    schemes = default_schemes()
    with stores.open() as store:
        reg = Registry(store, actor="test")
        policies = {lp.policy.id: lp for lp in reg.policies(AS_OF)}
        drawn: dict[str, list[str]] = {}
        for name, types in TYPES.items():
            lp = policies[name]
            chosen = [r.id for r in store.subjects(limit=10_000) if r.kind == KIND[name]][:70]
            drawn[name] = chosen
            for subject in chosen:
                records, amendments = _file(rng, lp, subject, types)
                store.add_records(records)
                if amendments:
                    store.add_amendments(amendments)
        amended = store.has_amendments(AS_OF)
        assert amended
        seen = {True: 0, False: 0}
        stepped = 0
        for name, chosen in drawn.items():
            lp = policies[name]
            lists, notice = notice_period_lists(lp)
            first_day = AS_OF - timedelta(days=notice)
            held: list[tuple[str, str]] = []
            expected: set[tuple[str, str]] = set()
            for subject, (records, amendments, _) in store.cases.files_of(chosen).items():
                for listing in evaluate(lp, subject, records, amendments, AS_OF, schemes).listings:
                    if listing.list_id not in lists:
                        continue
                    key = (subject, listing.list_id)
                    held.append(key)
                    stopped = episode_start(lp, subject, records, amendments, listing, schemes, stop_at=first_day)
                    started = episode_start(lp, subject, records, amendments, listing, schemes)
                    assert (stopped > first_day) == (started > first_day), key
                    assert stopped == started or stopped <= first_day, key
                    if stopped > first_day:
                        expected.add(key)
                    stepped += started < listing.since
            got = began_after(store, lp, held, first_day, AS_OF, amended=amended)
            assert got == expected, name
            seen[True] += len(expected)
            seen[False] += len(held) - len(expected)
        # both verdicts occur, and some episodes reach back over a renewal
        assert seen[True] >= 3 and seen[False] >= 3, seen
        assert stepped >= 3, stepped


def test_nothing_pending_asks_the_store_nothing(stores: Stores) -> None:
    with stores.open() as store:
        lp = load_policy(ROOT / "policies/corporate.yaml")
        assert began_after(store, lp, [], AS_OF - timedelta(days=10), AS_OF, amended=False) == set()
