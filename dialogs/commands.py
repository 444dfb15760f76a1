"""The commands and buttons that work from every state: help, status, back, skip, cases...

Each returns nothing; it changes the turn and adds replies. Commands that need a case say so
kindly when there is none.
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs import followup
from dialogs.case import Case, Pending, State, Step
from dialogs.replies import Ref
from dialogs.screens import SCREENS, go, reask
from dialogs.steps.report import export as export_documents
from dialogs.turn import Turn, option


def start(turn: Turn, payload: str | None) -> None:
    """Open a first case, or welcome the user back where they were."""
    if payload:
        turn.conv.start_payload = payload[:64]
    if turn.conv.case() is None:
        open_case(turn)
        return
    turn.say("common.welcome_back", case=turn.case.number)
    reask(turn)


def open_state(turn: Turn) -> State:
    """Return where a new case starts: the language for a new user, else the jurisdiction."""
    return State.LANGUAGE if turn.conv.lang is None else State.JURISDICTION


def open_case(turn: Turn) -> Case:
    """Open a new case, make it active and ask its first question."""
    case = turn.new_case(open_state(turn))
    if case.state != State.LANGUAGE:
        turn.say("cases.opened", case=case.number)
    SCREENS[case.state].ask(turn)
    return case


def help_(turn: Turn) -> None:
    """Explain the procedure and the commands, then repeat the question."""
    turn.say("help.text", [option("help:contacts_message")])
    if turn.conv.case() is not None:
        reask(turn)


def status(turn: Turn) -> None:
    """Say where the active case stands."""
    case = turn.case
    step = SCREENS[case.state].step
    turn.say(
        "status.summary",
        case=case.number,
        step=int(step),
        step_name=Ref(key=f"step.{step.name.lower()}"),
        evidence=len(case.evidence),
        skipped=len(case.skipped),
    )
    followup.status_lines(turn)
    reask(turn)


def back(turn: Turn) -> None:
    """Go back to the previous question."""
    case = turn.case
    if not case.history:
        turn.say("common.nothing_before")
    else:
        case.state = case.history.pop()
    reask(turn)


def skip(turn: Turn) -> None:
    """Skip the current question, where it can be skipped."""
    case = turn.case
    target = SCREENS[case.state].skip
    if target is None:
        turn.say("common.cannot_skip")
        reask(turn)
        return
    case.skipped.append(case.state)
    turn.say("common.skipped")
    skipped = SCREENS[case.state].skipped
    if skipped is not None:
        skipped(turn)
    go(turn, target)


def cases(turn: Turn) -> None:
    """List the user's cases with buttons to switch."""
    options = [
        option(
            f"case:open:{c.number}",
            "option.case.item",
            case=c.number,
            step=int(SCREENS[c.state].step),
            evidence=len(c.evidence),
            mark="▶ " if c.number == turn.conv.active else "",
        )
        for c in turn.conv.cases
    ]
    turn.say("cases.list", [*options, option("case:new")], count=len(turn.conv.cases))


def new(turn: Turn) -> None:
    """Open a new case and make it active."""
    open_case(turn)


def lang(turn: Turn) -> None:
    """Offer the languages."""
    turn.say(
        "common.choose_language",
        [option(f"lang:{code}", f"language.{code}") for code in turn.content.languages],
    )


def cancel(turn: Turn) -> None:
    """Drop a pending confirmation, or say that nothing is lost when pausing."""
    if turn.conv.pending is not None:
        turn.conv.pending = None
        turn.say("common.cancelled")
    else:
        turn.say("common.paused")


def delete(turn: Turn) -> None:
    """Ask what to delete."""
    turn.conv.pending = Pending(kind="delete")
    options = [option("del:case")] if turn.conv.case() else []
    turn.say("delete.what", [*options, option("del:all"), option("del:keep")])


def export(turn: Turn) -> None:
    """Send the active case's documents as files."""
    export_documents(turn)
    reask(turn)


