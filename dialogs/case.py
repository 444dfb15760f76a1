"""The saved state of a conversation: the user's settings and their cases.

Everything here survives a JSON round trip; if it does not, it is not state. A
:class:`Conversation` belongs to one user on one channel and holds that user's cases; the
dialog reads and returns a whole conversation, the storage saves it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dialogs.events import EvidenceKind, ForwardOrigin


class Step(IntEnum):
    """The five steps of the procedure, plus onboarding before and the report after."""

    ONBOARDING = 0
    EVIDENCE = 1
    PLATFORM = 2
    DETAILS = 3
    PRIVACY = 4
    REPORT = 5


class State(StrEnum):
    """Every question the dialog can be waiting for an answer to."""

    LANGUAGE = "language"
    JURISDICTION = "jurisdiction"
    REGION = "region"
    SPEAKER = "speaker"
    EVIDENCE = "evidence"
    CONTACT_RECEIVED = "contact_received"
    PLATFORM_NAME = "platform_name"
    PLATFORM_OPERATOR = "platform_operator"
    PLATFORM_LENDER_TYPE = "platform_lender_type"
    PLATFORM_LICENSED = "platform_licensed"
    PLATFORM_COMPLAINED = "platform_complained"
    PLATFORM_WHEN = "platform_when"
    PLATFORM_WHEN_CONFIRM = "platform_when_confirm"
    PLATFORM_CHANNEL = "platform_channel"
    PLATFORM_REFERENCE = "platform_reference"
    PLATFORM_OUTCOME = "platform_outcome"
    LOAN = "loan"
    LOAN_FIELD = "loan_field"
    DETAILS_STORY = "details_story"
    DETAILS_SINCE = "details_since"
    DETAILS_CONTACTS = "details_contacts"
    DETAILS_BEHAVIOURS = "details_behaviours"
    DETAILS_DANGER = "details_danger"
    DETAILS_REACH = "details_reach"
    DETAILS_DISCLOSED = "details_disclosed"
    DETAILS_POSTED = "details_posted"
    DETAILS_COLLECTORS = "details_collectors"
    DETAILS_PATTERN = "details_pattern"
    CONTACT_WHEN = "contact_when"
    CONTACT_BORROWER = "contact_borrower"
    PRIVACY_REVIEW = "privacy_review"
    PRIVACY_NAME_MODE = "privacy_name_mode"
    PRIVACY_NAME = "privacy_name"
    PRIVACY_CONTACT = "privacy_contact"
    PRIVACY_WARNING = "privacy_warning"
    REPORT = "report"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EvidenceItem(_Model):
    """One item of evidence as recorded: never changed once made (frozen), so copies of a
    conversation share it instead of copying it, and a copy costs the same at item 600 as at
    item 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __deepcopy__(self, memo: dict[int, object] | None = None) -> EvidenceItem:
        return self  # immutable: sharing is copying

    number: int
    """1-based number of the item in its case, in the order received."""
    kind: EvidenceKind
    received_at: datetime
    sha256: str | None
    """SHA-256 of the stored bytes (for text, of its UTF-8 encoding); None if not downloaded."""
    size: int | None = None
    mime: str | None = None
    file_name: str | None = None
    unique_id: str | None = None
    too_large: bool = False
    text: str | None = None
    caption: str | None = None
    album_id: str | None = None
    forward: ForwardOrigin | None = None


class PlatformInfo(_Model):
    name: str | None = None
    operator: str | None = None
    licensed: str | None = None
    """"licensed", "unlicensed" or "unknown": whether a regulator can act on the lender."""
    lender_type: str | None = None
    """A lender-type id of the jurisdiction (China: "bank", "consumer_finance", "small_loan";
    Mexico: "sofom", "unregistered"...) or "unknown"; decides which regulator supervises it."""
    complained: bool | None = None
    complained_when: str | None = None
    """What the user typed for when they asked the platform."""
    complained_on: date | None = None
    """That answer read as a date and confirmed by the user; the router counts from it (a
    month alone: its last day, so that no period is taken as over too early)."""
    complained_month_only: bool = False
    """The user named only a month: documents say the month, not a day."""
    channel: str | None = None
    """An option id: "in_app", "phone", "email", "other"."""
    reference: str | None = None
    outcome: str | None = None
    """An option id: "no_answer", "refused", "promised", "resolved"."""


