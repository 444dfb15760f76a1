"""The Telegram adapter: updates in, dialog events through the core, Bot API calls out.

Usage: ``python -m bot`` with ``TELEGRAM_BOT_TOKEN`` set (long polling), or with
``WEBHOOK_URL`` and ``WEBHOOK_SECRET`` (webhook). Everything is registered in
:func:`build_application`; the conversation itself lives in :mod:`dialogs`, not in a
``ConversationHandler``.

One catch-all handler does the work: translate the update, let the core apply it (under the
chat's lock, saved before answering), then send the replies in order. Replies are HTML with
every piece of user text escaped; buttons carry small versioned callback data; album
acknowledgements are merged; a 429 from Telegram delays a reply instead of losing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import signal
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse

import psycopg
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    TypeHandler,
    Updater,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.app import StartFailed, open_core
from bot.channel import merge_short
from bot.core import Core, Out, OutFile, OutLater, OutText
from bot.evidence_store import TooLarge
from bot.housekeeping import housekeeping
from bot.logs import log_salt, redact, user_ref
from bot.pacing import SharedPacing
from bot.reading import reading
from bot.settings import Settings
from bot.storage import StorageError, StorageUnavailable
from bot.telegram.albums import AlbumAcks, Held
from bot.telegram.inbox import JournalingQueue, update_key
from bot.telegram.ordering import PerChatOrderedProcessor
from bot.telegram.pacing import ChatPacer
from bot.telegram.unreadable import SkipUnreadable
from bot.telegram.updates import Incoming, encode_callback, to_event
from bot.web import JOURNAL_PATIENCE_SECONDS, WebServer, telegram_endpoint, web_app
from bot.web_channels import WebChannel
from dialogs.commands import MENU

CHANNEL = "telegram"
COMMANDS = MENU
"""The command menu: the dialog's commands, in its order."""
PROGRESS_STEP = 20
"""Percent between two edits of the dossier's progress message (edits are rate-limited)."""
DOWNLOAD_PAUSES = (1.0, 3.0)
"""Pauses between the tries of a download while the user waits."""
DOWNLOAD_RETRY_SECONDS = 60.0
STORAGE_RETRY_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
"""The longest pause between two tries of an update kept waiting."""
RETRY_TICK_SECONDS = 1.0
WATCHDOG_SECONDS = 5.0
"""How often the watchdog checks that updates are still being received."""
SET_WEBHOOK_PAUSES = (1.0, 3.0)
COMMANDS_RETRY_MAX_SECONDS = 300.0
SLOW_DOWNLOAD_BYTES = 2 * 1024 * 1024
"""Files larger than this take long enough to download that the chat shows "typing"."""
IN_FLIGHT = 32
"""Updates worked on at once, and HTTP connections; moderate, as httpcore's costs grow."""
ACK_KEYS = frozenset({"evidence.saved", "evidence.duplicate"})
"""The replies that acknowledge one evidence item (merged in albums and bursts)."""
_TAGS = re.compile(r"<[^>]+>")

log = logging.getLogger(__name__)


@dataclass
class Waiting:
    """An update kept in the inbox to be applied later, and when to try it again."""

    chat_id: int
    reason: str
    """``"download"`` (its file could not be fetched) or ``"storage"`` (not saved)."""
    tries: int = 0
    due: float = 0.0


@dataclass
class TelegramAdapter:
    core: Core
    salt: str = ""
    download_retry_seconds: float = DOWNLOAD_RETRY_SECONDS
    """How long a file that could not be fetched waits before the next try."""
    storage_retry_seconds: float = STORAGE_RETRY_SECONDS
    """How long an update that could not be saved waits before the first new try."""
    worker: bool = False
    """One of several worker processes (bot/workers.py): the inbox keeps each chat's order
    and the tries of an update; what is to be tried again is left in :attr:`retry`."""
    albums: AlbumAcks = field(init=False)

    def __post_init__(self) -> None:
        self.albums = AlbumAcks(self._send_album_ack)
        self.bot: Bot | None = None
        self.pacer: ChatPacer | None = None
        """The rate limiter, when it paces per chat: acknowledgements are merged while a chat
        waits for its turn."""
        self._tasks: set[asyncio.Task[object]] = set()
        self.waiting: dict[int, Waiting] = {}
        """Updates kept in the inbox to be tried again, by update id."""
        self.tries: dict[int, int] = {}
        """As a worker: how often each update in hand was tried before."""
        self.retry: dict[int, tuple[float, str]] = {}
        """As a worker: the updates in hand to try again, after how many seconds, and what
        they wait for ("download", "storage")."""

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Apply one update and send what the dialog answers."""
        handled = False
        try:
            handled = await self._apply(update, context)
        except StorageUnavailable as error:
            handled = True  # not applied, and kept in the inbox for the next try
            await self._wait(update, "storage", context.bot, str(error))
        finally:
            if not handled:  # applied updates left the inbox with their save
                try:
                    await self.core.storage.unjournal(CHANNEL, update_key(update.update_id))
                except StorageUnavailable:  # left in the inbox: skipped later as applied
                    log.warning("update %s not taken out of the inbox", update.update_id)

    async def _apply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Apply the update; return False if it needed no applying (nothing was saved)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != ChatType.PRIVATE:
            return False
        if chat.id != user.id:  # a private chat is the user's own: anything else is forged
            log.warning("update %s refused: its sender is not its private chat", update.update_id)
            return False
        self.bot = context.bot
        if self._held_back(update, chat.id):
            return True
        translated = to_event(update, self.core.clock())
        if translated is None:
            return False
        key = update_key(update.update_id)
        query = update.callback_query
        if query is not None:
            self._background(query.answer())  # stops the client's spinner; no need to wait
        if isinstance(translated, Incoming):
            incoming = translated
            if (incoming.file.size or 0) > SLOW_DOWNLOAD_BYTES:
                await context.bot.send_chat_action(chat.id, ChatAction.TYPING)

            def download() -> AsyncIterator[bytes]:
                return self._download(context, incoming.file_id)

            try:
                outs = await self._handle_file(user.id, download, incoming, key)
            except NetworkError as error:
                # Evidence in transit: not stored, so not said to be safe. It stays in the
                # inbox and is fetched again later (and after a restart).
                await self._wait(update, "download", context.bot, type(error).__name__)
                return True
        else:
            outs = await self.core.handle(
                CHANNEL, str(user.id), translated, update_key=key, escape=html.escape
            )
        self.waiting.pop(update.update_id, None)
        pressed = (
            query.message if query is not None and isinstance(query.message, Message) else None
        )
        await self.send(context.bot, chat.id, outs, pressed)
        return True

    def _held_back(self, update: Update, chat_id: int) -> bool:
        """Keep an update waiting behind an earlier one of its chat that could not be saved,
        so that the chat's updates are still applied in the order they were sent."""
        if self.worker:
            return False  # the inbox holds the chat's later updates back
        earlier = any(
            w.chat_id == chat_id and w.reason == "storage" and uid < update.update_id
            for uid, w in self.waiting.items()
        )
        if earlier and update.update_id not in self.waiting:
            self.waiting[update.update_id] = Waiting(chat_id, "storage", due=float("inf"))
        return earlier

    async def _wait(self, update: Update, reason: str, bot: Bot, cause: str) -> None:
        """Keep the update in the inbox for a later try (with a growing pause); tell the user
        the first time, truthfully: not saved yet, kept, tried again."""
        chat = update.effective_chat
        if chat is None:
            return
        first = self.download_retry_seconds if reason == "download" else self.storage_retry_seconds
        if self.worker:
            tries = self.tries.get(update.update_id, 0)
            pause = min(first * 2**tries, max(first, RETRY_MAX_SECONDS))
            self.retry[update.update_id] = (pause, reason)
        else:
            waiting = self.waiting.setdefault(update.update_id, Waiting(chat.id, reason))
            waiting.reason = reason
            tries = waiting.tries
            pause = min(first * 2**tries, max(first, RETRY_MAX_SECONDS))
            waiting.due = asyncio.get_running_loop().time() + pause
            waiting.tries += 1
        log.warning("update %s not applied (%s): trying again in %.1f s",
                    update.update_id, cause, pause)  # fmt: skip
        if tries > 0:
            return
        user = update.effective_user
        lang = self.core.content.index.pick_language(user.language_code if user else None)
        key = "evidence.download_pending" if reason == "download" else "error.saving_later"
        try:
            await bot.send_message(chat.id, self.core.content.text(key, lang))
        except TelegramError as error:
            log.warning("could not tell the user: %s", type(error).__name__)

    def unreadable(self, update_id: int, raw: dict[str, Any]) -> None:
        """Tell the sender of an update that could not be read (skipped by id) to send it
        again; only in a private chat that is the sender's own."""
        message = next((v for v in raw.values() if isinstance(v, dict)), {})
        chat, sender = message.get("chat"), message.get("from")
        if not isinstance(chat, dict) or not isinstance(sender, dict):
            return
        if chat.get("type") != ChatType.PRIVATE or chat.get("id") != sender.get("id"):
            return
        if self.bot is None or not isinstance(chat.get("id"), int):
            return
        code = sender.get("language_code")
        lang = self.core.content.index.pick_language(code if isinstance(code, str) else None)
        self._background(
            self.bot.send_message(chat["id"], self.core.content.text("error.unreadable", lang))
        )

    async def _handle_file(
        self,
        user_id: int,
        download: Callable[[], AsyncIterator[bytes]],
        incoming: Incoming,
        key: str,
    ) -> list[Out]:
        """Store the file and apply its event, trying the download again a few times."""
        for pause in (*DOWNLOAD_PAUSES, None):
            try:
                return await self.core.handle_file(
                    CHANNEL, str(user_id), download, incoming.file, incoming.event,
                    update_key=key, escape=html.escape,
                )  # fmt: skip
            except NetworkError:
                if pause is None:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def retry_waiting(self, application: Application) -> int:
        """Queue again, in their order, the waiting updates that are due; with a chat's first
        update go all its later ones held back behind it. Return how many."""
        now = asyncio.get_running_loop().time()
        chats = {w.chat_id for w in self.waiting.values() if w.due <= now}
        again = {uid for uid, w in self.waiting.items() if w.chat_id in chats}
        if not again:
            return 0
        queued = 0
        for _, payload in await self.core.storage.pending(CHANNEL):
            update = Update.de_json(json.loads(payload), application.bot)
            if update is not None and update.update_id in again:
                again.discard(update.update_id)
                await asyncio.Queue.put(application.update_queue, update)  # journaled already
                queued += 1
        for gone in again:  # applied meanwhile (or deleted with the user): nothing to retry
            self.waiting.pop(gone, None)
        return queued

    async def _download(
        self, context: ContextTypes.DEFAULT_TYPE, file_id: str
    ) -> AsyncIterator[bytes]:
        try:
            file = await context.bot.get_file(file_id)
        except BadRequest as error:
            if "too big" in error.message.lower():
                raise TooLarge(self.core.max_download_bytes) from None
            raise
        yield bytes(await file.download_as_bytearray())

    async def send(
        self, bot: Bot, chat_id: int, outs: Sequence[Out], pressed: Message | None = None
    ) -> None:
        """Send texts, keyboards and files in order; edit a toggled keyboard in place. An
        evidence acknowledgement is held and merged with the next ones when it belongs to an
        album or the chat is being paced (a burst of forwards)."""
        outs = list(outs)
        if pressed is not None:
            outs = await self._settle_pressed(bot, pressed, outs)
        for out in merge_short(outs):
            if isinstance(out, OutText) and out.key in ACK_KEYS and out.number is not None:
                duplicate = out.key == "evidence.duplicate"
                if out.group is not None:
                    self.albums.add(out.group, chat_id, out.lang, out.number, duplicate)
                    continue
                if self.albums.holds(chat_id) or self._paced(chat_id):
                    self.albums.add(f"burst:{chat_id}", chat_id, out.lang, out.number,
                                    duplicate, album=False, text=out.text)  # fmt: skip
                    continue
            await self.albums.flush_chat(chat_id)  # what is held goes first
            if isinstance(out, OutLater):
                await self._send_later(bot, chat_id, out)
            elif isinstance(out, OutFile):
                await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
                await bot.send_document(chat_id, InputFile(out.data, filename=out.name))
            else:
                await bot.send_message(
                    chat_id, out.text, parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(out), link_preview_options=NO_PREVIEW,
                )  # fmt: skip

    def _paced(self, chat_id: int) -> bool:
        """Whether a message to this chat would wait for its turn now."""
        return self.pacer is not None and self.pacer.ready_in(chat_id) > 0

    async def _send_later(self, bot: Bot, chat_id: int, later: OutLater) -> None:
        """Build slow files (the dossier) while a progress message counts up, then send them."""
        text = self.core.content.text
        status = await bot.send_message(
            chat_id, text("export.progress", later.lang, {"percent": 0})
        )
        shown = 0

        async def progress(done: int, total: int) -> None:
            nonlocal shown
            percent = 100 * done // max(total, 1)
            if percent - shown >= PROGRESS_STEP:
                shown = percent
                await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
                with contextlib.suppress(BadRequest):
                    await status.edit_text(
                        text("export.progress", later.lang, {"percent": percent})
                    )

        files = await later.build(progress)
        with contextlib.suppress(BadRequest):
            await status.edit_text(text("export.ready", later.lang, {"count": len(files)}))
        for file in files:
            await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
            await bot.send_document(chat_id, InputFile(file.data, filename=file.name))
        later.delivered()

    async def _settle_pressed(self, bot: Bot, pressed: Message, outs: list[Out]) -> list[Out]:
        """Edit the pressed message's keyboard when the answer is the same question (a
        toggle); otherwise take its keyboard away so old buttons are not pressed again."""
        first = outs[0] if outs else None
        same = (
            isinstance(first, OutText)
            and first.buttons
            and _plain(first.text) == _plain(pressed.text or "")
        )
        markup = keyboard(first) if same and isinstance(first, OutText) else None
        edit = self._edit_markup(bot, pressed, markup)
        if same:
            await edit  # the edited keyboard is the answer
            return outs[1:]
        self._background(edit)  # tidying an old message need not delay the answer
        return outs

    async def _edit_markup(
        self, bot: Bot, message: Message, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await bot.edit_message_reply_markup(
                chat_id=message.chat_id, message_id=message.message_id, reply_markup=markup
            )
        except BadRequest as error:
            if "not modified" not in error.message:
                raise

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        """Run a side task (answering a button press, tidying a keyboard) without waiting."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("side request failed: %s", type(task.exception()).__name__)

    async def _send_album_ack(self, held: Held) -> None:
        bot, chat_id, lang = self.bot, held.chat_id, held.lang
        if bot is None:
            return
        if not held.album and len(held.texts) == 1:
            texts = list(held.texts)  # one item after all: its own acknowledgement
        else:
            texts = []
            if held.saved:
                key = "evidence.album_saved" if held.album else "evidence.burst_saved"
                texts.append(self.core.content.text(
                    key, lang, {"count": len(held.saved), "numbers": _numbers(held.saved)}
                ))  # fmt: skip
            if held.duplicates:
                texts.append(self.core.content.text(
                    "evidence.album_duplicates", lang, {"numbers": _numbers(held.duplicates)}
                ))  # fmt: skip
        try:
            await bot.send_message(chat_id, "\n".join(texts), parse_mode=ParseMode.HTML)
        except Forbidden:
            log.info("album acknowledgement not delivered: bot blocked")

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error's type and where it happened (never content); tell the user."""
        error = context.error
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        if isinstance(update, Update) and update.effective_user is not None:
            who = user_ref(CHANNEL, str(update.effective_user.id), self.salt)
            log.error("update %s for user %s failed: %s\n%s", update.update_id, who,
                      type(error).__name__, frames)  # fmt: skip
        else:
            log.error("error outside an update: %s\n%s", type(error).__name__, frames)
        if isinstance(error, Forbidden) or not isinstance(update, Update):
            return
        if self.worker and isinstance(error, StorageError | psycopg.Error):
            # the database, not the update: kept in the inbox and tried again later
            await self._wait(update, "storage", context.bot, type(error).__name__)
            return
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        lang = self.core.content.index.pick_language(
            update.effective_user.language_code if update.effective_user else None
        )
        try:
            await context.bot.send_message(chat.id, self.core.content.text("error.generic", lang))
        except Exception as second:
            log.error("could not report the error to the user: %s", type(second).__name__)

    async def set_commands(self, application: Application) -> None:
        """Register the command menu in each language (and Spanish as the default)."""
        content = self.core.content
        for lang in content.index.languages:
            commands = [BotCommand(c, content.text(f"commands.{c}", lang)) for c in COMMANDS]
            await application.bot.set_my_commands(commands, language_code=telegram_code(lang))
            if lang == content.index.languages[0]:
                await application.bot.set_my_commands(commands)


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def telegram_code(lang: str) -> str:
    """Return the language code Telegram clients report for one of our languages: its
    primary subtag ("zh-Hans" -> "zh"), as Telegram takes ISO 639-1 codes."""
    return lang.split("-")[0].lower()


def keyboard(out: OutText | None) -> InlineKeyboardMarkup | None:
    """Lay out the buttons: short labels two per row, long ones alone."""
    if out is None or not out.buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for option_id, label in out.buttons:
        button = InlineKeyboardButton(
            html.unescape(label), callback_data=encode_callback(out.case, option_id)
        )
        short = len(label) <= 12
        if short and rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= 12:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)


def _plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text)).strip()


def _numbers(numbers: list[int]) -> str:
    return ", ".join(f"#{n}" for n in sorted(numbers))


def build_application(
    settings: Settings,
    adapter: TelegramAdapter,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[int] | None = None,
    role: str = "single",
) -> Application:
    """Build the application from settings and register every handler, in one place.

    ``role``: ``"single"`` receives and applies; ``"receiver"`` only records what it
    receives in the inbox (for the workers); ``"worker"`` receives nothing and applies what
    it is handed (bot/workers.py)."""
    assert settings.telegram_bot_token is not None
    limiter = rate_limiter or ChatPacer()
    adapter.pacer = limiter if isinstance(limiter, ChatPacer) else None
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .concurrent_updates(PerChatOrderedProcessor(in_flight=IN_FLIGHT))
        .rate_limiter(limiter)
        .request(request or HTTPXRequest(connection_pool_size=IN_FLIGHT, read_timeout=30))
        .get_updates_request(SkipUnreadable(
            get_updates_request or HTTPXRequest(read_timeout=60), adapter.unreadable
        ))
        .update_queue(JournalingQueue(
            adapter.core.storage, CHANNEL, adapter.unreadable, apply_here=role == "single"
        ))
    )  # fmt: skip
    if role == "worker":
        builder = builder.updater(None)
    application = builder.build()
    adapter.bot = application.bot
    application.add_handler(TypeHandler(Update, adapter.on_update))
    application.add_error_handler(adapter.on_error)
    return application


