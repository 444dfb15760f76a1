"""The housekeeping every process that receives runs once, for all its channels: each
channel's due reminders (every minute), and forgetting the keys of applied updates once no
platform redelivers them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, Protocol

from bot.core import Core

REMINDER_POLL_SECONDS: Final = 60.0
KEEP_UPDATE_KEYS_DAYS: Final = 10
"""Telegram redelivers for about a day, Meta for up to 7 days, WeChat within seconds."""
PRUNE_EVERY: Final = timedelta(hours=1)

log = logging.getLogger(__name__)


class Reminding(Protocol):
    """A channel that delivers its users' due reminders its own way."""

    async def remind(self) -> int: ...


async def housekeeping(
    core: Core, channels: Sequence[Reminding], *, every: float = REMINDER_POLL_SECONDS
) -> None:
    """Run until cancelled; a failure is logged (its type) and tried again next time."""
    last_prune: datetime | None = None
    while True:
        for channel in channels:
            try:
                await channel.remind()
            except Exception as error:
                log.error("reminders failed (%s): %s", type(channel).__name__,
                          type(error).__name__)  # fmt: skip
        if last_prune is None or core.clock() - last_prune > PRUNE_EVERY:
            try:
                last_prune = core.clock()
                await core.storage.forget_processed(
                    last_prune - timedelta(days=KEEP_UPDATE_KEYS_DAYS)
                )
            except Exception as error:
                log.error("housekeeping failed: %s", type(error).__name__)
        await asyncio.sleep(every)
