"""The conversation state machine: (conversation, event, content) -> (conversation, replies).

Rules, applied in this order to every event:
1. /start opens a first case or welcomes the user back; any other command first drops a
   pending confirmation, then runs from whatever state (``commands.COMMANDS``).
2. A pending confirmation (deletion) takes the next button or text; typed text that signals
   a crisis (rule 6) drops it instead.
3. Evidence is saved into the active case in any state (a case is opened if there is none),
   then the current screen may use it (a voice note as the story).
4. A button must belong to the active case and to what the current question offers, or be
   one of the buttons valid everywhere (language, cases, help); else it is stale.
5. Forwarded text is evidence; typed text is the answer to the current question.
6. Typed text and own captions that signal a crisis (``dialogs.crisis``) first get the
   emergency number and the support lines of the user's jurisdiction, then the flow resumes
   where it was. Self-harm: the user is told once that their words stay out of every letter
   (documents leave such sentences out) and only in their own record. A threat from others:
   the case is marked as danger now, which puts the police first. What was typed is kept
   only in the story (and a threat also as a typed text in the evidence step); elsewhere it
   is not taken as the answer and the question is asked again.
7. Anything else (stickers, locations...) gets a kind reply.
8. A Tick (time passing) asks about the follow-up reminders that are due, and is otherwise
   silent.
Every user event gets at least one reply, and nothing here raises on user input.

Pure: no I/O; the caller saves the conversation and sends the replies.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from dialogs import commands, followup
from dialogs.case import Conversation, State
from dialogs.content import ContentIndex
from dialogs.crisis import Signals, holds_self_harm, signals
from dialogs.events import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceRead,
    EvidenceReceived,
    Start,
    Text,
    Tick,
    Unsupported,
)
from dialogs.replies import Reply
from dialogs.screens import SCREENS, go, offered, reask
from dialogs.steps import reading
from dialogs.steps.evidence import intake
from dialogs.turn import Turn

KEEPS_SELF_HARM = (State.DETAILS_STORY,)
"""Where a self-harm sentence is kept: the user's own account (documents leave it out)."""
KEEPS_THREAT = (State.EVIDENCE, State.DETAILS_STORY)
"""Where a threat is kept: a fact of the case, as the story or as a typed text."""


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    conversation: Conversation
    replies: tuple[Reply, ...]
    lang: str
    """The language to show the replies in."""
    erase_user: bool = False
    """True when the user asked to erase all their data: delete instead of saving."""


def step(conv: Conversation, event: Event, content: ContentIndex) -> Result:
    """Apply one event to a conversation and return the new one and the replies."""
    turn = Turn(conv=conv.model_copy(deep=True), content=content, at=event.at)
    if event.client_region:
        turn.conv.region_hint = event.client_region.upper()
    _dispatch(turn, event)
    case = turn.conv.case()
    if case is not None and not isinstance(event, Tick | EvidenceRead):  # the user's acts
        case.updated_at = _later(case.updated_at, event.at)
        case.retention_warned = False
    lang = turn.conv.lang or content.pick_language(event.client_lang)
    return Result(
        conversation=turn.conv,
        replies=tuple(turn.replies),
        lang=lang,
        erase_user=turn.erase_user,
    )


def _dispatch(turn: Turn, event: Event) -> None:
    crisis = _typed_crisis(turn, event)
    if crisis:
        turn.conv.pending = None  # safety before any pending question
    if isinstance(event, Start):
        turn.conv.pending = None
        commands.start(turn, event.payload)
    elif isinstance(event, Command):
        _on_command(turn, event)
    elif isinstance(event, Tick):
        followup.on_tick(turn, event.retention_days, reachable=event.reachable)
        return  # time passing needs no answer unless a reminder is due
    elif isinstance(event, EvidenceRead):
        reading.on_read(turn, event)
        return  # kept for the questions that use it; nothing to say now
    elif turn.conv.pending is not None and not isinstance(event, EvidenceReceived):
        commands.on_pending(
            turn,
            event.choice if isinstance(event, Choice) else None,
            event.text if isinstance(event, Text) and event.forward is None else None,
        )
    elif isinstance(event, EvidenceReceived):
        _on_evidence(turn, event)
    elif isinstance(event, Unsupported):
        turn.say("common.edited" if event.what == "edit" else "common.unsupported")
    elif turn.conv.case() is None:
        if not (isinstance(event, Choice) and commands.on_global_choice(turn, event.choice)):
            commands.open_case(turn)
        if crisis:
            first_question = turn.replies[:]
            turn.replies.clear()
            _care(turn, crisis, kept=False)
            turn.replies.extend(first_question)
    elif isinstance(event, Choice):
        _on_choice(turn, event)
    elif event.forward is not None:
        _on_evidence(turn, EvidenceReceived(
            at=event.at, kind=EvidenceKind.TEXT, text=event.text, forward=event.forward
        ))  # fmt: skip
    else:
        _on_text(turn, event, crisis)
    if not turn.replies:
        turn.say("common.unclear")


