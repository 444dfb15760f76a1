"""What the dialog needs to know about the content: which languages and jurisdictions exist.

The dialog never reads texts; it only offers choices among what the content provides. The
adapter builds this index from ``content/`` at start-up.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field

from dialogs.crisis import CrisisPhrases
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
    crisis: CrisisPhrases = Field(default_factory=CrisisPhrases)
    """The phrases that tell self-harm and threats from others (see :mod:`dialogs.crisis`)."""
    behaviour_words: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Behaviour id -> words that, read in a screenshot, suggest it (every language)."""
    names: dict[str, dict[str, str]] = Field(default_factory=dict)
    """What people type for a choice, by question: ``names["lang"]["中文"] == "zh-Hans"``,
    ``names["jur"]["mexico"] == "mx"`` (keys normalised with :func:`normalize`)."""
    done_words: tuple[str, ...] = ()
    """Normalised answers that mean "I have sent everything" in the evidence step."""
    reminder_days: int = 15
    """Default days before the follow-up reminder."""

    def named(self, question: str, text: str) -> str | None:
        """Return the option a typed name stands for at ``question`` ("lang", "jur")."""
        names = self.names.get(question, {})
        typed = normalize(text)
        if typed in names:
            return names[typed]
        found = {value for name, value in names.items() if _within(name, typed)}
        return found.pop() if len(found) == 1 else None

    def means_done(self, text: str) -> bool:
        """Return True if the text says the user has sent all their evidence."""
        return normalize(text) in self.done_words

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


_BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def normalize(text: str) -> str:
    """Fold a typed name for comparison: width, case, accents, brackets, spaces and
    punctuation do not count ("México" == "mexico", "中国（大陆）" == "中国")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _BRACKETS.sub("", text)
    text = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )
    return "".join(ch for ch in text if ch.isalnum())


def _within(name: str, typed: str) -> bool:
    """Whether a known name appears in a longer answer ("vivo en mexico"): long enough
    that it cannot be part of another word by chance."""
    wide = any(unicodedata.east_asian_width(ch) == "W" for ch in name)
    return len(name) >= (2 if wide else 4) and name in typed
