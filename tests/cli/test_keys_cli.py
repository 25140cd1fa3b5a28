"""`xinyong keys create|list|revoke` in a subprocess, on a real store: shown once, stored hashed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
from tests.cli.conftest import ROOT, Run


def test_keys_create_list_revoke(xinyong: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "keys.duckdb")
    assert xinyong("publish", str(ROOT / "policies"), "--db", db).returncode == 0
    res = xinyong("keys", "create", "Ticketing", "--role", "relying_party", "--action", "transport.flight.purchase",
                  "--db", db, "--json")
    assert res.returncode == 0, res.stderr
    created = json.loads(res.stdout)
    key = created["key"]
    assert key.startswith("xy_") and len(key) >= 40 and created["actions"] == ["transport.flight.purchase"]

    listed = json.loads(xinyong("keys", "list", "--db", db, "--json").stdout)
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    con = duckdb.connect(db, read_only=True)
    try:
        stored = con.execute("SELECT key_hash FROM api_keys").fetchall()
        dump = " ".join(str(r) for r in con.execute("SELECT * FROM api_keys").fetchall())
    finally:
        con.close()
    assert stored == [(hashlib.sha256(key.encode()).hexdigest(),)] and key not in dump

    # scope is checked: an agency needs a registered source, a relying party an action
    bad = xinyong("keys", "create", "X", "--role", "agency", "--source", "no.such.source", "--db", db)
    assert bad.returncode == 2 and "no.such.source" in bad.stderr
    bad = xinyong("keys", "create", "X", "--role", "relying_party", "--db", db)
    assert bad.returncode == 2 and "action" in bad.stderr
    bad = xinyong("keys", "create", "X", "--role", "relying_party", "--action", "Transport..X", "--db", db)
    assert bad.returncode == 2 and "Transport..X" in bad.stderr and "dotted action id" in bad.stderr

    revoked = json.loads(xinyong("keys", "revoke", created["id"], "--db", db, "--json").stdout)
    assert revoked["revoked_at"] is not None
    again = xinyong("keys", "revoke", created["id"], "--db", db)
    assert again.returncode == 2 and "already revoked" in again.stderr
