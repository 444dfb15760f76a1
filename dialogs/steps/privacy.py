"""Step 4, privacy: what sensitive numbers were found, how the name appears, the warning.

Nothing leaves the chat before this step: every output masks the numbers found here unless
the user chose to show one. Everything the case holds is scanned alike: what the user typed,
forwarded messages, captions and every text item of the evidence.

Whose a phone number is decides how it is kept (:func:`phone_kind`):

* the collectors' (confirmed by the user, or the number that wrote to a harassed contact)
  is evidence and stays visible;
* the user's own (said so, or equal to the contact or app account they gave) is masked;
* a contact's (said so, or given after "call her", "llámale", "她电话"...) is a third
  party's private data, masked as ``contact_phone``;
* any other number in what a borrower wrote or forwarded is masked until the user shows it;
  in what a harassed contact received, it is the collectors' (they are who write to them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dialogs.case import Case, Finding, State
from dialogs.events import EvidenceKind, Text
from dialogs.numbers import (
    FIRST,
    THIRD,
    cue_before,
    find_sensitive,
    mask,
    phone_numbers,
    same_number,
)
from dialogs.replies import Ref
from dialogs.steps._answers import short_answer
from dialogs.turn import Turn, option

NAME_MODES = ("full", "initials", "none")
CONTACT_PHONE = "contact_phone"
"""The kind of a phone number of someone the user knows, found in what they sent."""
OWNERS = ("collector", "mine", "contact", "unsure")
"""Whose a number found in the evidence is, as the user may answer."""
TEXT_KINDS = (EvidenceKind.TEXT, EvidenceKind.CONTACT)


def ask_review(turn: Turn) -> None:
    """List the sensitive numbers found and how each will appear."""
    keep_own_numbers_out(turn)
    privacy = turn.case.privacy
    region = turn.content.phone_regions.get(turn.case.jurisdiction or "", "")
    privacy.findings = findings_for(turn.case, region)
    options = [
        option(
            f"prv:toggle:{i}",
            "option.prv.finding",
            kind=Ref(key=f"finding.{f.kind}"),
            shown=f.value if f.show else mask(f.value),
            mark="👁 " if f.show else "🔒 ",
        )
        for i, f in enumerate(privacy.findings)
    ]
    key = "privacy.review" if privacy.findings else "privacy.review_nothing"
    turn.say(key, [*options, option("prv:ok")], count=len(privacy.findings))


def on_review(turn: Turn, value: str) -> State | None:
    """Toggle whether a finding is shown, or go on."""
    if value == "ok":
        return State.PRIVACY_NAME_MODE
    index = int(value.removeprefix("toggle:"))
    finding = turn.case.privacy.findings[index]
    finding.show = not finding.show
    ask_review(turn)
    return None


def ask_name_mode(turn: Turn) -> None:
    """Ask how the user's name should appear in the complaints."""
    turn.say("privacy.ask_name_mode", [option(f"name:{m}") for m in NAME_MODES])


def on_name_mode(turn: Turn, value: str) -> State | None:
    """Record the name mode; ask for the name unless it stays out."""
    turn.case.privacy.name_mode = value
    if value == "none":
        turn.case.privacy.name = None
        return State.PRIVACY_CONTACT
    return State.PRIVACY_NAME


def ask_name(turn: Turn) -> None:
    """Ask for the user's name."""
    turn.say("privacy.ask_name")


def on_name(turn: Turn, event: Text) -> State | None:
    """Record the name."""
    name = short_answer(event.text)
    if name is None:
        turn.say("common.unclear_short")
        return None
    turn.case.privacy.name = name
    return State.PRIVACY_CONTACT


def ask_contact(turn: Turn) -> None:
    """Ask for a contact detail the complaint may give (regulators ask for one)."""
    turn.say("privacy.ask_contact", [option("prv:no_contact")])


def on_contact_text(turn: Turn, event: Text) -> State | None:
    """Record the contact detail for the complaint."""
    contact = short_answer(event.text)
    if contact is None:
        turn.say("common.unclear_short")
        return None
    turn.case.privacy.contact = contact
    keep_own_numbers_out(turn)
    return State.PRIVACY_WARNING


def on_contact_choice(turn: Turn, value: str) -> State | None:
    """Go on without a contact detail."""
    turn.case.privacy.contact = None
    return State.PRIVACY_WARNING


def ask_warning(turn: Turn) -> None:
    """Warn never to give ID or card numbers to callers, and ask for an acknowledgement."""
    turn.say("privacy.warning", [option("prv:understood")])


def on_warning(turn: Turn, value: str) -> State | None:
    """Move to the report once the warning is acknowledged."""
    turn.case.privacy.warned = True
    return State.REPORT


