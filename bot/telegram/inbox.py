"""No update lost between fetching and applying it.

python-telegram-bot confirms a batch of updates to Telegram (the next getUpdates offset)
as soon as it has put them in its update queue, and a webhook answers 200 at the same
moment; an update still waiting in memory when the process dies would be gone. This queue
writes each update to the storage's inbox before it enters the queue; the adapter removes
it once applied, and at start-up whatever is left is queued again, in order. Updates
applied already are recognised by their key and skipped, so nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import json

from telegram import Bot, Update

from bot.storage import Storage


def update_key(update_id: int) -> str:
    """Return the key under which an update is recorded as applied."""
    return f"update:{update_id}"


class JournalingQueue(asyncio.Queue):
    def __init__(self, storage: Storage, channel: str) -> None:
        super().__init__()
        self.storage = storage
        self.channel = channel

    async def put(self, item: object) -> None:
        """Record an update in the inbox, then queue it."""
        if isinstance(item, Update):
            payload = json.dumps(item.to_dict(), ensure_ascii=False)
            await self.storage.journal(
                self.channel, [(update_key(item.update_id), item.update_id, payload)]
            )
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue again the updates fetched before a stop but never applied; return how many."""
        pending = await self.storage.pending(self.channel)
        for _, payload in pending:
            await super().put(Update.de_json(json.loads(payload), bot))
        return len(pending)
