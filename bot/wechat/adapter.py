"""The WeChat adapter: a journaled message in, a dialog event to the core, texts out.

WeChat has no buttons in a passive reply: options are numbered lines, and a typed number
(ASCII or full-width) or the label chooses. Replies are plain text (WeChat shows no
formatting), merged, and cut into pieces of at most 2048 bytes. Files cannot be sent to a
user of an Official Account; the documents are shown as text in the chat instead.

What the account may fetch depends on its type: a verified account downloads images, voice
notes and videos with ``media/get``; an unverified one has only the picture's ``PicUrl`` and,
for a voice note, at most WeChat's recognition text, and says so to the user.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import httpx

from bot.channel import Inbound, merge_short
from bot.choices import TypedChoices
from bot.core import Core, Out, OutFile, OutLater, OutText
from bot.logs import user_ref
from bot.storage import StorageUnavailable
from bot.wechat.client import MEDIA_GONE, UNAUTHORIZED, WeChatClient, WeChatError
from dialogs import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceReceived,
    Start,
    StoredFile,
    Text,
    Tick,
    Unsupported,
)
from dialogs.commands import MENU

CHANNEL: Final = "wechat"
LANG: Final = "zh-Hans"
"""The language a WeChat user is first spoken to in (they may choose another)."""
REGION: Final = "CN"
"""WeChat's users are, by and large, in mainland China: its jurisdiction is offered first."""
MENU_COMMANDS: Final = frozenset(MENU) - {"start"}
"""What a menu click may ask for: the dialog's commands."""
_TAGS: Final = re.compile(r"<[^>]+>")

log = logging.getLogger(__name__)


def plain(text: str) -> str:
    """The core's HTML-escaped text as WeChat shows it: no tags, entities restored."""
    return html.unescape(_TAGS.sub("", text)).strip()


