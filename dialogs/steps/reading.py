"""The pictures of a case, read: what the reading of a kept screenshot found joins what the
user typed and forwarded.

The reading runs beside the conversation (bot/reading.py) and arrives as an
:class:`EvidenceRead` event, silently, whatever the user is doing. The case keeps only what
the reading found, not the text: the phone numbers shown (with the words before each that
say whose it is), which the collectors' question offers one by one like those of forwarded
messages; and the other sensitive numbers (ID, card, account numbers), which the privacy
review lists for the user to hide or show, and which are hidden in every exported copy of
the picture unless shown.
"""

from __future__ import annotations

from dialogs.case import ReadItem
from dialogs.events import EvidenceRead
from dialogs.numbers import find_sensitive, phone_cues
from dialogs.turn import Turn

MAX_PHONES = 20
"""Numbers kept from one picture (a call log shows a screenful; more is noise)."""


def on_read(turn: Turn, event: EvidenceRead) -> None:
    """Keep what the picture was read to show, once per picture of a case that still
    holds it; nothing is said to the user."""
    case = turn.conv.case(event.case)
    if case is None or not any(item.number == event.item for item in case.evidence):
        return  # the case or the item was deleted meanwhile
    if any(reading.item == event.item for reading in case.readings):
        return
    region = turn.content.phone_regions.get(case.jurisdiction or "", "")
    region = region or turn.conv.region_hint or ""
    text = "\n".join(event.lines)
    phones: list[tuple[str, str | None]] = []
    for number, cue in phone_cues(text, region):
        if all(number != known for known, _ in phones) and len(phones) < MAX_PHONES:
            phones.append((number, cue))
    private = []
    for finding in find_sensitive(text, region):
        pair = (finding.kind, finding.value)
        if finding.kind != "phone" and pair not in private:
            private.append(pair)
    case.readings.append(ReadItem(item=event.item, phones=phones, private=private))
