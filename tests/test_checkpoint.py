"""The anchored audit log: truncation, a recomputed last entry and a forged append are caught against a
signed checkpoint kept outside the store; a forged checkpoint is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from xinyong.audit import AuditEntry, chain, utc_now
from xinyong.checkpoint import new_key
from xinyong.model.errors import InvalidInput
from xinyong.service.checkpoints import verify_with_checkpoints, write_checkpoint
from xinyong.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xinyong", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _log(db: Path, n: int) -> None:
    with open_store(db) as store:
        for i in range(n):
            store.append_audit([AuditEntry(0, utc_now(), "test", "note", None, None, {"i": i})])


def _keys(out: Path) -> Path:
    out.mkdir(parents=True)
    private, public = new_key()
    (out / "checkpoint.key").write_bytes(private)
    (out / "checkpoint.pub").write_bytes(public)
    return out


def _verify(db: Path, keys: Path, cps: Path, *extra: str) -> tuple[int, dict[str, object]]:
    """What `xinyong audit verify --json` answers, in process (the CLI itself is run once per test)."""
    opts = dict(zip(extra[::2], extra[1::2], strict=True))
    count = opts.get("--expect-count")
    try:
        with open_store(db, read_only=True) as store:
            out = verify_with_checkpoints(store, cps, keys / "checkpoint.pub",
                                          expect_count=int(count) if count else None,
                                          expect_head=opts.get("--expect-head"))
    except InvalidInput as exc:
        return 2, {"stderr": str(exc)}
    res = out.result
    return (0 if res.ok else 1), {"ok": res.ok, "first_bad_seq": res.first_bad_seq, "reason": res.reason,
                                  "anchored": out.anchored, "unanchored": out.unanchored}


def test_cut_rewritten_and_appended_logs_are_caught(tmp_path: Path) -> None:
    cps, db = tmp_path / "cps", tmp_path / "a.duckdb"
    assert _cli("audit", "keygen", str(tmp_path / "keys")).returncode == 0
    keys = tmp_path / "keys"
    _log(db, 10)
    with open_store(db) as store:
        signed = write_checkpoint(store, keys / "checkpoint.key", cps)
    assert signed is not None and signed.checkpoint.count == 10
    code, ok = _verify(db, keys, cps)
    assert code == 0 and ok["ok"] and ok["anchored"] == 10

    def tamper(sql: str) -> Path:
        copy = tmp_path / f"t{abs(hash(sql))}.duckdb"
        copy.write_bytes(db.read_bytes())
        con = duckdb.connect(str(copy))
        con.execute(sql)
        con.close()
        return copy

    # truncation of the tail: 1 entry, and all of them
    cut = tamper("DELETE FROM audit_log WHERE seq = 10")
    code, res = _verify(cut, keys, cps)
    assert code == 1 and res["first_bad_seq"] == 10 and "cut off" in str(res["reason"])
    cli = _cli("audit", "verify", "--db", str(cut), "--checkpoints", str(cps), "--public-key",
               str(keys / "checkpoint.pub"))
    assert cli.returncode == 1 and "broken at entry 10" in cli.stdout
    code, res = _verify(tamper("DELETE FROM audit_log"), keys, cps)
    assert code == 1 and res["first_bad_seq"] == 1
    # the last entry rewritten with its hash recomputed: the chain alone still verifies
    with open_store(db) as store:
        entries = list(store.audit_entries())
    forged = chain([AuditEntry(10, entries[-1].entry.at, "someone", "note", None, None, {"i": 999})],
                   entries[-2].hash)[0]
    code, res = _verify(tamper(f"UPDATE audit_log SET actor = 'someone', detail = '{{\"i\": 999}}', "
                               f"hash = '{forged.hash}' WHERE seq = 10"), keys, cps)
    assert code == 1 and res["first_bad_seq"] == 10 and "rewritten" in str(res["reason"])
    # a correctly chained forged append: caught by the expected head (a shutdown checkpoint's)
    _log(db, 1)
    code, res = _verify(db, keys, cps, "--expect-count", "10", "--expect-head", signed.checkpoint.head)
    assert code == 1 and res["first_bad_seq"] == 11
    code, res = _verify(db, keys, cps)
    assert code == 0 and res["unanchored"] == 1


def test_a_forged_checkpoint_is_refused(tmp_path: Path) -> None:
    keys, other, cps, db = _keys(tmp_path / "keys"), _keys(tmp_path / "other"), tmp_path / "cps", tmp_path / "a.duckdb"
    _log(db, 3)
    with open_store(db) as store:
        write_checkpoint(store, other / "checkpoint.key", cps)  # signed by a key nobody trusts
    code, res = _verify(db, keys, cps)
    assert code == 2 and "not by the configured key" in str(res["stderr"])
    path = next(cps.glob("*.json"))
    with open_store(db) as store:
        write_checkpoint(store, keys / "checkpoint.key", tmp_path / "good")
    good = json.loads(next((tmp_path / "good").glob("*.json")).read_text())
    good["checkpoint"]["count"] = 2  # altered after signing
    (cps / path.name).write_text(json.dumps(good))
    code, res = _verify(db, keys, cps)
    assert code == 2 and "does not verify" in str(res["stderr"])
    cli = _cli("audit", "verify", "--db", str(db), "--checkpoints", str(cps), "--public-key",
               str(keys / "checkpoint.pub"))
    assert cli.returncode == 2 and "does not verify" in cli.stderr and "Traceback" not in cli.stderr
