"""Run the real bot against telegram-test-api (an independent Bot API emulator) in tests.

Layout, all on 127.0.0.1:

    PTB bot --Bot API--> shim (aiohttp, this module) --JSON--> telegram-test-api 4.2.1 (node)
    test    --client routes (/sendMessage, /sendCommand, /sendCallback, ...)--^

The shim fixes what telegram-test-api 4.2.1 gets wrong or lacks, so that PTB works unchanged:

* ``getMe`` lacks ``is_bot`` and its id is a constant 666: the shim adds ``is_bot`` and the
  capability flags, and uses the id in the token, as Telegram does;
* message dates are in milliseconds: converted to seconds (results and updates);
* ``sendMessage`` echoes every request parameter back as a message field (``chat_id``,
  ``parse_mode``...) and has no ``from``: the shim builds a clean Message;
* ``editMessageText``/``editMessageReplyMarkup`` return ``null``, edit nothing silently when the
  message does not exist, and keep the old inline keyboard when none is passed: the shim checks
  the message exists (400 "message to edit not found"), rejects unchanged edits (400 "message is
  not modified", as Telegram does), drops the keyboard like Telegram and returns the edited
  Message;
* callback queries lack ``chat_instance`` (PTB then drops the whole ``getUpdates`` batch): added;
  users and chats get ``is_bot``/``first_name``/``type`` when missing; ``botToken`` leaks into
  every user update: removed;
* ``getUpdates`` ignores ``offset``, ``limit``, ``timeout`` and ``allowed_updates``: the shim
  keeps its own queue and implements them (long polling by polling the emulator every 50 ms);
* ``answerCallbackQuery``, ``deleteMessage`` and ``setWebhook`` return ``null`` instead of
  ``true``; ``deleteMessage`` reports failure with HTTP 200 (PTB then raises ``KeyError``);
  unknown methods answer HTTP 500 ``{"message": ...}``: the shim returns Telegram-shaped
  results and errors (HTTP 400 ``ok: false`` with a description naming the method);
* no files at all: the shim answers ``sendDocument``/``sendPhoto``/``sendAudio``/``sendVoice``/
  ``sendVideo``/``sendAnimation`` (multipart or file_id), ``getFile`` and the file download
  route, and stores the message in the emulator so it shows in the chat history; it also answers
  ``sendChatAction``, ``setMyCommands``/``getMyCommands``/``deleteMyCommands``,
  ``setChatMenuButton``, ``setMyDescription``/``setMyShortDescription``/``setMyName``,
  ``getWebhookInfo``, ``editMessageCaption``; ``drop_pending_updates`` empties the queue;
* the client routes answer ``result: null`` (no message id): the helpers look the id up in
  ``/getUpdatesHistory``; an invalid client payload rejects after the route answered and would
  kill node (server.js logs it: ``Emulator.unhandled_errors``); port 0 means 9000 (the launcher
  picks a free port and retries); stored messages, history included, expire after
  ``storeTimeout`` (60 s by default; server.js keeps them a day).

Not fixed: ``text`` comes back as sent (no parse_mode rendering into entities), there is one
private chat per user, no inline mode, media groups, forwarding/copying, payments, webhooks
through the shim. Every request the shim forwards or answers is recorded in ``Emulator.requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import socket
import string
import struct
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

EMULATOR_DIR = Path(__file__).resolve().parent
SERVER_JS = EMULATOR_DIR / "server.js"
NODE_MODULES = EMULATOR_DIR / "node_modules"
PACKAGE = "telegram-test-api"
PINNED_VERSION = "4.2.1"
READY_PREFIX = "EMULATOR_READY "
ERROR_PREFIX = "EMULATOR_ERROR "

# Methods telegram-test-api 4.2.1 routes (lib/routes/bot/index.js); everything else answers 500.
EMULATOR_METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "setWebhook",
        "deleteWebhook",
    }
)
# Methods the shim answers itself (lower-cased), with no emulator counterpart.
SHIM_TRUE_METHODS = frozenset(
    {
        "sendchataction",
        "setchatmenubutton",
        "setmydescription",
        "setmyshortdescription",
        "setmyname",
        "setmydefaultadministratorrights",
        "close",
        "logout",
    }
)
MEDIA_METHODS = {
    "senddocument": "document",
    "sendphoto": "photo",
    "sendaudio": "audio",
    "sendvoice": "voice",
    "sendvideo": "video",
    "sendanimation": "animation",
}
MESSAGE_UPDATE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")
MEDIA_FIELDS = ("document", "photo", "audio", "voice", "video", "animation")
# Bot API parameters whose form value is a plain string, never JSON (PTB sends strings as is).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "action",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "file_id",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "language_code",
        "address",
        "question",
        "explanation",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "custom_title",
        "invite_link",
        "game_short_name",
        "payload",
        "currency",
        "provider_token",
        *MEDIA_FIELDS,
        "sticker",
        "video_note",
        "thumbnail",
    }
)
_TOKEN_ALPHABET = string.ascii_letters + string.digits + "_-"


class EmulatorError(RuntimeError):
    """The emulator could not be installed, started or driven."""


class EmulatorUnavailable(EmulatorError):
    """``node`` or ``npm`` is not on PATH: the emulator cannot run on this machine at all."""


def node_missing_reason() -> str | None:
    """Why the emulator cannot run here (``node``/``npm`` missing from PATH), or None."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH: the Bot API emulator needs Node.js"
    return None


