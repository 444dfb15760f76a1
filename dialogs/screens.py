"""The transition table: every state, its step, its question, its handlers, where it may go.

Rules:
- A screen asks one question (``ask``). Its handlers take a typed answer (``text``), a button
  (``choice``, the part of the option id after the colon) or a piece of evidence already
  saved (``evidence``), and return the next state or None to stay.
- A handler may only return a state listed in the screen's ``next``; ``skip`` is where /skip
  goes (None: the question cannot be skipped). The diagram in FLOW.md is drawn from this
  table and a test keeps the two equal.
- A screen with a ``when`` is asked only when it returns True for the case (the region where
  the jurisdiction has regions, the licence when the lender type does not settle it...);
  otherwise moving to it moves on to its ``skip`` state, as if the user had skipped it
  unasked. Handlers therefore name the next question in the sequence, not the next one
  that applies.
- Moving forward into a later step marks the steps in between as done (completed or
  skipped), so the report is only reached after each earlier step.
- Two paths: the borrower's (steps 1-5 in order) and the harassed contact's, which leaves
  from the speaker question to three short questions of its own and then to the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dialogs.case import EvidenceItem, State, Step
from dialogs.events import Text
from dialogs.steps import details, evidence, onboarding, platform, privacy, report
from dialogs.turn import Turn

TextHandler = Callable[[Turn, Text], State | None]
ChoiceHandler = Callable[[Turn, str], State | None]
EvidenceHandler = Callable[[Turn, EvidenceItem], State | None]


@dataclass(frozen=True)
class Screen:
    step: Step
    ask: Callable[[Turn], None]
    prefix: str
    """Option ids of this screen start with ``prefix:``."""
    next: tuple[State, ...]
    text: TextHandler | None = None
    choice: ChoiceHandler | None = None
    evidence: EvidenceHandler | None = None
    skip: State | None = None
    when: Callable[[Turn], bool] | None = None
    """Asked only when this returns True; otherwise passed over to ``skip``."""
    skipped: Callable[[Turn], None] | None = None
    """What skipping the question means, when it means an answer (no country: another)."""


S = State
SCREENS: dict[State, Screen] = {
    # Onboarding
    S.LANGUAGE: Screen(
        Step.ONBOARDING, onboarding.ask_language, "lang",
        next=(S.JURISDICTION,), text=onboarding.on_language_text,
        choice=onboarding.on_language, skip=S.JURISDICTION,
    ),
    S.JURISDICTION: Screen(
        Step.ONBOARDING, onboarding.ask_jurisdiction, "jur",
        next=(S.REGION,), text=onboarding.on_jurisdiction_text,
        choice=onboarding.on_jurisdiction, skip=S.REGION,
        skipped=onboarding.on_jurisdiction_skipped,
    ),
    S.REGION: Screen(
        Step.ONBOARDING, onboarding.ask_region, "region",
        next=(S.SPEAKER,), choice=onboarding.on_region, skip=S.SPEAKER,
        when=onboarding.has_regions,
    ),
    S.SPEAKER: Screen(
        Step.ONBOARDING, onboarding.ask_speaker, "who",
        next=(S.EVIDENCE, S.CONTACT_RECEIVED), choice=onboarding.on_speaker, skip=S.EVIDENCE,
    ),
    # Step 1: evidence
    S.EVIDENCE: Screen(
        Step.EVIDENCE, evidence.ask_evidence, "ev",
        next=(S.PLATFORM_NAME,), text=evidence.on_evidence_text,
        choice=evidence.on_evidence_choice, skip=S.PLATFORM_NAME,
    ),
    # Step 2: the platform
    S.PLATFORM_NAME: Screen(
        Step.PLATFORM, platform.ask_name, "plat",
        next=(S.PLATFORM_OPERATOR,), text=platform.on_name, choice=platform.on_name_choice,
        skip=S.PLATFORM_OPERATOR,
    ),
    S.PLATFORM_OPERATOR: Screen(
        Step.PLATFORM, platform.ask_operator, "plat",
        next=(S.PLATFORM_LENDER_TYPE,), text=platform.on_operator_text,
        choice=platform.on_operator_choice, skip=S.PLATFORM_LENDER_TYPE,
    ),
    S.PLATFORM_LENDER_TYPE: Screen(
        Step.PLATFORM, platform.ask_lender_type, "lender",
        next=(S.PLATFORM_LICENSED,), choice=platform.on_lender_type, skip=S.PLATFORM_LICENSED,
        when=platform.has_lender_types,
    ),
    S.PLATFORM_LICENSED: Screen(
        Step.PLATFORM, platform.ask_licensed, "lic",
        next=(S.PLATFORM_COMPLAINED,), choice=platform.on_licensed, skip=S.PLATFORM_COMPLAINED,
        when=platform.licence_open,
    ),
    S.PLATFORM_COMPLAINED: Screen(
        Step.PLATFORM, platform.ask_complained, "plat",
        next=(S.PLATFORM_WHEN, S.LOAN), choice=platform.on_complained, skip=S.LOAN,
    ),
    S.PLATFORM_WHEN: Screen(
        Step.PLATFORM, platform.ask_when, "when",
        next=(S.PLATFORM_WHEN_CONFIRM, S.PLATFORM_CHANNEL), text=platform.on_when,
        choice=platform.on_when_choice, skip=S.PLATFORM_CHANNEL,
    ),
    S.PLATFORM_WHEN_CONFIRM: Screen(
        Step.PLATFORM, platform.ask_when_confirm, "when",
        next=(S.PLATFORM_CHANNEL, S.PLATFORM_WHEN), text=platform.on_when_again,
        choice=platform.on_when_confirm, skip=S.PLATFORM_CHANNEL,
    ),
    S.PLATFORM_CHANNEL: Screen(
        Step.PLATFORM, platform.ask_channel, "chan",
        next=(S.PLATFORM_REFERENCE,), choice=platform.on_channel, skip=S.PLATFORM_REFERENCE,
    ),
    S.PLATFORM_REFERENCE: Screen(
        Step.PLATFORM, platform.ask_reference, "plat",
        next=(S.PLATFORM_OUTCOME,), text=platform.on_reference_text,
        choice=platform.on_reference_choice, skip=S.PLATFORM_OUTCOME,
    ),
    S.PLATFORM_OUTCOME: Screen(
        Step.PLATFORM, platform.ask_outcome, "out",
        next=(S.LOAN,), choice=platform.on_outcome, skip=S.LOAN,
    ),
    S.LOAN: Screen(
        Step.PLATFORM, platform.ask_loan, "loan",
        next=(S.LOAN_FIELD, S.DETAILS_STORY), choice=platform.on_loan, skip=S.DETAILS_STORY,
    ),
    S.LOAN_FIELD: Screen(
        Step.PLATFORM, platform.ask_loan_field, "loanf",
        next=(S.LOAN,), text=platform.on_loan_field, choice=platform.on_loan_field_choice,
        skip=S.LOAN,
    ),
    # Step 3: the details
    S.DETAILS_STORY: Screen(
        Step.DETAILS, details.ask_story, "det",
        next=(S.DETAILS_SINCE,), text=details.on_story_text, choice=details.on_story_choice,
        evidence=details.on_story_voice, skip=S.DETAILS_SINCE,
    ),
    S.DETAILS_SINCE: Screen(
        Step.DETAILS, details.ask_since, "det",
        next=(S.DETAILS_CONTACTS,), text=details.on_since, skip=S.DETAILS_CONTACTS,
    ),
    S.DETAILS_CONTACTS: Screen(
        Step.DETAILS, details.ask_contacts, "cnt",
        next=(S.DETAILS_BEHAVIOURS,), text=details.on_contacts_text,
        choice=details.on_contacts_choice, skip=S.DETAILS_BEHAVIOURS,
    ),
    S.DETAILS_BEHAVIOURS: Screen(
        Step.DETAILS, details.ask_behaviours, "beh",
        next=(S.DETAILS_DANGER,), choice=details.on_behaviour, skip=S.DETAILS_DANGER,
    ),
    S.DETAILS_DANGER: Screen(
        Step.DETAILS, details.ask_danger, "dng",
        next=(S.DETAILS_REACH,), choice=details.on_danger, skip=S.DETAILS_REACH,
        when=details.threatened,
    ),
    S.DETAILS_REACH: Screen(
        Step.DETAILS, details.ask_reach, "reach",
        next=(S.DETAILS_DISCLOSED,), choice=details.on_reach, skip=S.DETAILS_DISCLOSED,
    ),
    S.DETAILS_DISCLOSED: Screen(
        Step.DETAILS, details.ask_disclosed, "disc",
        next=(S.DETAILS_POSTED,), choice=details.on_disclosed, skip=S.DETAILS_POSTED,
        when=details.contacts_reached,
    ),
    S.DETAILS_POSTED: Screen(
        Step.DETAILS, details.ask_posted, "post",
        next=(S.DETAILS_COLLECTORS,), choice=details.on_posted, skip=S.DETAILS_COLLECTORS,
    ),
    S.DETAILS_COLLECTORS: Screen(
        Step.DETAILS, details.ask_collectors, "col",
        next=(S.DETAILS_PATTERN,), text=details.on_collectors_text,
        choice=details.on_collectors_choice, skip=S.DETAILS_PATTERN,
    ),
    S.DETAILS_PATTERN: Screen(
        Step.DETAILS, details.ask_pattern, "pat",
        next=(S.PRIVACY_REVIEW,), choice=details.on_pattern, skip=S.PRIVACY_REVIEW,
        when=details.pattern_shown,
    ),
    # The harassed contact's path: what they received and from whom, when, whose loan
    S.CONTACT_RECEIVED: Screen(
        Step.EVIDENCE, details.ask_received, "ct",
        next=(S.CONTACT_WHEN,), text=details.on_received_text,
        choice=details.on_received_choice, evidence=details.on_received_evidence,
        skip=S.CONTACT_WHEN,
    ),
    S.CONTACT_WHEN: Screen(
        Step.DETAILS, details.ask_contact_when, "ctw",
        next=(S.CONTACT_BORROWER,), text=details.on_contact_when_text,
        choice=details.on_contact_when_choice, skip=S.CONTACT_BORROWER,
    ),
    S.CONTACT_BORROWER: Screen(
        Step.DETAILS, details.ask_borrower, "ctb",
        next=(S.REPORT,), text=details.on_borrower_text, choice=details.on_borrower_choice,
        skip=S.REPORT,
    ),
    # Step 4: privacy
    S.PRIVACY_REVIEW: Screen(
        Step.PRIVACY, privacy.ask_review, "prv",
        next=(S.PRIVACY_NAME_MODE,), choice=privacy.on_review, skip=S.PRIVACY_NAME_MODE,
    ),
    S.PRIVACY_NAME_MODE: Screen(
        Step.PRIVACY, privacy.ask_name_mode, "name",
        next=(S.PRIVACY_NAME, S.PRIVACY_CONTACT), choice=privacy.on_name_mode,
        skip=S.PRIVACY_CONTACT,
    ),
    S.PRIVACY_NAME: Screen(
        Step.PRIVACY, privacy.ask_name, "name",
        next=(S.PRIVACY_CONTACT,), text=privacy.on_name, skip=S.PRIVACY_CONTACT,
    ),
    S.PRIVACY_CONTACT: Screen(
        Step.PRIVACY, privacy.ask_contact, "prv",
        next=(S.PRIVACY_WARNING,), text=privacy.on_contact_text,
        choice=privacy.on_contact_choice, skip=S.PRIVACY_WARNING,
    ),
    # The warning cannot be skipped: it is the one thing everyone must read.
    S.PRIVACY_WARNING: Screen(
        Step.PRIVACY, privacy.ask_warning, "prv",
        next=(S.REPORT,), choice=privacy.on_warning,
    ),
    # Step 5: the report
    S.REPORT: Screen(Step.REPORT, report.ask_report, "rep", next=(), choice=report.on_report),
}  # fmt: skip


def go(turn: Turn, state: State) -> None:
    """Move the active case to ``state`` (or past it, if it does not apply) and ask."""
    state = _first_that_applies(turn, state)
    case = turn.case
    here, there = SCREENS[case.state].step, SCREENS[state].step
    for step in Step:
        if here <= step < there and step not in case.done_steps:
            case.done_steps.append(step)
    case.history.append(case.state)
    case.state = state
    SCREENS[state].ask(turn)


def reask(turn: Turn) -> None:
    """Ask the active case's current question again."""
    SCREENS[turn.case.state].ask(turn)


def offered(turn: Turn) -> set[str]:
    """Return the option ids the current question offers (asked on a scratch copy)."""
    scratch = Turn(conv=turn.conv.model_copy(deep=True), content=turn.content, at=turn.at)
    reask(scratch)
    return {o.id for reply in scratch.replies for o in reply.options}


def _first_that_applies(turn: Turn, state: State) -> State:
    """Return ``state``, or where its ``skip`` leads while its question does not apply."""
    screen = SCREENS[state]
    while screen.when is not None and not screen.when(turn):
        assert screen.skip is not None, f"{state} has a condition but nowhere to skip to"
        state = screen.skip
        screen = SCREENS[state]
    return state
