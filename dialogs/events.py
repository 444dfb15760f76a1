"""Events: what a user did, as the dialog sees it.

Adapters (Telegram, console) translate whatever their channel delivers into one of these
frozen models. Nothing here knows about a channel: a forwarded Telegram message and a file
attached in the console both become an :class:`EvidenceReceived`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: datetime
    """When the channel received the event (timezone-aware)."""
    client_lang: str | None = None
    """The language the user's client reports (e.g. "zh-hans", "es-MX"), if any."""
    client_region: str | None = None
    """The country the channel says the user is in or from (ISO code, e.g. "MX": a WhatsApp
    id's prefix; "CN" on WeChat), if any: a hint, never an answer."""


class EvidenceKind(StrEnum):
    SCREENSHOT = "screenshot"  # photos and images
    VOICE = "voice"  # voice notes
    AUDIO = "audio"  # audio files, call recordings
    VIDEO = "video"  # videos and video notes
    DOCUMENT = "document"  # PDFs and other files
    TEXT = "text"  # forwarded or typed message text
    CONTACT = "contact"  # a shared contact card


class ForwardOrigin(BaseModel):
    """Where a forwarded message came from, as the channel reports it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["user", "hidden_user", "chat", "channel", "unknown"]
    """"unknown": the messenger says only that it was forwarded (WhatsApp), not by whom."""
    name: str | None = None
    """The sender's or chat's display name (for hidden users, the only thing given)."""
    username: str | None = None
    sender_id: int | None = None
    date: datetime | None = None
    """When the original message was sent."""
    frequently: bool = False
    """Forwarded many times over, as the messenger reports (WhatsApp: more than five)."""


class StoredFile(BaseModel):
    """A file the adapter already wrote to the evidence store, or could not download."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str | None
    """Hex digest of the stored bytes; None when the file was not downloaded (too large)."""
    size: int | None
    mime: str | None = None
    name: str | None = None
    unique_id: str | None = None
    """The channel's stable id of the file (Telegram's file_unique_id), for duplicates."""
    too_large: bool = False


class Start(_Event):
    type: Literal["start"] = "start"
    payload: str | None = None
    """A deep-link payload (``/start <payload>``), if any."""


class Command(_Event):
    type: Literal["command"] = "command"
    name: str
    """The command without its slash, lower case: "help", "back", "skip"..."""
    args: str = ""


class Text(_Event):
    type: Literal["text"] = "text"
    text: str
    forward: ForwardOrigin | None = None


class Choice(_Event):
    type: Literal["choice"] = "choice"
    choice: str
    """The id of the chosen option, as the dialog offered it."""
    case: int | None = None
    """The case the option was offered for; None when the channel cannot tell."""


class EvidenceReceived(_Event):
    type: Literal["evidence"] = "evidence"
    kind: EvidenceKind
    file: StoredFile | None = None
    text: str | None = None
    """The message text (forwarded text) or the contact card, for file-less evidence."""
    caption: str | None = None
    album_id: str | None = None
    forward: ForwardOrigin | None = None


class Unsupported(_Event):
    type: Literal["unsupported"] = "unsupported"
    what: str
    """What arrived: "sticker", "poll", "location"... for the reply only."""


class Tick(_Event):
    """Time passed: the adapter's clock, for reminders that are due."""

    type: Literal["tick"] = "tick"
    retention_days: int = 0
    """Delete cases untouched for this many days (warning a few days before); 0: keep."""
    reachable: bool = True
    """False when the user cannot be written to now (a channel's window is closed): only
    the deletions the retention period calls for happen; reminders and warnings wait."""


class EvidenceRead(_Event):
    """What reading a kept picture found (its text, line by line): the reading runs after
    the item was recorded and acknowledged, and arrives on its own, like time passing."""

    type: Literal["read"] = "read"
    case: int
    item: int
    lines: list[str]


Event = Annotated[
    Start | Command | Text | Choice | EvidenceReceived | EvidenceRead | Unsupported | Tick,
    Field(discriminator="type"),
]
