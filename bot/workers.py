"""``python -m bot worker``: one of several processes that apply Telegram updates.

With ``DATABASE_URL`` on PostgreSQL, one receiver (``python -m bot receiver``: long polling
or the webhook) records every update in the inbox and sends the reminders; any number of
workers, on this machine or others sharing the data directory, apply them
(bot/workqueue.py): each chat's updates in order, each once, none lost when a worker dies.
A worker runs the same adapter as the single process, without receiving anything: it hands
each claimed update to python-telegram-bot's ``process_update`` and sends the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import StartFailed, open_core
from bot.core import Core
from bot.logs import log_salt
from bot.pacing import SharedPacing
from bot.reading import reading
from bot.settings import Settings
from bot.telegram.app import CHANNEL, IN_FLIGHT, TelegramAdapter, build_application
from bot.telegram.inbox import skip
from bot.telegram.pacing import ChatPacer
from bot.workqueue import Handler, Job, WorkQueue, work

log = logging.getLogger(__name__)


def postgres_url(settings: Settings) -> str:
    """The PostgreSQL URL the receiver and workers share; StartFailed without one."""
    database = settings.database
    if not isinstance(database, str):
        raise StartFailed("console.workers_need_postgres")
    return database


def job_handler(application: Application, adapter: TelegramAdapter) -> Handler:
    """Apply one claimed update through the application; keep it for a later try if the
    adapter asks for one."""

    async def handle(job: Job) -> None:
        raw = json.loads(job.payload)
        try:  # the receiver recorded it as it came; it is read here for the first time
            update = Update.de_json(raw, application.bot)
        except Exception:  # any failure to read it is the same to us: skip it
            skip(raw, adapter.unreadable)
            return
        if update is None:
            return
        adapter.tries[update.update_id] = job.tries
        try:
            await application.process_update(update)
        finally:
            adapter.tries.pop(update.update_id, None)
            retry = adapter.retry.pop(update.update_id, None)
            if retry is not None:
                job.retry_in, job.waiting = retry

    return handle


def run_worker(settings: Settings, *, slots: int = IN_FLIGHT) -> int:
    """Apply updates from the inbox until SIGINT or SIGTERM: Telegram's when a token is set,
    WhatsApp's when it is configured."""
    url = postgres_url(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with open_core(settings, shared=True) as core:
            pacing = await SharedPacing.open(url)
            async with contextlib.AsyncExitStack() as stack:
                jobs = []
                telegram = None
                if settings.telegram_bot_token is not None:
                    telegram = await _telegram_work(
                        stack, core, settings, url, slots, stop, pacing
                    )
                    jobs.append(telegram[0])
                if settings.whatsapp:
                    jobs.append(
                        await _whatsapp_work(stack, core, settings, url, slots, stop, pacing)
                    )
                await stack.enter_async_context(reading(core, settings.ocr))
                log.info("worker ready: %d updates at a time per channel", slots)
                await asyncio.gather(*jobs)
                if telegram is not None:
                    await telegram[1].albums.drain()
            await pacing.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


async def _telegram_work(
    stack: contextlib.AsyncExitStack,
    core: Core,
    settings: Settings,
    url: str,
    slots: int,
    stop: asyncio.Event,
    pacing: SharedPacing,
) -> tuple[Coroutine[Any, Any, None], TelegramAdapter]:
    """Telegram's updates, recorded by the receiver, applied here through the application."""
    configured = settings.log_salt.get_secret_value() if settings.log_salt else None
    adapter = TelegramAdapter(core, salt=log_salt(configured, settings.data_dir))
    adapter.worker = True
    application = build_application(
        settings, adapter, role="worker", rate_limiter=ChatPacer(shared=pacing)
    )
    await stack.enter_async_context(application)
    queue = await stack.enter_async_context(WorkQueue.open(url, CHANNEL, slots=slots))
    return work(queue, job_handler(application, adapter), slots=slots, stop=stop), adapter


async def _whatsapp_work(
    stack: contextlib.AsyncExitStack,
    core: Core,
    settings: Settings,
    url: str,
    slots: int,
    stop: asyncio.Event,
    pacing: SharedPacing,
) -> Coroutine[Any, Any, None]:
    """WhatsApp's messages, recorded by the receiver, applied here like Telegram's."""
    from bot.whatsapp.adapter import CHANNEL as WHATSAPP
    from bot.whatsapp.adapter import WhatsAppAdapter, whatsapp_pacer
    from bot.whatsapp.app import graph_client
    from bot.whatsapp.app import job_handler as whatsapp_handler

    client = graph_client(settings)
    stack.push_async_callback(client.close)
    configured = settings.log_salt.get_secret_value() if settings.log_salt else None
    adapter = WhatsAppAdapter(core, client, salt=log_salt(configured, settings.data_dir))
    adapter.pacer = whatsapp_pacer(pacing)  # paced with the other workers and the receiver
    queue = await stack.enter_async_context(WorkQueue.open(url, WHATSAPP, slots=slots))
    return work(queue, whatsapp_handler(adapter), slots=slots, stop=stop)
