"""Due process on the command line: objections, appeals, repair, cases, notices, status and what-if.

The acting person is ``--actor`` (a subject filing, a reviewer deciding): the service refuses a reviewer
deciding their own filing, or an appeal against their own decision. Every command takes ``--db``,
``--as-of`` and ``--json``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, ActorOpt, AsOfOpt, DbOpt, JsonOpt, parse_as_of
from xinyong.cli.output import console, print_json
from xinyong.cli.registry_cmds import open_registry
from xinyong.cli.render import esc, print_table

if TYPE_CHECKING:
    from xinyong.model.case import CaseView
    from xinyong.service.notices import NoticeSender

cases_app = typer.Typer(help="Cases: objections, appeals and repair applications.", no_args_is_help=True)
repair_app = typer.Typer(help="Credit repair: eligibility and applications.", no_args_is_help=True)

TextOpt = Annotated[str, typer.Option("--text", help="What the subject says, in words.")]
EvidenceOpt = Annotated[list[str] | None, typer.Option("--evidence", help="Reference of an evidence document "
                                                                          "(repeatable).")]


def case_json(view: CaseView, day: date) -> dict[str, object]:
    decision = view.decision(day)
    return {"id": view.id, **view.case.model_dump(mode="json"), "status": view.status(day).value,
            "overdue": view.overdue(day), "decision": None if decision is None else decision.model_dump(mode="json")}


def render_case(view: CaseView, day: date) -> None:
    data = case_json(view, day)
    c = view.case
    console.print(f"[bold]case {esc(view.id)}[/] {c.kind.value} by {esc(c.subject)} against {esc(c.target)}: "
                  f"[bold]{data['status']}[/]" + (" [red](overdue)[/]" if data["overdue"] else ""))
    console.print(f"  filed {c.filed} by {c.filed_by}; decide by {c.deadline}"
                  + (" (expedited)" if c.expedited else ""), markup=False)
    console.print(f"  text: {c.text}", markup=False)
    if c.evidence:
        console.print(f"  evidence: {', '.join(c.evidence)}", markup=False)
    for e in view.events:
        console.print(f"  {e.at}: {e.outcome.value} by {e.actor}: {e.reasons}"
                      + (f" (amendments {', '.join(a[:12] for a in e.amendments)})" if e.amendments else ""),
                      markup=False)


@cases_app.command("list")
def cases_list(
    subject: Annotated[str | None, typer.Option("--subject", help="Only this subject's cases.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open, upheld, rejected, granted, refused.")] = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Cases with their status and deadline as of --as-of (overdue ones marked)."""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        views = [v for v in CaseService(reg).cases(subject) if v.case.filed <= day]
    if status is not None:
        views = [v for v in views if v.status(day).value == status]
    if json_out:
        print_json([case_json(v, day) for v in views])
        return
    if not views:
        console.print("no cases")
        return
    print_table(console, ("case", "kind", "subject", "target", "filed", "deadline", "status"),
                ((v.id, v.case.kind.value, v.case.subject, v.case.target, v.case.filed, v.case.deadline,
                  v.status(day).value + (" (overdue)" if v.overdue(day) else "")) for v in views),
                ids=("case", "subject", "target"))


