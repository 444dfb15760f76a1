"""The collectors' pattern: how often, and at what hours, the screenshots show them writing
or calling, counted from what the reading of the pictures found (dialogs/steps/reading.py).

Only messages and calls whose time of day was read count (a date alone is often a due date
in a message's text, not a message); the same moment shown in two overlapping screenshots
counts once. Night is 22:00 to 08:00, in the time the phone showed. The collectors' numbers
are those the user confirmed as theirs that a picture shows; the contacts' those the user
said are people they know, or that the collectors gave as someone else's. Pure computation;
the user confirms the figures before any document states them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from dialogs.case import Case
from dialogs.numbers import THIRD, same_number

MIN_MOMENTS: Final = 3
"""Fewer messages and calls with a time than this say nothing of a pattern."""
NIGHT_FROM, NIGHT_UNTIL = 22, 8


@dataclass(frozen=True)
class Pattern:
    count: int
    """Messages and calls with a time of day read."""
    first: str | None
    """The first and last day among them (ISO), when days were read."""
    last: str | None
    days: int
    busiest: str | None
    most: int
    """The day with the most of them, and how many."""
    night: int
    collectors: int
    contacts: int
    hours: dict[int, int] = field(default_factory=dict)
    """How many at each hour of the day (0-23)."""


def pattern(case: Case) -> Pattern | None:
    """The pattern the case's pictures show, or None when they show too little of one."""
    seen = sorted({m for reading in case.readings for m in reading.moments if ":" in m})
    if len(seen) < MIN_MOMENTS:
        return None
    per_day = Counter(m[:10] for m in seen if "T" in m)
    hours = Counter(int(m[-5:-3]) for m in seen)
    night = sum(n for hour, n in hours.items() if hour >= NIGHT_FROM or hour < NIGHT_UNTIL)
    busiest, most = per_day.most_common(1)[0] if per_day else (None, 0)
    details = case.details
    read = {number: cue for reading in case.readings for number, cue in reading.phones}
    collectors = [n for n in read if any(same_number(n, c) for c in details.collectors)]
    contacts = [
        n for n, cue in read.items()
        if details.owners.get(n) == "contact" or (cue == THIRD and n not in details.owners)
    ]  # fmt: skip
    days = sorted(per_day)
    return Pattern(
        count=len(seen), first=days[0] if days else None, last=days[-1] if days else None,
        days=len(days), busiest=busiest, most=most, night=night,
        collectors=len(collectors), contacts=len(contacts), hours=dict(sorted(hours.items())),
    )  # fmt: skip
