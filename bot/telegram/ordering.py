"""Updates of one chat strictly in order, different chats in parallel.

python-telegram-bot runs every update as its own task when ``concurrent_updates`` is set, so
two screenshots forwarded in a row could be handled out of order. This processor gives each
chat a FIFO lock: a task takes its place in its chat's queue the moment it starts (tasks
start in the order the updates arrived), and a global semaphore bounds how many updates do
work at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | str:
    """Return the key that orders an update: its chat, else its user, else 'global'."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return "global"


class PerChatOrderedProcessor(BaseUpdateProcessor):
    """Process one chat's updates one after the other, at most ``in_flight`` at a time."""

    def __init__(self, in_flight: int = 32, queued: int = 4096) -> None:
        # The base class's semaphore only bounds how many update tasks exist; it is set
        # high so that it never reorders them. The real bound on work is ``in_flight``.
        super().__init__(max_concurrent_updates=queued)
        self._work = asyncio.BoundedSemaphore(in_flight)
        self._chats: dict[int | str, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._work:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
