"""A loopback Telegram Bot API server for end-to-end tests of the real PTB application.

Point ``ApplicationBuilder().base_url(peer.base_url).base_file_url(peer.base_file_url)`` at a
started ``BotApiPeer``; tests play the user side with ``peer.user(...)`` helpers, which enqueue
updates in the real Bot API shape, and read what the bot did from ``peer.sent`` and
``peer.messages_to(chat_id)``. Answers use the Bot API envelope (``{"ok": true, "result": ...}``
or ``{"ok": false, "error_code": N, "description": ..., "parameters": {...}}``) and the error
texts Telegram uses. ``getUpdates`` has the real semantics: ``offset`` confirms every update
below it, unconfirmed updates are delivered again, ``timeout`` long-polls. Every request is also
checked against the schema (``peer.violations``). Faults: ``fail_next``, ``flood``,
``block_user`` and a round-trip delay ``rtt``. Binds 127.0.0.1 on a free port only.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import BodyPartReader, hdrs, web

from tests.botapi.schema import TYPES, decode_params, html_to_text, method_spec, validate_request

JSON = dict[str, Any]
T = TypeVar("T")
MB = 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_ALL_KINDS = {f["name"] for f in TYPES["Update"]["fields"]} - {"update_id"}
_DEFAULT_KINDS = _ALL_KINDS - {"chat_member", "message_reaction", "message_reaction_count"}
_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class UploadedFile:
    filename: str | None
    data: bytes
    content_type: str | None = None


@dataclass
class SentRequest:
    """One request of the bot (``getUpdates`` is not recorded); ``error_code`` if refused."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    error_code: int | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    data: bytes | None = None  # None: declared size only; downloads give zero bytes

    def content(self) -> bytes:
        return self.data if self.data is not None else bytes(self.size)

    def json(self, **extra: Any) -> JSON:
        """The file as the Bot API shows it (PhotoSize, Document, Voice... take ``extra``)."""
        ids = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        return ids | {"file_size": self.size} | extra