@cases_app.command("show")
def cases_show(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """One case: what was asked, by whom, the deadline, and every decision with its reasons."""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        view = CaseService(reg).case(case_id)
    if json_out:
        print_json(case_json(view, day))
    else:
        render_case(view, day)


@cases_app.command("decide")
def cases_decide(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    outcome: Annotated[str, typer.Option("--outcome", help="upheld | rejected (objection, appeal); "
                                                                  "granted | refused (repair).")],
    reasons: Annotated[str, typer.Option("--reasons", help="The reasons (required).")],
    amount: Annotated[str | None, typer.Option("--amount", help="Upholding an objection to an amount: "
                                                                "the corrected amount.")] = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Decide a case as reviewer --actor. Upheld objections annul (or correct) records and granted repairs
    end them, from the decision date; the subject gets a notice with the reasons."""
    from xinyong.model.case import CaseStatus
    from xinyong.service.cases import CaseService

    try:
        status = CaseStatus(outcome)
    except ValueError:
        raise typer.BadParameter(f"{outcome!r} is not an outcome; choose one of upheld, rejected, granted, "
                                 "refused", param_hint="--outcome") from None
    day = parse_as_of(as_of)
    try:
        corrected = None if amount is None else Decimal(amount)
    except InvalidOperation:
        raise typer.BadParameter(f"{amount!r} is not an amount", param_hint="--amount") from None
    with open_registry(db, actor) as reg:
        view = CaseService(reg).decide(case_id, status, reasons, day, corrected)
    if json_out:
        print_json(case_json(view, day))
    else:
        render_case(view, day)


@cases_app.command("appeal")
def cases_appeal(
    case_id: Annotated[str, typer.Argument(help="The decided objection.")],
    text: TextOpt, evidence: EvidenceOpt = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Appeal the decision on an objection; a different reviewer decides it."""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        view = CaseService(reg).appeal(case_id, text, day, evidence or [])
    _print_case(view, day, json_out)


def object_cmd(
    subject: Annotated[str, typer.Argument(help="The subject objecting (its own file).")],
    target: Annotated[str, typer.Argument(help="record:<record id> or list:<list id>.")],
    text: TextOpt, evidence: EvidenceOpt = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Object to a record or a listing within the objection window. An after-notice listing is suspended
    while the objection is open; a court list stays in force and the objection is expedited."""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        view = CaseService(reg).object(subject, target, text, day, evidence or [])
    _print_case(view, day, json_out)


@repair_app.command("apply")
def repair_apply(
    subject: Annotated[str, typer.Argument(help="The subject applying.")],
    record: Annotated[str, typer.Argument(help="Id of the record to repair.")],
    text: TextOpt, evidence: EvidenceOpt = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Apply for credit repair (evidence required); refused with the earliest date if not yet eligible."""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        view = CaseService(reg).repair(subject, record, text, day, evidence or [])
    _print_case(view, day, json_out)


@repair_app.command("check")
def repair_check(
    subject: Annotated[str, typer.Argument(help="The subject.")],
    record: Annotated[str, typer.Argument(help="Id of the record.")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """May this record be repaired as of --as-of, and from when?"""
    from xinyong.service.cases import CaseService
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        verdict = CaseService(reg).eligibility(subject, record, day)
    if json_out:
        print_json(verdict)
    else:
        console.print(("[green]eligible[/]: " if verdict.eligible else "[yellow]not eligible[/]: ")
                      + esc(verdict.reason))


def _date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint="--changed-since") from None


def _print_case(view: CaseView, day: date, json_out: bool) -> None:
    if json_out:
        print_json(case_json(view, day))
    else:
        render_case(view, day)


def notices_cmd(
    subject: Annotated[str | None, typer.Argument(help="The subject (or --changed-since for everyone).")] = None,
    changed_since: Annotated[str | None, typer.Option("--changed-since", help="Without SUBJECT: generate the "
                                                      "notices of every subject whose file may have changed "
                                                      "after this date (the daily sweep).")] = None,
    outbox: Annotated[Path | None, typer.Option("--outbox", help="Deliver pending notices as JSON lines "
                                                                 "appended to this file.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="Deliver pending notices by POST to this "
                                                                  "URL.")] = None,
    webhook_secret_opt: Annotated[str | None, typer.Option(
        "--webhook-secret", envvar="XINYONG_WEBHOOK_SECRET", show_default=False,
        help="Standard Webhooks secret (whsec_ + base64 of 24-64 random bytes): each webhook POST carries "
             "webhook-id, webhook-timestamp and webhook-signature (HMAC-SHA256 of id.timestamp.body), so the "
             "receiver can verify it comes from this registry and refuse old or repeated messages.")] = None,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """The subject's notices up to --as-of (generated from its file first), optionally delivered. Exit 1
    if a delivery failed (it is retried next time)."""
    from xinyong.service.notices import (
        NoticeService,
        OutboxSender,
        WebhookSender,
        for_channel,
        notice_json,
        ordered,
        webhook_secret,
    )
    day = parse_as_of(as_of)
    if (subject is None) == (changed_since is None):
        raise typer.BadParameter("give SUBJECT, or --changed-since DATE for every subject")
    senders: list[NoticeSender] = []
    if outbox is not None:
        senders.append(OutboxSender(outbox))
    if webhook is not None:
        # without --webhook the secret does nothing: the env var may be set for every run
        senders.append(WebhookSender(webhook, secret=webhook_secret(secret) if (secret := webhook_secret_opt)
                                     else None))
    with open_registry(db, actor) as reg:
        svc = NoticeService(reg)
        notices = (svc.notices(subject, day, channel="cli") if subject is not None  # worded for a terminal
                   else [for_channel(n, "cli") for n in ordered(svc.sweep(_date(changed_since), day))])
        deliveries = {s.channel: svc.deliver(s, subject) for s in senders}
    failed = sum(not ok for results in deliveries.values() for _, ok, _ in results)
    if json_out:
        print_json({"notices": [notice_json(n) for n in notices],
                    "deliveries": {ch: [{"notice": i, "ok": ok, "detail": d} for i, ok, d in res]
                                   for ch, res in deliveries.items()}})
    else:
        if subject is None:
            console.print(f"{len(notices):,} new notices")
        for n in notices:
            console.print(f"[bold]{n.issued}[/] {esc(n.title)}"
                          + (f" [yellow](act by {n.act_by})[/]" if n.act_by else ""))
            console.print(f"  {n.body}", markup=False)
        for ch, res in deliveries.items():
            console.print(f"{ch}: {sum(ok for _, ok, _ in res)} delivered, {sum(not ok for _, ok, _ in res)} failed",
                          markup=False)
    raise typer.Exit(1 if failed else 0)


def status_cmd(
    subject: Annotated[str, typer.Argument(help="The subject.")],
    what_if_opt: Annotated[bool, typer.Option("--what-if", help="Also: what would change my status, and "
                                                                "the earliest date.")] = False,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", as_of: AsOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Where the subject's listings stand in due process (proposed, suspended, in force), open cases,
    and with --what-if which records, repaired or expired on which dates, would change its status."""
    from xinyong.service.status import subject_status
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:  # the same computation as GET /v1/subjects/{id}/status
        key = reg.schemes.parse(subject).key
        records, amendments, views = reg.store.cases.files_of([key])[key]
        status = subject_status(reg.policies(day), key, records, amendments, views, day, reg.schemes,
                                with_what_if=what_if_opt)
        reg._audit("status", subject=key, purpose="subject's own status",
                   detail={"as_of": day.isoformat(), "what_if": what_if_opt})
        out = [(p.policy, p.assessment, p.listings, p.what_if) for p in status.policies]
        open_cases = [case_json(v, day) for v in status.open_cases]
    if json_out:
        print_json({"subject": key, "as_of": day.isoformat(), "open_cases": open_cases, "policies": [
            {"policy": ref, "score": a.score, "tier": a.tier, "listings": statuses, "what_if": changes}
            for ref, a, statuses, changes in out]})
        return
    for ref, a, statuses, changes in out:
        console.print(f"[bold]{esc(ref)}[/]"
                      + (f": score {a.score}, tier {esc(a.tier)}" if a.score is not None else ""))
        for s in statuses:
            console.print(f"  {esc(s.list_id)}: [bold]{s.stage.value}[/] (since {s.since}, until {s.until}; "
                          f"object by {s.objection_by}): {esc(s.reason)}")
        for c in changes:
            console.print(f"  what if: {c.explanation}", markup=False)
    for oc in open_cases:
        console.print(f"open case {oc['id']} ({oc['kind']} against {oc['target']}), decide by {oc['deadline']}",
                      markup=False)


def lists_public(
    list_id: Annotated[str, typer.Argument(help="List id, e.g. shixin.")],
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "public", as_of: AsOfOpt = None, json_out: JsonOpt = False,
    limit: Annotated[int, typer.Option(help="Rows to print (all with --json).")] = 20,
) -> None:
    """The public view of a published list: only listings in force (not proposed, not suspended), within
    the publication window; only the fields the list publishes: persons by masked name (never an
    identifier), each with its reason (the subject's own records behind the listing, as over HTTP)."""
    from xinyong.service.publication import public_page
    day = parse_as_of(as_of)
    with open_registry(db, actor) as reg:
        page = public_page(reg, list_id, day, None if json_out else limit)
    ldef = page.list_def
    entries = [{"subject": e.subject, "name": e.name, "reason": e.reason, "legal_basis": ldef.legal_basis,
                "since": e.since and str(e.since), "until": e.until and str(e.until)} for e in page.entries]
    if json_out:
        print_json(entries)
        return
    console.print(f"[bold]{esc(ldef.name)}[/] ({esc(page.policy)}) as of {day}: {page.total:,} published listings"
                  + (f", the first {len(entries):,} shown (--limit)" if page.total > len(entries) else ""))
    fields = set(ldef.publication.fields)
    shown = [k for k in ("subject", "name", "reason", "since", "until")
             if any(row[k] for row in entries) or k in fields or (k == "name" and "masked_name" in fields)]
    print_table(console, shown, ([row[k] or ("(no name registered)" if k == "name" else "") for k in shown]
                                 for row in entries), ids=("subject",))