class Loan(_Model):
    """What identifies the loan at the lender; every field optional, each typed by the user."""

    account: str | None = None
    """The account at the app: the registered phone number or the user id."""
    contract: str | None = None
    """The contract or order number."""
    amount: str | None = None
    """The amount borrowed, as typed (with its currency if given)."""
    borrowed_on: date | None = None
    due_on: date | None = None
    repaid: str | None = None
    demanded: str | None = None

    def given(self) -> bool:
        return any(value is not None for value in self.model_dump().values())


class Details(_Model):
    story: str | None = None
    story_voice: int | None = None
    """The evidence number of a voice note that tells the story, if told by voice."""
    since: str | None = None
    since_on: date | None = None
    """``since`` read as a date, when it names one (a month alone: its first day)."""
    since_month_only: bool = False
    """The user named only a month: documents say the month, not a day."""
    contacts_reached: str | None = None
    """An option id ("none", "few", "some", "many", "unknown") or a typed number."""
    behaviours: list[str] = Field(default_factory=list)
    collectors: list[str] = Field(default_factory=list)
    """Phone numbers, names and accounts the user confirmed as the collectors'."""
    collector_candidates: list[str] = Field(default_factory=list)
    """Numbers found in the evidence whose owner the user has not said yet."""
    owners: dict[str, str] = Field(default_factory=dict)
    """Whose each number found in the evidence is, as the user said: "collector", "mine",
    "contact" (someone the user knows) or "unsure"; keyed by the number in international
    format. Only the collectors' go into a complaint; the others are masked like any
    private number."""
    danger: bool = False
    """The user said they are in danger now: emergency numbers come first."""
    reach: list[str] = Field(default_factory=list)
    """How the collectors reached people: "calls", "sms", "messaging", "posts", "visits"."""
    disclosed: bool | None = None
    """Whether the collectors told third parties about the debt (None: not answered)."""
    posted: bool | None = None
    """Whether anything was posted publicly (None: not answered)."""
    pattern_confirmed: bool | None = None
    """Whether the user confirmed the collectors' pattern the screenshots show (how many
    messages and calls, at what hours: dialogs/pattern.py) for the documents to state."""


class Finding(_Model):
    """A sensitive number found in what the user wrote."""

    kind: str
    """"resident_id", "bank_card", "phone", "email"..."""
    value: str
    show: bool = False


class ReadItem(_Model):
    """What was read in one picture of the case: the numbers it shows, not its text. Made
    once, when the reading arrives; never changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __deepcopy__(self, memo: dict[int, object] | None = None) -> ReadItem:
        return self  # immutable: sharing is copying

    item: int
    """The evidence number of the picture."""
    phones: list[tuple[str, str | None]] = Field(default_factory=list)
    """Each phone number read (international format) and its cue: "first" (given as the
    writer's own), "third" (as someone else's) or None."""
    private: list[tuple[str, str]] = Field(default_factory=list)
    """Each other sensitive number read: its kind ("resident_id", "bank_card"...) and value."""
    amounts: list[str] = Field(default_factory=list)
    """The amounts of money shown, as "1500.00 CNY" (dialogs/found.py)."""
    apps: list[str] = Field(default_factory=list)
    """Names shown that look like a lending app's (candidates for the platform's name)."""
    behaviours: list[str] = Field(default_factory=list)
    """The behaviours its words suggest ("violence_threats" from the crisis phrases' threat
    set, "insults"... from content/behaviour_words.toml): the behaviours question points at
    the picture, for the user to tick or not."""
    moments: list[str] = Field(default_factory=list)
    """When the messages or calls shown happened, in order: "2026-11-03T22:41", a date
    alone, or a time alone ("22:41") when the picture shows no date above it."""


class Privacy(_Model):
    findings: list[Finding] = Field(default_factory=list)
    name_mode: str | None = None
    """"full", "initials" or "none"."""
    name: str | None = None
    contact: str | None = None
    warned: bool = False


class Sent(_Model):
    """A complaint the user says they sent, and its follow-up."""

    destination: str
    """A body id of the case's jurisdiction, or "platform"."""
    sent_at: datetime
    reference: str | None = None
    due_at: datetime
    """When to ask whether it was answered: the destination's period, or a default."""
    reminded: bool = False
    answered: bool | None = None


