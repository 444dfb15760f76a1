"""Onboarding: the language (from the client, confirmed with one tap), the jurisdiction, the
region where a rule depends on it, and who is speaking: the borrower, or a person the
collectors contacted about someone else's loan (who gets a short path of their own)."""

from __future__ import annotations

from dialogs.case import State
from dialogs.events import Text
from dialogs.replies import Ref
from dialogs.turn import Turn, option

SPEAKERS = ("borrower", "contact")
GENERIC = "generic"
"""The jurisdiction of anyone whose country has no file of its own."""


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


def on_language_text(turn: Turn, event: Text) -> State | None:
    """Take a language typed by name ("中文", "español", "English"), in any language."""
    lang = turn.content.named("lang", event.text)
    if lang in turn.content.languages:
        return on_language(turn, lang)
    turn.say("common.use_buttons")
    ask_language(turn)
    return None


def ask_jurisdiction(turn: Turn) -> None:
    """Ask where the user lives, to pick the right bodies and laws; the country the channel
    suggests (a WhatsApp number's, WeChat's China) comes first, still to be chosen."""
    order = list(turn.content.jurisdictions)
    hint = (turn.conv.region_hint or "").lower()
    if hint in order:
        order.remove(hint)
        order.insert(0, hint)
    turn.say("onboarding.jurisdiction", [option(f"jur:{j}", f"jurisdiction.{j}") for j in order])


def on_jurisdiction(turn: Turn, value: str) -> State | None:
    """Record the jurisdiction and go on to the region (asked only where it matters)."""
    turn.case.jurisdiction = value
    turn.say("onboarding.jurisdiction_set", jurisdiction=Ref(key=f"jurisdiction.{value}"))
    return State.REGION


def on_jurisdiction_text(turn: Turn, event: Text) -> State | None:
    """Take a country typed by name ("中国", "México", "Peru"), in any language."""
    jurisdiction = turn.content.named("jur", event.text)
    if jurisdiction in turn.content.jurisdictions:
        return on_jurisdiction(turn, jurisdiction)
    turn.say("onboarding.jurisdiction_unknown")
    ask_jurisdiction(turn)
    return None


def on_jurisdiction_skipped(turn: Turn) -> None:
    """Skipping the country means another country: the general advice."""
    if GENERIC in turn.content.jurisdictions:
        turn.case.jurisdiction = GENERIC
        turn.say("onboarding.jurisdiction_set", jurisdiction=Ref(key=f"jurisdiction.{GENERIC}"))


def has_regions(turn: Turn) -> bool:
    """Return True if a rule of the case's jurisdiction depends on the region."""
    return bool(turn.content.regions.get(turn.case.jurisdiction or ""))


def ask_region(turn: Turn) -> None:
    """Ask which region the user lives in (Mexico: Mexico City or another state)."""
    jurisdiction = turn.case.jurisdiction or ""
    turn.say(
        "onboarding.ask_region",
        [option(f"region:{r}") for r in turn.content.regions.get(jurisdiction, ())],
        jurisdiction=Ref(key=f"jurisdiction.{jurisdiction}"),
    )


def on_region(turn: Turn, value: str) -> State | None:
    """Record the region."""
    turn.case.region = value
    return State.SPEAKER


def ask_speaker(turn: Turn) -> None:
    """Ask whether the user took the loan or was contacted about someone else's."""
    turn.say("onboarding.ask_speaker", [option(f"who:{s}") for s in SPEAKERS])


def on_speaker(turn: Turn, value: str) -> State | None:
    """Send the borrower to the evidence step and a contact to their short path."""
    turn.case.speaker = value
    return State.CONTACT_RECEIVED if value == "contact" else State.EVIDENCE
