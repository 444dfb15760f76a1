"""Telegram updates -> dialog events.

What a victim forwards arrives in many shapes: photos (several sizes; the largest is kept),
images sent as files, voice notes and audio files (different message types), videos and
round video notes, documents, forwarded text with its ``forward_origin``, shared contacts.
Each becomes a :mod:`dialogs` event; files are described by :class:`Incoming` so that the
adapter can download them before the dialog sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import (
    Animation,
    Audio,
    Document,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    PhotoSize,
    Update,
    Video,
    VideoNote,
    Voice,
)

from dialogs import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceReceived,
    ForwardOrigin,
    Start,
    StoredFile,
    Text,
    Unsupported,
)

CALLBACK_VERSION = "1"


@dataclass(frozen=True)
class Incoming:
    """A message with a file: what to download and how to make the event afterwards."""

    file_id: str
    file: StoredFile
    kind: EvidenceKind
    caption: str | None
    album_id: str | None
    forward: ForwardOrigin | None
    at: datetime
    client_lang: str | None

    def event(self, stored: StoredFile) -> EvidenceReceived:
        """Return the evidence event for the stored (or too large) file."""
        return EvidenceReceived(
            at=self.at,
            client_lang=self.client_lang,
            kind=self.kind,
            file=stored,
            caption=self.caption,
            album_id=self.album_id,
            forward=self.forward,
        )


def encode_callback(case: int | None, option_id: str) -> str:
    """Pack a button's option id and case into callback data (at most 64 bytes)."""
    data = f"{CALLBACK_VERSION}|{case if case is not None else ''}|{option_id}"
    if len(data.encode("utf-8")) > 64:
        raise ValueError(f"callback data too long for option {option_id!r}")
    return data


def decode_callback(data: str | None) -> tuple[int | None, str]:
    """Unpack callback data; stale or foreign data gives an empty option id."""
    parts = (data or "").split("|", 2)
    if len(parts) != 3 or parts[0] != CALLBACK_VERSION:
        return None, ""
    case = int(parts[1]) if parts[1].isdecimal() else None
    return case, parts[2]


def to_event(update: Update, at: datetime) -> Event | Incoming | None:
    """Translate an update; None means it needs no answer (reactions, unknown kinds)."""
    user = update.effective_user
    lang = user.language_code if user else None
    query = update.callback_query
    if query is not None:
        case, option = decode_callback(query.data)
        return Choice(at=at, client_lang=lang, choice=option or "stale", case=case)
    if update.edited_message is not None:
        return Unsupported(at=at, client_lang=lang, what="edit")
    message = update.message
    if message is None:
        return None
    return _from_message(message, at, lang)


def _from_message(message: Message, at: datetime, lang: str | None) -> Event | Incoming:
    forward = _origin(message)
    base = {"at": at, "client_lang": lang}
    if message.text is not None:
        command = _command(message)
        if command is not None and forward is None:
            name, args = command
            if name == "start":
                return Start(**base, payload=args or None)
            return Command(**base, name=name, args=args)
        return Text(**base, text=message.text, forward=forward)
    if message.contact is not None:
        contact = message.contact
        card = " ".join(
            p for p in (contact.first_name, contact.last_name, contact.phone_number) if p
        )
        return EvidenceReceived(**base, kind=EvidenceKind.CONTACT, text=card, forward=forward)
    incoming = _file(message, at, lang, forward)
    if incoming is not None:
        return incoming
    return Unsupported(**base, what=_kind_name(message))


def _command(message: Message) -> tuple[str, str] | None:
    entities = message.entities or ()
    first = entities[0] if entities else None
    if first is None or first.type != "bot_command" or first.offset != 0:
        return None
    text = message.text or ""
    name = text[1 : first.length].split("@")[0].lower()
    return name, text[first.length :].strip()


def _file(
    message: Message, at: datetime, lang: str | None, forward: ForwardOrigin | None
) -> Incoming | None:
    kind: EvidenceKind
    media: PhotoSize | Document | Voice | Audio | Video | VideoNote | Animation
    mime: str | None
    name: str | None
    if message.photo:
        media = message.photo[-1]
        kind, mime, name = EvidenceKind.SCREENSHOT, "image/jpeg", None
    elif message.document is not None:
        media = message.document
        mime = message.document.mime_type
        name = message.document.file_name
        is_image = (mime or "").startswith("image/")
        kind = EvidenceKind.SCREENSHOT if is_image else EvidenceKind.DOCUMENT
    elif message.voice is not None:
        media, kind, mime, name = message.voice, EvidenceKind.VOICE, message.voice.mime_type, None
    elif message.audio is not None:
        media, kind = message.audio, EvidenceKind.AUDIO
        mime, name = message.audio.mime_type, message.audio.file_name
    elif message.video is not None:
        media, kind = message.video, EvidenceKind.VIDEO
        mime, name = message.video.mime_type, message.video.file_name
    elif message.video_note is not None:
        media, kind, mime, name = message.video_note, EvidenceKind.VIDEO, "video/mp4", None
    elif message.animation is not None:
        media, kind = message.animation, EvidenceKind.VIDEO
        mime, name = message.animation.mime_type, message.animation.file_name
    else:
        return None
    return Incoming(
        file_id=media.file_id,
        file=StoredFile(
            sha256=None,
            size=media.file_size,
            mime=mime,
            name=name,
            unique_id=media.file_unique_id,
        ),
        kind=kind,
        caption=message.caption,
        album_id=message.media_group_id,
        forward=forward,
        at=at,
        client_lang=lang,
    )


def _origin(message: Message) -> ForwardOrigin | None:
    origin = message.forward_origin
    if origin is None:
        return None
    if isinstance(origin, MessageOriginUser):
        user = origin.sender_user
        return ForwardOrigin(
            kind="user", name=user.full_name, username=user.username, sender_id=user.id,
            date=origin.date,
        )  # fmt: skip
    if isinstance(origin, MessageOriginHiddenUser):
        return ForwardOrigin(kind="hidden_user", name=origin.sender_user_name, date=origin.date)
    if isinstance(origin, MessageOriginChat):
        chat = origin.sender_chat
        return ForwardOrigin(
            kind="chat", name=chat.title or chat.full_name, username=chat.username,
            sender_id=chat.id, date=origin.date,
        )  # fmt: skip
    if isinstance(origin, MessageOriginChannel):
        chat = origin.chat
        return ForwardOrigin(
            kind="channel", name=chat.title, username=chat.username, sender_id=chat.id,
            date=origin.date,
        )  # fmt: skip
    return ForwardOrigin(kind="hidden_user", date=origin.date)


def _kind_name(message: Message) -> str:
    for what in ("sticker", "poll", "location", "venue", "dice", "game", "story"):
        if getattr(message, what, None) is not None:
            return what
    return "other"
