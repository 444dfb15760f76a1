"""Running the WeChat channel: the callback (``GET``/``POST /wechat``), the applier, delivery.

WeChat calls the callback with each message and waits 5 seconds for the answer, which is the
only way an unverified account can write to its user (one passive text per message); without
an answer it drops the connection and sends the message again, three times in all. So:

1. the signature (and in safe mode the encryption) is checked, then the message is journaled
   under its ``MsgId`` and queued for the user's applier, as on every channel;
2. the request waits up to :data:`PASSIVE_SECONDS` for the result and answers with it as a
   passive reply (encrypted in safe mode), at most 2048 bytes;
3. a result that comes later, or does not fit, goes out as customer-service messages on a
   verified account (five within 48 hours of the user's message), and otherwise waits, in
   memory, for the user's next message, whose reply it precedes;
4. a repeated message (WeChat's retry) waits for the same result, or gets ``success`` once
   it was answered.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.chat_order import ChatOrder
from bot.core import Core
from bot.settings import Settings
from bot.storage import StorageUnavailable
from bot.web import JOURNAL_PATIENCE_SECONDS, TooLarge, read_capped
from bot.wechat.adapter import CHANNEL, LANG, Inbound, WeChatAdapter, plain
from bot.wechat.client import OUT_OF_QUOTA, WeChatClient, WeChatError
from bot.wechat.crypto import Codec, InvalidMessage, signature_ok
from bot.wechat.messages import NotAMessage, dedupe_key, parse, split_bytes, text_reply

PATH: Final = "/wechat"
PASSIVE_SECONDS: Final = 4.0
"""How long a callback waits for the answer (WeChat gives up at 5 seconds)."""
MAX_BODY: Final = 64 * 1024
CUSTOMER_SERVICE_MESSAGES: Final = 5
CUSTOMER_SERVICE_WINDOW: Final = timedelta(hours=47)
"""Customer-service messages may follow the user's message for 48 hours (a margin kept)."""

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    result: asyncio.Future[list[str]]
    abandoned: bool = False
    """The callback stopped waiting: the result is delivered later instead."""


@dataclass
class WeChatChannel:
    core: Core
    settings: Settings
    salt: str = ""
    passive_seconds: float = PASSIVE_SECONDS
    _waiting: dict[str, _Waiting] = field(default_factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        assert self.settings.wechat_token and self.settings.wechat_app_id
        assert self.settings.wechat_app_secret
        self.verified = self.settings.wechat_account == "verified"
        self.client = WeChatClient(
            self.settings.wechat_app_id,
            self.settings.wechat_app_secret.get_secret_value(),
            base_url=self.settings.wechat_api_base_url,
        )
        self.adapter = WeChatAdapter(
            self.core, self.client, verified=self.verified, salt=self.salt
        )
        self.order: ChatOrder[Inbound] = ChatOrder(self._apply, self._failed)
        key = self.settings.wechat_encoding_aes_key
        token = self.settings.wechat_token.get_secret_value()
        self.codec = (
            Codec(token, key.get_secret_value(), self.settings.wechat_app_id) if key else None
        )

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.verify_url, methods=["GET"]),
            Route(PATH, self.receive, methods=["POST"]),
        ]

    async def start(self) -> None:
        if not self.verified:
            log.warning(
                "WeChat account not verified: one passive text reply per user message, "
                "images only by PicUrl, no voice notes or videos, no messages later"
            )
        pending = await self.core.storage.pending(CHANNEL)
        for _, payload in pending:
            inbound = Inbound.from_payload(payload)
            self.order.submit(inbound.user, inbound)
        if self.verified:
            await self._menu()

    async def stop(self) -> None:
        await self.order.close()
        if self._tasks:  # answers being sent or kept: let them finish
            await asyncio.wait(self._tasks, timeout=10)
        await self.client.close()

    async def remind(self) -> int:
        """Send due reminders where the account may write (verified, within the 48 hours
        after the user's last message); elsewhere they wait for the user's next message.
        Return to how many users they went."""
        sent = 0
        for _, user, outs in await self.core.remind(CHANNEL, reachable=self._reachable):
            texts = await self.adapter.render(user, outs)
            await self._later_async(user, [p for text in texts for p in split_bytes(text)])
            sent += 1
        return sent

    async def _reachable(self, user: str) -> bool:
        if not self.verified:
            return False
        conv = await self.core.storage.load(CHANNEL, user, shared=True)
        acts = [case.updated_at for case in conv.cases] if conv is not None else []
        return bool(acts) and self.core.clock() - max(acts) < CUSTOMER_SERVICE_WINDOW

    # -- the callback ---------------------------------------------------------------------------

    def _token(self) -> str:
        assert self.settings.wechat_token is not None
        return self.settings.wechat_token.get_secret_value()

    async def verify_url(self, request: Request) -> Response:
        query = request.query_params
        parts = (self._token(), query.get("timestamp", ""), query.get("nonce", ""))
        if not signature_ok(parts, query.get("signature")):
            log.warning("WeChat URL check with a wrong signature refused")
            return Response(status_code=403)
        return PlainTextResponse(query.get("echostr", ""))

    async def receive(self, request: Request) -> Response:
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not signature_ok((self._token(), timestamp, nonce), query.get("signature")):
            log.warning("WeChat message with a wrong signature refused")
            return Response(status_code=403)
        try:
            body = (await read_capped(request, MAX_BODY)).decode("utf-8")
            outer = parse(body)
            if self.codec is not None:
                xml = self.codec.decrypt(
                    outer.get("Encrypt", ""),
                    timestamp=timestamp,
                    nonce=nonce,
                    msg_signature=query.get("msg_signature", ""),
                )
                message = parse(xml)
            else:
                message = outer
        except TooLarge:
            return Response(status_code=413)
        except (InvalidMessage, NotAMessage, UnicodeDecodeError):
            log.warning("WeChat message that could not be read refused")
            return Response(status_code=400)
        user, account = message.get("FromUserName", ""), message.get("ToUserName", "")
        if not user:
            return _success()
        inbound = Inbound(dedupe_key(message), user, message)
        waiting = self._waiting.get(inbound.key)
        if waiting is None:
            if await self.core.storage.is_processed(CHANNEL, inbound.key):
                return _success()  # a retry of a message already answered
            waiting = _Waiting(asyncio.get_running_loop().create_future())
            self._waiting[inbound.key] = waiting
            try:
                await self._journal(inbound)
            except StorageUnavailable:
                self._waiting.pop(inbound.key, None)
                return Response(status_code=500)  # not recorded: WeChat sends it again
            self.order.submit(user, inbound)
        try:
            texts = await asyncio.wait_for(asyncio.shield(waiting.result), self.passive_seconds)
        except TimeoutError:
            if waiting.result.done():
                texts = waiting.result.result()
            else:
                waiting.abandoned = True  # the applier delivers it when done
                return _success()
        self._waiting.pop(inbound.key, None)
        held = await self.core.storage.take_held(CHANNEL, user)
        return self._passive(user, account, [*held, *texts], timestamp, nonce)

    def _passive(
        self, user: str, account: str, texts: list[str], timestamp: str, nonce: str
    ) -> Response:
        pieces = [piece for text in texts for piece in split_bytes(text)]
        if not pieces:
            return _success()
        reply, rest = self._fit(pieces)
        if rest:
            self._later(user, rest)
        xml = text_reply(user, account, reply)
        if self.codec is not None:
            stamp, once = str(int(time.time())), secrets.token_hex(8)
            xml = self.codec.encrypt(xml, timestamp=stamp, nonce=once)
        return Response(xml, media_type="application/xml")

    def _fit(self, pieces: list[str]) -> tuple[str, list[str]]:
        """As many whole pieces as fit one passive reply; the rest, with a hint to read on."""
        reply = pieces[0]
        taken = 1
        for piece in pieces[1:]:
            joined = f"{reply}\n\n{piece}"
            if len(joined.encode("utf-8")) > 2048:
                break
            reply, taken = joined, taken + 1
        rest = pieces[taken:]
        if rest and not self.verified:
            hint = plain(self.core.content.text("wechat.more", LANG))
            if len(f"{reply}\n\n{hint}".encode()) <= 2048:
                reply = f"{reply}\n\n{hint}"
        return reply, rest

    async def _journal(self, inbound: Inbound) -> None:
        seq = time.time_ns() // 1000
        pause, waited = 0.25, 0.0
        while True:
            try:
                await self.core.storage.journal(
                    CHANNEL, [(inbound.key, seq, inbound.payload(), inbound.user)]
                )
                return
            except StorageUnavailable:
                if waited + pause > min(JOURNAL_PATIENCE_SECONDS, self.passive_seconds):
                    raise
                await asyncio.sleep(pause)
                waited += pause
                pause *= 2

    # -- applying and delivering ------------------------------------------------------------------

    async def _apply(self, inbound: Inbound) -> None:
        texts = await self.adapter.apply(inbound)
        await self._deliver(inbound, texts)

    async def _failed(self, inbound: Inbound, error: BaseException) -> None:
        await self.core.storage.unjournal(CHANNEL, inbound.key)
        await self._deliver(inbound, self.adapter.failed_texts(inbound, error))

    async def _deliver(self, inbound: Inbound, texts: list[str]) -> None:
        waiting = self._waiting.get(inbound.key)
        if waiting is not None and not waiting.abandoned and not waiting.result.done():
            waiting.result.set_result(texts)  # the callback still waits: a passive reply
            return
        self._waiting.pop(inbound.key, None)
        if texts:
            await self._later_async(inbound.user, [p for t in texts for p in split_bytes(t)])

    async def _later_async(self, user: str, pieces: list[str]) -> None:
        """Texts the passive reply could not carry: customer-service messages on a verified
        account (sent beside), else kept in the storage for the user's next message."""
        if self.verified:
            self._later(user, pieces)
        else:
            await self.core.storage.hold(CHANNEL, user, pieces)

    def _later(self, user: str, pieces: list[str]) -> None:
        """The same, from where nothing may wait (a reply being built): in the background."""
        task = asyncio.create_task(self._send_later(user, pieces))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_later(self, user: str, pieces: list[str]) -> None:
        index = 0
        if self.verified:
            for index, piece in enumerate(pieces):  # noqa: B007 (the index is used after)
                try:
                    await self.client.send_text(user, piece)
                except (WeChatError, OSError) as error:
                    code = error.code if isinstance(error, WeChatError) else type(error).__name__
                    if isinstance(error, WeChatError) and error.code not in OUT_OF_QUOTA:
                        log.error("WeChat customer-service message not sent (%s)", code)
                    break
            else:
                return
        try:
            await self.core.storage.hold(CHANNEL, user, pieces[index:])
        except Exception as error:
            log.error("WeChat answer could not be kept for later: %s", type(error).__name__)

    async def _menu(self) -> None:
        text = self.core.content.text
        menu = {"button": [
            {"type": "pic_photo_or_album", "name": text("wechat.menu.evidence", LANG),
             "key": "evidence"},
            {"type": "click", "name": text("wechat.menu.status", LANG), "key": "status"},
            {"type": "click", "name": text("wechat.menu.help", LANG), "key": "help"},
        ]}  # fmt: skip
        try:
            await self.client.create_menu(menu)
        except (WeChatError, OSError) as error:
            log.warning("WeChat menu not set (%s)", getattr(error, "code", type(error).__name__))


def _success() -> Response:
    return PlainTextResponse("success")
