"""Step 2, the platform: which app or company, and whether its own channel was tried.

Questions: name, operator company, licensed or not (a regulator can act only on licensed
lenders), already complained? If yes: when, how, reference number,
outcome. If not: how to find the platform's channel, then on to the details.
"""

from __future__ import annotations

from dialogs.case import State
from dialogs.events import Text
from dialogs.steps._answers import short_answer
from dialogs.turn import Turn, option

LICENCE = ("licensed", "unlicensed", "unknown")
CHANNELS = ("in_app", "phone", "email", "other")
OUTCOMES = ("no_answer", "refused", "promised", "resolved")


def ask_name(turn: Turn) -> None:
    """Ask for the name of the lending app or platform."""
    turn.say("platform.ask_name")


def on_name(turn: Turn, event: Text) -> State | None:
    """Record the platform's name."""
    name = short_answer(event.text)
    if name is None:
        turn.say("common.unclear_short")
        return None
    turn.case.platform.name = name
    return State.PLATFORM_OPERATOR


def ask_operator(turn: Turn) -> None:
    """Ask for the company behind the app, if known."""
    turn.say("platform.ask_operator", [option("plat:operator_unknown")])


def on_operator_text(turn: Turn, event: Text) -> State | None:
    """Record the operator company."""
    operator = short_answer(event.text)
    if operator is None:
        turn.say("common.unclear_short")
        return None
    turn.case.platform.operator = operator
    return State.PLATFORM_LICENSED


def on_operator_choice(turn: Turn, value: str) -> State | None:
    """Go on without the operator's name."""
    turn.case.platform.operator = None
    return State.PLATFORM_LICENSED


def ask_licensed(turn: Turn) -> None:
    """Ask whether the lender is licensed: it decides whether a regulator can act."""
    turn.say("platform.ask_licensed", [option(f"lic:{v}") for v in LICENCE])


def on_licensed(turn: Turn, value: str) -> State | None:
    """Record what the user knows about the lender's licence."""
    turn.case.platform.licensed = value
    return State.PLATFORM_COMPLAINED


def ask_complained(turn: Turn) -> None:
    """Ask whether the user already complained to the platform."""
    turn.say("platform.ask_complained", [option("plat:yes"), option("plat:no")])


def on_complained(turn: Turn, value: str) -> State | None:
    """Branch on whether the platform was already asked."""
    turn.case.platform.complained = value == "yes"
    if value == "yes":
        return State.PLATFORM_WHEN
    turn.say("platform.how_to_find_channel")
    return State.DETAILS_STORY


def ask_when(turn: Turn) -> None:
    """Ask when the complaint to the platform was made."""
    turn.say("platform.ask_when")


def on_when(turn: Turn, event: Text) -> State | None:
    """Record when the platform was asked."""
    when = short_answer(event.text)
    if when is None:
        turn.say("common.unclear_short")
        return None
    turn.case.platform.complained_when = when
    return State.PLATFORM_CHANNEL


def ask_channel(turn: Turn) -> None:
    """Ask how the platform was contacted."""
    turn.say("platform.ask_channel", [option(f"chan:{c}") for c in CHANNELS])


def on_channel(turn: Turn, value: str) -> State | None:
    """Record the channel used."""
    turn.case.platform.channel = value
    return State.PLATFORM_REFERENCE


def ask_reference(turn: Turn) -> None:
    """Ask for the complaint's reference number, if there was one."""
    turn.say("platform.ask_reference", [option("plat:no_reference")])


def on_reference_text(turn: Turn, event: Text) -> State | None:
    """Record the reference number."""
    reference = short_answer(event.text)
    if reference is None:
        turn.say("common.unclear_short")
        return None
    turn.case.platform.reference = reference
    return State.PLATFORM_OUTCOME


def on_reference_choice(turn: Turn, value: str) -> State | None:
    """Go on without a reference number."""
    turn.case.platform.reference = None
    return State.PLATFORM_OUTCOME


def ask_outcome(turn: Turn) -> None:
    """Ask what the platform answered."""
    turn.say("platform.ask_outcome", [option(f"out:{o}") for o in OUTCOMES])


def on_outcome(turn: Turn, value: str) -> State | None:
    """Record the platform's answer and go on to the details."""
    turn.case.platform.outcome = value
    if value == "resolved":
        turn.say("platform.resolved_but_continue")
    return State.DETAILS_STORY
