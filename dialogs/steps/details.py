"""Step 3, details: the story, since when, how many contacts, what the collectors did, how
they reached people, whether the user is in danger now, who the collectors are.

The story may take several messages or a voice note. The collectors' numbers are read out
of what was forwarded and confirmed by the user before they go into a complaint.

A harassed contact (someone the collectors reached about another person's loan) has a short
path of their own, at the end of this module: what they received and from which number,
when, and the borrower's name if they want to give it; then straight to the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from dialogs.case import EvidenceItem, State
from dialogs.dates import date_key, date_params
from dialogs.events import EvidenceKind, EvidenceReceived, Text
from dialogs.numbers import THIRD, phone_cues, phone_numbers, read_count, same_number
from dialogs.pattern import pattern
from dialogs.replies import Ref
from dialogs.steps._answers import long_answer, read_answer_date, short_answer, today
from dialogs.steps.evidence import intake
from dialogs.steps.privacy import CONTACT_PHONE, OWNERS, findings_for, own_numbers
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
READ_HINTS = ("violence_threats", "insults", "employer_contacted", "fake_legal", "doctored_photos")
"""The behaviours a screenshot's words may point at (content/behaviour_words.toml)."""
THREATS = ("violence_threats", "extortion")
"""Behaviours after which the user is asked whether they are in danger now."""
REACH = ("calls", "sms", "messaging", "posts", "visits")
YES_NO_UNKNOWN = {"yes": True, "no": False, "unknown": None}
MAX_SENDER = 60
"""A longer text typed where the sender is asked is a pasted message: kept as evidence."""
MAX_SENDER_BUTTONS = 5


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
    """Record since when, and the date it names, if it names one (said back to the user)."""
    since = short_answer(event.text)
    if since is None:
        turn.say("common.unclear_short")
        return None
    details = turn.case.details
    details.since = since
    reading = read_answer_date(turn, since)
    details.since_on = None
    details.since_month_only = False
    if reading is not None and reading.on <= today(turn):
        details.since_on = reading.on
        details.since_month_only = reading.month_only
        turn.say(date_key("details.since_noted", reading), **date_params(reading))
    return State.DETAILS_CONTACTS


def ask_contacts(turn: Turn) -> None:
    """Ask how many of the user's contacts were reached."""
    turn.say("details.ask_contacts", [option(f"cnt:{r}") for r in CONTACT_RANGES])


def on_contacts_choice(turn: Turn, value: str) -> State | None:
    """Record the range of contacts reached."""
    turn.case.details.contacts_reached = value
    return State.DETAILS_BEHAVIOURS


def on_contacts_text(turn: Turn, event: Text) -> State | None:
    """Accept a typed number of contacts ("3" is three, never a button), or a rough one
    ("unos 80", "几十个") as its range, said back."""
    count = read_count(event.text)
    if count is None:
        turn.say("details.contacts_number_please")
        return None
    turn.case.details.contacts_reached = count
    if not count.isdecimal() and not event.text.strip().isdecimal():
        turn.say("numbers.count_noted", range=Ref(key=f"option.cnt.{count}"))
    return State.DETAILS_BEHAVIOURS


def ask_behaviours(turn: Turn) -> None:
    """Offer the collectors' behaviours to tick, and a button to finish."""
    chosen = turn.case.details.behaviours
    options = [
        option(f"beh:{b}", f"behaviour.{b}", mark="✅ " if b in chosen else "") for b in BEHAVIOURS
    ]
    for behaviour in BEHAVIOURS:  # hints in the chat, never facts: the user ticks or not
        items = [r.item for r in turn.case.readings if behaviour in r.behaviours]
        if items and behaviour not in chosen and behaviour in READ_HINTS:
            turn.say(f"details.behaviour_read.{behaviour}",
                     items=", ".join(f"#{n}" for n in items[:5]))  # fmt: skip
    turn.say("details.ask_behaviours", [*options, option("beh:done")])


def on_behaviour(turn: Turn, value: str) -> State | None:
    """Tick or untick a behaviour, or finish."""
    if value == "done":
        return State.DETAILS_DANGER
    _toggle(turn.case.details.behaviours, value)
    ask_behaviours(turn)
    return None


def threatened(turn: Turn) -> bool:
    """Return True if the user ticked threats of violence or extortion."""
    return any(b in turn.case.details.behaviours for b in THREATS)


def ask_danger(turn: Turn) -> None:
    """Ask plainly whether the user is in danger now."""
    turn.say("details.ask_danger", [option("dng:yes"), option("dng:no")])


def on_danger(turn: Turn, value: str) -> State | None:
    """In danger: the emergency and support contacts first (as for crisis words), then on."""
    if value == "yes":
        turn.case.details.danger = True  # "no" does not undo crisis words typed before
        turn.render("crisis.first", "crisis", as_file=False)
        turn.say("crisis.then")
    return State.DETAILS_REACH


def ask_reach(turn: Turn) -> None:
    """Offer the ways the collectors reached people to tick, and a button to finish."""
    chosen = turn.case.details.reach
    options = [option(f"reach:{r}", mark="✅ " if r in chosen else "") for r in REACH]
    turn.say("details.ask_reach", [*options, option("reach:done")])


def on_reach(turn: Turn, value: str) -> State | None:
    """Tick or untick a way, or finish."""
    if value == "done":
        return State.DETAILS_DISCLOSED
    _toggle(turn.case.details.reach, value)
    ask_reach(turn)
    return None


def contacts_reached(turn: Turn) -> bool:
    """Return False when the user said no contact was reached (nothing to disclose to)."""
    return turn.case.details.contacts_reached != "none"


def ask_disclosed(turn: Turn) -> None:
    """Ask whether the collectors told the people they contacted about the debt."""
    turn.say("details.ask_disclosed", [option(f"disc:{a}") for a in YES_NO_UNKNOWN])


def on_disclosed(turn: Turn, value: str) -> State | None:
    """Record the answer (None for "I don't know")."""
    turn.case.details.disclosed = YES_NO_UNKNOWN[value]
    return State.DETAILS_POSTED


def ask_posted(turn: Turn) -> None:
    """Ask whether anything was posted publicly: photos, the debt, the user's ID."""
    turn.say("details.ask_posted", [option(f"post:{a}") for a in YES_NO_UNKNOWN])


def on_posted(turn: Turn, value: str) -> State | None:
    """Record the answer (None for "I don't know")."""
    turn.case.details.posted = YES_NO_UNKNOWN[value]
    return State.DETAILS_COLLECTORS


def ask_collectors(turn: Turn) -> None:
    """Ask whose each number found in the evidence is, one at a time; or for others.

    Numbers given as someone else's ("call her", "她电话") or equal to the user's own come
    first and are never offered as the collectors' in bulk: "These are the collectors'"
    confirms only the numbers listed beside it, none of which carries such a sign.
    """
    details = turn.case.details
    pending = _pending(turn)
    details.collector_candidates = [p.number for p in pending]
    if not pending:
        if not details.collectors and not details.owners:
            turn.say("details.ask_collectors_none", [option("col:done")])
            return
        turn.say(
            "details.ask_collectors", [option("col:done")],
            found="-", confirmed="\n".join(details.collectors) or "-",
        )  # fmt: skip
        return
    first = pending[0]
    unmarked = [p.number for p in pending if p.proposed is None]
    owners = ("mine", "contact", "collector", "unsure") if first.proposed else OWNERS
    options = [
        option(f"col:{owner}:{_digits(first.number)}", f"option.col.{owner}") for owner in owners
    ]
    bulk = first.proposed is None and len(unmarked) > 1
    if bulk:
        options.append(option("col:confirm_all"))
    elif first.proposed is None:  # the one number listed: "these are the collectors'" is it
        options[0] = option("col:confirm_all")
    turn.say(
        "numbers.ask_whose_all" if bulk else "numbers.ask_whose",
        [*options, option("col:done")],
        number=first.number,
        item=first.item,
        hint=Ref(key=f"numbers.hint.{first.proposed or 'none'}"),
        found="\n".join(unmarked) or "-",
        confirmed="\n".join(details.collectors) or "-",
        left=len(pending) - 1,
    )


def on_collectors_text(turn: Turn, event: Text) -> State | None:
    """Add typed identifiers (one per line) to the collectors; a stray digit is none."""
    details = turn.case.details
    own = own_numbers(turn.case)
    added = short = 0
    for line in event.text.splitlines():
        value = short_answer(line)
        if value is None:
            continue
        if _too_short(value):
            short += 1
        elif any(same_number(value, o) for o in own):
            turn.say("numbers.collector_is_own", number=value)
        elif value not in details.collectors and len(details.collectors) < MAX_COLLECTORS:
            details.collectors.append(value)
            added += 1
    if added:
        _said_whose(turn)
    elif short:
        turn.say("numbers.collector_not_a_number")
    elif not turn.replies:
        turn.say("common.unclear_short")
    return None


def on_collectors_choice(turn: Turn, value: str) -> State | None:
    """Record whose a number is, confirm the unmarked ones at once, or finish the step."""
    details = turn.case.details
    if value == "done":
        return State.DETAILS_PATTERN
    pending = _pending(turn)
    if value == "confirm_all":
        answers = [(p.number, "collector") for p in pending if p.proposed is None]
    else:
        owner, _, digits = value.partition(":")
        answers = [(p.number, owner) for p in pending[:1] if _digits(p.number) == digits]
    for number, owner in answers:
        details.owners[number] = owner
        if owner == "collector" and len(details.collectors) < MAX_COLLECTORS:
            details.collectors.append(number)
    _said_whose(turn)
    return None


def _said_whose(turn: Turn) -> None:
    """Ask about the next number found, or say how many collectors' details there are."""
    if _pending(turn):
        ask_collectors(turn)
        return
    details = turn.case.details
    details.collector_candidates = []
    turn.say("details.collectors_added", [option("col:done")], count=len(details.collectors))


def pattern_shown(turn: Turn) -> bool:
    """Whether the screenshots read show enough of the collectors' pattern to ask about."""
    return pattern(turn.case) is not None


def ask_pattern(turn: Turn) -> None:
    """Show what the screenshots were read to show, for the user to confirm or leave out."""
    found = pattern(turn.case)
    assert found is not None
    if found.first and found.last:
        turn.say("details.pattern.count_days", count=found.count, first=found.first,
                 last=found.last, days=found.days)  # fmt: skip
        turn.say("details.pattern.busiest", most=found.most, day=found.busiest or "-")
    else:
        turn.say("details.pattern.count", count=found.count)
    turn.say("details.pattern.night", night=found.night)
    if found.collectors:
        turn.say("details.pattern.collectors", count=found.collectors)
    if found.contacts:
        turn.say("details.pattern.contacts", count=found.contacts)
    turn.say("details.ask_pattern", [option("pat:yes"), option("pat:no")])


def on_pattern(turn: Turn, value: str) -> State | None:
    """Record whether the documents may state the pattern."""
    turn.case.details.pattern_confirmed = value == "yes"
    return State.PRIVACY_REVIEW


@dataclass(frozen=True)
class _Found:
    number: str
    """In international format."""
    item: int
    """The evidence number it was first found in."""
    proposed: str | None
    """"mine" (the user's own contact or account) or "contact" (given as someone else's);
    None when nothing suggests it is not the collectors'."""


def _pending(turn: Turn) -> list[_Found]:
    """The numbers found in the evidence whose owner the user has not said yet: those that
    seem to be the user's or a contact's first, then the others in order of appearance."""
    case = turn.case
    details = case.details
    region = _region(turn)
    own = own_numbers(case)
    found: dict[str, _Found] = {}
    seen: list[tuple[int, str, str | None]] = []  # item, number, cue
    for item in case.evidence:
        for text in (item.text, item.caption):
            seen += [(item.number, n, cue) for n, cue in phone_cues(text or "", region)]
    for reading in case.readings:  # the numbers read in the pictures (dialogs/steps/reading)
        seen += [(reading.item, n, cue) for n, cue in reading.phones]
    for item_number, number, cue in sorted(seen, key=lambda s: s[0]):
        answered = number in details.owners
        if answered or any(same_number(number, c) for c in details.collectors):
            continue
        mine = any(same_number(number, o) for o in own)
        proposed = "mine" if mine else "contact" if cue == THIRD else None
        earlier = found.get(number)
        if earlier is None or (proposed and not earlier.proposed):
            first = earlier.item if earlier else item_number
            found[number] = _Found(number, first, proposed)
    ordered = sorted(found.values(), key=lambda f: f.proposed is None)
    return ordered[:MAX_COLLECTORS]


def _too_short(value: str) -> bool:
    """A bare number of fewer than 5 digits ("2") is neither a phone, an account nor a name."""
    return bool(re.fullmatch(r"[\s+()#*0-9-]+", value)) and len(_digits(value)) < 5


