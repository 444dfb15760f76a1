"""The pictures of a case, read: what the reading of a kept screenshot found joins what the
user typed and forwarded.

The reading runs beside the conversation (bot/reading.py) and arrives as an
:class:`EvidenceRead` event, silently, whatever the user is doing. The case keeps only what
the reading found, not the text: the phone numbers shown (with the words before each that
say whose it is), which the collectors' question offers one by one like those of forwarded
messages; the other sensitive numbers (ID, card, account numbers), which the privacy
review lists for the user to hide or show, and which are hidden in every exported copy of
the picture unless shown; the amounts demanded; and when each message or call shown
happened (dialogs/found.py), from which the collectors' pattern is counted; and names that
look like the app's, offered as buttons when the user is asked for the platform's name.
"""

from __future__ import annotations

import re
from collections import Counter

from dialogs.case import Case, ReadItem
from dialogs.content import ContentIndex
from dialogs.crisis import signals
from dialogs.events import EvidenceRead
from dialogs.found import amounts, app_names, behaviours, blank_moments, moments, times
from dialogs.numbers import find_sensitive, phone_cues
from dialogs.turn import Turn

MAX_PHONES = 20
"""Numbers kept from one picture (a call log shows a screenful; more is noise)."""
MAX_FACTS = 60
"""Amounts and moments kept from one picture."""
MAX_APPS = 5
MAX_OFFERED = 3
"""App names offered as buttons for the platform's name."""


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
    case.readings.append(read_item(event.item, event.lines, region, turn.content))


def read_item(
    item: int, lines: list[str], region: str, content: ContentIndex | None = None
) -> ReadItem:
    """What the lines read in picture number ``item`` show, for the case to keep; with the
    ``content``, the behaviours its words suggest (threats from the crisis phrases)."""
    if lines and times(lines[0]) and _only_a_time(lines[0]):
        lines = lines[1:]  # the phone's clock in the status bar, not a message's time
    text = "\n".join(lines)
    numbers = blank_moments(text, region)  # a date and time run together is no phone
    phones: list[tuple[str, str | None]] = []
    for number, cue in phone_cues(numbers, region):
        if all(number != known for known, _ in phones) and len(phones) < MAX_PHONES:
            phones.append((number, cue))
    private = []
    for finding in find_sensitive(numbers, region):
        pair = (finding.kind, finding.value)
        if finding.kind != "phone" and pair not in private:
            private.append(pair)
    return ReadItem(
        item=item, phones=phones, private=private,
        amounts=amounts(text, region)[:MAX_FACTS], moments=moments(lines, region)[:MAX_FACTS],
        apps=app_names(lines)[:MAX_APPS],
        behaviours=_behaviours(lines, content) if content is not None else [],
    )  # fmt: skip


def _behaviours(lines: list[str], content: ContentIndex) -> list[str]:
    found = behaviours(lines, content.behaviour_words)
    if any(signals(line, content.crisis).threat for line in lines):
        found.insert(0, "violence_threats")
    return found


def app_candidates(case: Case) -> list[str]:
    """The names read in the case's pictures that look like the app's: the most frequent
    first (over the pictures), at most MAX_OFFERED."""
    counts = Counter(name for reading in case.readings for name in reading.apps)
    return [name for name, _ in counts.most_common(MAX_OFFERED)]


def _only_a_time(line: str) -> bool:
    return not re.sub(r"[\d:\s]|[AaPp]\.?\s?[Mm]\.?", "", line)
