"""Step 5, the report: where to complain, in order, and the complaint for each destination.

On arrival the user gets the destinations in escalation order with the reason for each
(from :mod:`dialogs.router`), the complaint to the platform and the complaint for the first
destination after it, in the chat and as files. A menu then offers every other document the
case's destinations need, the complaint a harassed contact can send on their own behalf, a
follow-up reminder and the export.
"""

from __future__ import annotations

from datetime import timedelta

from dialogs import followup
from dialogs.case import State
from dialogs.replies import Option
from dialogs.router import route
from dialogs.turn import Turn, option

CONTACT_COMPLAINT = "contact_complaint"


def documents(turn: Turn) -> list[str]:
    """Return the complaint templates the case's destinations need, in escalation order."""
    case = turn.case
    bodies = turn.content.bodies.get(case.jurisdiction or "", ())
    found: list[str] = []
    for destination in route(case, bodies):
        if destination.template not in found:
            found.append(destination.template)
    if "platform_complaint" in found:  # the platform always gets its letter first
        found.remove("platform_complaint")
    return ["platform_complaint", *found]


def ask_report(turn: Turn) -> None:
    """Deliver the destinations and the first complaints once, then offer the menu."""
    case = turn.case
    if case.report.generated_at is None:
        case.report.generated_at = turn.at
        turn.say("report.intro")
        turn.render("report.contacts_title", "contacts", as_file=False)
        for template in documents(turn)[:2]:
            turn.render(f"report.title.{template}", template, as_file=True)
    turn.say("report.menu", _menu(turn))


def on_report(turn: Turn, value: str) -> State | None:
    """Show a document, set the reminder, or export."""
    kind, _, template = value.partition(":")
    if kind == "doc":
        turn.render(f"report.title.{template}", template, as_file=True)
    elif value == "contacts":
        turn.render("report.contacts_title", "contacts", as_file=False)
    elif value == "remind":
        remind_at = turn.at + timedelta(days=turn.content.reminder_days)
        turn.case.report.remind_at = remind_at
        turn.say("report.reminder_set", date=remind_at.date().isoformat())
    elif value == "export":
        export(turn)
    elif value == "sent":
        followup.ask_destination(turn)
        return None
    turn.say("report.menu", _menu(turn))
    return None


DOSSIER = "dossier"
"""Not a template: the adapter builds the evidence dossier (ZIP and PDF report) for it."""


def export(turn: Turn) -> None:
    """Send the evidence dossier (ZIP with the files and manifest, PDF report), and the
    complaints as text files once the report exists."""
    turn.say("export.intro", count=len(turn.case.evidence))
    turn.render("export.dossier", DOSSIER, as_file=True, in_chat=False)
    if turn.case.state == State.REPORT:
        for template in [*documents(turn), CONTACT_COMPLAINT]:
            turn.render(f"report.title.{template}", template, as_file=True, in_chat=False)


def _menu(turn: Turn) -> list[Option]:
    options = [option("rep:contacts")]
    options += [option(f"rep:doc:{t}") for t in [*documents(turn), CONTACT_COMPLAINT]]
    if turn.case.report.remind_at is None:
        options.append(option("rep:remind", days=turn.content.reminder_days))
    options.append(option("rep:sent"))
    options.append(option("rep:export"))
    return options
