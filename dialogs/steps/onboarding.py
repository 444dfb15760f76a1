"""Onboarding: the language (from the client, confirmed with one tap) and the jurisdiction."""

from __future__ import annotations

from dialogs.case import State
from dialogs.replies import Ref
from dialogs.turn import Turn, option


def ask_language(turn: Turn) -> None:
    """Greet the user and offer the languages."""
    turn.say(
        "onboarding.welcome",
        [option(f"lang:{lang}", f"language.{lang}") for lang in turn.content.languages],
    )


def on_language(turn: Turn, value: str) -> State | None:
    """Keep the chosen language and go on to the jurisdiction."""
    turn.conv.lang = value
    return State.JURISDICTION


def ask_jurisdiction(turn: Turn) -> None:
    """Ask where the user lives, to pick the right bodies and laws."""
    turn.say(
        "onboarding.jurisdiction",
        [option(f"jur:{j}", f"jurisdiction.{j}") for j in turn.content.jurisdictions],
    )


def on_jurisdiction(turn: Turn, value: str) -> State | None:
    """Record the jurisdiction and open the evidence step."""
    turn.case.jurisdiction = value
    turn.say("onboarding.jurisdiction_set", jurisdiction=Ref(key=f"jurisdiction.{value}"))
    return State.EVIDENCE
