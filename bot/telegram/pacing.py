"""Sending paced per chat: one chat's flood never holds up another chat's answer.

Telegram allows about one message per second in one chat (short bursts pass) and about 30
per second over all chats; above that it answers 429 with a ``retry_after``. The rate limiter
python-telegram-bot ships pauses *every* request on any 429, and paces private chats only as
a whole, so a user forwarding 30 screenshots slows every other user's answers.

:class:`ChatPacer` keeps a token bucket per chat (``chat_burst`` messages at once, then
``chat_rate`` per second) and one over all chats (``overall_rate`` per second). A request
waits for its chat's turn in the order it was made; a 429 for one chat pauses that chat only,
and is retried after ``retry_after``. A 429 for a request without a chat pauses all requests.
Requests that carry no message (chat actions, callback answers, file lookups) are not paced.

Several processes sending for one bot (the workers) share the limits through
:class:`SharedPacing` on PostgreSQL: before each message, a process reserves its chat's next
slot and one of the overall ones (GCRA: a "theoretical arrival time" per key, moved on
atomically by one statement, on the database's clock), and a 429 moves the chat's time for
every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

CHAT_RATE = 1.0
CHAT_BURST = 3
OVERALL_RATE = 30.0
MAX_RETRIES = 5
UNPACED = frozenset({"sendChatAction", "answerCallbackQuery", "getFile", "getMe",
                     "setMyCommands", "setWebhook", "deleteWebhook", "getUpdates"})  # fmt: skip

log = logging.getLogger(__name__)


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    updated: float
    paused_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a request may go (0: now)."""
        self.refill(now)
        short = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
        return max(short, self.paused_until - now)

    async def take(self, also: Callable[[], Coroutine[Any, Any, float]] | None = None) -> None:
        """Wait for this bucket's turn (first come, first served), then spend a token; with
        ``also``, wait too for the seconds it returns, still in turn."""
        loop = asyncio.get_running_loop()
        async with self.lock:
            while (pause := self.wait(loop.time())) > 0:
                await asyncio.sleep(pause)
            self.tokens -= 1
            if also is not None and (more := await also()) > 0:
                await asyncio.sleep(more)

    def idle(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.burst and not self.lock.locked() and now >= self.paused_until


class SharedPacing:
    """The pacing of every process sending for this bot, kept in PostgreSQL."""

    OVERALL = "*"

    PRUNE_EVERY = 1000
    """Reservations between two clean-ups of chats idle for an hour."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._reserved = 0

    @classmethod
    async def open(cls, url: str, size: int = 4) -> SharedPacing:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            url, min_size=1, max_size=size, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True, timeout=30)
        return cls(pool)  # its table is made by the storage's schema

    async def close(self) -> None:
        await self._pool.close()

    async def reserve(self, key: str, rate: float, burst: float) -> float:
        """Take the key's next slot; return how many seconds to wait for it."""
        interval = 1.0 / rate
        self._reserved += 1
        async with self._pool.connection() as conn:
            if self._reserved % self.PRUNE_EVERY == 0:
                await conn.execute(
                    "DELETE FROM pacing WHERE tat < extract(epoch FROM clock_timestamp()) - 3600"
                )
            cursor = await conn.execute(
                "WITH now AS (SELECT extract(epoch FROM clock_timestamp()) AS t) "
                "INSERT INTO pacing AS p (key, tat) SELECT %(key)s, t + %(i)s FROM now "
                "ON CONFLICT (key) DO UPDATE SET tat = GREATEST(p.tat, "
                "(SELECT t FROM now)) + %(i)s "
                "RETURNING tat - (SELECT t FROM now)",
                {"key": key, "i": interval},
            )
            row = await cursor.fetchone()
        ahead = float(row[0]) if row else 0.0
        return max(0.0, ahead - burst * interval)

    async def pause(self, key: str, seconds: float, rate: float, burst: float) -> None:
        """Hold the key for ``seconds`` (a 429), for every process."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE pacing SET tat = GREATEST(tat, extract(epoch FROM clock_timestamp()) "
                "+ %(s)s + %(b)s) WHERE key = %(key)s",
                {"key": key, "s": seconds, "b": burst / rate},
            )


def retry_seconds(error: RetryAfter) -> float:
    after = error.retry_after
    return after.total_seconds() if isinstance(after, timedelta) else float(after)


class ChatPacer(BaseRateLimiter[int]):
    def __init__(
        self,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        overall_rate: float = OVERALL_RATE,
        max_retries: int = MAX_RETRIES,
        shared: SharedPacing | None = None,
    ) -> None:
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.overall_rate = overall_rate
        self.shared = shared
        self.max_retries = max_retries
        self._chats: dict[int | str, _Bucket] = {}
        self._overall = (
            _Bucket(overall_rate, overall_rate, overall_rate, 0.0) if overall_rate > 0 else None
        )
        self._paused_until = 0.0
        self._calls = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def ready_in(self, chat_id: int) -> float:
        """Seconds until a message to this chat could go (0: at once)."""
        bucket = self._chats.get(chat_id)
        if bucket is None:
            return 0.0
        waiting = 1.0 / self.chat_rate if bucket.lock.locked() else 0.0
        return max(bucket.wait(asyncio.get_running_loop().time()), waiting)

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
        loop = asyncio.get_running_loop()
        for attempt in range(retries + 1):
            while (pause := self._paused_until - loop.time()) > 0:
                await asyncio.sleep(pause)
            bucket = None
            if chat_id is not None:
                bucket = self._bucket(chat_id, loop.time())
                shared = None
                if self.shared is not None:
                    shared = functools.partial(self._shared_wait, str(chat_id))
                await bucket.take(shared)
                if self._overall is not None:
                    await self._overall.take()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                until = loop.time() + retry_seconds(error) + 0.1
                if bucket is not None:
                    bucket.paused_until = max(bucket.paused_until, until)
                    log.info("429 for one chat: that chat waits %.1f s", retry_seconds(error))
                    if self.shared is not None:
                        with contextlib.suppress(Exception):  # the local pause holds anyway
                            await self.shared.pause(
                                str(chat_id), retry_seconds(error), self.chat_rate, self.chat_burst
                            )
                else:
                    self._paused_until = max(self._paused_until, until)
                    log.info("429 for %s: all requests wait %.1f s",
                             endpoint, retry_seconds(error))  # fmt: skip
        raise AssertionError("unreachable")

    async def _shared_wait(self, chat: str) -> float:
        """Seconds until this chat's slot, and an overall one, among all processes; 0 if
        the database does not answer (this process's own pacing still holds)."""
        assert self.shared is not None
        try:
            wait = await self.shared.reserve(chat, self.chat_rate, self.chat_burst)
            if self.overall_rate > 0:
                overall = await self.shared.reserve(
                    SharedPacing.OVERALL, self.overall_rate, self.overall_rate
                )
                wait = max(wait, overall)
        except Exception as error:  # the message matters more than the shared pace
            log.warning("shared pacing unavailable (%s): pacing alone", type(error).__name__)
            return 0.0
        return wait

    def _bucket(self, chat_id: int | str, now: float) -> _Bucket:
        self._calls += 1
        if self._calls % 1000 == 0:  # forget chats that are idle (their bucket is full)
            for key in [k for k, b in self._chats.items() if b.idle(now)]:
                del self._chats[key]
        bucket = self._chats.get(chat_id)
        if bucket is None:
            burst = float(self.chat_burst)
            bucket = self._chats[chat_id] = _Bucket(self.chat_rate, burst, burst, now)
        return bucket
