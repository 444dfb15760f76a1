"""No update lost between fetching and applying it.

python-telegram-bot confirms a batch of updates to Telegram (the next getUpdates offset)
as soon as it has put them in its update queue, and a webhook answers 200 at the same
moment; an update still waiting in memory when the process dies would be gone. This queue
writes each update to the storage's inbox before it enters the queue; the adapter removes
it once applied, and at start-up whatever is left is queued again, in order. Updates
applied already are recognised by their key and skipped, so nothing is applied twice.

When the inbox cannot be written (the database locked by another program, the disk full),
the update is not confirmed: the queue logs the failure (its type and the update's id,
nothing more) and tries again, pausing longer each time, while the updates already queued
go on being applied. An update that can never be stored (text that is not valid Unicode)
is handed to ``on_unreadable`` and left out, so that it is confirmed and not fetched again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, Update

from bot.storage import Storage, StorageUnavailable
from bot.telegram.ordering import chat_key, raw_chat_key

JOURNAL_FIRST_PAUSE = 0.5
JOURNAL_MAX_PAUSE = 30.0

log = logging.getLogger(__name__)


def update_key(update_id: int) -> str:
    """Return the key under which an update is recorded as applied."""
    return f"update:{update_id}"


def update_kind(update: object) -> str:
    """Return what an update carries ("message", "callback_query"...), never its content."""
    if not isinstance(update, dict):
        return "not an object"
    kinds = sorted(key for key in update if key != "update_id")
    return kinds[0] if kinds else "empty"


def readable(update: Any) -> bool:
    """Whether python-telegram-bot can parse the update and its text can be stored."""
    try:
        json.dumps(update, ensure_ascii=False).encode("utf-8")  # lone surrogates fail here
        Update.de_json(update, None)
    except Exception:  # any failure to read it is the same to us: skip it
        return False
    return True


def skip(raw: dict[str, Any], tell: Callable[[int, dict[str, Any]], None] | None) -> None:
    """Leave out an update that cannot be read: log its id and kind (never its content) and
    have its sender told."""
    log.error("update %d (%s) could not be read and was skipped",
              raw["update_id"], update_kind(raw))  # fmt: skip
    if tell is not None:
        tell(raw["update_id"], raw)


class JournalingQueue(asyncio.Queue):
    def __init__(
        self,
        storage: Storage,
        channel: str,
        on_unreadable: Callable[[int, dict[str, Any]], None] | None = None,
        *,
        first_pause: float = JOURNAL_FIRST_PAUSE,
        apply_here: bool = True,
    ) -> None:
        super().__init__()
        self.storage = storage
        self.channel = channel
        self.on_unreadable = on_unreadable
        self.first_pause = first_pause
        self.apply_here = apply_here
        """False for a receiver: updates are recorded for the workers, not queued here."""

    async def put(self, item: object) -> None:
        """Record an update in the inbox, then queue it; wait while the inbox is unavailable."""
        await self.put_within(item, None)

    async def accept(self, raw: dict[str, Any], bot: Bot, patience: float) -> None:
        """Take one update's JSON from a webhook: skip it if unreadable, else record and queue
        it; raise StorageUnavailable if the inbox stays unavailable for ``patience`` s. The
        JSON is recorded as it came. A receiver (``apply_here`` false) records it without
        parsing it into python-telegram-bot's objects, the costliest part of answering; the
        worker that applies it parses it, and skips it there if it cannot."""
        try:
            payload = json.dumps(raw, ensure_ascii=False)
            payload.encode("utf-8")  # lone surrogates fail here
            update = Update.de_json(raw, bot) if self.apply_here else None
        except Exception:  # any failure to read it is the same to us: skip it
            skip(raw, self.on_unreadable)
            return
        if update is None:
            await self._journal(raw["update_id"], payload, raw_chat_key(raw), patience)
            return
        await self._journal(update.update_id, payload, str(chat_key(update)), patience)
        await super().put(update)

    async def put_within(self, item: object, patience: float | None) -> None:
        if isinstance(item, Update):
            raw = item.to_dict()
            payload = json.dumps(raw, ensure_ascii=False)
            try:
                payload.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: it can never be stored
                log.error("update %d (%s) cannot be stored and was skipped",
                          item.update_id, update_kind(raw))  # fmt: skip
                if self.on_unreadable is not None:
                    self.on_unreadable(item.update_id, raw)
                return
            await self._journal(item.update_id, payload, str(chat_key(item)), patience)
            if not self.apply_here:
                return
        await super().put(item)

    async def _journal(
        self, update_id: int, payload: str, chat: str, patience: float | None
    ) -> None:
        pause, waited = self.first_pause, 0.0
        while True:
            try:
                await self.storage.journal(
                    self.channel, [(update_key(update_id), update_id, payload, chat)]
                )
                return
            except StorageUnavailable as error:
                if patience is not None and waited + pause > patience:
                    raise
                log.error("update %d not recorded (%s): not confirmed, trying again in %.1f s",
                          update_id, error, pause)  # fmt: skip
                await asyncio.sleep(pause)
                waited += pause
                pause = min(pause * 2, JOURNAL_MAX_PAUSE)

    async def replay(self, bot: Bot) -> int:
        """Queue again the updates fetched before a stop but never applied; return how many
        (none for a receiver: the workers take them from the inbox)."""
        if not self.apply_here:
            return 0
        pending = await self.storage.pending(self.channel)
        for _, payload in pending:
            await super().put(Update.de_json(json.loads(payload), bot))
        return len(pending)