@dataclass
class WeChatAdapter:
    core: Core
    client: WeChatClient
    verified: bool = False
    salt: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    choices: TypedChoices = field(init=False)
    """The options offered as numbered lines, typed back."""

    def __post_init__(self) -> None:
        self.choices = TypedChoices(self.core.storage, CHANNEL, "numbers", plain)

    async def apply(self, inbound: Inbound) -> list[str]:
        """Apply one message; return the texts to show the user (StorageUnavailable: the
        message waits in the inbox and is tried again)."""
        if await self.core.storage.is_processed(CHANNEL, inbound.key):
            await self.core.storage.unjournal(CHANNEL, inbound.key)
            return []
        due = await self._due(inbound.user)  # what could not be said earlier comes first
        return due + await self._apply(inbound)

    async def _due(self, user: str) -> list[str]:
        """Reminders due for a user the account could not write to when they fell due."""
        now = self.core.clock()
        if not await self.core.storage.due_for(CHANNEL, user, now):
            return []
        tick = Tick(at=now, retention_days=self.core.retention_days)
        return await self.render(user, await self.core.handle(CHANNEL, user, tick))

    async def _apply(self, inbound: Inbound) -> list[str]:
        message, at = inbound.message, self.clock()
        kind = message.get("MsgType", "")
        base = {"at": at, "client_lang": LANG, "client_region": REGION}
        if kind == "image":
            return await self._media(inbound, EvidenceKind.SCREENSHOT, "image/jpeg")
        if kind == "voice":
            if not self.verified:
                return await self._not_kept(inbound, "wechat.voice_not_kept")
            mime = "audio/amr" if message.get("Format", "amr") == "amr" else None
            return await self._media(inbound, EvidenceKind.VOICE, mime)
        if kind in ("video", "shortvideo"):
            if not self.verified:
                return await self._not_kept(inbound, "wechat.video_not_kept")
            return await self._media(inbound, EvidenceKind.VIDEO, "video/mp4")
        event: Event | None
        if kind == "text":
            event = await self._text(inbound.user, message.get("Content", ""), base)
        elif kind == "link":
            shared = " ".join(p for p in (message.get("Title"), message.get("Url")) if p)
            event = Text(**base, text=shared or "-")
        elif kind == "event":
            event = self._event(message, base)
        else:  # location, mini programs...
            event = Unsupported(**base, what=kind or "unknown")
        if event is None:
            await self.core.storage.unjournal(CHANNEL, inbound.key)
            return []
        outs = await self.core.handle(CHANNEL, inbound.user, event, update_key=inbound.key)
        return await self.render(inbound.user, outs)

    async def _text(self, user: str, content: str, base: dict[str, object]) -> Event:
        chosen = await self.choices.read(user, content)
        if chosen is not None:
            return Choice(**base, choice=chosen[1], case=chosen[0])
        if content.startswith("/") and len(content) > 1:
            name, _, args = content[1:].partition(" ")
            if name.lower() == "start":
                return Start(**base, payload=args.strip() or None)
            return Command(**base, name=name.lower(), args=args.strip())
        return Text(**base, text=content)

    def _event(self, message: dict[str, str], base: dict[str, object]) -> Event | None:
        name = message.get("Event", "").lower()
        key = message.get("EventKey", "")
        if name == "subscribe":  # a follow, perhaps through a QR code with a scene
            payload = key.removeprefix("qrscene_") or None
            return Start(**base, payload=payload)
        if name == "click" and key in MENU_COMMANDS:
            return Command(**base, name=key)
        return None  # unsubscribe, views, the picture-menu notice: nothing to answer

    async def _media(self, inbound: Inbound, kind: EvidenceKind, mime: str | None) -> list[str]:
        message = inbound.message
        pic_url, media_id = message.get("PicUrl"), message.get("MediaId", "")

        def chunks() -> AsyncIterator[bytes]:
            if pic_url:  # a plain address, for every account type
                return self.client.download(pic_url)
            return self.client.media(media_id)

        def make_event(stored: StoredFile) -> Event:
            return EvidenceReceived(
                at=self.clock(), client_lang=LANG, client_region=REGION, kind=kind, file=stored,
                caption=message.get("Recognition") or None,
            )  # fmt: skip

        file = StoredFile(sha256=None, size=None, mime=mime, unique_id=media_id or None)
        try:
            outs = await self.core.handle_file(
                CHANNEL, inbound.user, chunks, file, make_event, update_key=inbound.key
            )
        except httpx.TransportError as error:
            raise StorageUnavailable(f"media download: {type(error).__name__}") from None
        except WeChatError as error:
            gone = error.code in MEDIA_GONE | UNAUTHORIZED or 400 <= error.status < 500
            if not gone:  # busy, limited, a server error: later
                raise StorageUnavailable(f"media download: {error}") from None
            # Expired or not allowed: recorded without its bytes, and the user is told.
            event = make_event(file.model_copy(update={"too_large": True}))
            outs = await self.core.handle(CHANNEL, inbound.user, event, update_key=inbound.key)
        return await self.render(inbound.user, outs)

    async def _not_kept(self, inbound: Inbound, key: str) -> list[str]:
        """A voice note or video an unverified account cannot fetch: said so, nothing kept
        (WeChat's recognition text, when there is one, is quoted for the user to keep)."""
        await self.core.storage.unjournal(CHANNEL, inbound.key)
        conv = await self.core.storage.load(CHANNEL, inbound.user, shared=True)
        lang = (conv.lang if conv is not None else None) or LANG
        texts = [plain(self.core.content.text(key, lang))]
        heard = inbound.message.get("Recognition")
        if heard:
            texts.append(plain(self.core.content.text("wechat.recognised", lang)) + "\n" + heard)
        return texts

    async def render(self, user: str, outs: list[Out]) -> list[str]:
        """The core's replies as plain texts; options as numbered lines."""
        texts: list[str] = []
        offered: OutText | None = None
        for out in merge_short(outs):
            if isinstance(out, OutText):
                text = plain(out.text)
                offered = out if out.buttons else None
                if out.buttons:
                    lines = self.choices.lines([plain(label) for _, label in out.buttons])
                    hint = plain(self.core.content.text("wechat.type_number", out.lang))
                    text = "\n".join([text, "", *lines, "", hint]).strip()
                if text:
                    texts.append(text)
            elif isinstance(out, OutFile | OutLater):
                notice = plain(self.core.content.text("wechat.no_files", out.lang))
                if notice not in texts:
                    texts.append(notice)
                if isinstance(out, OutLater):
                    out.delivered()  # nothing is built: there is nothing to deliver
        if offered is not None:
            await self.choices.offer(user, offered.buttons, offered.case)
        elif any(isinstance(out, OutText) for out in outs):
            await self.choices.withdraw(user)
        return texts

    def failed_texts(self, inbound: Inbound, error: BaseException) -> list[str]:
        log.error("message for user %s failed: %s", user_ref(CHANNEL, inbound.user, self.salt),
                  type(error).__name__, exc_info=error)  # fmt: skip
        return [plain(self.core.content.text("error.generic", LANG))]
