"""The pages' latency on a 100 000-subject demo register, over HTTP on 127.0.0.1.

Public register search: per round, a fixed mix of searches (the first page of every list, one list, part
of a listed organisation's name, a listed organisation's code, a miss), each as JSON and as HTML, one at
a time over a keep-alive connection; p50 and p99 per round. A subject's own file page (``/portal``,
signed in, each read audited): p50 and p99 per round. Credit report: time to the first byte of the
PDF (issuing, an audit entry, rendering, WeasyPrint) for a listed subject signed in through the form. At
least five rounds; the median of the per-round figures is printed. There is no baseline to alternate
with (no other page renderer does the same work), so the figures are absolute and, on a shared machine,
noisy: read the spread between rounds too.

    .venv/bin/python bench/web_pages.py [--subjects 100000] [--rounds 5] [--db existing.duckdb]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.helpers.server import running  # noqa: E402

from xinyong.service.demo import DEMO_AS_OF, build_demo  # noqa: E402
from xinyong.service.principals import Principals, Role  # noqa: E402
from xinyong.service.registry import Registry  # noqa: E402
from xinyong.store import open_store  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def prepare(db: Path, subjects: int) -> tuple[str, str, list[str], list[dict[str, str]]]:
    """Build the demo register (unless it exists); a subject key for a listed organisation, an agency key
    and organisations it may write about (a write makes the next search bring the lists up to date)."""
    if not db.exists():
        t = time.perf_counter()
        build_demo(db, ROOT / "policies", subjects=subjects, seed=7, as_of=DEMO_AS_OF, data_dir=db.parent / "data")
        print(f"built {subjects:,} subjects in {time.perf_counter() - t:.0f} s", flush=True)
    with open_store(db) as store:
        reg = Registry(store, actor="bench")
        queries: list[dict[str, str]] = [{}, {"list": "shixin"}, {"q": "zzzz no such name"}]
        subject = None
        for list_id in ("procurement_blacklist", "customs_untrustworthy", "customs_aeo"):
            _, rows = reg.listings(list_id, DEMO_AS_OF)
            names = store.subject_names([r.subject for r in rows[:50]])
            org = next((r.subject for r in rows[:50] if names.get(r.subject, ("", None))[0] == "organisation"), None)
            if org is not None:
                name = names[org][1] or ""
                queries += [{"list": list_id}, {"q": org.split(":")[1]}, {"q": name.split()[0] if name else "Co"}]
                subject = subject or org
        if subject is None:  # no listed organisation: any listed subject's report
            _, rows = reg.listings("shixin", DEMO_AS_OF)
            subject = rows[0].subject
        key = Principals(store).create("bench subject", Role.SUBJECT, by="bench", subject=subject)[1]
        agency = Principals(store).create("bench tax bureau", Role.AGENCY, by="bench", source="tax.bureau")[1]
        orgs = [r.id for r in store.subjects(limit=200, offset=max(0, store.subject_count() - 200))
                if r.kind == "organisation"]  # ids sort cn.ric before cn.uscc
    return key, agency, orgs, queries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pdfs", type=int, default=5, help="PDFs per round")
    ap.add_argument("--file-reads", type=int, default=50, help="reads of the subject's own file page per round")
    ap.add_argument("--db", type=Path, default=None, help="reuse a demo register (built there if missing)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "web.duckdb"
        key, agency, orgs, queries = prepare(db, args.subjects)
        print(f"{len(queries)} searches x 2 formats per round: {queries}", flush=True)
        with running(db, "--as-of", DEMO_AS_OF.isoformat()) as (_, base), httpx.Client(base_url=base,
                                                                                          timeout=120) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text)
            assert token is not None
            assert c.post("/signin", data={"key": key, "csrf_token": token.group(1)}).status_code == 303
            for q in queries:  # warm: first evaluations, template compilation
                c.get("/register", params={**q, "format": "json"}).raise_for_status()
            c.get("/report.pdf").raise_for_status()
            search: list[tuple[float, float]] = []
            pdf: list[tuple[float, float]] = []
            filepage: list[tuple[float, float]] = []
            after_write: list[float] = []
            totals = 0
            for rnd in range(args.rounds):
                times = []
                for _ in range(3):
                    for q in queries:
                        for fmt in ("json", "html"):
                            t = time.perf_counter()
                            r = c.get("/register", params={**q, "format": fmt})
                            r.raise_for_status()
                            times.append(time.perf_counter() - t)
                            if fmt == "json" and not q:
                                totals = r.json()["total"]
                search.append((pct(times, 50), pct(times, 99)))
                own = []
                file_page = c.get("/portal").headers["location"]  # the portal sends a subject to its file
                for _ in range(args.file_reads):  # the signed-in subject's own file page (audited reads)
                    t = time.perf_counter()
                    c.get(file_page).raise_for_status()
                    own.append(time.perf_counter() - t)
                filepage.append((pct(own, 50), pct(own, 99)))
                writes = []
                for i in range(5):  # a record about one organisation, then a search
                    org = orgs[(rnd * 5 + i) % len(orgs)]
                    c.post("/v1/records", headers={"Authorization": f"Bearer {agency}"}, json={"records": [{
                        "subject": org, "type": "tax.late_filing", "occurred": "2026-05-01",
                        "decided": f"2026-06-{rnd * 5 + i + 1:02d}", "document": f"bench {rnd}-{i}"}]}
                           ).raise_for_status()
                    t = time.perf_counter()
                    c.get("/register", params={"format": "json"}).raise_for_status()
                    writes.append(time.perf_counter() - t)
                after_write.append(pct(writes, 50))
                ttfb = []
                for _ in range(args.pdfs):
                    t = time.perf_counter()
                    with c.stream("GET", "/report.pdf") as r:
                        chunks = r.iter_raw()
                        first = next(chunks)
                        ttfb.append(time.perf_counter() - t)
                        assert first.startswith(b"%PDF")
                        for _ in chunks:
                            pass
                pdf.append((pct(ttfb, 50), max(ttfb)))
                print(f"round {rnd + 1}: search p50 {search[-1][0] * 1e3:.1f} ms p99 {search[-1][1] * 1e3:.1f} ms "
                      f"({len(times)} requests); file page p99 {filepage[-1][1] * 1e3:.1f} ms; "
                      f"after a write {after_write[-1] * 1e3:.1f} ms; "
                      f"PDF TTFB p50 {pdf[-1][0] * 1e3:.0f} ms max {pdf[-1][1] * 1e3:.0f} ms",
                      flush=True)
    med = statistics.median
    print(f"\nregister: {args.subjects:,} subjects, {totals:,} listings in force on the published lists")
    print(f"public register search: p50 {med(s[0] for s in search) * 1e3:.1f} ms, "
          f"p99 {med(s[1] for s in search) * 1e3:.1f} ms (median of {args.rounds} rounds)")
    print(f"a subject's file page (/portal): p50 {med(f[0] for f in filepage) * 1e3:.1f} ms, "
          f"p99 {med(f[1] for f in filepage) * 1e3:.1f} ms (median of {args.rounds} rounds)")
    print(f"search right after a record was posted: p50 {med(after_write) * 1e3:.1f} ms (median of rounds)")
    print(f"credit report PDF, time to first byte: p50 {med(p[0] for p in pdf) * 1e3:.0f} ms, "
          f"max {med(p[1] for p in pdf) * 1e3:.0f} ms (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