class Report(_Model):
    generated_at: datetime | None = None
    remind_at: datetime | None = None
    """When the user asked to be reminded to check for answers ("remind me in N days")."""
    reminded: bool = False
    """That reminder was given."""
    cards_shown: int = 0
    """How many destination cards the user has seen (the next "more" starts there)."""


class Contact(_Model):
    """What a harassed contact (not the borrower) tells about the messages they received."""

    sender: str | None = None
    """The number or account that contacted them."""
    received_on: date | None = None
    borrower: str | None = None
    """The borrower's name, only if the contact chose to give it."""


class Case(_Model):
    number: int
    """Per-user case number, shown to the user."""
    state: State = State.JURISDICTION
    jurisdiction: str | None = None
    region: str | None = None
    """A region id of the jurisdiction where a rule depends on it (Mexico: "cdmx",
    "other_state")."""
    speaker: str | None = None
    """Who is speaking: "borrower" or "contact" (a person the collectors reached)."""
    loan_field: str | None = None
    """The field of :class:`Loan` the loan question waits for (a :class:`Loan` field name)."""
    created_at: datetime
    updated_at: datetime
    evidence: list[EvidenceItem] = Field(default_factory=list)
    platform: PlatformInfo = Field(default_factory=PlatformInfo)
    loan: Loan = Field(default_factory=Loan)
    contact: Contact = Field(default_factory=Contact)
    details: Details = Field(default_factory=Details)
    privacy: Privacy = Field(default_factory=Privacy)
    report: Report = Field(default_factory=Report)
    sent: list[Sent] = Field(default_factory=list)
    history: list[State] = Field(default_factory=list)
    """The questions answered so far, for /back."""
    skipped: list[State] = Field(default_factory=list)
    """The questions the user explicitly skipped."""
    done_steps: list[Step] = Field(default_factory=list)
    """The steps completed or explicitly skipped, in order."""
    readings: list[ReadItem] = Field(default_factory=list)
    """What reading the case's pictures found, one entry per picture read."""
    drafts: list[str] = Field(default_factory=list)
    """Texts typed (not forwarded) in the evidence step, until the user says whether they
    are evidence or a message to the bot."""
    retention_warned: bool = False
    """The user was told this untouched case will be deleted soon."""

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Case:
        """A deep copy whose evidence is a new list of the same (immutable) items: copying a
        case costs the same at item 600 as at item 1."""
        memo = {} if memo is None else memo
        memo.setdefault(id(self.evidence), list(self.evidence))
        memo.setdefault(id(self.readings), list(self.readings))
        return super().__deepcopy__(memo)

    def next_evidence_number(self) -> int:
        return len(self.evidence) + 1


class Pending(_Model):
    """A question that interrupts the procedure and must be answered first (confirmations)."""

    kind: str
    """"delete" (choose what) or "delete_confirm" (confirm it)."""
    target: str | None = None
    """For deletion: "case" or "all"."""


class Conversation(_Model):
    channel: str
    user_id: str
    lang: str | None = None
    active: int | None = None
    """The number of the active case."""
    cases: list[Case] = Field(default_factory=list)
    next_case: int = 1
    pending: Pending | None = None
    start_payload: str | None = None
    region_hint: str | None = None
    """The country the channel suggests (ISO code): its jurisdiction is offered first."""

    def case(self, number: int | None = None) -> Case | None:
        """Return the case with this number (the active one by default)."""
        wanted = self.active if number is None else number
        return next((c for c in self.cases if c.number == wanted), None)
