"""Step 4, privacy: what sensitive numbers were found, how the name appears, the warning.

Nothing leaves the chat before this step: every output masks the numbers found here unless
the user chose to show one. Collectors' numbers are evidence and stay visible.
"""

from __future__ import annotations

import re

from dialogs.case import Case, Finding, State
from dialogs.events import EvidenceKind, Text
from dialogs.numbers import find_sensitive, mask
from dialogs.replies import Ref
from dialogs.steps._answers import short_answer
from dialogs.turn import Turn, option

NAME_MODES = ("full", "initials", "none")


def ask_review(turn: Turn) -> None:
    """List the sensitive numbers found and how each will appear."""
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


def findings_for(case: Case, region: str) -> list[Finding]:
    """Return the case's sensitive numbers, keeping the user's earlier show/hide choices."""
    return _merge(case.privacy.findings, _scan(case, region))


def _scan(case: Case, region: str) -> list[Finding]:
    """Find sensitive numbers in what the user wrote themselves, leaving the collectors' out."""
    texts = [
        case.details.story,
        case.details.since,
        case.platform.name,
        case.platform.operator,
        case.platform.complained_when,
        case.loan.account,
        case.contact.borrower,
    ]
    # A complaint's reference and a contract number identify the case to its reader: only an
    # ID or card number typed there is private; digits that merely look like a phone are not.
    identifiers = [case.platform.reference, case.loan.contract]
    texts += [i.caption for i in case.evidence]
    texts += [i.text for i in case.evidence if i.kind == EvidenceKind.TEXT and i.forward is None]
    theirs = [*case.details.collectors, case.contact.sender or ""]
    collectors = {d for c in theirs if len(d := _digits(c)) >= 7}
    found: list[Finding] = []
    candidates = [(t, False) for t in texts] + [(t, True) for t in identifiers]
    for text, identifier in candidates:
        for finding in find_sensitive(text or "", region):
            if identifier and finding.kind == "phone":
                continue
            digits = _digits(finding.value)
            if digits and any(digits.endswith(c) or c.endswith(digits) for c in collectors):
                continue
            found.append(finding)
    return found


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
