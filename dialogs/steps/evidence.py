"""Step 1, evidence: everything the user forwards or attaches becomes a numbered item.

Evidence is taken in any state (see :func:`intake`), not only in this step; this step is
where the bot asks for it, explains what is useful, and offers the message for contacts.
"""

from __future__ import annotations

import hashlib

from dialogs.case import EvidenceItem, State
from dialogs.events import EvidenceKind, EvidenceReceived, Text
from dialogs.replies import Option, Ref
from dialogs.turn import Turn, option


def ask_evidence(turn: Turn) -> None:
    """Ask for screenshots, recordings and documents (and about a typed text first)."""
    if turn.case.drafts:
        turn.say("evidence.text_what", _draft_options())
        return
    turn.say(
        "evidence.ask",
        [option("ev:contacts_message"), option("ev:done")],
        count=len(turn.case.evidence),
    )


def _draft_options() -> list[Option]:
    return [option("ev:keep_text"), option("ev:drop_text"), option("ev:done")]


def on_evidence_choice(turn: Turn, value: str) -> State | None:
    """Show the message for contacts, keep or drop typed texts, or close the step."""
    case = turn.case
    if value == "contacts_message":
        turn.render("evidence.contacts_message_intro", "contacts_message", as_file=False)
        return None
    if value == "keep_text":
        _keep_drafts(turn)
        ask_evidence(turn)
        return None
    if value == "drop_text":
        case.drafts = []
        turn.say("evidence.text_dropped")
        ask_evidence(turn)
        return None
    return _done(turn)


def on_evidence_text(turn: Turn, event: Text) -> State | None:
    """Ask whether a typed text is evidence (a pasted SMS) or a message to the bot; words
    that mean "done" close the step."""
    case = turn.case
    if turn.content.means_done(event.text):
        return _done(turn)
    case.drafts.append(event.text)
    turn.say("evidence.text_what", _draft_options())
    return None


def _keep_drafts(turn: Turn) -> None:
    for text in turn.case.drafts:
        intake(turn, EvidenceReceived(at=turn.at, kind=EvidenceKind.TEXT, text=text))
    turn.case.drafts = []


def _done(turn: Turn) -> State:
    case = turn.case
    _keep_drafts(turn)  # a typed text nobody answered about is kept, not lost
    if not case.evidence:
        turn.say("evidence.none_yet")
    return State.PLATFORM_NAME


def intake(turn: Turn, event: EvidenceReceived) -> EvidenceItem | None:
    """Add the item to the active case and acknowledge it; return None for a duplicate."""
    case = turn.case
    item = _item_from(event, case.next_evidence_number())
    duplicate = _find_duplicate(case.evidence, item)
    if duplicate is not None:
        turn.say("evidence.duplicate", group=event.album_id, number=duplicate.number)
        return None
    case.evidence.append(item)
    kind = Ref(key=f"kind.{item.kind.value}")
    if item.too_large:
        turn.say(
            "evidence.too_large",
            number=item.number,
            kind=kind,
            size_mb=f"{(item.size or 0) / 1_048_576:.1f}",
        )
    else:
        turn.say("evidence.saved", group=event.album_id, number=item.number, kind=kind)
    return item


def _item_from(event: EvidenceReceived, number: int) -> EvidenceItem:
    file = event.file
    sha256 = file.sha256 if file else None
    if file is None and event.text is not None:
        sha256 = hashlib.sha256(event.text.encode("utf-8")).hexdigest()
    return EvidenceItem(
        number=number,
        kind=event.kind,
        received_at=event.at,
        sha256=sha256,
        size=file.size if file else len((event.text or "").encode("utf-8")),
        mime=file.mime if file else "text/plain",
        file_name=file.name if file else None,
        unique_id=file.unique_id if file else None,
        too_large=file.too_large if file else False,
        text=event.text,
        caption=event.caption,
        album_id=event.album_id,
        forward=event.forward,
    )


def _find_duplicate(items: list[EvidenceItem], new: EvidenceItem) -> EvidenceItem | None:
    for item in items:
        if new.unique_id and item.unique_id == new.unique_id:
            return item
        same_bytes = new.sha256 is not None and item.sha256 == new.sha256
        if same_bytes and item.kind == new.kind and item.forward == new.forward:
            return item
    return None
