"""The WhatsApp adapter: journaled messages in, dialog events to the core, replies out.

A message recorded by the webhook is applied here, each user's in order (``ChatOrder``):
marked read with "typing…", translated into a :mod:`dialogs` event (media downloaded at once,
while Meta's id still works, and stored before the event is applied), handed to the core
with its ``wamid`` as the update key, and the core's replies are sent through the Graph API.

Choices: up to three options whose short labels fit go out as reply buttons, up to ten as a
list, more as text with a letter per option (typed back, like in the console). The id sent
with each option carries the case it was offered for, so a tap on an old message acts on
that case. Users are keyed by their business-scoped user id; a number given with it is
never the key.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import phonenumbers

from bot.channel import merge_short
from bot.choices import TypedChoices
from bot.core import Core, Out, OutFile, OutLater, OutText
from bot.logs import user_ref
from bot.pacing import Pacer, Refused, SharedPacing
from bot.render import split_message
from bot.storage import StorageUnavailable
from bot.whatsapp.client import GraphClient, GraphError
from bot.whatsapp.webhook import Inbound
from dialogs import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceReceived,
    Start,
    StoredFile,
    Text,
    Unsupported,
)
from dialogs.events import ForwardOrigin

CHANNEL: Final = "whatsapp"
TEXT_LIMIT: Final = 4096
BODY_LIMIT: Final = 1024
"""The body of a message with buttons or a list."""
BUTTON_TITLE: Final = 20
ROW_TITLE: Final = 24
ROW_DESCRIPTION: Final = 72
MAX_BUTTONS: Final = 3
MAX_ROWS: Final = 10
SEND_TRIES: Final = 5
PAIR_PAUSE: Final = 6.0
"""Meta allows about one message every 6 seconds to one user, sustained (code 131056)."""
PAIR_BURST: Final = 10
"""Messages to one user at once before the pace of one every PAIR_PAUSE seconds holds them:
Meta publishes no burst size; an answer is rarely more than three messages, and a burst of
forwarded screenshots gets its acknowledgements merged."""
THROUGHPUT: Final = 80.0
"""Messages a second per business number, in and out together (Meta's default; 130429)."""
DOCUMENT_LIMIT: Final = 100 * 1024 * 1024
DOCUMENT_TYPES: Final = {
    "pdf": "application/pdf",
    "txt": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
"""What WhatsApp sends as a document (also Word and Excel, which the bot does not make);
no archives."""

SPANISH: Final = frozenset(
    "AR BO CL CO CR CU DO EC ES GQ GT HN MX NI PA PE PR PY SV UY VE".split()  # noqa: SIM905
)
"""Countries (ISO codes, as in a BSUID) whose users get Spanish until they choose."""

_TAG: Final = re.compile(r"<(/?)(b|i|code|pre)>|<[^>]+>")
_FORMAT: Final = {"b": "*", "i": "_", "code": "```", "pre": "```"}
_ID_VERSION: Final = "1"

log = logging.getLogger(__name__)


def to_whatsapp(text: str) -> str:
    """Turn the core's HTML-escaped text into WhatsApp's own formatting: bold ``*…*``,
    italics ``_…_``; other tags dropped; entities (and so the user's own ``<``) restored."""

    def mark(match: re.Match[str]) -> str:
        tag = match.group(2)
        return _FORMAT.get(tag, "") if tag else ""

    return html.unescape(_TAG.sub(mark, text))


def encode_option(case: int | None, option_id: str) -> str:
    """The id sent with an option: the option and the case it was offered for."""
    return f"{_ID_VERSION}|{case if case is not None else ''}|{option_id}"


def decode_option(data: str) -> tuple[int | None, str]:
    """Unpack an option's id; a foreign or old one gives an empty option id."""
    parts = data.split("|", 2)
    if len(parts) != 3 or parts[0] != _ID_VERSION:
        return None, ""
    return (int(parts[1]) if parts[1].isdecimal() else None), parts[2]


def country_of(user: str, phone: str | None) -> str | None:
    """The user's country (ISO code): their business-scoped id's prefix (``MX.123…``), else
    their number's country code; None if neither tells."""
    if "." in user:
        prefix = user.split(".", 1)[0].upper()
        if len(prefix) == 2 and prefix.isalpha():
            return prefix
    if phone and phone.isdecimal():
        try:
            number = phonenumbers.parse("+" + phone)
        except phonenumbers.NumberParseException:
            return None
        region = phonenumbers.region_code_for_number(number)
        return region if region and region != "ZZ" else None
    return None


def client_lang(country: str | None) -> str | None:
    """A first guess at the user's language from their country."""
    if country in SPANISH:
        return "es"
    return "zh-Hans" if country == "CN" else None


def whatsapp_pacer(shared: SharedPacing | None = None, pair_pause: float = PAIR_PAUSE) -> Pacer:
    """WhatsApp's pace: per user, PAIR_BURST at once then one every ``pair_pause`` seconds;
    THROUGHPUT a second in all; with ``shared``, among all the processes sending."""
    rate = 1 / pair_pause
    return Pacer(rate, PAIR_BURST, THROUGHPUT, shared=shared, namespace=CHANNEL + ":")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class WhatsAppAdapter:
    core: Core
    client: GraphClient
    salt: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    pair_pause: float = PAIR_PAUSE
    pacer: Pacer = field(default_factory=lambda: whatsapp_pacer())
    """Paces every message to a user; a worker's shares its pace with the others."""
    choices: TypedChoices = field(init=False)
    """The options offered as lettered text (more than ten), typed back."""

    def __post_init__(self) -> None:
        self.choices = TypedChoices(
            self.core.storage, CHANNEL, "letters", lambda label: to_whatsapp(label).strip()
        )

    # -- in -----------------------------------------------------------------------------------

    async def apply(self, inbound: Inbound) -> None:
        """Apply one journaled message and send the replies (StorageUnavailable: try again)."""
        message = inbound.message
        kind = message.get("type")
        if kind in ("reaction", "system") or kind is None:
            if kind == "system":
                await self._rekey(inbound)
            await self.core.storage.unjournal(CHANNEL, inbound.key)
            return
        if await self.core.storage.is_processed(CHANNEL, inbound.key):
            await self.core.storage.unjournal(CHANNEL, inbound.key)
            return
        await self._mark_read(inbound.key)
        # A first message of any kind gets the welcome from the dialog itself (a greeting,
        # a cry for help: the crisis check runs first; evidence is kept).
        outs = await self._handle(inbound)
        for text in await self.core.storage.take_held(CHANNEL, inbound.user):
            await self._send_text(inbound.user, text)  # what could not reach them before
        await self.send(inbound.user, outs)

    async def _handle(self, inbound: Inbound) -> list[Out]:
        message, at = inbound.message, self.clock()
        country = country_of(inbound.user, inbound.phone)
        hints: dict[str, Any] = {"client_lang": client_lang(country), "client_region": country}
        kind = message.get("type")
        body = message.get(kind) if isinstance(kind, str) else None
        body = body if isinstance(body, dict) else {}
        forward = _forward(message)
        media = {"image": EvidenceKind.SCREENSHOT, "video": EvidenceKind.VIDEO,
                 "document": EvidenceKind.DOCUMENT, "audio": EvidenceKind.AUDIO}  # fmt: skip
        if kind in media:
            evidence = media[kind]
            if kind == "audio" and body.get("voice"):
                evidence = EvidenceKind.VOICE
            if kind == "document" and str(body.get("mime_type", "")).startswith("image/"):
                evidence = EvidenceKind.SCREENSHOT
            return await self._media(inbound, body, evidence, forward, hints)
        event = await self._event(inbound, kind, body, forward, hints, at)
        return await self.core.handle(CHANNEL, inbound.user, event, update_key=inbound.key)

    async def _event(
        self,
        inbound: Inbound,
        kind: object,
        body: dict[str, Any],
        forward: ForwardOrigin | None,
        hints: dict[str, Any],
        at: datetime,
    ) -> Event:
        base: dict[str, Any] = {"at": at, **hints}
        if kind == "text":
            text = str(body.get("body", ""))
            if forward is not None:
                return Text(**base, text=text, forward=forward)
            chosen = await self.choices.read(inbound.user, text)
            if chosen is not None:
                return Choice(**base, choice=chosen[1], case=chosen[0])
            if text.startswith("/") and len(text) > 1:
                name, _, args = text[1:].partition(" ")
                if name.lower() == "start":
                    return Start(**base, payload=args.strip() or None)
                return Command(**base, name=name.lower(), args=args.strip())
            return Text(**base, text=text)
        if kind == "interactive":
            reply = body.get("button_reply") or body.get("list_reply") or {}
            case, option = decode_option(str(reply.get("id", "")))
            return Choice(**base, choice=option, case=case)
        if kind == "button":  # the quick reply of a reminder template
            return Command(**base, name="status")
        if kind == "contacts":
            return EvidenceReceived(
                **base, kind=EvidenceKind.CONTACT, text=_card(body, inbound.message),
                forward=forward,
            )  # fmt: skip
        what = kind if kind in ("sticker", "location") else "unsupported"
        return Unsupported(**base, what=str(what))

    async def _media(
        self,
        inbound: Inbound,
        body: dict[str, Any],
        kind: EvidenceKind,
        forward: ForwardOrigin | None,
        hints: dict[str, Any],
    ) -> list[Out]:
        media_id = str(body.get("id", ""))
        try:
            info = await self.client.media(media_id)
        except GraphError as error:
            if error.kind in ("server", "throttled"):
                raise StorageUnavailable(f"media metadata: code {error.code}") from None
            info = {}  # gone or refused: recorded without its bytes, the user is told
        size = info.get("file_size")
        file = StoredFile(
            sha256=None,
            size=int(size) if isinstance(size, int | str) and str(size).isdecimal() else None,
            mime=str(body.get("mime_type") or info.get("mime_type") or "") or None,
            name=body.get("filename") if isinstance(body.get("filename"), str) else None,
            unique_id=str(body.get("sha256")) if body.get("sha256") else None,
        )
        url = info.get("url")

        def make_event(stored: StoredFile) -> Event:
            return EvidenceReceived(
                at=self.clock(), kind=kind, file=stored, **hints,
                caption=body.get("caption") if isinstance(body.get("caption"), str) else None,
                forward=forward,
            )  # fmt: skip

        if isinstance(url, str):
            try:
                return await self.core.handle_file(
                    CHANNEL, inbound.user, lambda: self.client.download(url), file, make_event,
                    update_key=inbound.key,
                )  # fmt: skip
            except httpx.TransportError as error:  # Meta's side unreachable: later
                raise StorageUnavailable(f"media download: {type(error).__name__}") from None
            except GraphError as error:
                if error.kind in ("server", "throttled"):
                    raise StorageUnavailable(f"media download: code {error.code}") from None
        # Expired or refused: recorded without its bytes, and the user is told so.
        event = make_event(file.model_copy(update={"too_large": True}))
        return await self.core.handle(CHANNEL, inbound.user, event, update_key=inbound.key)

    async def _rekey(self, inbound: Inbound) -> None:
        """A user's id changed (a new number): their case follows them."""
        system = inbound.message.get("system")
        if not isinstance(system, dict):
            return
        new = system.get("new_user_id") or system.get("user_id")
        old = inbound.user
        if isinstance(new, str) and new and new != old:
            await self.core.storage.rekey(CHANNEL, old, new)
            log.info("user %s is now %s", user_ref(CHANNEL, old, self.salt),
                     user_ref(CHANNEL, new, self.salt))  # fmt: skip

    async def _mark_read(self, message_id: str) -> None:
        try:
            await self.client.mark_read(message_id)
        except Exception as error:  # a courtesy: never in the way of the answer
            log.debug("could not mark read: %s", type(error).__name__)

    async def failed(self, inbound: Inbound, error: BaseException) -> None:
        """An update that cannot be applied: log where (never content), tell the user."""
        log.error("message for user %s failed: %s", user_ref(CHANNEL, inbound.user, self.salt),
                  type(error).__name__, exc_info=error)  # fmt: skip
        await self.core.storage.unjournal(CHANNEL, inbound.key)
        country = country_of(inbound.user, inbound.phone)
        lang = client_lang(country) or self.core.content.index.pick_language(None)
        try:
            await self._send_text(inbound.user, self.core.content.text("error.generic", lang))
        except Exception as second:
            log.error("could not report the error to the user: %s", type(second).__name__)

    # -- out ----------------------------------------------------------------------------------

    async def send(self, user: str, outs: list[Out]) -> None:
        """Send the core's replies in order: texts (with their options), files, and slow
        builds (the dossier) once built."""
        for out in merge_short(outs):
            if isinstance(out, OutText):
                await self._send_out_text(user, out)
            elif isinstance(out, OutFile):
                await self._send_file(user, out)
            elif isinstance(out, OutLater):
                for built in await out.build(None):
                    await self._send_file(user, built)
                out.delivered()

    def texts(self, outs: list[Out]) -> list[str]:
        """The replies' texts as WhatsApp shows them, options listed, to keep for later."""
        texts = []
        for out in merge_short(outs):
            if isinstance(out, OutText):
                lines = self.choices.lines([label for _, label in out.buttons])
                text = "\n".join([to_whatsapp(out.text).strip(), *map(to_whatsapp, lines)])
                texts += split_message(text.strip(), TEXT_LIMIT)
        return texts

    async def _send_out_text(self, user: str, out: OutText) -> None:
        text = to_whatsapp(out.text).strip()
        if not out.buttons:
            await self.choices.withdraw(user)
            for chunk in split_message(text, TEXT_LIMIT):
                await self._send_text(user, chunk)
            return
        chunks = split_message(text, BODY_LIMIT) if text else []
        for chunk in chunks[:-1]:
            await self._send_text(user, chunk)
        body = chunks[-1] if chunks else self._text("whatsapp.choose_prompt", out.lang)
        labels = [to_whatsapp(label).strip() for _, label in out.buttons]
        shorts = [to_whatsapp(s).strip() for s in out.short] if out.short else labels
        ids = [encode_option(out.case, option_id) for option_id, _ in out.buttons]
        if (
            len(ids) <= MAX_BUTTONS
            and all(len(s) <= BUTTON_TITLE for s in shorts)
            and len(set(shorts)) == len(shorts)
        ):
            buttons = [
                {"type": "reply", "reply": {"id": i, "title": s}}
                for i, s in zip(ids, shorts, strict=True)
            ]
            interactive = {
                "type": "button",
                "body": {"text": body},
                "action": {"buttons": buttons},
            }
            await self.choices.withdraw(user)
        elif len(ids) <= MAX_ROWS:
            rows = []
            for i, short, label in zip(ids, shorts, labels, strict=True):
                row: dict[str, str] = {"id": i, "title": _cut(short, ROW_TITLE)}
                if label != short:
                    row["description"] = _cut(label, ROW_DESCRIPTION)
                rows.append(row)
            interactive = {
                "type": "list",
                "body": {"text": body},
                "action": {
                    "button": _cut(self._text("whatsapp.choose", out.lang), BUTTON_TITLE),
                    "sections": [{"rows": rows}],
                },
            }
            await self.choices.withdraw(user)
        else:
            lines = self.choices.lines(labels)
            hint = self._text("whatsapp.type_letter", out.lang)
            listing = "\n".join([body, "", *lines, "", hint])
            for chunk in split_message(listing, TEXT_LIMIT):
                await self._send_text(user, chunk)
            await self.choices.offer(user, out.buttons, out.case)
            return
        await self._send(user, {"type": "interactive", "interactive": interactive})

    async def _send_text(self, user: str, text: str) -> None:
        await self._send(user, {"type": "text", "text": {"body": text, "preview_url": False}})

    async def _send_file(self, user: str, out: OutFile) -> None:
        if len(out.data) > DOCUMENT_LIMIT:
            await self._send_text(user, self._text("whatsapp.file_too_large", out.lang))
            return
        mime = DOCUMENT_TYPES.get(out.name.rpartition(".")[2].lower())
        if mime is None:  # a ZIP: WhatsApp sends no archives
            await self._send_text(user, self._text("whatsapp.no_archive", out.lang))
            return
        media_id = await self.pacer.send(
            None, lambda: self.client.upload(out.data, mime, out.name),
            refused=self._refused, retries=SEND_TRIES - 1,
        )  # fmt: skip
        await self._send(
            user, {"type": "document", "document": {"id": media_id, "filename": out.name}}
        )

    async def _send(self, user: str, message: dict[str, Any]) -> None:
        """Send one message in the user's turn (bot/pacing.py), waiting and trying again
        while Meta says to slow down or fails on its side."""
        await self.pacer.send(
            user, lambda: self.client.send({"recipient": user, **message}),
            refused=self._refused, retries=SEND_TRIES - 1,
        )  # fmt: skip

    def _refused(self, error: Exception, attempt: int) -> Refused | None:
        """Meta's refusals as pauses: the pair rate to one user (131056) holds that user, the
        number's or the app's throughput holds everyone, a server error this message."""
        if not isinstance(error, GraphError) or error.kind not in ("throttled", "server"):
            return None
        log.warning("WhatsApp asked to slow down (code %s), attempt %d", error.code, attempt)
        if error.code == 131056:
            return Refused(self.pair_pause * attempt)
        return Refused(0.5 * attempt, everyone=error.kind == "throttled")

    def _text(self, key: str, lang: str) -> str:
        return to_whatsapp(self.core.content.text(key, lang))


def _forward(message: dict[str, Any]) -> ForwardOrigin | None:
    context = message.get("context")
    if not isinstance(context, dict):
        return None
    frequently = bool(context.get("frequently_forwarded"))
    if context.get("forwarded") or frequently:
        return ForwardOrigin(kind="unknown", frequently=frequently)
    return None


def _card(body: Any, message: dict[str, Any]) -> str:
    """A shared contact card as one line per contact: name and numbers."""
    cards = message.get("contacts")
    lines = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        name = card.get("name", {})
        formatted = name.get("formatted_name", "") if isinstance(name, dict) else ""
        phones = [p.get("phone", "") for p in card.get("phones", []) if isinstance(p, dict)]
        lines.append(" ".join(part for part in (formatted, *phones) if part))
    return "\n".join(lines) or "-"
