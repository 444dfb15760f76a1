"""Step 5, the report: where to complain, in order, and the document for each destination.

On arrival the user gets a short card for each of the first destinations (who, why, how to
send, what to attach, the deadline), with "more" for the next ones and the bodies that are
not for this case; then every document as a file, in the order of the destinations (the
police statement first when the police come first), written in the language the bodies
read, with a copy in the user's language when it differs. The full text of a document is
shown in the chat only when the user asks for it. A menu then offers the documents, the
complaint a harassed contact can send on their own behalf, a follow-up reminder and the
export.
"""

from __future__ import annotations

from datetime import date, timedelta

from dialogs import followup
from dialogs.case import Case, State
from dialogs.content import ContentIndex
from dialogs.replies import Option, Ref
from dialogs.router import Destination, route
from dialogs.turn import Turn, option

CONTACT_COMPLAINT = "contact_complaint"
CARDS_PER_PAGE = 3
"""Destination cards shown at once; "more" shows the next ones."""


def documents(turn: Turn) -> list[str]:
    """Return the documents the case's destinations take, in the destinations' order."""
    return case_documents(turn.case, turn.content, turn.at.date())


def case_documents(case: Case, content: ContentIndex, today: date) -> list[str]:
    """Return the documents the case's destinations take, in the destinations' order."""
    if case.speaker == "contact":
        return [CONTACT_COMPLAINT]
    bodies = content.bodies.get(case.jurisdiction or "", ())
    found: list[str] = []
    for destination in route(case, bodies, today):
        if destination.template is not None and destination.template not in found:
            found.append(destination.template)
    return found


def ask_report(turn: Turn) -> None:
    """Deliver the cards and the documents once, then offer the menu."""
    case = turn.case
    if case.report.generated_at is None:
        case.report.generated_at = turn.at
        key = "report.intro_contact" if case.speaker == "contact" else "report.intro"
        turn.say(key)
        _cards(turn, 0)
        _files(turn)
    turn.say("report.menu", _menu(turn))


def on_report(turn: Turn, value: str) -> State | None:
    """Show a document or more destinations, set the reminder, or export."""
    kind, _, rest = value.partition(":")
    if kind == "doc" and rest in _offered_documents(turn):
        turn.render(f"report.full.{rest}", rest, as_file=False, full=True)
    elif kind == "more" and rest.isdecimal():
        _cards(turn, int(rest))
    elif value == "others":
        turn.render("report.others_title", "others", as_file=False)
    elif value == "contacts":
        turn.render("report.contacts_title", "contacts", as_file=False, full=True)
    elif value == "remind":
        remind_at = turn.at + timedelta(days=turn.content.reminder_days)
        turn.case.report.remind_at = remind_at
        turn.case.report.reminded = False
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
    documents as text files once the report exists."""
    turn.say("export.intro", count=len(turn.case.evidence))
    turn.render("export.dossier", DOSSIER, as_file=True, in_chat=False)
    if turn.case.state == State.REPORT:
        for template in _offered_documents(turn):
            turn.render(_file_key(turn, template), template, as_file=True, in_chat=False)


def _destinations(turn: Turn) -> list[Destination]:
    case = turn.case
    return route(case, turn.content.bodies.get(case.jurisdiction or "", ()), turn.at.date())


def _cards(turn: Turn, page: int) -> None:
    count = len(_destinations(turn))
    first = page * CARDS_PER_PAGE
    for item in range(first, min(first + CARDS_PER_PAGE, count)):
        turn.render("", "card", as_file=False, item=item)  # the card is its own message
    report = turn.case.report
    report.cards_shown = max(report.cards_shown, min(first + CARDS_PER_PAGE, count))


def _files(turn: Turn) -> None:
    case = turn.case
    docs_lang = turn.content.documents_langs.get(case.jurisdiction or "")
    if docs_lang and docs_lang != turn.conv.lang:
        turn.say("report.documents_lang", lang=Ref(key=f"doc.language.{docs_lang}"))
    for template in documents(turn):
        turn.render(_file_key(turn, template), template, as_file=True, in_chat=False)


def _file_key(turn: Turn, template: str) -> str:
    own = turn.case.speaker == "contact" and template == CONTACT_COMPLAINT
    return "report.file.own" if own else f"report.file.{template}"


def _offered_documents(turn: Turn) -> list[str]:
    docs = documents(turn)
    return docs if CONTACT_COMPLAINT in docs else [*docs, CONTACT_COMPLAINT]


def _menu(turn: Turn) -> list[Option]:
    count = len(_destinations(turn))
    shown = turn.case.report.cards_shown
    options = []
    if shown < count:
        options.append(option(f"rep:more:{shown // CARDS_PER_PAGE}", "option.rep.more"))
    options.append(option("rep:others"))
    if turn.case.speaker == "contact":
        options.append(option(f"rep:doc:{CONTACT_COMPLAINT}", "option.rep.own"))
    else:
        options += [option(f"rep:doc:{t}") for t in _offered_documents(turn)]
    options.append(option("rep:contacts"))
    if turn.case.report.remind_at is None:
        options.append(option("rep:remind", days=turn.content.reminder_days))
    options.append(option("rep:sent"))
    options.append(option("rep:export"))
    return options