class PeerUser:
    """The user side of one private chat: each helper enqueues an update and returns it."""

    def __init__(self, peer: BotApiPeer, user: JSON) -> None:
        self.peer, self.user, self.id = peer, user, user["id"]
        self.chat: JSON = {"id": self.id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            self.chat["username"] = user["username"]

    def _send(self, **content: Any) -> JSON:
        message: JSON = {"message_id": self.peer._next_message_id(self.id), "from": self.user}
        message |= {"chat": self.chat, "date": int(time.time())}
        message |= {key: value for key, value in content.items() if value is not None}
        self.peer._messages[(self.id, message["message_id"])] = message
        return self.peer.push({"message": copy.deepcopy(message)})

    def _file(self, data: bytes | None, kind: str, ext: str, size: int | None = None) -> JSON:
        return self.peer.add_file(data, size=size, kind=kind, ext=ext).json()

    def send_text(self, text: str, entities: list[JSON] | None = None) -> JSON:
        return self._send(text=text, entities=entities)

    def send_command(self, command: str, payload: str | None = None) -> JSON:
        entity = {"type": "bot_command", "offset": 0, "length": len(command)}
        return self._send(text=f"{command} {payload}" if payload else command, entities=[entity])

    def forward_text(
        self,
        text: str,
        origin: Literal["user", "hidden_user", "chat", "channel"] | JSON = "user",
        *,
        date: int | None = None,
    ) -> JSON:
        """A forwarded text; ``origin`` is a MessageOrigin kind or a full MessageOrigin."""
        when = date if date is not None else int(time.time()) - 3600
        collector = {"id": 5550001, "is_bot": False, "first_name": "Cobranza", "last_name": "MX"}
        group = {"id": -1001000000001, "type": "supergroup", "title": "Cobros"}
        channel = {"id": -1001000000002, "type": "channel", "title": "Prestamos Ya"}
        kinds: dict[str, JSON] = {
            "user": {"sender_user": collector},
            "chat": {"sender_chat": group},
        }
        kinds |= {"hidden_user": {"sender_user_name": "Agente de Cobranza"}}
        kinds |= {"channel": {"chat": channel, "message_id": 77}}
        if isinstance(origin, str):
            origin = {"type": origin, "date": when, **kinds[origin]}
        return self._send(text=text, forward_origin=origin)

    def send_photo(
        self, data: bytes, caption: str | None = None, media_group_id: str | None = None
    ) -> JSON:
        return self._send(
            photo=self.peer._photo_sizes(data), caption=caption, media_group_id=media_group_id
        )

    def send_document(
        self,
        data: bytes,
        file_name: str = "evidence.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        document = self._file(data, "documents", ext)
        document |= {"file_name": file_name, "mime_type": mime_type}
        return self._send(document=document, caption=caption, media_group_id=media_group_id)

    def send_document_of_size(
        self, size: int, file_name: str = "recording.zip", mime_type: str = "application/zip"
    ) -> JSON:
        """A document of ``size`` bytes that are never held; above 20 MB getFile refuses it."""
        document = self._file(None, "documents", "zip", size=size)
        return self._send(document=document | {"file_name": file_name, "mime_type": mime_type})

    def send_voice(self, data: bytes, duration: int = 3) -> JSON:
        voice = self._file(data, "voice", "oga") | {"duration": duration, "mime_type": "audio/ogg"}
        return self._send(voice=voice)

    def send_audio(self, data: bytes, file_name: str = "call.mp3", duration: int = 30) -> JSON:
        audio = self._file(data, "music", "mp3") | {"duration": duration, "file_name": file_name}
        return self._send(audio=audio | {"mime_type": "audio/mpeg"})

    def send_video(self, data: bytes, duration: int = 5, caption: str | None = None) -> JSON:
        video = self._file(data, "videos", "mp4") | {"width": 1280, "height": 720}
        video |= {"duration": duration, "mime_type": "video/mp4"}
        return self._send(video=video, caption=caption)

    def send_video_note(self, data: bytes, duration: int = 5) -> JSON:
        note = self._file(data, "video_notes", "mp4") | {"length": 240, "duration": duration}
        return self._send(video_note=note)

    def send_contact(self, phone_number: str, first_name: str, user_id: int | None = None) -> JSON:
        contact = {"phone_number": phone_number, "first_name": first_name, "user_id": user_id}
        return self._send(contact={k: v for k, v in contact.items() if v is not None})

    def send_sticker(self, emoji: str = "😡") -> JSON:
        sticker = self._file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "stickers", "webp")
        sticker |= {"type": "regular", "width": 512, "height": 512, "emoji": emoji}
        return self._send(sticker=sticker | {"is_animated": False, "is_video": False})

    def send_location(self, latitude: float = 19.4326, longitude: float = -99.1332) -> JSON:
        return self._send(location={"latitude": latitude, "longitude": longitude})

    def send_poll(
        self, question: str = "¿Pagar hoy?", options: tuple[str, ...] = ("Sí", "No")
    ) -> JSON:
        poll = {"id": str(next(self.peer._ids)), "question": question, "total_voter_count": 0}
        poll["options"] = [
            {"persistent_id": str(i), "text": text, "voter_count": 0}
            for i, text in enumerate(options)
        ]
        poll |= {"is_closed": False, "is_anonymous": False, "type": "regular"}
        poll |= {"allows_multiple_answers": False, "allows_revoting": False}
        return self._send(poll=poll | {"members_only": False})

    def send_dice(self, emoji: str = "🎲", value: int = 3) -> JSON:
        return self._send(dice={"emoji": emoji, "value": value})

    def edit_message(self, message_id: int, text: str) -> JSON:
        """The user edits one of their text messages: an ``edited_message`` update."""
        message = self.peer._messages[(self.id, message_id)]
        message |= {"text": text, "edit_date": int(time.time())}
        return self.peer.push({"edited_message": copy.deepcopy(message)})

    def react(self, message_id: int, emoji: str | None = "👍", old: str | None = None) -> JSON:
        """A ``message_reaction`` update (delivered only if the bot asked for it in
        ``allowed_updates``, as on Telegram); ``emoji=None`` removes the reaction."""
        reaction = {
            "chat": self.chat,
            "message_id": message_id,
            "user": self.user,
            "date": int(time.time()),
            "old_reaction": [{"type": "emoji", "emoji": old}] if old else [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}] if emoji else [],
        }
        return self.peer.push({"message_reaction": reaction})

    def click(self, callback_data: str, message_id: int | None = None, check: bool = True) -> JSON:
        """Press an inline button: the newest bot message with it unless ``message_id`` is
        given. ``check`` refuses data no such button carries (``LookupError``)."""

        def has_button(msg: JSON) -> bool:
            rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
            return any(b.get("callback_data") == callback_data for row in rows for b in row)

        candidates = [
            m
            for m in reversed(self.peer.messages_to(self.id))
            if (message_id is None or m["message_id"] == message_id)
            and (has_button(m) or not check)
        ]
        if not candidates and (check or message_id is None):
            raise LookupError(f"no bot message to {self.id} has a button {callback_data!r}")
        message = candidates[0] if candidates else {"chat": self.chat, "message_id": message_id}
        message.setdefault("date", 0)  # an InaccessibleMessage has date 0
        query_id = str(4_300_000_000_000_000_000 + next(self.peer._ids))
        self.peer._open_queries.add(query_id)
        query = {"id": query_id, "from": self.user, "message": message, "data": callback_data}
        return self.peer.push({"callback_query": query | {"chat_instance": f"-{self.id}771"}})


