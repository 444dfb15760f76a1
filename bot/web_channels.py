"""The channels that arrive by webhook besides Telegram (WhatsApp, WeChat), and running them
without Telegram (``python -m bot web``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Protocol

from starlette.routing import Route

from bot.app import StartFailed, open_core
from bot.core import Core
from bot.housekeeping import housekeeping
from bot.logs import log_salt
from bot.pacing import SharedPacing
from bot.reading import reading
from bot.settings import Settings
from bot.web import WebServer, web_app

log = logging.getLogger(__name__)


class WebChannel(Protocol):
    """A channel served by the web app: its routes, started after them."""

    def routes(self) -> list[Route]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def remind(self) -> int: ...


def web_channels(
    core: Core,
    settings: Settings,
    salt: str,
    *,
    role: str = "single",
    pacing: SharedPacing | None = None,
) -> list[WebChannel]:
    """The configured ones. A receiver (``role="receiver"``) records WhatsApp's messages
    for the workers and sends the reminders, paced with them through ``pacing``; WeChat,
    whose answer goes back in the request, runs in one process."""
    channels: list[WebChannel] = []
    if settings.whatsapp:
        from bot.whatsapp.app import WhatsAppChannel

        here = role == "single"
        channels.append(WhatsAppChannel(core, settings, salt=salt, apply_here=here, pacing=pacing))
    if settings.wechat and role == "single":
        from bot.wechat.app import WeChatChannel

        channels.append(WeChatChannel(core, settings, salt=salt))
    elif settings.wechat:
        log.warning("WeChat is configured but not served here: its answer goes back within "
                    "WeChat's request, so it runs in one process (python -m bot web)")  # fmt: skip
    return channels


def run_web(settings: Settings, role: str = "single") -> int:
    """Serve the webhook channels without Telegram until SIGINT or SIGTERM; StartFailed if
    the web app cannot listen. ``role="receiver"`` (PostgreSQL): record WhatsApp's messages
    for the workers and send the reminders, paced with the workers."""

    async def main() -> None:
        async with (
            open_core(settings, shared=role != "single") as core,
            contextlib.AsyncExitStack() as stack,
        ):
            pacing = None
            if role != "single" and isinstance(settings.database, str):
                pacing = await SharedPacing.open(settings.database)  # with the workers
                stack.push_async_callback(pacing.close)
            configured = settings.log_salt.get_secret_value() if settings.log_salt else None
            salt = log_salt(configured, settings.data_dir)
            channels = web_channels(core, settings, salt, role=role, pacing=pacing)
            routes = [route for channel in channels for route in channel.routes()]
            server = WebServer(
                web_app({}, core.storage.ping, more=routes),
                settings.webhook_listen,
                settings.webhook_port,
            )
            try:
                await server.start()
            except OSError as error:
                address = f"{settings.webhook_listen}:{settings.webhook_port}"
                raise StartFailed("console.start_cannot_listen", address=address,
                                  error=f"{type(error).__name__}: {error}") from None  # fmt: skip
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            chores: asyncio.Task[None] | None = None
            try:
                for channel in channels:
                    await channel.start()
                chores = asyncio.create_task(housekeeping(core, channels))
                await stack.enter_async_context(reading(core, settings.ocr and role == "single"))
                log.info("webhook channels ready on %s:%d", settings.webhook_listen, server.port)
                await stop.wait()
            finally:
                if chores is not None:
                    chores.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await chores
                await server.stop()
                for channel in channels:
                    await channel.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
