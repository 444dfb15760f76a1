"""Checks shared by the steps for typed answers: short and long texts, dates."""

from __future__ import annotations

from datetime import date

from dialogs.dates import Reading, local_today, read_date
from dialogs.turn import Turn

MAX_SHORT = 200
MAX_LONG = 3500


def short_answer(text: str) -> str | None:
    """Return the cleaned answer, or None if it is empty, too long or has no letter or digit."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_SHORT or not any(ch.isalnum() for ch in cleaned):
        return None
    return cleaned


def long_answer(text: str) -> str | None:
    """Return the answer with its line breaks, or None if it has no letter or digit."""
    cleaned = text.strip()
    if not any(ch.isalnum() for ch in cleaned):
        return None
    return cleaned[:MAX_LONG]


def today(turn: Turn) -> date:
    """Return today's date where the case's jurisdiction is (dates are read in its zone)."""
    return local_today(turn.at, turn.content.timezones.get(turn.case.jurisdiction or ""))


def read_answer_date(turn: Turn, text: str, *, future: bool = False) -> Reading | None:
    """Return the date a typed answer names, read in the user's language and today."""
    return read_date(text, today(turn), turn.conv.lang or "", future=future)