def _installed() -> bool:
    manifest = NODE_MODULES / PACKAGE / "package.json"
    # npm writes node_modules/.package-lock.json last: its presence marks a finished install.
    if not manifest.is_file() or not (NODE_MODULES / ".package-lock.json").is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("version") == PINNED_VERSION
    except (OSError, ValueError):
        return False


def ensure_node_modules(timeout: float = 600.0) -> float | None:
    """Install the pinned emulator with ``npm ci`` unless it is there already.

    Concurrent callers (pytest-xdist workers, parallel runs) are serialized by an exclusive
    ``flock`` on the tests/emulator directory. Returns the seconds ``npm ci`` took, or None when
    nothing had to be installed. Raises EmulatorError, with npm's output, when the install fails.
    """
    if _installed():
        return None
    reason = node_missing_reason()
    if reason:
        raise EmulatorUnavailable(reason)
    npm = shutil.which("npm")
    assert npm is not None
    fd = os.open(EMULATOR_DIR, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _installed():
            return None
        started = time.monotonic()
        env = {**os.environ, "npm_config_update_notifier": "false"}
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]
        try:
            proc = subprocess.run(
                cmd,
                cwd=EMULATOR_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmulatorError(f"`{' '.join(cmd)}` in {EMULATOR_DIR} timed out") from exc
        if proc.returncode != 0 or not _installed():
            raise EmulatorError(
                f"`{' '.join(cmd)}` in {EMULATOR_DIR} failed (exit {proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return time.monotonic() - started
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_token() -> tuple[int, str]:
    bot_id = 1_000_000_000 + secrets.randbelow(8_000_000_000)
    tail = "AA" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(33))
    return bot_id, f"{bot_id}:{tail}"


def _seconds(value: Any) -> int | None:
    """A Unix time in seconds from seconds or milliseconds (the emulator mixes both)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value // 1000 if value > 100_000_000_000 else value)


def _decode_param(key: str, value: str) -> Any:
    """A form value as PTB encodes it: strings as is, everything else JSON-dumped."""
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 0, 0


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.lstrip("-").isdigit()


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request from the bot."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    """A file the shim knows: uploaded by the bot or sent by a test user."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str
    source: str | None = None  # a URL or unknown file_id the bot sent instead of bytes


@dataclass(frozen=True)
class SentFile:
    """A media message the bot sent (sendDocument, sendPhoto, ...)."""

    method: str
    chat_id: int | str
    message_id: int
    kind: str
    file: StoredFile
    caption: str | None


@dataclass
class RecordedRequest:
    """One Bot API request from the bot, as the shim saw and answered it."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    handled_by: str  # "emulator" (forwarded), "shim" (answered here) or "unsupported"
    ok: bool
    result: Any = None
    description: str | None = None


@dataclass
class UserProfile:
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent to a chat, as the emulator stores it (edits applied)."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    date: int
    raw: dict[str, Any] = field(repr=False)

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """(text, callback_data) of every inline button, row by row."""
        return [
            (b.get("text", ""), b.get("callback_data"))
            for row in self.inline_keyboard
            for b in row
        ]


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class Emulator:
    """telegram-test-api plus the fixing shim, as an async context manager.

    >>> async with Emulator() as emu:  # doctest: +SKIP
    ...     app = ApplicationBuilder().token(emu.token).base_url(emu.bot_base_url)
    ...     app = app.base_file_url(emu.bot_file_url).build()
    ...     await emu.send_command(42, "/start")
    ...     [reply] = await emu.wait_for_bot_messages(42, 1)
    """

    def __init__(
        self,
        *,
        store_timeout: int = 86_400,
        startup_timeout: float = 30.0,
        install_timeout: float = 600.0,
        poll_interval: float = 0.05,
    ) -> None:
        self.bot_id, self.token = _make_token()
        self.store_timeout = store_timeout
        self.startup_timeout = startup_timeout
        self.install_timeout = install_timeout
        self.poll_interval = poll_interval
        self.requests: list[RecordedRequest] = []
        self.sent_files: list[SentFile] = []
        self.files: dict[str, StoredFile] = {}
        self.timings: dict[str, float | None] = {}
        self.emulator_url = ""
        self.shim_url = ""
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Test First name",
            "username": "TestNameBot",
        }
        self._users: dict[int, UserProfile] = {}
        self._commands: list[dict[str, Any]] = []
        self._queue: list[dict[str, Any]] = []
        self._seen_update_ids: set[int] = set()
        self._allowed_updates: list[str] | None = None
        self._pull_lock = asyncio.Lock()
        self._proc: asyncio.subprocess.Process | None = None
        self._drains: list[asyncio.Task[None]] = []
        self._node_output: deque[str] = deque(maxlen=200)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._file_counter = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def bot_base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token and the method."""
        return f"{self.shim_url}/bot"

    @property
    def bot_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.shim_url}/file/bot"

    @property
    def pid(self) -> int | None:
        """The node process id while it runs."""
        return self._proc.pid if self._proc else None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        reason = node_missing_reason()
        if reason:
            raise EmulatorUnavailable(reason)
        self.timings["npm_ci"] = await asyncio.to_thread(ensure_node_modules, self.install_timeout)
        try:
            started = time.monotonic()
            await self._start_node()
            self.timings["emulator_start"] = time.monotonic() - started
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            started = time.monotonic()
            await self._start_shim()
            self.timings["shim_start"] = time.monotonic() - started
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the shim and the node process; safe to call twice."""
        self._closing = True
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._proc is not None:
            proc, self._proc = self._proc, None
            await self._stop_process(proc)
        for task in self._drains:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drains.clear()

    async def _start_node(self) -> None:
        node = shutil.which("node")
        assert node is not None
        env = {**os.environ, "EMULATOR_STORE_TIMEOUT": str(self.store_timeout)}
        env.pop("DEBUG", None)
        for _attempt in range(5):
            port = _free_port()
            proc = await asyncio.create_subprocess_exec(
                node,
                str(SERVER_JS),
                str(port),
                cwd=EMULATOR_DIR,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            assert proc.stdout is not None and proc.stderr is not None
            self._proc = proc
            self._drains = [asyncio.create_task(self._drain(proc.stderr, "stderr"))]
            line = await self._read_ready_line(proc)
            if line.startswith(READY_PREFIX):
                self.emulator_url = line[len(READY_PREFIX) :].strip()
                self._drains.append(asyncio.create_task(self._drain(proc.stdout, "stdout")))
                return
            self._proc = None
            await self._stop_process(proc)
            for task in self._drains:
                await task
            self._drains = []
            if "EADDRINUSE" not in line:
                output = "\n".join(self._node_output)
                raise EmulatorError(f"telegram-test-api did not start: {line!r}\n{output}")
        raise EmulatorError("telegram-test-api did not start: no free port after 5 attempts")

    async def _read_ready_line(self, proc: asyncio.subprocess.Process) -> str:
        assert proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "EMULATOR_ERROR ETIMEDOUT no ready line"
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(), remaining)
            except TimeoutError:
                return "EMULATOR_ERROR ETIMEDOUT no ready line"
            if not raw:
                await proc.wait()
                return f"EMULATOR_ERROR EXITED node exited with {proc.returncode}"
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._node_output.append(line)
            if line.startswith((READY_PREFIX, ERROR_PREFIX)):
                return line

    async def _drain(self, stream: asyncio.StreamReader, name: str) -> None:
        while raw := await stream.readline():
            self._node_output.append(f"{name}: {raw.decode('utf-8', 'replace').rstrip()}")

    @staticmethod
    async def _stop_process(proc: asyncio.subprocess.Process) -> None:
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
            with contextlib.suppress(ConnectionError):
                await proc.stdin.wait_closed()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    async def _start_shim(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.shim_url = f"http://127.0.0.1:{port}"

    @property
    def node_output(self) -> list[str]:
        """The emulator process's last output lines (stderr lines prefixed ``stderr:``)."""
        return list(self._node_output)

    @property
    def unhandled_errors(self) -> list[str]:
        """Errors the emulator hit after answering a client route (invalid client payloads)."""
        return [line for line in self._node_output if "EMULATOR_UNHANDLED" in line]

    def _died(self) -> str:
        code = self._proc.returncode if self._proc else None
        tail = " | ".join(list(self._node_output)[-10:])
        return f"node exit code {code}; last output: {tail}"

    # ------------------------------------------------------------------ recorded requests

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded bot requests of one method (case-insensitive)."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_for_request(
        self,
        method: str,
        timeout: float = 5.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        deadline = time.monotonic() + timeout
        while True:
            for req in self.calls(method):
                if predicate is None or predicate(req):
                    return req
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot made no matching {method} request in {timeout} s")
            await asyncio.sleep(self.poll_interval)

    @property
    def unsupported(self) -> list[RecordedRequest]:
        """Requests neither the emulator nor the shim could answer."""
        return [r for r in self.requests if r.handled_by == "unsupported"]

    # ------------------------------------------------------------------ user side

    def set_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """The profile used in ``from``/``chat`` of what ``user_id`` sends."""
        self._users[user_id] = UserProfile(first_name, last_name, username, language_code)

    def _profile(self, user_id: int) -> UserProfile:
        return self._users.get(user_id) or UserProfile(first_name=f"User{user_id}")

    def user_object(self, user_id: int) -> dict[str, Any]:
        profile = self._profile(user_id)
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": profile.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(profile, key):
                user[key] = getattr(profile, key)
        return user

    def chat_object(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        profile = self._profile(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": profile.first_name}
        for key in ("last_name", "username"):
            if getattr(profile, key):
                chat[key] = getattr(profile, key)
        return chat

    def _user_message(self, user_id: int, **fields: Any) -> dict[str, Any]:
        return {
            "botToken": self.token,
            "from": self.user_object(user_id),
            "chat": self.chat_object(user_id),
            "date": int(time.time()),
            **{k: v for k, v in fields.items() if v is not None},
        }

    async def _client_post(self, route: str, body: dict[str, Any]) -> Any:
        if self._session is None:
            raise EmulatorError("the emulator is not running")
        try:
            async with self._session.post(f"{self.emulator_url}{route}", json=body) as resp:
                text = await resp.text()
        except aiohttp.ClientConnectionError as exc:
            raise EmulatorError(f"emulator {route} unreachable: {exc}; {self._died()}") from exc
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if resp.status != 200 or not isinstance(payload, dict) or not payload.get("ok"):
            raise EmulatorError(f"emulator {route} answered {resp.status}: {text[:500]}")
        return payload.get("result")

    async def history(self) -> list[dict[str, Any]]:
        """The emulator's raw ``/getUpdatesHistory`` for our token (bot and user entries)."""
        return list(await self._client_post("/getUpdatesHistory", {"token": self.token}) or [])

    async def _last_user_entry(self, user_id: int, key: str) -> dict[str, Any] | None:
        for entry in reversed(await self.history()):
            if key == "callbackQuery" and "callbackQuery" in entry:
                sender = entry["callbackQuery"].get("from") or {}
            elif key == "message" and "callbackQuery" not in entry:
                sender = (entry.get("message") or {}).get("from") or {}
            else:
                continue
            if sender.get("id") == user_id:
                return entry
        return None

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        forward_origin: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        **fields: Any,
    ) -> int:
        """The user sends ``text`` in their private chat; returns its message_id.

        telegram-test-api stores the message body as given, so any Message field passes
        through: ``forward_origin`` (e.g. ``{"type": "user", "date": ..., "sender_user":
        {...}}``), ``entities``, ``contact``... (``fields``).
        """
        if reply_to_message_id is not None:
            fields["reply_to_message"] = await self._message_object(user_id, reply_to_message_id)
        body = self._user_message(user_id, text=text, forward_origin=forward_origin, **fields)
        await self._client_post("/sendMessage", body)
        return await self._user_message_id(user_id)

    async def send_command(self, user_id: int, command: str, **fields: Any) -> int:
        """The user sends a bot command such as ``"/start"`` or ``"/start payload"``."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        length = len(command.split(maxsplit=1)[0])
        entities = [{"offset": 0, "length": length, "type": "bot_command"}]
        body = self._user_message(user_id, text=command, entities=entities, **fields)
        await self._client_post("/sendCommand", body)
        return await self._user_message_id(user_id)

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        **fields: Any,
    ) -> int:
        """The user sends a file; the bot can ``get_file`` and download it through the shim."""
        stored = self._store_file("document", data, file_name, mime_type)
        body = self._user_message(
            user_id, document=self._media_object("document", stored), caption=caption, **fields
        )
        await self._client_post("/sendMessage", body)
        return await self._user_message_id(user_id)

    async def send_photo(
        self, user_id: int, data: bytes, *, caption: str | None = None, **fields: Any
    ) -> int:
        """The user sends a photo (one size); width/height are read from PNG data."""
        stored = self._store_file("photo", data, None, "image/jpeg")
        body = self._user_message(
            user_id, photo=self._media_object("photo", stored), caption=caption, **fields
        )
        await self._client_post("/sendMessage", body)
        return await self._user_message_id(user_id)

    async def send_media(
        self,
        user_id: int,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        declared_size: int | None = None,
        **fields: Any,
    ) -> int:
        """The user sends a voice note, audio, video or document (``kind`` is the field).

        ``declared_size`` makes the message claim a larger file than ``data`` (a file over
        the Bot API's 20 MB download limit, without holding 20 MB in memory).
        """
        stored = self._store_file(kind, data, file_name, mime_type)
        media = self._media_object(kind, stored)
        if declared_size is not None:
            media["file_size"] = declared_size
        body = self._user_message(user_id, **{kind: media}, **fields)
        await self._client_post("/sendMessage", body)
        return await self._user_message_id(user_id)

    async def _user_message_id(self, user_id: int) -> int:
        entry = await self._last_user_entry(user_id, "message")
        if entry is None:
            raise EmulatorError(f"the emulator did not store the message of user {user_id}")
        return int(entry["messageId"])

    async def click(
        self, user_id: int, callback_data: str, message_id: int, *, check: bool = True
    ) -> str:
        """The user presses the inline button with ``callback_data`` under the bot's message.

        With ``check`` the message must exist in the user's chat and carry that button (a real
        user cannot press anything else). Returns the callback query id.
        """
        message = await self._message_object(user_id, message_id)
        if check:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            datas = [b.get("callback_data") for row in rows for b in row]
            if callback_data not in datas:
                raise EmulatorError(
                    f"message {message_id} has no button with callback_data {callback_data!r}: "
                    f"{datas}"
                )
        body = {
            "botToken": self.token,
            "from": self.user_object(user_id),
            "message": message,
            "data": callback_data,
        }
        await self._client_post("/sendCallback", body)
        entry = await self._last_user_entry(user_id, "callbackQuery")
        if entry is None:
            raise EmulatorError("the emulator did not store the callback query")
        return str(entry["callbackId"])

    async def _message_object(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message of the chat (bot's or user's) as Telegram would embed it."""
        for entry in await self.history():
            if "callbackQuery" in entry or int(entry.get("messageId", -1)) != message_id:
                continue
            stored = entry.get("message") or {}
            if "chat_id" in stored and _is_int(stored["chat_id"]):
                if int(stored["chat_id"]) != chat_id:
                    continue
                msg: dict[str, Any] = {
                    "message_id": message_id,
                    "from": dict(self.bot_user),
                    "chat": self.chat_object(chat_id),
                    "date": _seconds(entry.get("time")) or int(time.time()),
                }
                for key in ("text", "entities", "caption", "caption_entities", *MEDIA_FIELDS):
                    if stored.get(key) is not None:
                        msg[key] = stored[key]
                markup = stored.get("reply_markup")
                if isinstance(markup, dict) and markup.get("inline_keyboard"):
                    msg["reply_markup"] = markup
                return msg
            if (stored.get("chat") or {}).get("id") == chat_id:
                msg = {k: v for k, v in stored.items() if k != "botToken"}
                msg["message_id"] = message_id
                return msg
        raise EmulatorError(f"no message {message_id} in chat {chat_id}")

    async def bot_messages(self, user_id: int) -> list[BotMessage]:
        """The bot's messages in the private chat with ``user_id``, oldest first, edits applied
        (deleted ones are gone), via the emulator's ``/getUpdatesHistory``."""
        out = []
        for entry in await self.history():
            stored = entry.get("message")
            if "callbackQuery" in entry or not isinstance(stored, dict):
                continue
            chat_id: Any = stored.get("chat_id")
            if not _is_int(chat_id) or int(chat_id) != user_id:
                continue
            markup = stored.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if isinstance(markup, dict) and markup.get("inline_keyboard") == []:
                markup = None
            out.append(
                BotMessage(
                    message_id=int(entry["messageId"]),
                    chat_id=int(chat_id),
                    text=stored.get("text"),
                    reply_markup=markup or None,
                    date=_seconds(entry.get("time")) or 0,
                    raw=stored,
                )
            )
        return out

    async def wait_for_bot_messages(
        self, user_id: int, n: int, timeout: float = 5.0
    ) -> list[BotMessage]:
        """Wait until the bot has sent at least ``n`` messages to ``user_id``; returns all."""
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.bot_messages(user_id)
            if len(messages) >= n:
                return messages
            if time.monotonic() >= deadline:
                failed = [f"{r.method}: {r.description}" for r in self.requests if not r.ok]
                raise TimeoutError(
                    f"the bot sent {len(messages)} of {n} messages to {user_id} in {timeout} s: "
                    f"{[m.text for m in messages]}; failed requests: {failed}"
                )
            await asyncio.sleep(self.poll_interval)

    async def wait_for_bot_message(
        self,
        user_id: int,
        predicate: Callable[[BotMessage], bool],
        timeout: float = 5.0,
    ) -> BotMessage:
        """Wait until one of the bot's messages to ``user_id`` matches (e.g. after an edit)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.bot_messages(user_id)
            for message in messages:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no bot message to {user_id} matched in {timeout} s: "
                    f"{[(m.message_id, m.text) for m in messages]}"
                )
            await asyncio.sleep(self.poll_interval)

    # ------------------------------------------------------------------ files

    def _store_file(
        self,
        kind: str,
        data: bytes,
        file_name: str | None,
        mime_type: str | None,
        source: str | None = None,
    ) -> StoredFile:
        self._file_counter += 1
        n = self._file_counter
        suffix = Path(file_name).suffix if file_name else (".jpg" if kind == "photo" else "")
        stored = StoredFile(
            file_id=f"emu-{kind}-{n}-{secrets.token_hex(6)}",
            file_unique_id=f"u{n}{secrets.token_hex(4)}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{n}{suffix}",
            source=source,
        )
        self.files[stored.file_id] = stored
        return stored

    def _media_object(
        self, kind: str, stored: StoredFile, params: dict[str, Any] | None = None
    ) -> Any:
        params = params or {}
        base: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if kind == "photo":
            width, height = _png_size(stored.data)
            return [{**base, "width": width, "height": height}]
        if kind in ("document", "audio", "video", "animation") and stored.file_name:
            base["file_name"] = stored.file_name
        if stored.mime_type:
            base["mime_type"] = stored.mime_type
        if kind in ("audio", "voice", "video", "animation"):
            base["duration"] = int(params.get("duration") or 0)
        if kind in ("video", "animation"):
            base["width"] = int(params.get("width") or 0)
            base["height"] = int(params.get("height") or 0)
        return base

    # ------------------------------------------------------------------ the shim

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        params: dict[str, Any] = {k: _decode_param(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            value.filename, value.content_type, value.file.read()
                        )
                    elif isinstance(value, str):
                        params[key] = _decode_param(key, value)
        return params, files

    async def _handle_bot(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, files = await self._read_params(request)
        record = RecordedRequest(method, params, files, handled_by="shim", ok=True)
        self.requests.append(record)
        try:
            result = await self._dispatch(method, params, files, record)
        except _ApiError as exc:
            record.ok = False
            record.description = exc.description
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=exc.code,
            )
        record.result = result
        return web.json_response({"ok": True, "result": result})

    async def _forward(self, method: str, params: dict[str, Any]) -> Any:
        """Call the emulator's Bot API route; returns ``result`` or raises a Telegram error."""
        if self._session is None:
            raise _ApiError(500, "Internal Server Error: the emulator is stopped")
        url = f"{self.emulator_url}/bot{self.token}/{method}"
        try:
            async with self._session.post(url, json=params) as resp:
                status, text = resp.status, await resp.text()
        except aiohttp.ClientConnectionError as exc:
            message = f"Bad Gateway: emulator unreachable: {exc}; {self._died()}"
            raise _ApiError(502, message) from exc
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("ok") is True:
            return payload.get("result")
        if isinstance(payload, dict) and payload.get("ok") is False:
            code = int(payload.get("error_code") or 400)
            raise _ApiError(code, str(payload.get("description") or "Bad Request"))
        reason = payload.get("message") if isinstance(payload, dict) else text[:300]
        raise _ApiError(400, f"Bad Request: telegram-test-api answered {status}: {reason}")

    async def _dispatch(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        record: RecordedRequest,
    ) -> Any:
        name = method.lower()
        if name == "getupdates":
            return await self._get_updates(params)
        if name in SHIM_TRUE_METHODS:
            return True
        if name == "setmycommands":
            self._commands = list(params.get("commands") or [])
            return True
        if name == "getmycommands":
            return list(self._commands)
        if name == "deletemycommands":
            self._commands = []
            return True
        if name == "getwebhookinfo":
            await self._pull()
            pending = len(self._queue)
            return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
        if name in MEDIA_METHODS:
            return await self._send_media(method, MEDIA_METHODS[name], params, files)
        if name == "getfile":
            return self._get_file(params)
        canonical = next((m for m in EMULATOR_METHODS if m.lower() == name), None)
        if canonical is None and name != "editmessagecaption":
            record.handled_by = "unsupported"
            raise _ApiError(
                400,
                f"Bad Request: method {method} is implemented neither by telegram-test-api "
                f"{PINNED_VERSION} nor by the test shim (tests/emulator/launcher.py)",
            )
        record.handled_by = "emulator"
        if name == "getme":
            me = await self._forward("getMe", params)
            self.bot_user = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": (me or {}).get("first_name") or "Test bot",
                "username": (me or {}).get("username") or "TestNameBot",
            }
            return {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if name == "sendmessage":
            return await self._send_message(params)
        if name in ("editmessagetext", "editmessagereplymarkup", "editmessagecaption"):
            return await self._edit_message(name, params)
        if name in ("deletewebhook", "setwebhook") and params.get("drop_pending_updates"):
            await self._pull()
            self._queue.clear()  # 4.2.1 ignores drop_pending_updates
        result = await self._forward(canonical or method, params)
        # answerCallbackQuery, deleteMessage, setWebhook, deleteWebhook: Telegram returns true.
        return True if result is None else result

    # ---- updates

    def _chat_instance(self, chat_id: Any) -> str:
        digest = hashlib.sha256(f"{self.bot_id}:{chat_id}".encode()).digest()
        return str(-int.from_bytes(digest[:7], "big"))

    def _fix_user(self, user: Any, *, default_id: int | None = None) -> dict[str, Any]:
        fixed = dict(user) if isinstance(user, dict) else {}
        if "id" not in fixed and default_id is not None:
            fixed["id"] = default_id
        fixed.setdefault("is_bot", False)
        if not fixed.get("first_name"):
            fixed["first_name"] = self._profile(int(fixed.get("id") or 0)).first_name
        return {k: v for k, v in fixed.items() if v is not None}

    def _fix_chat(self, chat: Any, *, default_id: int) -> dict[str, Any]:
        fixed = dict(chat) if isinstance(chat, dict) else {"id": default_id}
        fixed.setdefault("id", default_id)
        chat_id = int(fixed["id"])
        fixed.setdefault("type", "private" if chat_id > 0 else "group")
        if fixed["type"] == "private":
            fixed.pop("title", None)  # the emulator's client puts a title on private chats
            if not fixed.get("first_name"):
                fixed["first_name"] = self._profile(chat_id).first_name
        elif not fixed.get("title"):
            fixed["title"] = f"Group {chat_id}"
        return {k: v for k, v in fixed.items() if v is not None}

    def _fix_message(self, msg: dict[str, Any], *, default_chat: int) -> dict[str, Any] | None:
        msg = {k: v for k, v in msg.items() if k not in ("botToken", "chat_id")}
        if "message_id" not in msg:
            return None
        msg["date"] = _seconds(msg.get("date")) or int(time.time())
        if "from" in msg:
            msg["from"] = self._fix_user(msg["from"])
        sender_id = (msg.get("from") or {}).get("id")
        msg["chat"] = self._fix_chat(msg.get("chat"), default_id=int(sender_id or default_chat))
        if isinstance(msg.get("edit_date"), int | float):
            msg["edit_date"] = _seconds(msg["edit_date"])
        reply = msg.get("reply_to_message")
        if isinstance(reply, dict):
            fixed_reply = self._fix_message(reply, default_chat=msg["chat"]["id"])
            if fixed_reply is None:
                msg.pop("reply_to_message")
            else:
                msg["reply_to_message"] = fixed_reply
        return msg

    def _fix_update(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        update = copy.deepcopy(raw)
        if not _is_int(update.get("update_id")):
            return None
        update["update_id"] = int(update["update_id"])
        for key in MESSAGE_UPDATE_KEYS:
            if isinstance(update.get(key), dict):
                fixed = self._fix_message(update[key], default_chat=0)
                if fixed is None:
                    return None
                update[key] = fixed
        query = update.get("callback_query")
        if isinstance(query, dict):
            query.pop("botToken", None)
            query["id"] = str(query.get("id"))
            query["from"] = self._fix_user(query.get("from"))
            user_id = int(query["from"].get("id") or 0)
            chat_id: Any = user_id
            if isinstance(query.get("message"), dict):
                message = self._fix_message(query["message"], default_chat=user_id)
                if message is None:
                    query.pop("message")  # PTB cannot parse a message without message_id
                else:
                    message.setdefault("from", dict(self.bot_user))
                    query["message"] = message
                    chat_id = message["chat"]["id"]
            elif query.get("message") is None:
                query.pop("message", None)
            if "message" in query or "inline_message_id" not in query:
                query.setdefault("chat_instance", self._chat_instance(chat_id))
            else:
                query.setdefault("chat_instance", self._chat_instance("inline"))
            if query.get("data") is None:
                query.pop("data", None)
        return update

    async def _pull(self) -> None:
        """Move the emulator's unread updates into our queue (the emulator marks them read)."""
        async with self._pull_lock:
            for raw in await self._forward("getUpdates", {}) or []:
                update = self._fix_update(raw) if isinstance(raw, dict) else None
                if update is None or update["update_id"] in self._seen_update_ids:
                    continue
                self._seen_update_ids.add(update["update_id"])
                self._queue.append(update)
            self._queue.sort(key=lambda u: u["update_id"])

    def _allowed(self, update: dict[str, Any]) -> bool:
        if not self._allowed_updates:
            # Telegram's default: everything but chat_member, message_reaction(_count).
            excluded = {"chat_member", "message_reaction", "message_reaction_count"}
            return not any(key in update for key in excluded)
        return any(key in update for key in self._allowed_updates)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = list(allowed) if isinstance(allowed, list) else None
        deadline = time.monotonic() + timeout
        first = True
        while True:
            await self._pull()
            if first and offset < 0:
                self._queue = self._queue[offset:]
            elif offset > 0:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
            first = False
            self._queue = [u for u in self._queue if self._allowed(u)]
            if self._queue or time.monotonic() >= deadline or self._closing:
                return copy.deepcopy(self._queue[:limit])
            await asyncio.sleep(self.poll_interval)

    # ---- messages

    def _chat_for(self, chat_id: Any) -> dict[str, Any]:
        if _is_int(chat_id):
            return self.chat_object(int(chat_id))
        return {"id": chat_id, "type": "channel", "title": str(chat_id)}

    def _bot_message(
        self, message_id: int, chat_id: Any, params: dict[str, Any], date: int | None = None
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": int(message_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for(chat_id),
            "date": date or int(time.time()),
        }
        for key in ("text", "entities", "caption", "caption_entities", *MEDIA_FIELDS):
            if params.get(key) is not None:
                msg[key] = params[key]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            msg["reply_markup"] = markup
        return msg

    @staticmethod
    def _require_chat(params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        return int(chat_id) if _is_int(chat_id) else chat_id

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        result = await self._forward("sendMessage", {**params, "chat_id": chat_id})
        date = _seconds(result.get("date")) if isinstance(result, dict) else None
        return self._bot_message(result["message_id"], chat_id, params, date)

    async def _find_bot_entry(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        for entry in await self.history():
            stored = entry.get("message")
            if "callbackQuery" in entry or not isinstance(stored, dict):
                continue
            if str(entry.get("messageId")) == str(message_id) and str(
                stored.get("chat_id")
            ) == str(chat_id):
                return entry
        return None

    async def _edit_message(self, name: str, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not supported by the emulator")
        chat_id = self._require_chat(params)
        message_id: Any = params.get("message_id")
        if not _is_int(message_id):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        entry = await self._find_bot_entry(chat_id, message_id)
        if entry is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        old = entry["message"]
        markup = params.get("reply_markup")
        if not (isinstance(markup, dict) and markup.get("inline_keyboard")):
            markup = None  # Telegram drops the inline keyboard when an edit passes none
        old_markup = old.get("reply_markup")
        if not (isinstance(old_markup, dict) and old_markup.get("inline_keyboard")):
            old_markup = None
        body: dict[str, Any] = {"chat_id": chat_id, "message_id": int(message_id)}
        if name == "editmessagetext":
            text = params.get("text")
            if not isinstance(text, str) or not text.strip():
                raise _ApiError(400, "Bad Request: message text is empty")
            changed = text != old.get("text") or markup != old_markup
            body.update(text=text, reply_markup=markup)
            if params.get("entities") is not None:
                body["entities"] = params["entities"]
        elif name == "editmessagecaption":
            caption = params.get("caption")
            changed = caption != old.get("caption") or markup != old_markup
            body.update(caption=caption, reply_markup=markup)
        else:
            changed = markup != old_markup
            # 4.2.1 ignores reply_markup without inline_keyboard (and crashes on null).
            body["reply_markup"] = markup or {"inline_keyboard": []}
        if not changed:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        # The emulator's editMessageText merges any field into the stored message.
        route = "editMessageReplyMarkup" if name == "editmessagereplymarkup" else "editMessageText"
        await self._forward(route, body)
        merged = {**old, **{k: v for k, v in body.items() if k != "chat_id"}}
        msg = self._bot_message(int(message_id), chat_id, merged, _seconds(entry.get("time")))
        msg["edit_date"] = int(time.time())
        return msg

    async def _send_media(
        self, method: str, kind: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat_id = self._require_chat(params)
        source = files.get(kind)
        if source is None:
            ref = params.get(kind)
            if isinstance(ref, str) and ref.startswith("attach://"):
                source = files.get(ref[len("attach://") :])
        if isinstance(source, UploadedFile):
            stored = self._store_file(kind, source.data, source.filename, source.content_type)
        else:
            ref = params.get(kind)
            if not isinstance(ref, str) or not ref:
                raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
            stored = self.files.get(ref) or self._store_file(kind, b"", None, None, source=ref)
        media = self._media_object(kind, stored, params)
        body: dict[str, Any] = {"chat_id": chat_id, kind: media}
        for key in ("caption", "caption_entities", "parse_mode", "reply_markup"):
            if params.get(key) is not None:
                body[key] = params[key]
        # Stored through the emulator so that it has a message_id and shows in the history.
        result = await self._forward("sendMessage", body)
        message = self._bot_message(
            result["message_id"], chat_id, body, _seconds(result.get("date"))
        )
        self.sent_files.append(
            SentFile(method, chat_id, message["message_id"], kind, stored, params.get("caption"))
        )
        return message

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