def start_failure(error: BaseException, settings: Settings) -> StartFailed:
    """Name the real cause of a failed start (never the token)."""
    detail = redact(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    if isinstance(error, InvalidToken):
        return StartFailed("console.start_bad_token")
    if isinstance(error, NetworkError):
        return StartFailed(
            "console.start_unreachable", url=settings.telegram_api_base_url, error=detail
        )
    if isinstance(error, OSError):
        address = f"{settings.webhook_listen}:{settings.webhook_port}"
        return StartFailed("console.start_cannot_listen", address=address, error=detail)
    return StartFailed("console.start_failed", error=detail)


def run_telegram(settings: Settings, role: str = "single") -> int:
    """Run the bot on Telegram until interrupted: webhook if configured, else polling.
    ``role="receiver"``: only receive, record for the workers, and send the reminders.
    Raise :class:`StartFailed` if it cannot start."""

    async def main() -> None:
        async with open_core(settings, shared=role != "single") as core:
            configured = settings.log_salt.get_secret_value() if settings.log_salt else None
            salt = log_salt(configured, settings.data_dir)
            adapter = TelegramAdapter(core, salt=salt)
            pacing = None
            if role != "single" and isinstance(settings.database, str):
                pacing = await SharedPacing.open(settings.database)  # with the workers
            application = build_application(
                settings, adapter, role=role, rate_limiter=ChatPacer(shared=pacing)
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            from bot.web_channels import web_channels

            channels: list[WebChannel] = web_channels(
                core, settings, salt, role=role, pacing=pacing
            )
            started = False
            try:
                async with (
                    running(application, adapter, settings, channels=channels),
                    reading(core, settings.ocr and role == "single"),
                ):
                    started = True
                    await stop.wait()
            except Exception as error:
                if started:
                    raise
                log.error("start failed: %s", type(error).__name__)
                raise start_failure(error, settings) from None
            finally:
                if pacing is not None:
                    await pacing.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


@asynccontextmanager
async def running(
    application: Application,
    adapter: TelegramAdapter,
    settings: Settings,
    *,
    poll_interval: float = 0.0,
    poll_timeout: int = 10,
    watchdog_seconds: float = WATCHDOG_SECONDS,
    channels: Sequence[WebChannel] = (),
) -> AsyncIterator[None]:
    """Start the application (commands menu, then polling or webhook); stop it after. While
    it runs, a watchdog starts receiving again if the polling task or web server dies.
    ``channels`` (WhatsApp) are served by the same web app as the webhook, or by a web app
    of their own beside polling."""
    async with application:
        queue = application.update_queue
        if isinstance(queue, JournalingQueue):
            replayed = await queue.replay(application.bot)
            log.info("updates fetched before the last stop and queued again: %d", replayed)
        receiver: Receiver
        more = [route for channel in channels for route in channel.routes()]
        beside: WebServer | None = None
        if settings.webhook_url:
            assert isinstance(queue, JournalingQueue)
            receiver = Webhook(application, queue, settings, more=more)
        else:
            assert application.updater is not None
            receiver = Polling(application.updater, poll_interval, poll_timeout)
            if more:
                app = web_app({}, adapter.core.storage.ping, more=more)
                beside = WebServer(app, settings.webhook_listen, settings.webhook_port)
        await application.start()
        tasks: list[asyncio.Task[None]] = []
        started: list[WebChannel] = []
        try:
            tasks.append(asyncio.create_task(_commands_menu(application, adapter)))
            await receiver.start()
            if beside is not None:
                await beside.start()
            for channel in channels:
                await channel.start()
                started.append(channel)
            tasks += [
                asyncio.create_task(_watchdog(receiver, watchdog_seconds)),
                asyncio.create_task(
                    housekeeping(
                        adapter.core, [TelegramReminders(application, adapter), *channels]
                    )
                ),
                asyncio.create_task(_retry_waiting(application, adapter)),
            ]
            yield
        finally:
            for task in tasks:
                task.cancel()
            for channel in started:
                await channel.stop()
            if beside is not None:
                await beside.stop()
            await receiver.stop()
            await adapter.albums.drain()
            await application.stop()


class Receiver(Protocol):
    """How updates come in: long polling or a webhook."""

    async def start(self) -> None: ...
    def alive(self) -> bool: ...
    def failure(self) -> str: ...
    async def stop(self) -> None: ...


class Polling:
    """python-telegram-bot's polling, watched: its task is private, and a polling task that
    ended on an error is set aside so that polling can start again."""

    def __init__(self, updater: Updater, interval: float, timeout: int) -> None:
        self.updater, self.interval, self.timeout = updater, interval, timeout

    def _task(self) -> asyncio.Task[None] | None:
        return getattr(self.updater, "_Updater__polling_task", None)

    async def start(self) -> None:
        await self.updater.start_polling(
            poll_interval=self.interval, timeout=self.timeout, allowed_updates=Update.ALL_TYPES
        )

    def alive(self) -> bool:
        task = self._task()
        return self.updater.running and task is not None and not task.done()

    def failure(self) -> str:
        task = self._task()
        if task is None or not task.done() or task.cancelled():
            return "stopped"
        error = task.exception()
        return type(error).__name__ if error else "stopped"

    async def stop(self) -> None:
        task = self._task()
        if task is not None and task.done():  # awaiting it again would raise its error again
            self.updater._Updater__polling_task = None  # type: ignore[attr-defined]
        if self.updater.running:
            await self.updater.stop()


class Webhook:
    """Our web app on ``WEBHOOK_LISTEN:WEBHOOK_PORT``, and the webhook set at Telegram."""

    def __init__(
        self,
        application: Application,
        queue: JournalingQueue,
        settings: Settings,
        *,
        more: Sequence[Route] = (),
    ) -> None:
        if settings.webhook_secret is None:
            raise SystemExit("WEBHOOK_SECRET is required with WEBHOOK_URL (see .env.example)")
        assert settings.webhook_url is not None
        self.bot = application.bot
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret.get_secret_value()

        async def accept(raw: dict[str, Any]) -> None:
            await queue.accept(raw, application.bot, JOURNAL_PATIENCE_SECONDS)

        path = "/" + urlparse(self.url).path.lstrip("/")
        app = web_app({path: telegram_endpoint(self.secret, accept)}, queue.storage.ping, more)
        self.server = WebServer(
            app, settings.webhook_listen, settings.webhook_port, share_port=not queue.apply_here
        )
        self._registered = False

    async def start(self) -> None:
        await self.server.start()
        for pause in (*SET_WEBHOOK_PAUSES, None):
            if self._registered:
                break
            try:
                await self.bot.set_webhook(
                    self.url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES
                )
                self._registered = True
            except NetworkError as error:
                if pause is None:
                    await self.server.stop()
                    raise
                log.error("webhook not set (%s); trying again in %.0f s",
                          type(error).__name__, pause)  # fmt: skip
                await asyncio.sleep(pause)

    def alive(self) -> bool:
        return self.server.alive()

    def failure(self) -> str:
        return self.server.failure()

    async def stop(self) -> None:
        await self.server.stop()


async def _watchdog(receiver: Receiver, interval: float) -> None:
    """Start receiving again when the polling task or the web server has died."""
    while True:
        await asyncio.sleep(interval)
        if receiver.alive():
            continue
        log.error("receiving updates stopped (%s): starting again", receiver.failure())
        try:
            await receiver.stop()
            await receiver.start()
            log.info("receiving updates again")
        except Exception as error:
            log.error("receiving updates could not start again (%s); next try in %.0f s",
                      type(error).__name__, interval)  # fmt: skip


async def _commands_menu(application: Application, adapter: TelegramAdapter) -> None:
    """Register the command menu beside the start: the bot answers without it, so a failure
    is logged and retried with a growing pause instead of stopping the bot."""
    pause = 1.0
    while True:
        try:
            await adapter.set_commands(application)
            return
        except Exception as error:
            log.error("command menu not registered (%s); retrying in %.0f s",
                      type(error).__name__, pause)  # fmt: skip
            await asyncio.sleep(pause)
            pause = min(pause * 2, COMMANDS_RETRY_MAX_SECONDS)


async def _retry_waiting(application: Application, adapter: TelegramAdapter) -> None:
    """Try again the updates kept waiting (files not fetched, updates not saved) when due."""
    while True:
        await asyncio.sleep(RETRY_TICK_SECONDS)
        try:
            again = await adapter.retry_waiting(application)
            if again:
                log.info("updates tried again: %d", again)
        except Exception as error:
            log.error("trying waiting updates again failed: %s", type(error).__name__)


@dataclass
class TelegramReminders:
    """Telegram's part of the housekeeping: its users' due reminders, sent as any reply."""

    application: Application
    adapter: TelegramAdapter

    async def remind(self) -> int:
        sent = 0
        for _, user_id, outs in await self.adapter.core.remind(CHANNEL):
            await self.adapter.send(self.application.bot, int(user_id), outs)
            sent += 1
        return sent
