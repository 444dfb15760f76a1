"""Telegram's side of the pacing (bot/pacing.py): python-telegram-bot's rate-limiter hook.

Telegram allows about one message per second in one chat (short bursts pass) and about 30
per second over all chats; above that it answers 429 with a ``retry_after``. The rate limiter
python-telegram-bot ships pauses *every* request on any 429, and paces private chats only as
a whole, so a user forwarding 30 screenshots slows every other user's answers. This one hands
each request that carries a message to the channels' common :class:`Pacer`, keyed by its chat,
and reads a 429 as a refusal for that chat (for everyone when the request names no chat).
Requests that carry no message (chat actions, callback answers, file lookups) are not paced.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.pacing import Pacer, Refused, SharedPacing

CHAT_RATE = 1.0
CHAT_BURST = 3
OVERALL_RATE = 30.0
MAX_RETRIES = 5
UNPACED = frozenset({"sendChatAction", "answerCallbackQuery", "getFile", "getMe",
                     "setMyCommands", "setWebhook", "deleteWebhook", "getUpdates"})  # fmt: skip


def retry_seconds(error: RetryAfter) -> float:
    after = error.retry_after
    return after.total_seconds() if isinstance(after, timedelta) else float(after)


def _refused(error: Exception, attempt: int) -> Refused | None:
    return Refused(retry_seconds(error)) if isinstance(error, RetryAfter) else None


class ChatPacer(BaseRateLimiter[int]):
    def __init__(
        self,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        overall_rate: float = OVERALL_RATE,
        max_retries: int = MAX_RETRIES,
        shared: SharedPacing | None = None,
    ) -> None:
        self.pacer = Pacer(chat_rate, chat_burst, overall_rate, shared=shared)
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def ready_in(self, chat_id: int) -> float:
        """Seconds until a message to this chat could go (0: at once)."""
        return self.pacer.ready_in(str(chat_id))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id") if endpoint not in UNPACED else None
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        return await self.pacer.send(
            None if chat_id is None else str(chat_id),
            lambda: callback(*args, **kwargs),
            refused=_refused,
            retries=retries,
        )