COMMANDS: dict[str, tuple[Callable[[Turn], None], bool]] = {
    # name: (handler, needs an active case)
    "help": (help_, False),
    "status": (status, True),
    "back": (back, True),
    "skip": (skip, True),
    "cases": (cases, False),
    "new": (new, False),
    "lang": (lang, False),
    "cancel": (cancel, False),
    "delete": (delete, False),
    "export": (export, True),
    "sent": (followup.ask_destination, True),
}


MENU: tuple[str, ...] = (
    "start", "help", "status", "back", "skip", "cases", "new", "sent", "export", "lang",
    "delete", "cancel",
)  # fmt: skip
"""Every command, in the order a channel's command menu lists them."""
assert set(MENU) == {"start", *COMMANDS}, "every command is in the menu, once"


def on_global_choice(turn: Turn, choice: str) -> bool:
    """Handle the buttons valid in every state; return False if the choice is not one."""
    kind, _, value = choice.partition(":")
    if kind == "lang" and value in turn.content.languages:
        turn.conv.lang = value
        case = turn.conv.case()
        if case is not None and case.state == State.LANGUAGE:
            go(turn, State.JURISDICTION)
        else:
            turn.say("common.language_set")
            if case is not None:
                reask(turn)
        return True
    if kind == "help" and value == "contacts_message" and turn.conv.case() is not None:
        turn.render("evidence.contacts_message_intro", "contacts_message", as_file=False)
        return True
    if kind == "case":
        return _on_case_choice(turn, value)
    if kind == "fu":
        return followup.on_answer(turn, value)
    if kind == "sent" and turn.conv.case() is not None and value != "noref":
        return followup.on_destination(turn, value)
    return False


def _on_case_choice(turn: Turn, value: str) -> bool:
    if value == "new":
        open_case(turn)
        return True
    number = value.removeprefix("open:")
    if not number.isdecimal() or turn.conv.case(int(number)) is None:
        return False
    turn.conv.active = int(number)
    turn.say("cases.switched", case=int(number))
    reask(turn)
    return True


def on_pending(turn: Turn, choice: str | None, text: str | None = None) -> None:
    """Answer the pending question; anything else repeats it."""
    pending = turn.conv.pending
    assert pending is not None
    if pending.kind == "sent_reference":
        if choice is not None and choice != "sent:noref":
            turn.conv.pending = None
            if not on_global_choice(turn, choice):
                turn.say("common.stale_button")
                reask(turn)
            return
        followup.on_reference(turn, text)
        return
    if pending.kind == "delete" and choice in ("del:case", "del:all"):
        target = choice.removeprefix("del:")
        if target == "case" and turn.conv.case() is None:
            turn.conv.pending = None
            turn.say("common.no_case")
            return
        turn.conv.pending = Pending(kind="delete_confirm", target=target)
        turn.say(f"delete.confirm_{target}", [option("del:yes"), option("del:no")])
    elif pending.kind == "delete_confirm" and choice == "del:yes":
        _erase(turn, pending.target or "case")
    elif choice in ("del:keep", "del:no"):
        turn.conv.pending = None
        turn.say("delete.kept")
        if turn.conv.case() is not None:
            reask(turn)
    else:
        turn.say("delete.answer_first")
        if pending.kind == "delete":
            delete(turn)
        else:
            turn.say(f"delete.confirm_{pending.target}", [option("del:yes"), option("del:no")])


def _erase(turn: Turn, target: str) -> None:
    conv = turn.conv
    conv.pending = None
    if target == "all":
        conv.cases = []
        conv.active = None
        conv.start_payload = None
        turn.erase_user = True
        turn.say("delete.done_all")
        return
    number = conv.active
    conv.cases = [c for c in conv.cases if c.number != number]
    conv.active = conv.cases[-1].number if conv.cases else None
    turn.say("delete.done_case", case=number or 0)
    if conv.active is not None:
        turn.say("cases.switched", case=conv.active)
        reask(turn)


def steps_done_before(case: Case, step: Step) -> bool:
    """Return True if every step before ``step`` was completed or explicitly skipped."""
    return all(s in case.done_steps for s in Step if s < step)