def _on_command(turn: Turn, event: Command) -> None:
    if event.name != "cancel":
        turn.conv.pending = None
    entry = commands.COMMANDS.get(event.name)
    if entry is None:
        turn.say("common.unknown_command", command=event.name[:32])
        if turn.conv.case() is not None:
            reask(turn)
        return
    handler, needs_case = entry
    if needs_case and turn.conv.case() is None:
        turn.say("common.no_case")
        return
    handler(turn)


def _on_evidence(turn: Turn, event: EvidenceReceived) -> None:
    fresh = turn.conv.case() is None
    if fresh:
        turn.new_case(commands.open_state(turn))
    if event.forward is None:  # the user's own caption, not the collectors' words
        own = "\n".join(t for t in (event.caption, event.text) if t)
        crisis = signals(own, turn.content.crisis)
        if crisis:
            _care(turn, crisis, kept=True)
    item = intake(turn, event)
    if fresh:
        reask(turn)
        return
    screen = SCREENS[turn.case.state]
    if item is not None and screen.evidence is not None:
        _follow(turn, screen.evidence(turn, item))


def _on_choice(turn: Turn, event: Choice) -> None:
    if commands.on_global_choice(turn, event.choice):
        return
    stale = event.case is not None and event.case != turn.conv.active
    screen = SCREENS[turn.case.state]
    if stale or screen.choice is None or event.choice not in offered(turn):
        turn.say("common.stale_button")
        reask(turn)
        return
    _follow(turn, screen.choice(turn, event.choice.partition(":")[2]))


def _on_text(turn: Turn, event: Text, crisis: Signals) -> None:
    screen = SCREENS[turn.case.state]
    keeps = screen.text is not None and turn.case.state in (
        KEEPS_SELF_HARM if crisis.self_harm else KEEPS_THREAT
    )
    if crisis:
        _care(turn, crisis, kept=keeps)
        if not keeps:
            reask(turn)
            return
    if screen.text is None:
        turn.say("common.use_buttons")
        reask(turn)
        return
    _follow(turn, screen.text(turn, event))


def _typed_crisis(turn: Turn, event: Event) -> Signals:
    """Return the crisis signals of text the user typed (forwarded text is not theirs)."""
    if isinstance(event, Text) and event.forward is None:
        return signals(event.text, turn.content.crisis)
    return Signals()


def _care(turn: Turn, crisis: Signals, *, kept: bool) -> None:
    """Put safety first: the emergency number and the support lines, then resume (rule 6)."""
    case = turn.case
    before = len(turn.replies)
    if crisis.self_harm:
        told = holds_self_harm(case, turn.content.crisis)  # before this text is kept
        turn.render("crisis.first", "crisis", as_file=False)
        if kept and not told:
            turn.say("crisis.kept_private")
    if crisis.threat and not case.details.danger:
        case.details.danger = True  # danger now: the router puts the police first
        if not crisis.self_harm:
            turn.render("crisis.threat_first", "crisis", as_file=False)
        turn.say("crisis.police_first")
    if len(turn.replies) > before:
        turn.say("crisis.then")


def _follow(turn: Turn, state: object) -> None:
    """Move to the state a handler returned, checking it is a declared transition."""
    if state is None:
        return
    screen = SCREENS[turn.case.state]
    assert state in screen.next, f"undeclared transition {turn.case.state} -> {state}"
    go(turn, state)  # type: ignore[arg-type]


def _later(a: datetime, b: datetime) -> datetime:
    return max(a, b)