class BotApiPeer:
    """The Bot API server; ``async with BotApiPeer() as peer`` starts and stops it."""

    def __init__(
        self,
        token: str = "123456789:TEST-token-for-the-loopback-peer",
        *,
        rtt: float = 0.0,
        seed: int = 0,
        bot_username: str = "evidence_test_bot",
        upload_limit: int = 50 * MB,
        download_limit: int = 20 * MB,
    ) -> None:
        self.token, self.rtt = token, rtt
        self.upload_limit, self.download_limit = upload_limit, download_limit
        self.bot_user: JSON = {"id": int(token.split(":")[0]), "is_bot": True}
        self.bot_user |= {"first_name": "Evidence Bot", "username": bot_username}
        self.sent: list[SentRequest] = []  # what the bot asked for, in order
        self.violations: list[str] = []  # schema violations of those requests
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope JSON, language) -> list
        self.files: dict[str, StoredFile] = {}
        self.webhook_url, self.port = "", 0
        self._rng, self._ids = random.Random(seed), itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._updates: list[JSON] = []  # not yet confirmed by the bot
        self._allowed: set[str] | None = None
        self._wake, self._changed = asyncio.Event(), asyncio.Event()
        self._poll_generation, self._closing = 0, False
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, PeerUser] = {}
        self._messages: dict[tuple[int, int], JSON] = {}  # (chat, message_id) -> Message
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._open_queries: set[str] = set()
        self._blocked: set[int] = set()
        self._fail: dict[str, list[ApiError]] = {}
        self._flood_rate, self._flood_retry = 0.0, 1
        self._chat_limit: tuple[float, float] | None = None
        self._chat_tokens: dict[int, tuple[float, float]] = {}
        self.chat_429s = 0
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> BotApiPeer:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._closing = False
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()  # long polls answer [] at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiPeer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- the user side --------------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str = "Ana",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "es",
    ) -> PeerUser:
        """The user ``user_id`` (created on first call; their private chat then exists)."""
        if user_id not in self._users:
            user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
            extra = {"last_name": last_name, "username": username, "language_code": language_code}
            user |= {key: value for key, value in extra.items() if value is not None}
            self._users[user_id] = PeerUser(self, user)
            self._chats[user_id] = self._users[user_id].chat
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Group", kind: str = "supergroup") -> JSON:
        """Declare a group chat the bot may write to."""
        self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        return self._chats[chat_id]

    def push(self, update: JSON) -> JSON:
        """Enqueue a raw update (an ``update_id`` is assigned) and return it."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._wake.set()
        return update

    def add_file(
        self,
        data: bytes | None,
        *,
        size: int | None = None,
        kind: str = "documents",
        ext: str = "bin",
    ) -> StoredFile:
        """Store a file (or declare ``size`` bytes of one) under a fresh file_id."""
        n = next(self._ids)
        stored = StoredFile(
            file_id=f"BQACAgEAAxkBAAI{n:06d}{self._rng.getrandbits(48):012x}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{kind}/file_{n}.{ext}",
            size=len(data) if data is not None else size or 0,
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    # -- what the bot did -----------------------------------------------------------------
    @property
    def unconfirmed(self) -> list[JSON]:
        """Updates the bot has not confirmed with a higher ``offset`` yet."""
        return list(self._updates)

    def messages_to(self, chat_id: int) -> list[JSON]:
        """The bot's current (edited, not deleted) messages in ``chat_id``, oldest first."""
        return [
            copy.deepcopy(m)
            for (chat, _), m in self._messages.items()
            if chat == chat_id and m["from"]["id"] == self.bot_user["id"]
        ]

    def requests(self, method: str) -> list[SentRequest]:
        return [r for r in self.sent if r.method == method]

    def commands_for(self, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        return self.commands.get((_scope_key(scope), language_code), [])

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (checked after each bot request) and return it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate()):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
        return result

    # -- fault injection ------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        n: int = 1,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``n`` calls of ``method`` (to ``chat_id`` only, if given) with an
        error (429 carries retry_after)."""
        texts = {429: f"Too Many Requests: retry after {retry_after}", 502: "Bad Gateway"}
        texts |= {403: "Forbidden: bot was blocked by the user", 500: "Internal Server Error"}
        text = description or texts.get(error_code, "Bad Request: injected failure")
        errors = [ApiError(error_code, text, retry_after if error_code == 429 else None)] * n
        key = method.lower() if chat_id is None else f"{method.lower()}:{chat_id}"
        self._fail.setdefault(key, []).extend(errors)

    def limit_chats(self, per_second: float = 1.0, burst: int = 3) -> None:
        """Enforce Telegram's limit per chat: ``burst`` messages at once, then ``per_second``
        (sendChatAction excluded); a message over it gets 429 with the seconds to wait."""
        self._chat_limit = (per_second, float(burst))

    def _limit_chat(self, chat_id: int, method: str) -> None:
        if method == "sendChatAction":
            return
        rate, burst = self._chat_limit
        now = time.monotonic()
        tokens, then = self._chat_tokens.get(chat_id, (burst, now))
        tokens = min(burst, tokens + (now - then) * rate)
        if tokens < 1:
            self._chat_tokens[chat_id] = (tokens, now)
            self.chat_429s += 1
            wait = max(1, math.ceil((1 - tokens) / rate))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._chat_tokens[chat_id] = (tokens - 1, now)

    def flood(self, rate: float = 0.1, retry_after: int = 1) -> None:
        """Answer a share ``rate`` of send* calls with 429 (seeded RNG); ``rate=0`` stops."""
        self._flood_rate, self._flood_retry = rate, retry_after

    def block_user(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    # -- HTTP -----------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if self.rtt:
            await asyncio.sleep(self.rtt)
        spec = method_spec(request.match_info["method"])
        if request.match_info["token"] != self.token:
            return _answer(ApiError(401, "Unauthorized"))
        if spec is None:
            return _answer(ApiError(404, "Not Found"))
        method = spec["name"]
        entry = SentRequest(method, {})
        if method != "getUpdates":
            self.sent.append(entry)
        try:
            raw, entry.files = await self._read(request)
            entry.params = decode_params(method, raw)
            attached = json.dumps(entry.params, default=str)
            uploads = {
                k: f.data for k, f in entry.files.items() if f"attach://{k}" not in attached
            }
            self.violations += validate_request(method, entry.params | uploads)
            self._inject_faults(method, entry.params.get("chat_id"))
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise ApiError(400, f"Bad Request: BotApiPeer does not implement {method}")
            return _answer(await handler(entry.params, entry.files))
        except ApiError as error:
            entry.error_code = error.code
            return _answer(error)
        finally:
            self._changed.set()

    async def _read(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json" and request.can_read_body:
            params |= await request.json()
        elif request.content_type == "multipart/form-data":
            reader, total = await request.multipart(), 0
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                buffer = bytearray()
                while chunk := await part.read_chunk(1 << 16):
                    total += len(chunk)
                    if total <= self.upload_limit:  # beyond: drain, then refuse
                        buffer += chunk
                if part.filename is None:
                    params[part.name] = buffer.decode()
                else:
                    ctype = part.headers.get(hdrs.CONTENT_TYPE)
                    files[part.name] = UploadedFile(part.filename, bytes(buffer), ctype)
            if total > self.upload_limit:
                raise ApiError(413, "Request Entity Too Large")
        elif request.can_read_body:
            params |= dict(await request.post())
        return params, files

    async def _download(self, request: web.Request) -> web.Response:
        if self.rtt:
            await asyncio.sleep(self.rtt)
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return _answer(ApiError(404, "Not Found"))
        return web.Response(body=stored.content(), content_type="application/octet-stream")

    def _inject_faults(self, method: str, chat_id: object = None) -> None:
        if pending := self._fail.get(method.lower()):
            raise pending.pop(0)
        if pending := self._fail.get(f"{method.lower()}:{chat_id}"):
            raise pending.pop(0)
        if self._chat_limit and isinstance(chat_id, int) and method.startswith("send"):
            self._limit_chat(chat_id, method)
        retry = self._flood_retry
        if method.startswith("send") and self._rng.random() < self._flood_rate:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)

    # -- helpers of the methods -----------------------------------------------------------
    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if isinstance(chat_id, str):
            chat = next(
                (c for c in self._chats.values() if f"@{c.get('username')}" == chat_id), None
            )
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message(self, params: JSON, what: str = "edit") -> JSON:
        message = self._messages.get((self._chat(params)["id"], params.get("message_id", 0)))
        if message is None:
            raise ApiError(400, f"Bad Request: message to {what} not found")
        if what == "edit" and message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _bot_message(self, chat: JSON, params: JSON, **content: Any) -> JSON:
        message: JSON = {"message_id": self._next_message_id(chat["id"]), "from": self.bot_user}
        message |= {"chat": chat, "date": int(time.time())}
        message |= {key: value for key, value in content.items() if value is not None}
        if (markup := _inline_markup(params)) is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _caption(self, params: JSON) -> str | None:
        caption = params.get("caption")
        if caption is None:
            return None
        caption = _text(str(caption), params.get("parse_mode"))
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        return caption

    def _photo_sizes(self, data: bytes) -> list[JSON]:
        """Three sizes, largest last; only the largest holds the real bytes."""
        sizes = []
        for width, height, share in ((90, 68, 40), (320, 240, 8), (1280, 960, 1)):
            size = len(data) if share == 1 else max(1, len(data) // share)
            stored = self.add_file(
                data if share == 1 else None, size=size, kind="photos", ext="jpg"
            )
            sizes.append(stored.json(width=width, height=height))
        return sizes

    def _input_file(self, params: JSON, files: dict[str, UploadedFile], name: str) -> StoredFile:
        value = params.get(name)
        if name in files:
            upload = files[name]
            ext = (upload.filename or "file.bin").rsplit(".", 1)[-1]
            return self.add_file(upload.data, kind=f"{name}s", ext=ext)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    # -- the methods (``_m_`` + lower-case name) ------------------------------------------
    async def _m_getme(self, params: JSON, files: Any) -> JSON:
        flags = ("can_read_all_group_messages", "supports_inline_queries", "has_main_web_app")
        return self.bot_user | {"can_join_groups": True} | dict.fromkeys(flags, False)

    async def _m_getupdates(self, params: JSON, files: Any) -> Any:
        if self.webhook_url:
            raise ApiError(409, _WEBHOOK_ACTIVE)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake.set()  # an older poll still waiting is terminated with 409
        offset, limit = params.get("offset"), min(max(int(params.get("limit", 100)), 1), 100)
        if isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if isinstance(params.get("allowed_updates"), list):
            self._allowed = set(params["allowed_updates"]) or None
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout", 0))
        while True:
            allowed = self._allowed or _DEFAULT_KINDS
            self._updates = [u for u in self._updates if _kind(u) in allowed]  # Telegram drops
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0 or self._closing:
                return copy.deepcopy(self._updates[:limit])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(409, _TERMINATED)

    async def _m_deletewebhook(self, params: JSON, files: Any) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        return True

    async def _m_setwebhook(self, params: JSON, files: Any) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _m_getwebhookinfo(self, params: JSON, files: Any) -> JSON:
        info = {"url": self.webhook_url, "has_custom_certificate": False}
        return info | {"pending_update_count": len(self._updates)}

    async def _m_sendmessage(self, params: JSON, files: Any) -> JSON:
        chat = self._chat(params)
        return self._bot_message(chat, params, text=_message_text(params))

    async def _m_editmessagetext(self, params: JSON, files: Any) -> JSON:
        message = self._message(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._edit(message, params, text=_message_text(params))

    async def _m_editmessagereplymarkup(self, params: JSON, files: Any) -> JSON:
        return self._edit(self._message(params), params)

    def _edit(self, message: JSON, params: JSON, **content: Any) -> JSON:
        markup = _inline_markup(params)
        if all(message.get(k) == v for k, v in content.items()) and (
            message.get("reply_markup") == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        message |= content | {"edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return copy.deepcopy(message)

    async def _m_deletemessage(self, params: JSON, files: Any) -> bool:
        message = self._message(params, "delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    async def _m_answercallbackquery(self, params: JSON, files: Any) -> bool:
        if params.get("callback_query_id") not in self._open_queries:
            raise ApiError(400, _QUERY_TOO_OLD)
        self._open_queries.discard(params["callback_query_id"])
        return True

    async def _m_sendchataction(self, params: JSON, files: Any) -> bool:
        self._chat(params)
        return True

    async def _m_senddocument(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, caption = self._chat(params), self._caption(params)
        stored = self._input_file(params, files, "document")
        upload = files.get("document")
        document = stored.json()
        if upload is not None:
            document |= {"file_name": upload.filename, "mime_type": upload.content_type}
        document = {k: v for k, v in document.items() if v is not None}
        return self._bot_message(chat, params, document=document, caption=caption)

    async def _m_sendphoto(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, caption = self._chat(params), self._caption(params)
        if "photo" in files:
            sizes = self._photo_sizes(files["photo"].data)
        else:
            stored = self._input_file(params, files, "photo")
            sizes = [stored.json(width=1280, height=960)]
        return self._bot_message(chat, params, photo=sizes, caption=caption)

    async def _m_getfile(self, params: JSON, files: Any) -> JSON:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > self.download_limit:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.json(file_path=stored.file_path)

    async def _m_setmycommands(self, params: JSON, files: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command")))
            for c in commands
        ):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = (_scope_key(params.get("scope")), str(params.get("language_code", "")))
        self.commands[key] = commands
        return True

    async def _m_getmycommands(self, params: JSON, files: Any) -> list[JSON]:
        return self.commands_for(str(params.get("language_code", "")), params.get("scope"))

    async def _m_deletemycommands(self, params: JSON, files: Any) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code", "")))
        self.commands.pop(key, None)
        return True

    async def _m_close(self, params: JSON, files: Any) -> bool:
        return True

    _m_logout = _m_close


def _kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _text(text: str, parse_mode: Any) -> str:
    """The text after entity parsing (HTML only; Markdown is kept as sent)."""
    if str(parse_mode).upper() != "HTML":
        return text
    try:
        return html_to_text(text)
    except ValueError as error:
        raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None


def _message_text(params: JSON) -> str:
    text = _text(str(params.get("text", "")), params.get("parse_mode"))
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _inline_markup(params: JSON) -> JSON | None:
    """The inline keyboard of a request (Telegram keeps only those on the message)."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _answer(outcome: Any) -> web.Response:
    if isinstance(outcome, ApiError):
        return web.json_response(outcome.body(), status=outcome.code)
    return web.json_response({"ok": True, "result": outcome})
