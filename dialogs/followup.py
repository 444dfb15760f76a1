"""Follow-up: record where a complaint was sent, remind when its period is over, escalate.

/sent (or the report menu) offers the case's destinations; the user picks one, gives the
reference number if there is one, and the bot sets the reminder to the destination's known
period (working or business days skip weekends), or a default when none is known. When a
:class:`~dialogs.events.Tick` finds a reminder due it asks - once - whether the answer came;
if not, it offers the next destination with its complaint ready.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dialogs.case import Case, Pending, Sent
from dialogs.replies import Ref, Reply
from dialogs.router import PLATFORM, Destination, route
from dialogs.steps._answers import short_answer
from dialogs.turn import Turn, option


def destinations(turn: Turn, case: Case) -> list[Destination]:
    """Return the case's destinations in escalation order."""
    return route(case, turn.content.bodies.get(case.jurisdiction or "", ()), turn.at.date())


def body_name(case: Case, body: str) -> Ref:
    """Return the content key naming a destination."""
    return Ref(key="body.platform" if body == PLATFORM else f"body.{case.jurisdiction}.{body}")


def ask_destination(turn: Turn) -> None:
    """Offer the destinations to record a sent complaint for."""
    case = turn.case
    if case.jurisdiction is None:
        turn.say("followup.no_jurisdiction")
        return
    options = [
        option(f"sent:{d.body}", "option.sent.destination", name=body_name(case, d.body))
        for d in destinations(turn, case)
    ]
    turn.say("followup.where", options)


def on_destination(turn: Turn, body: str) -> bool:
    """Ask for the reference number of the complaint sent to ``body``."""
    case = turn.case
    if body not in {d.body for d in destinations(turn, case)}:
        return False
    turn.conv.pending = Pending(kind="sent_reference", target=body)
    turn.say("followup.reference", [option("sent:noref")], name=body_name(case, body))
    return True


def on_reference(turn: Turn, text: str | None) -> None:
    """Record the sent complaint (with its reference, if typed) and set the reminder."""
    pending = turn.conv.pending
    assert pending is not None and pending.target is not None
    reference = short_answer(text) if text is not None else None
    if text is not None and reference is None:
        turn.say("common.unclear_short")
        turn.say(
            "followup.reference", [option("sent:noref")], name=body_name(turn.case, pending.target)
        )
        return
    turn.conv.pending = None
    case = turn.case
    destination = next(d for d in destinations(turn, case) if d.body == pending.target)
    due = _due(turn.at, destination, turn.content.reminder_days)
    case.sent.append(
        Sent(destination=destination.body, sent_at=turn.at, reference=reference, due_at=due)
    )
    turn.say(
        "followup.recorded",
        name=body_name(case, destination.body),
        date=turn.at.date().isoformat(),
        due=due.date().isoformat(),
    )


RETENTION_WARNING_DAYS = 3


def on_tick(turn: Turn, retention_days: int, *, reachable: bool = True) -> None:
    """Ask, once per reminder, whether a complaint whose period is over was answered; warn
    about, then delete, cases left untouched for the retention period. A user who cannot be
    written to now gets only the deletions: their reminders and warnings stay due."""
    if retention_days > 0:
        _retain(turn, retention_days, warn=reachable)
    if not reachable:
        return
    for case in turn.conv.cases:
        for index, sent in enumerate(case.sent):
            if sent.reminded or sent.due_at > turn.at:
                continue
            sent.reminded = True
            turn.replies.append(_due_reply(case, index, sent))
        report = case.report
        if report.remind_at is not None and not report.reminded and report.remind_at <= turn.at:
            report.reminded = True  # the reminder the user asked for at the report step
            turn.replies.append(
                Reply(
                    key="followup.asked_reminder",
                    params={"case": case.number},
                    options=(option("rep:sent", "option.rep.sent"),),
                    case=case.number,
                )
            )


def _retain(turn: Turn, days: int, *, warn: bool = True) -> None:
    expired = turn.at - timedelta(days=days)
    warn_from = turn.at - timedelta(days=max(days - RETENTION_WARNING_DAYS, 0))
    for case in list(turn.conv.cases):
        if case.updated_at <= expired:
            turn.conv.cases.remove(case)
            turn.replies.append(Reply(key="retention.deleted", params={"case": case.number}))
        elif warn and case.updated_at <= warn_from and not case.retention_warned:
            case.retention_warned = True
            deletion = (case.updated_at + timedelta(days=days)).date().isoformat()
            turn.replies.append(
                Reply(
                    key="retention.warning",
                    params={"case": case.number, "date": deletion},
                    case=case.number,
                )
            )
    if turn.conv.case() is None:
        turn.conv.active = turn.conv.cases[-1].number if turn.conv.cases else None


def on_answer(turn: Turn, value: str) -> bool:
    """Handle "answered?" buttons: thank, or offer the next destination with its text."""
    answer, _, rest = value.partition(":")
    number, _, index = rest.partition(":")
    if answer not in ("yes", "no") or not number.isdecimal() or not index.isdecimal():
        return False
    case = turn.conv.case(int(number))
    if case is None or int(index) >= len(case.sent):
        return False
    sent = case.sent[int(index)]
    sent.answered = answer == "yes"
    if sent.answered:
        turn.say("followup.answered")
        return True
    later = _next_destination(turn, case, sent.destination)
    if later is None:
        turn.say("followup.no_next")
        return True
    turn.conv.active = case.number
    turn.say(
        "followup.next", name=body_name(case, later.body), reason=Ref(key=f"reason.{later.reason}")
    )
    template = "contact_complaint" if case.speaker == "contact" else later.template
    if template is not None:
        turn.render(f"report.file.{template}", template, as_file=True, in_chat=False)
    return True


def status_lines(turn: Turn) -> None:
    """Add one line per complaint sent: where, when, reference, and what is due."""
    case = turn.case
    for sent in case.sent:
        key = "followup.status_answered" if sent.answered else "followup.status_line"
        turn.say(
            key,
            name=body_name(case, sent.destination),
            date=sent.sent_at.date().isoformat(),
            reference=sent.reference or "-",
            due=sent.due_at.date().isoformat(),
        )


def _due_reply(case: Case, index: int, sent: Sent) -> Reply:
    ids = f"{case.number}:{index}"
    return Reply(
        key="followup.due",
        params={
            "name": body_name(case, sent.destination),
            "date": sent.sent_at.date().isoformat(),
        },
        options=(option(f"fu:yes:{ids}", "option.fu.yes"), option(f"fu:no:{ids}", "option.fu.no")),
        case=case.number,
    )


def _next_destination(turn: Turn, case: Case, after: str) -> Destination | None:
    order = destinations(turn, case)
    done = {s.destination for s in case.sent}
    position = next((i for i, d in enumerate(order) if d.body == after), -1)
    later = [d for d in order[position + 1 :] if d.body not in done]
    untried = [d for d in order if d.body not in done]
    # A body that takes a document of ours comes with its text ready: the next one in the
    # order, else the first one not tried yet (the lender may come late in the order).
    return next(
        (d for d in [*later, *untried] if d.template is not None),
        later[0] if later else None,
    )


def _due(start: datetime, destination: Destination, default_days: int) -> datetime:
    days = destination.deadline_days if destination.deadline_of == "body" else None
    if days is None:
        return start + timedelta(days=default_days)
    if destination.deadline_kind in ("working", "business"):
        return _add_weekdays(start, days)
    return start + timedelta(days=days)


def _add_weekdays(start: datetime, days: int) -> datetime:
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment
