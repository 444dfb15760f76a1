"""Step 2, the platform: which app or company, whether its own channel was tried, the loan.

Questions: name, operator company, the kind of lender where the jurisdiction tells them
apart (a registered type settles the licence), licensed or not (a regulator can act only on
licensed lenders), already complained? If yes: when (read as a date and confirmed), how,
reference number, outcome. If not: how to find the platform's channel. Then the loan's
particulars, all optional, from a menu; then on to the details.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from dialogs.case import State
from dialogs.dates import date_key, date_params
from dialogs.events import Text
from dialogs.steps._answers import read_answer_date, short_answer, today
from dialogs.steps.reading import app_candidates
from dialogs.turn import Turn, option

LICENCE = ("licensed", "unlicensed", "unknown")
UNREGISTERED = "unregistered"
"""The lender type of a lender without a licence; every other named type is registered."""
CHANNELS = ("in_app", "phone", "email", "other")
OUTCOMES = ("no_answer", "refused", "promised", "resolved")
LOAN_FIELDS = ("account", "contract", "amount", "borrowed_on", "due_on", "repaid", "demanded")
"""The fields of :class:`dialogs.case.Loan`, in the order the menu shows them."""
DATE_FIELDS = ("borrowed_on", "due_on")


def ask_name(turn: Turn) -> None:
    """Ask for the name of the lending app or platform; offer the names read in the
    screenshots that look like an app's, to tap instead of typing."""
    turn.say("platform.ask_name")
    read = app_candidates(turn.case)
    if read:
        options = [option(f"plat:read:{n}", "option.plat.read", app=name)
                   for n, name in enumerate(read)]  # fmt: skip
        turn.say("platform.ask_name_read", options)


def on_name_choice(turn: Turn, value: str) -> State | None:
    """A name read in the screenshots, tapped."""
    read = app_candidates(turn.case)
    index = value.removeprefix("read:")
    if not index.isdecimal() or int(index) >= len(read):
        ask_name(turn)  # an old button: the names read have changed
        return None
    turn.case.platform.name = read[int(index)]
    return State.PLATFORM_OPERATOR


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
    return State.PLATFORM_LENDER_TYPE


def on_operator_choice(turn: Turn, value: str) -> State | None:
    """Go on without the operator's name."""
    turn.case.platform.operator = None
    return State.PLATFORM_LENDER_TYPE


def has_lender_types(turn: Turn) -> bool:
    """Return True if the jurisdiction's bodies depend on the kind of lender."""
    return bool(turn.content.lender_types.get(turn.case.jurisdiction or ""))


def ask_lender_type(turn: Turn) -> None:
    """Ask what kind of company lent the money: it decides who supervises it."""
    types = turn.content.lender_types.get(turn.case.jurisdiction or "", ())
    turn.say(
        "platform.ask_lender_type",
        [*(option(f"lender:{t}") for t in types), option("lender:unknown")],
    )


def on_lender_type(turn: Turn, value: str) -> State | None:
    """Record the lender type and the licence it implies, if it implies one."""
    platform = turn.case.platform
    if implied_licence(platform.lender_type) is not None:
        platform.licensed = None  # set by the earlier answer, not by the user
    platform.lender_type = value
    platform.licensed = implied_licence(value) or platform.licensed
    return State.PLATFORM_LICENSED


def implied_licence(lender_type: str | None) -> str | None:
    """Return "licensed" for a registered type, "unlicensed" for an unregistered one."""
    if lender_type in (None, "unknown"):
        return None
    return "unlicensed" if lender_type == UNREGISTERED else "licensed"


def licence_open(turn: Turn) -> bool:
    """Return True unless the lender type already says whether the lender is licensed."""
    return implied_licence(turn.case.platform.lender_type) is None


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
    return State.LOAN


def ask_when(turn: Turn) -> None:
    """Ask when the platform was asked; after an answer that is no date, say why."""
    platform = turn.case.platform
    if platform.complained_when is not None and platform.complained_on is None:
        reading = read_answer_date(turn, platform.complained_when)
        if reading is None or reading.on > today(turn):
            key = "platform.when_unreadable" if reading is None else "platform.when_future"
            turn.say(key, [option("when:go_on")], text=platform.complained_when)
            return
    turn.say("platform.ask_when")


def on_when(turn: Turn, event: Text) -> State | None:
    """Keep what was typed and confirm the date it names, or say it names none."""
    readable = _take_when(turn, event)
    if readable is None:
        return None
    if readable:
        return State.PLATFORM_WHEN_CONFIRM
    ask_when(turn)
    return None


def on_when_choice(turn: Turn, value: str) -> State | None:
    """Go on without a date (the typed answer is kept)."""
    return State.PLATFORM_CHANNEL


def ask_when_confirm(turn: Turn) -> None:
    """Say back the date understood and ask whether it is right."""
    reading = read_answer_date(turn, turn.case.platform.complained_when or "")
    if reading is None or reading.on > today(turn):  # reached by /back after a change
        ask_when(turn)
        return
    options = [option("when:yes"), option("when:retype")]
    turn.say(date_key("platform.when_confirm", reading), options, **date_params(reading))


def on_when_confirm(turn: Turn, value: str) -> State | None:
    """Keep the confirmed date, or let the user type it again."""
    platform = turn.case.platform
    if value == "retype":
        platform.complained_when = None
        platform.complained_on = None
        platform.complained_month_only = False
        return State.PLATFORM_WHEN
    reading = read_answer_date(turn, platform.complained_when or "")
    if value == "yes" and reading is not None:
        # a month alone counts from its last day: deadlines are never taken as passed early
        platform.complained_on = reading.last_day(today(turn))
        platform.complained_month_only = reading.month_only
    return State.PLATFORM_CHANNEL


def on_when_again(turn: Turn, event: Text) -> State | None:
    """Take a newly typed answer instead of confirming the one before."""
    readable = _take_when(turn, event)
    if readable:
        ask_when_confirm(turn)
    return State.PLATFORM_WHEN if readable is False else None


def _take_when(turn: Turn, event: Text) -> bool | None:
    """Keep the typed answer; return whether it names a past date (None: no answer)."""
    when = short_answer(event.text)
    if when is None:
        turn.say("common.unclear_short")
        return None
    platform = turn.case.platform
    platform.complained_when = when
    platform.complained_on = None
    platform.complained_month_only = False
    reading = read_answer_date(turn, when)
    return reading is not None and reading.on <= today(turn)


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
    return State.LOAN


def ask_loan(turn: Turn) -> None:
    """Offer the loan's particulars to fill in, each marked once given, and a button to go on."""
    loan = turn.case.loan
    options = [
        option(f"loan:{f}", mark="✅ " if getattr(loan, f) is not None else "")
        for f in LOAN_FIELDS
    ]
    turn.say("loan.menu", [*options, option("loan:done")])


def on_loan(turn: Turn, value: str) -> State | None:
    """Ask for the chosen particular, or go on to the details."""
    if value == "done":
        return State.DETAILS_STORY
    turn.case.loan_field = value
    return State.LOAN_FIELD


def _next_year(day: date) -> date:
    """Return the same day a year later (28 February for a 29th of February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def ask_loan_field(turn: Turn) -> None:
    """Ask for the value of the particular chosen in the menu."""
    turn.say(f"loan.ask.{_loan_field(turn)}", [option("loanf:back")])


def on_loan_field(turn: Turn, event: Text) -> State | None:
    """Record the value (a date for the loan's dates) and go back to the menu."""
    field = _loan_field(turn)
    if field in DATE_FIELDS:
        # Without a year, a due date is the latest such day (people here are past it),
        # unless that is before the loan was taken: then the next one.
        reading = read_answer_date(turn, event.text)
        borrowed = turn.case.loan.borrowed_on
        if field == "due_on" and reading and borrowed and not re.search(r"\d{4}", event.text):
            while reading.on < borrowed:
                reading = replace(reading, on=_next_year(reading.on))
        if reading is None or reading.month_only:
            turn.say("date.unreadable" if reading is None else "date.need_day")
            return None
        if field == "borrowed_on" and reading.on > today(turn):
            turn.say("date.future")
            return None
        setattr(turn.case.loan, field, reading.on)
        turn.say(date_key("date.noted", reading), **date_params(reading))
    else:
        value = short_answer(event.text)
        if value is None:
            turn.say("common.unclear_short")
            return None
        setattr(turn.case.loan, field, value)
    turn.case.loan_field = None
    return State.LOAN


def on_loan_field_choice(turn: Turn, value: str) -> State | None:
    """Go back to the menu without an answer."""
    turn.case.loan_field = None
    return State.LOAN


def _loan_field(turn: Turn) -> str:
    field = turn.case.loan_field
    return field if field in LOAN_FIELDS else LOAN_FIELDS[0]
