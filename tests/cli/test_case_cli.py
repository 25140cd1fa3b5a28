"""Due process from the command line in a subprocess: notice, objection, decision, appeal, repair, what-if."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[2]
PERSON = "11010519491231002X"


def ok(res: subprocess.CompletedProcess[str]) -> object:
    assert res.returncode == 0, res.stderr + res.stdout
    return json.loads(res.stdout)


def test_a_case_from_notice_to_repair(xinyong: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "r.duckdb")
    common = ("--db", db, "--json")
    ok(xinyong("publish", str(ROOT / "policies"), *common))
    csv = tmp_path / "court.csv"
    csv.write_text("subject,type,occurred,decided,document,amount\n"
                   f"{PERSON},court.refuse_perform,2025-11-01,2026-01-10,(2026) Jing 0105 Zhi 123,250000\n")
    ok(xinyong("ingest", str(csv), "--source", "court.enforcement", "--as-of", "2026-01-10", *common))

    outbox = tmp_path / "outbox.jsonl"
    notices = ok(xinyong("notices", PERSON, "--as-of", "2026-01-12", "--outbox", str(outbox), *common))
    assert isinstance(notices, dict)
    kinds = [n["kind"] for n in notices["notices"]]
    assert kinds == ["record", "listing_in_force"]  # on one day: the record, then the listing it brings
    assert len(outbox.read_text().splitlines()) == 2
    record_id = notices["notices"][0]["ref"].removeprefix("record:")
    # on the command line the notice names the command; the outbox (shipped to the subject) the API
    assert f"xinyong object cn.ric:{PERSON} record:{record_id}" in notices["notices"][0]["body"]
    assert "POST /v1/subjects/" in outbox.read_text() and "xinyong object" not in outbox.read_text()

    case = ok(xinyong("object", PERSON, "list:shixin", "--text", "I paid before the decision",
                      "--evidence", "receipt 7", "--actor", "subject", "--as-of", "2026-01-12", *common))
    assert isinstance(case, dict) and case["expedited"] and case["deadline"] == "2026-01-15"
    listed = ok(xinyong("cases", "list", "--status", "open", "--as-of", "2026-01-16", *common))
    assert isinstance(listed, list) and listed[0]["overdue"]
    ok(xinyong("cases", "decide", case["id"], "--outcome", "rejected", "--reasons", "the receipt is for another "
               "debt", "--actor", "reviewer:li", "--as-of", "2026-01-16", *common))
    shown = ok(xinyong("cases", "show", case["id"], "--as-of", "2026-01-16", *common))
    assert isinstance(shown, dict) and shown["status"] == "rejected"
    assert shown["decision"]["actor"] == "reviewer:li" and "another debt" in shown["decision"]["reasons"]
    refused = xinyong("cases", "decide", case["id"], "--outcome", "rejected", "--reasons", "x", "--actor",
                      "reviewer:li", "--as-of", "2026-01-16", "--db", db)
    assert refused.returncode == 2 and "already decided" in refused.stderr
    appeal = ok(xinyong("cases", "appeal", case["id"], "--text", "please look again", "--actor", "subject",
                        "--as-of", "2026-01-20", *common))
    assert isinstance(appeal, dict)
    same = xinyong("cases", "decide", appeal["id"], "--outcome", "upheld", "--reasons", "x", "--actor",
                   "reviewer:li", "--as-of", "2026-01-21", "--db", db)
    assert same.returncode == 2 and "different reviewer" in same.stderr
    ok(xinyong("cases", "decide", appeal["id"], "--outcome", "rejected", "--reasons", "the receipt is for "
               "another debt", "--actor", "reviewer:zhao", "--as-of", "2026-01-21", *common))

    status = ok(xinyong("status", PERSON, "--what-if", "--as-of", "2026-03-01", *common))
    assert isinstance(status, dict)
    shixin = next(p for p in status["policies"] if p["policy"].startswith("shixin"))
    assert shixin["listings"][0]["stage"] == "in_force"
    assert {(c["how"], c["on"]) for c in shixin["what_if"]} == {("expiry", "2028-01-10"), ("repair", "2026-03-01")}
    public = ok(xinyong("lists", "public", "shixin", "--as-of", "2026-03-01", *common))
    assert isinstance(public, list) and public[0]["subject"] is None  # a person's id is never published
    assert public[0]["reason"] and PERSON[-8:] not in json.dumps(public)

    denied = xinyong("check", PERSON, "transport.flight.purchase", "--purpose", "ticket", "--as-of",
                     "2026-03-01", *common)
    assert denied.returncode == 1, denied.stderr  # a denial is a finding: exit 1
    decision = json.loads(denied.stdout)
    assert isinstance(decision, dict) and decision["effect"] == "deny"
    eligible = ok(xinyong("repair", "check", PERSON, record_id, "--as-of", "2026-03-01", *common))
    assert isinstance(eligible, dict) and eligible["eligible"]
    repair = ok(xinyong("repair", "apply", PERSON, record_id, "--text", "paid in full", "--evidence",
                        "bank transfer 0301", "--actor", "subject", "--as-of", "2026-03-01", *common))
    assert isinstance(repair, dict)
    ok(xinyong("cases", "decide", repair["id"], "--outcome", "granted", "--reasons", "the court confirms "
               "performance", "--actor", "reviewer:wang", "--as-of", "2026-03-01", *common))
    decision = ok(xinyong("check", PERSON, "transport.flight.purchase", "--purpose", "ticket", "--as-of",
                          "2026-03-01", *common))
    assert isinstance(decision, dict) and decision["effect"] == "allow"
    text = xinyong("notices", PERSON, "--as-of", "2026-03-01", "--db", db)
    assert text.returncode == 0 and "Listing ended" in text.stdout and "credit repair" in text.stdout
    swept = ok(xinyong("notices", "--changed-since", "2026-02-28", "--as-of", "2026-03-01", *common))
    assert isinstance(swept, dict) and swept["notices"] == []  # already generated above: stored once
    assert xinyong("notices", "--db", db).returncode == 2
    assert xinyong("audit", "verify", "--db", db).returncode == 0


def test_webhook_notices_are_signed_with_the_secret_from_the_option_or_the_environment(xinyong: Run,
                                                                                       tmp_path: Path) -> None:
    from standardwebhooks import Webhook, WebhookVerificationError

    received: list[tuple[bytes, dict[str, str]]] = []
    opt_secret, env_secret = ("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(2))

    class Inbox(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.rfile.read(int(self.headers["Content-Length"])), dict(self.headers.items())))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/notices"
    try:
        db = str(tmp_path / "r.duckdb")
        ok(xinyong("publish", str(ROOT / "policies"), "--db", db, "--json"))
        csv = tmp_path / "court.csv"
        csv.write_text("subject,type,occurred,decided,document\n"
                       f"{PERSON},court.refuse_perform,2025-11-01,2026-01-10,(2026) Jing 0105 Zhi 5\n")
        ok(xinyong("ingest", str(csv), "--source", "court.enforcement", "--as-of", "2026-01-10", "--db", db,
                   "--json"))
        bad = xinyong("notices", PERSON, "--as-of", "2026-01-12", "--webhook", url, "--webhook-secret",
                      "opt-secret", "--db", db)
        assert bad.returncode == 2 and "whsec_" in bad.stderr and not received  # not a Standard Webhooks secret
        ok(xinyong("notices", PERSON, "--as-of", "2026-01-12", "--webhook", url, "--webhook-secret", opt_secret,
                   "--db", db, "--json"))
        csv.write_text("subject,type,occurred,decided,document\n"
                       f"{PERSON},court.refuse_perform,2025-11-01,2026-02-10,(2026) Jing 0105 Zhi 6\n")
        ok(xinyong("ingest", str(csv), "--source", "court.enforcement", "--as-of", "2026-02-10", "--db", db,
                   "--json"))
        ok(xinyong("notices", PERSON, "--as-of", "2026-02-10", "--webhook", url, "--db", db, "--json",
                   env={"XINYONG_WEBHOOK_SECRET": env_secret}))
    finally:
        server.shutdown()
        server.server_close()
    keys = [opt_secret] * 2 + [env_secret] * (len(received) - 2)
    assert len(received) >= 3
    for (body, headers), secret in zip(received, keys, strict=True):
        assert Webhook(secret).verify(body, headers)["kind"]  # id, timestamp and body signed together
        other = env_secret if secret == opt_secret else opt_secret
        try:
            Webhook(other).verify(body, headers)
            raise AssertionError("verified with the wrong secret")
        except WebhookVerificationError:
            pass
