"""The rules of case work, pure: which deadline applies, what an outcome produces, when an objection is
a repeat, what a notice says. The service layer gathers the facts (records, listings, earlier cases)
and stores what these functions decide; nothing here reads a store or a clock, so every rule is tested
on plain values.

- **Deadlines.** A case is decided within the policy's review period in working days on the policy's
  calendar; *expedited* when the listing behind it took effect immediately (a court list stays in force
  while the objection is heard, so it is heard sooner). An appeal keeps its objection's flag. The
  windows to object and to appeal are calendar days that end on a working day.
- **One objection per matter.** The matter of an objection is the records it covers (the record, or
  every record behind the listing when it was filed). A further objection on the same matter is a
  duplicate while one is open and, once one is decided, the next step is an appeal: otherwise repeated
  objections would keep an after-notice listing suspended for as long as the window lasts.
- **Outcomes are amendments.** Upheld: the record (or every record behind the listing) is annulled, or its
  amount corrected; a granted repair adds a repair amendment; all dated on the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from xinyong.model.case import Case, CaseKind, CaseStatus, CaseView, Notice, NoticeKind
from xinyong.model.record import Amendment, AmendmentKind
from xinyong.policy.loader import LoadedPolicy
from xinyong.policy.procedure import add_working_days, calendar_days_deadline, policy_calendar


def review_deadline(filed: date, policies: Sequence[LoadedPolicy], *, expedited: bool) -> date:
    """Decide by: the shortest review period of the policies concerned (the expedited one when the
    case is expedited), in working days on the calendar of the policy that sets it."""
    options = [(add_working_days(filed, lp.policy.procedure.expedited_review_working_days if expedited
                                 else lp.policy.procedure.review_working_days, policy_calendar(lp)))
               for lp in policies]
    return min(options)


def objection_deadline(decided: date, policies: Sequence[LoadedPolicy]) -> date:
    """The last day to object to a record decided on ``decided``: the longest window of the policies
    that use its type, ending on a working day."""
    return max(calendar_days_deadline(decided, lp.policy.procedure.objection_days or 0, policy_calendar(lp))
               for lp in policies)


def appeal_deadline(decided: date, policies: Sequence[LoadedPolicy]) -> date:
    """The last day to appeal a decision on an objection, ending on a working day."""
    return max(calendar_days_deadline(decided, lp.policy.procedure.appeal_days or 0, policy_calendar(lp))
               for lp in policies)


def repeat_objection(target: str, covered: set[str], earlier: Sequence[CaseView], as_of: date,
                     covers: Callable[[Case], set[str]], appeal_until: Callable[[Case, date], date],
                     appeal_how: Callable[[str], str]) -> str | None:
    """Why an objection against ``target`` (covering ``covered`` records) is refused as a repeat of an
    ``earlier`` objection of the subject, or None if it is not one."""
    same = [v for v in earlier if v.case.kind is CaseKind.OBJECTION
            and (v.case.target == target or covered & covers(v.case))]
    decided = [(v, e) for v in same if (e := v.decision(as_of)) is not None]
    if decided:
        view, event = max(decided, key=lambda ve: ve[1].at)
        until = appeal_until(view.case, event.at)
        message = (f"an objection to the same matter was already decided: case {view.id} (against "
                   f"{view.case.target}) was {event.outcome.value} on {event.at}, and a further objection "
                   f"against {target} is not accepted. The next step is an appeal to a different reviewer")
        message += (f", until {until}: {appeal_how(view.id)}" if as_of <= until else
                    f"; the window to appeal it closed on {until}")
        if target.startswith("list:"):
            heard = set[str]().union(*(covers(v.case) for v in same))
            if rest := sorted(covered - heard):
                message += (". Records behind the listing not yet objected to may still be objected to: "
                            + ", ".join(f"record:{r}" for r in rest))
        return message
    if same:
        view = min(same, key=lambda v: v.case.filed)
        return (f"an objection to the same matter is already filed and still open: case {view.id} (against "
                f"{view.case.target}, filed {view.case.filed}, to be decided by {view.case.deadline}); a further "
                f"objection against {target} would be a duplicate")
    return None


def outcome_amendments(case: Case, case_id: str, outcome: CaseStatus, reasons: str, as_of: date,
                       amount: Decimal | None, behind_listing: Sequence[str]) -> list[Amendment]:
    """What a decision changes, as amendments effective on the decision date (none when rejected or
    refused). ``behind_listing``: the records behind the listing a list objection was filed against."""
    if outcome not in (CaseStatus.UPHELD, CaseStatus.GRANTED):
        return []
    doc = f"xinyong case {case_id}"
    if case.kind is CaseKind.REPAIR:
        return [Amendment(record=case.target_id, kind=AmendmentKind.REPAIR, effective=as_of,
                          reason=f"credit repair granted: {reasons}", document=doc)]
    if case.target_kind == "record":
        if amount is not None:
            return [Amendment(record=case.target_id, kind=AmendmentKind.CORRECT, effective=as_of,
                              reason=f"objection upheld, amount corrected: {reasons}", document=doc, amount=amount)]
        ids: Sequence[str] = [case.target_id]
    else:
        ids = behind_listing
    return [Amendment(record=i, kind=AmendmentKind.ANNUL, effective=as_of, reason=f"objection upheld: {reasons}",
                      document=doc) for i in ids]


def filed_notice(case: Case) -> Notice:
    """The notice that a case was received, with the date by which it is decided."""
    return Notice(
        subject=case.subject, kind=NoticeKind.CASE_FILED, issued=case.filed, ref=f"case:{case.id}",
        title=f"{case.kind.value.capitalize()} received: case {case.id}",
        body=(("Your application for credit repair of " if case.kind is CaseKind.REPAIR
               else f"Your {case.kind.value} against ")
              + f"{case.target} was filed on {case.filed}. A reviewer decides it with reasons by "
              + str(case.deadline)
              + (" (expedited: the listing stays in force meanwhile)." if case.expedited else ".")),
        act_by=None)


def decision_notice(case: Case, outcome: CaseStatus, reasons: str, as_of: date, appeal_until: date | None,
                    appeal_how: str) -> Notice:
    """The notice of a decision, with its reasons and, for an objection, until when and how to appeal."""
    body = (f"Case {case.id} ({case.kind.value} against {case.target}) was decided on {as_of}: {outcome.value}. "
            f"Reasons: {sentence(reasons)}")
    act_by = None
    if case.kind is CaseKind.OBJECTION and appeal_until is not None:
        act_by = appeal_until
        body += f" You may appeal to a different reviewer until {act_by}: {appeal_how}."
    return Notice(subject=case.subject, kind=NoticeKind.CASE_DECIDED, issued=as_of, ref=f"case:{case.id}",
                  title=f"Decision on your {case.kind.value}: {outcome.value}", body=body, act_by=act_by)


def notice_period_lists(lp: LoadedPolicy) -> tuple[list[str], int]:
    """The lists whose batch listings may not be in force yet (after-notice lists, while their notice
    period runs) and that period in days: what a snapshot reader re-checks one subject at a time."""
    notice = lp.policy.procedure.notice_days or 0
    return [x.id for x in lp.policy.lists if x.takes_effect != "immediately" and notice > 0], notice


def sentence(text: str) -> str:
    """``text`` ending as a sentence: stripped, with a full stop unless it ends with punctuation (reasons
    typed by a reviewer, generated clauses: the next sentence must not run into them)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?。！？" else text + "."
