"""Step 3, details: the story, since when, how many contacts, what the collectors did, who.

The story may take several messages or a voice note. The collectors' numbers are read out
of what was forwarded and confirmed by the user before they go into a complaint.
"""

from __future__ import annotations

from dialogs.case import EvidenceItem, State
from dialogs.events import EvidenceKind, Text
from dialogs.numbers import phone_numbers
from dialogs.steps._answers import long_answer, short_answer
from dialogs.turn import Turn, option

CONTACT_RANGES = ("none", "few", "some", "many", "unknown")
BEHAVIOURS = (
    "contacts_messaged",
    "insults",
    "violence_threats",
    "defamation",
    "doctored_photos",
    "fake_legal",
    "impersonation",
    "employer_contacted",
    "night_calls",
    "data_published",
    "extortion",
    "credit_report",
)
MAX_COLLECTORS = 30


def ask_story(turn: Turn) -> None:
    """Ask what happened, in the user's own words or by voice."""
    key = "details.ask_story_more" if turn.case.details.story else "details.ask_story"
    turn.say(key, [option("det:story_done")] if _has_story(turn) else [])


def on_story_text(turn: Turn, event: Text) -> State | None:
    """Add a message to the story; the user says when it is complete."""
    text = long_answer(event.text)
    if text is None:
        turn.say("common.unclear_long")
        return None
    details = turn.case.details
    details.story = f"{details.story}\n{text}" if details.story else text
    turn.say("details.story_added", [option("det:story_done")])
    return None


def on_story_voice(turn: Turn, item: EvidenceItem) -> State | None:
    """Take a voice note (already saved as evidence) as the story."""
    if item.kind not in (EvidenceKind.VOICE, EvidenceKind.AUDIO):
        return None
    turn.case.details.story_voice = item.number
    turn.say("details.story_voice_added", [option("det:story_done")], number=item.number)
    return None


def on_story_choice(turn: Turn, value: str) -> State | None:
    """Close the story."""
    return State.DETAILS_SINCE


def ask_since(turn: Turn) -> None:
    """Ask since when the harassment goes on."""
    turn.say("details.ask_since")


def on_since(turn: Turn, event: Text) -> State | None:
    """Record since when."""
    since = short_answer(event.text)
    if since is None:
        turn.say("common.unclear_short")
        return None
    turn.case.details.since = since
    return State.DETAILS_CONTACTS


def ask_contacts(turn: Turn) -> None:
    """Ask how many of the user's contacts were reached."""
    turn.say("details.ask_contacts", [option(f"cnt:{r}") for r in CONTACT_RANGES])


def on_contacts_choice(turn: Turn, value: str) -> State | None:
    """Record the range of contacts reached."""
    turn.case.details.contacts_reached = value
    return State.DETAILS_BEHAVIOURS


def on_contacts_text(turn: Turn, event: Text) -> State | None:
    """Accept a typed number of contacts."""
    digits = event.text.strip()
    if not digits.isdecimal() or len(digits) > 6:
        turn.say("details.contacts_number_please")
        return None
    turn.case.details.contacts_reached = str(int(digits))
    return State.DETAILS_BEHAVIOURS


def ask_behaviours(turn: Turn) -> None:
    """Offer the collectors' behaviours to tick, and a button to finish."""
    chosen = turn.case.details.behaviours
    options = [
        option(f"beh:{b}", f"behaviour.{b}", mark="✅ " if b in chosen else "") for b in BEHAVIOURS
    ]
    turn.say("details.ask_behaviours", [*options, option("beh:done")])


def on_behaviour(turn: Turn, value: str) -> State | None:
    """Tick or untick a behaviour, or finish."""
    if value == "done":
        return State.DETAILS_COLLECTORS
    chosen = turn.case.details.behaviours
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    ask_behaviours(turn)
    return None


def ask_collectors(turn: Turn) -> None:
    """Show the numbers found in the evidence and ask which are the collectors'."""
    details = turn.case.details
    details.collector_candidates = [n for n in _candidates(turn) if n not in details.collectors][
        :MAX_COLLECTORS
    ]
    options = [option("col:confirm_all")] if details.collector_candidates else []
    turn.say(
        "details.ask_collectors",
        [*options, option("col:done")],
        found="\n".join(details.collector_candidates) or "-",
        confirmed="\n".join(details.collectors) or "-",
    )


def on_collectors_text(turn: Turn, event: Text) -> State | None:
    """Add typed identifiers (one per line) to the collectors."""
    details = turn.case.details
    added = 0
    for line in event.text.splitlines():
        value = short_answer(line)
        if value and value not in details.collectors and len(details.collectors) < MAX_COLLECTORS:
            details.collectors.append(value)
            added += 1
    if not added:
        turn.say("common.unclear_short")
        return None
    turn.say("details.collectors_added", [option("col:done")], count=len(details.collectors))
    return None


def on_collectors_choice(turn: Turn, value: str) -> State | None:
    """Confirm the found numbers, or finish the step."""
    details = turn.case.details
    if value == "confirm_all":
        for number in details.collector_candidates:
            if number not in details.collectors:
                details.collectors.append(number)
        details.collector_candidates = []
        turn.say("details.collectors_added", [option("col:done")], count=len(details.collectors))
        return None
    return State.PRIVACY_REVIEW


def _has_story(turn: Turn) -> bool:
    details = turn.case.details
    return bool(details.story or details.story_voice)


def _candidates(turn: Turn) -> list[str]:
    """Return the phone numbers in the evidence's texts and captions, in order of appearance."""
    region = turn.content.phone_regions.get(turn.case.jurisdiction or "", "")
    found: list[str] = []
    for item in turn.case.evidence:
        for text in (item.text, item.caption):
            for number in phone_numbers(text or "", region):
                if number not in found:
                    found.append(number)
    return found
