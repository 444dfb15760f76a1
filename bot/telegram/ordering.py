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


_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post",
             "business_message", "edited_business_message", "deleted_business_messages",
             "guest_message")  # fmt: skip
_CHATS = ("my_chat_member", "chat_member", "chat_join_request", "chat_boost",
          "removed_chat_boost", "message_reaction", "message_reaction_count")  # fmt: skip
_SENDERS = (("message", "from"), ("edited_message", "from"), ("business_message", "from"),
            ("edited_business_message", "from"), ("guest_message", "from"),
            ("channel_post", "from"), ("edited_channel_post", "from"),
            ("inline_query", "from"), ("chosen_inline_result", "from"),
            ("callback_query", "from"), ("shipping_query", "from"),
            ("pre_checkout_query", "from"), ("poll_answer", "user"),
            ("my_chat_member", "from"), ("chat_member", "from"),
            ("chat_join_request", "from"), ("message_reaction", "user"),
            ("business_connection", "user"), ("purchased_paid_media", "from"),
            ("managed_bot", "user"))  # fmt: skip


def raw_chat_key(raw: dict[str, Any]) -> str:
    """The same key as :func:`chat_key`, read from the update's JSON without parsing it
    into python-telegram-bot's objects (what a receiver does before answering 200), in the
    same order of precedence as ``Update.effective_chat`` and ``effective_user``."""

    def part(name: str) -> dict[str, Any]:
        value = raw.get(name)
        return value if isinstance(value, dict) else {}

    def ident(holder: dict[str, Any], name: str) -> int | None:
        value = holder.get(name)
        found = value.get("id") if isinstance(value, dict) else None
        return found if isinstance(found, int) else None

    chat: int | None = None
    if message := next((part(name) for name in _MESSAGES if part(name)), None):
        chat = ident(message, "chat")
    elif callback_message := part("callback_query").get("message"):
        chat = ident(callback_message, "chat") if isinstance(callback_message, dict) else None
    elif holder := next((part(name) for name in _CHATS if part(name)), None):
        chat = ident(holder, "chat")
    if chat is not None:
        return str(chat)
    for name, field in _SENDERS:
        if part(name):
            user = ident(part(name), field)
            return str(user) if user is not None else "global"
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
