"""What the dialog needs to know about the content: which languages and jurisdictions exist.

The dialog never reads texts; it only offers choices among what the content provides. The
adapter builds this index from ``content/`` at start-up.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dialogs.router import BodyRef

DEFAULT_LANG = "es"
"""Spanish, the language of the source procedure, when the client gives none we know."""


class ContentIndex(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    languages: tuple[str, ...] = ("es", "zh-Hans", "en")
    jurisdictions: tuple[str, ...] = ("cn", "generic")
    phone_regions: dict[str, str] = Field(default_factory=dict)
    """Jurisdiction id -> region code used to read phone numbers written without a prefix."""
    bodies: dict[str, tuple[BodyRef, ...]] = Field(default_factory=dict)
    """Jurisdiction id -> its bodies, as the router needs them."""
    lender_types: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Jurisdiction id -> the lender types the user may choose from (may be empty)."""
    regions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Jurisdiction id -> the regions the user is asked about (may be empty)."""
    timezones: dict[str, str] = Field(default_factory=dict)
    """Jurisdiction id -> IANA time zone: dates the user types are read in it."""
    documents_langs: dict[str, str] = Field(default_factory=dict)
    """Jurisdiction id -> the language its bodies read, where it is not the user's choice."""
    crisis_phrases: tuple[str, ...] = ()
    """Lower-case phrases that signal the user is in crisis or in danger now."""
    reminder_days: int = 15
    """Default days before the follow-up reminder."""

    def in_crisis(self, text: str) -> bool:
        """Return True if the text contains a crisis phrase."""
        folded = text.casefold()
        return any(phrase in folded for phrase in self.crisis_phrases)

    def pick_language(self, client_lang: str | None) -> str:
        """Return the supported language closest to the client's, else the default."""
        if client_lang:
            tag = client_lang.replace("_", "-").lower()
            for lang in self.languages:
                if tag == lang.lower():
                    return lang
            primary = tag.split("-")[0]
            for lang in self.languages:
                if lang.lower().split("-")[0] == primary:
                    return lang
        return DEFAULT_LANG if DEFAULT_LANG in self.languages else self.languages[0]