def _toggle(chosen: list[str], value: str) -> None:
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)


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


# The harassed contact's short path ---------------------------------------------------------


def ask_received(turn: Turn) -> None:
    """Ask for what the contact received, then for the number it came from."""
    numbers = sender_candidates(turn)
    options = [option(f"ct:num:{i}", "option.ct.number", number=n) for i, n in enumerate(numbers)]
    key = "contact.ask_sender" if turn.case.evidence else "contact.ask_received"
    turn.say(key, [*options, option("ct:unknown")])


def on_received_evidence(turn: Turn, item: EvidenceItem) -> State | None:
    """Ask for the sender once the first item arrived, and again when it shows new numbers."""
    if len(turn.case.evidence) == 1 or any(phone_numbers(item.text or "", _region(turn))):
        ask_received(turn)
    return None


def on_received_text(turn: Turn, event: Text) -> State | None:
    """Take a short text as the number or account that sent the messages; keep a pasted
    message as evidence."""
    if len(event.text.strip()) > MAX_SENDER or "\n" in event.text.strip():
        item = EvidenceReceived(at=event.at, kind=EvidenceKind.TEXT, text=event.text)
        if intake(turn, item) is not None:
            ask_received(turn)
        return None
    sender = short_answer(event.text)
    if sender is None:
        turn.say("common.unclear_short")
        return None
    turn.case.contact.sender = sender
    return State.CONTACT_WHEN


def on_received_choice(turn: Turn, value: str) -> State | None:
    """Take a number found in the evidence as the sender, or go on without one."""
    kind, _, index = value.partition(":")
    numbers = sender_candidates(turn)
    if kind == "num" and index.isdecimal() and int(index) < len(numbers):
        turn.case.contact.sender = numbers[int(index)]
    return State.CONTACT_WHEN


def sender_candidates(turn: Turn) -> list[str]:
    """Return the phone numbers in the evidence, leaving out the contact's own and those
    given as someone else's (the privacy step masks both; the others are the collectors')."""
    private = [
        _digits(f.value)
        for f in findings_for(turn.case, _region(turn))
        if f.kind in ("phone", CONTACT_PHONE)
    ]
    found = [n for n in _candidates(turn) if not any(_same(_digits(n), o) for o in private)]
    return found[:MAX_SENDER_BUTTONS]


def ask_contact_when(turn: Turn) -> None:
    """Ask when the contact received the messages."""
    turn.say("contact.ask_when", [option("ctw:today"), option("ctw:yesterday")])


def on_contact_when_text(turn: Turn, event: Text) -> State | None:
    """Record the date typed, and say it back."""
    reading = read_answer_date(turn, event.text)
    if reading is None or reading.month_only:
        turn.say("date.unreadable" if reading is None else "date.need_day")
        return None
    if reading.on > today(turn):
        turn.say("date.future")
        return None
    turn.case.contact.received_on = reading.on
    turn.say(date_key("date.noted", reading), **date_params(reading))
    return State.CONTACT_BORROWER


def on_contact_when_choice(turn: Turn, value: str) -> State | None:
    """Record today or yesterday."""
    days_back = 1 if value == "yesterday" else 0
    turn.case.contact.received_on = today(turn) - timedelta(days=days_back)
    return State.CONTACT_BORROWER


def ask_borrower(turn: Turn) -> None:
    """Ask, if the contact wants, for the name of the person who took the loan."""
    turn.say("contact.ask_borrower", [option("ctb:none")])


def on_borrower_text(turn: Turn, event: Text) -> State | None:
    """Record the borrower's name and go to the report."""
    name = short_answer(event.text)
    if name is None:
        turn.say("common.unclear_short")
        return None
    turn.case.contact.borrower = name
    return State.REPORT


def on_borrower_choice(turn: Turn, value: str) -> State | None:
    """Go to the report without the borrower's name."""
    turn.case.contact.borrower = None
    return State.REPORT


def _region(turn: Turn) -> str:
    return turn.content.phone_regions.get(turn.case.jurisdiction or "", "")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _same(a: str, b: str) -> bool:
    """Return True if two numbers' digits match, one with a country code the other lacks."""
    return bool(a and b) and (a.endswith(b) or b.endswith(a))
