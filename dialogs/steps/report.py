"""Step 5, the report: the complaints, where to send them, and a follow-up reminder.

On arrival the user gets everything at once - the complaint to the platform, the complaint
to the regulator and the contacts in escalation order, each in the chat and as a file - and
then a menu to see any of them again, set a reminder, or export the case.
"""

from __future__ import annotations

from datetime import timedelta

from dialogs.case import State
from dialogs.turn import Turn, option

DOCUMENTS = {
    "platform": "platform_complaint",
    "regulator": "regulator_complaint",
    "contacts": "contacts",
}


def ask_report(turn: Turn) -> None:
    """Deliver the documents the first time, then offer the menu."""
    case = turn.case
    if case.report.generated_at is None:
        case.report.generated_at = turn.at
        turn.say("report.intro")
        for name, template in DOCUMENTS.items():
            turn.render(f"report.{name}_title", template, as_file=name != "contacts")
    turn.say("report.menu", _menu(turn))


def on_report(turn: Turn, value: str) -> State | None:
    """Show a document again, set the reminder, or export."""
    if value in DOCUMENTS:
        turn.render(f"report.{value}_title", DOCUMENTS[value], as_file=value != "contacts")
    elif value == "remind":
        remind_at = turn.at + timedelta(days=turn.content.reminder_days)
        turn.case.report.remind_at = remind_at
        turn.say("report.reminder_set", date=remind_at.date().isoformat())
    elif value == "export":
        export(turn)
    turn.say("report.menu", _menu(turn))
    return None


def export(turn: Turn) -> None:
    """Send the case's documents and its evidence index as files."""
    turn.say("export.intro", count=len(turn.case.evidence))
    turn.render("export.evidence_index", "evidence_index", as_file=True, in_chat=False)
    if turn.case.state == State.REPORT:
        for name, template in DOCUMENTS.items():
            turn.render(f"report.{name}_title", template, as_file=True, in_chat=False)


def _menu(turn: Turn) -> list:
    options = [option(f"rep:{name}") for name in DOCUMENTS]
    if turn.case.report.remind_at is None:
        options.append(option("rep:remind", days=turn.content.reminder_days))
    options.append(option("rep:export"))
    return options