def keep_own_numbers_out(turn: Turn) -> None:
    """Take the user's own numbers (their contact, their app account) off the collectors'
    list, and say so: the victim's number is never given as a collector's."""
    details = turn.case.details
    own = own_numbers(turn.case)
    for number in [c for c in details.collectors if any(same_number(c, o) for o in own)]:
        details.collectors.remove(number)
        details.owners[number] = "mine"
        turn.say("numbers.collector_is_yours", number=number)


def own_numbers(case: Case) -> list[str]:
    """Return what the user gave as their own: their contact detail and their app account."""
    return [value for value in (case.privacy.contact, case.loan.account) if value]


def findings_for(case: Case, region: str) -> list[Finding]:
    """Return the case's sensitive numbers, keeping the user's earlier show/hide choices."""
    return _merge(case.privacy.findings, _scan(case, region))


Source = tuple[str, str]
"""A text of the case and who wrote it: "user", "identifier" (a reference the user typed),
"evidence_user" (a text item or caption the user wrote) or "evidence_other" (forwarded)."""


def _sources(case: Case) -> Iterator[Source]:
    typed = [
        case.details.story,
        case.details.since,
        case.platform.name,
        case.platform.operator,
        case.platform.complained_when,
        case.loan.account,
        case.contact.borrower,
    ]
    yield from ((text, "user") for text in typed if text)
    # A complaint's reference and a contract number identify the case to its reader: only an
    # ID or card number typed there is private; digits that merely look like a phone are not.
    for text in (case.platform.reference, case.loan.contract):
        if text:
            yield text, "identifier"
    for item in case.evidence:
        author = "evidence_user" if item.forward is None else "evidence_other"
        if item.kind in TEXT_KINDS and item.text:
            yield item.text, author
        if item.caption:
            yield item.caption, author


def _scan(case: Case, region: str) -> list[Finding]:
    """Find the sensitive numbers in everything the case holds; collectors' numbers stay out."""
    found: list[Finding] = []
    for text, author in _sources(case):
        for finding in find_sensitive(text, region):
            if finding.kind == "phone":
                kind = None
                if author != "identifier":
                    kind = phone_kind(case, text, finding.value, region, author)
                if kind is None:
                    continue
                finding = finding.model_copy(update={"kind": kind})
            elif _theirs(case, finding.value):
                continue
            found.append(finding)
    for reading in case.readings:  # read in the pictures (dialogs/steps/reading.py)
        for number, cue in reading.phones:
            kind = _phone_kind(case, number, region, "evidence_other", cue)
            if kind is not None:
                found.append(Finding(kind=kind, value=number))
        for kind, value in reading.private:
            if not _theirs(case, value):
                found.append(Finding(kind=kind, value=value))
    return found


def phone_kind(case: Case, text: str, value: str, region: str, author: str) -> str | None:
    """Return how a phone number found in a text is masked ("phone" for the user's own,
    :data:`CONTACT_PHONE` for someone they know), or None for a collector's (not masked)."""
    return _phone_kind(case, value, region, author, cue_before(text, text.find(value)))


def _phone_kind(case: Case, value: str, region: str, author: str, cue: str | None) -> str | None:
    """:func:`phone_kind` given the cue before the number (see dialogs.numbers)."""
    if _theirs(case, value):
        return None
    number = next(phone_numbers(value, region), value)
    owner = case.details.owners.get(number)
    if owner == "collector":
        return None
    if owner == "contact":
        return CONTACT_PHONE
    if owner == "mine" or any(same_number(value, own) for own in own_numbers(case)):
        return "phone"
    if cue == THIRD:
        return CONTACT_PHONE
    if case.speaker == "contact" and author.startswith("evidence") and owner is None:
        # What a harassed contact received comes from the collectors; only a number they
        # wrote down as their own ("mi número...") is theirs.
        return "phone" if cue == FIRST and author == "evidence_user" else None
    return "phone"


def _theirs(case: Case, value: str) -> bool:
    """Whether the value is a number the collectors used (confirmed, or the sender)."""
    theirs = [*case.details.collectors, case.contact.sender or ""]
    digits = _digits(value)
    return bool(digits) and any(
        len(c) >= 7 and (digits.endswith(c) or c.endswith(digits)) for c in map(_digits, theirs)
    )


def _merge(old: list[Finding], new: list[Finding]) -> list[Finding]:
    """Keep the user's earlier show/hide choices for values found again."""
    shown = {f.value for f in old if f.show}
    merged: list[Finding] = []
    for finding in new:
        if all(f.value != finding.value for f in merged):
            merged.append(finding.model_copy(update={"show": finding.value in shown}))
    return merged


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)
