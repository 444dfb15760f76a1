"""Applying journaled updates of a webhook channel in one process: each chat's in the order
they came, several chats at once, nothing dropped while storage waits.

The webhook records an update in the inbox, then :meth:`ChatOrder.submit` hands it here. Each
chat has a queue and, while it has work, one task that applies its updates one after the
other; at most ``slots`` chats are applied at the same time, so one chat's burst never holds
the others. An update whose storage is unavailable (the database locked, the bucket
unreachable) is tried again, with a growing pause, before the chat's next one: the order is
kept. Any other failure is handed to ``failed`` (which tells the user) and the chat goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.storage import StorageUnavailable

T = TypeVar("T")

FIRST_PAUSE = 0.5
MAX_PAUSE = 30.0

log = logging.getLogger(__name__)


class ChatOrder(Generic[T]):
    def __init__(
        self,
        apply: Callable[[T], Awaitable[None]],
        failed: Callable[[T, BaseException], Awaitable[None]],
        *,
        slots: int = 32,
        first_pause: float = FIRST_PAUSE,
    ) -> None:
        self._apply, self._failed = apply, failed
        self._slots = asyncio.Semaphore(slots)
        self._queues: dict[str, deque[T]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._first_pause = first_pause

    def submit(self, chat: str, item: T) -> None:
        """Queue ``item`` after the chat's earlier ones."""
        self._queues.setdefault(chat, deque()).append(item)
        if chat not in self._tasks:
            self._tasks[chat] = asyncio.create_task(self._run(chat))

    def busy(self) -> int:
        """How many chats have updates queued or being applied."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until everything submitted so far was applied."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop applying; what was not applied stays in the inbox for the next start."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._queues.clear()

    async def _run(self, chat: str) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                async with self._slots:
                    await self._one(queue[0])
                queue.popleft()
        finally:
            if not queue:
                self._queues.pop(chat, None)
            self._tasks.pop(chat, None)

    async def _one(self, item: T) -> None:
        pause = self._first_pause
        while True:
            try:
                await self._apply(item)
                return
            except StorageUnavailable as error:
                log.error("update not applied (%s): trying again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await self._failed(item, error)
                return
