"""Sending paced per user: one user's flood never holds up another user's answer.

Every messenger limits how fast a bot may write: to one user (Telegram about one message a
second with short bursts, WhatsApp about one every six seconds sustained) and over all users
(Telegram about 30 a second, WhatsApp 80 a second per number). Above that they refuse the
message and say how long to wait (Telegram's 429 ``retry_after``) or only that it was too
many (WhatsApp's codes 131056 and 130429). Each channel's adapter translates its own refusal;
the pacing is the same for all of them, here:

- :class:`Pacer` keeps a token bucket per user (``burst`` messages at once, then ``rate`` a
  second) and one over all users (``overall_rate`` a second). A message waits for its user's
  turn in the order it was made; a refusal for one user pauses that user only and the message
  is tried again after the pause; a refusal for everyone pauses every message.
- Several processes sending for one bot (the workers) share the limits through
  :class:`SharedPacing` on PostgreSQL: before each message a process reserves its user's next
  slot and one of the overall ones (GCRA: a "theoretical arrival time" per key, moved on
  atomically by one statement, on the database's clock), and a refusal moves the user's time
  for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    """A messenger's answer that a message went too fast: wait ``seconds``, then try again;
    ``everyone``: the limit over all users, not this user's."""

    seconds: float
    everyone: bool = False


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
        """Seconds until a message may go (0: now)."""
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
    """Reservations between two clean-ups of users idle for an hour."""

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
        """Hold the key for ``seconds`` (a refusal), for every process."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE pacing SET tat = GREATEST(tat, extract(epoch FROM clock_timestamp()) "
                "+ %(s)s + %(b)s) WHERE key = %(key)s",
                {"key": key, "s": seconds, "b": burst / rate},
            )


class Pacer:
    """One channel's pacing: per user, over all users, and shared with other processes.

    ``namespace`` keeps two channels' users apart in the shared table (Telegram's keys carry
    none, as before channels shared it)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        overall_rate: float,
        *,
        shared: SharedPacing | None = None,
        namespace: str = "",
    ) -> None:
        self.rate, self.burst, self.overall_rate = rate, burst, overall_rate
        self.shared = shared
        self.namespace = namespace
        self._users: dict[str, _Bucket] = {}
        self._overall = (
            _Bucket(overall_rate, overall_rate, overall_rate, 0.0) if overall_rate > 0 else None
        )
        self._paused_until = 0.0
        self._calls = 0

    def ready_in(self, user: str) -> float:
        """Seconds until a message to this user could go (0: at once)."""
        bucket = self._users.get(user)
        if bucket is None:
            return 0.0
        waiting = 1.0 / self.rate if bucket.lock.locked() else 0.0
        return max(bucket.wait(asyncio.get_running_loop().time()), waiting)

    async def turn(self, user: str | None) -> None:
        """Wait until a message may go: after any pause of everyone, in this user's turn
        (here and in the other processes), within the overall rate. ``user`` None: a request
        that carries no message, held only by a pause of everyone."""
        loop = asyncio.get_running_loop()
        while (pause := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(pause)
        if user is None:
            return
        shared = functools.partial(self._shared_wait, user) if self.shared is not None else None
        await self._bucket(user, loop.time()).take(shared)
        if self._overall is not None:
            await self._overall.take()

    async def hold(self, user: str | None, refused: Refused) -> None:
        """Pause this user (every process), or everyone, after a refusal."""
        until = asyncio.get_running_loop().time() + refused.seconds + 0.1
        if user is None or refused.everyone:
            self._paused_until = max(self._paused_until, until)
            log.info("sending too fast overall: every message waits %.1f s", refused.seconds)
            return
        bucket = self._bucket(user, asyncio.get_running_loop().time())
        bucket.paused_until = max(bucket.paused_until, until)
        log.info("sending too fast to one user: that user waits %.1f s", refused.seconds)
        if self.shared is not None:
            with contextlib.suppress(Exception):  # the local pause holds anyway
                await self.shared.pause(
                    self.namespace + user, refused.seconds, self.rate, self.burst
                )

    async def send(
        self,
        user: str | None,
        call: Callable[[], Awaitable[T]],
        *,
        refused: Callable[[Exception, int], Refused | None],
        retries: int,
    ) -> T:
        """Make ``call`` in turn; when ``refused`` reads its error as a refusal (given the
        attempt, from 1), pause and try again, at most ``retries`` more times."""
        for attempt in range(1, retries + 2):
            await self.turn(user)
            try:
                return await call()
            except Exception as error:
                pause = refused(error, attempt)
                if pause is None or attempt > retries:
                    raise
                await self.hold(user, pause)
        raise AssertionError("unreachable")

    async def _shared_wait(self, user: str) -> float:
        """Seconds until this user's slot, and an overall one, among all processes; 0 if
        the database does not answer (this process's own pacing still holds)."""
        assert self.shared is not None
        try:
            wait = await self.shared.reserve(self.namespace + user, self.rate, self.burst)
            if self.overall_rate > 0:
                overall = await self.shared.reserve(
                    self.namespace + SharedPacing.OVERALL, self.overall_rate, self.overall_rate
                )
                wait = max(wait, overall)
        except Exception as error:  # the message matters more than the shared pace
            log.warning("shared pacing unavailable (%s): pacing alone", type(error).__name__)
            return 0.0
        return wait

    def _bucket(self, user: str, now: float) -> _Bucket:
        self._calls += 1
        if self._calls % 1000 == 0:  # forget users who are idle (their bucket is full)
            for key in [k for k, b in self._users.items() if b.idle(now)]:
                del self._users[key]
        bucket = self._users.get(user)
        if bucket is None:
            burst = float(self.burst)
            bucket = self._users[user] = _Bucket(self.rate, burst, burst, now)
        return bucket
