"""Checks shared by the steps for typed answers."""

from __future__ import annotations

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
