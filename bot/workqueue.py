"""Several worker processes applying the inbox on PostgreSQL, one chat's updates in order.

The inbox (filled by whoever receives the updates) is the queue. A worker claims a chat's
oldest update that is due, in a transaction of its own, with ``FOR UPDATE SKIP LOCKED``:

- **one order per chat**: an update is claimable only when no earlier update of its chat is
  left (one that waits for a later try does not hold its chat back), so a chat's updates
  are applied one after the other, in the order they were received, whichever worker
  takes them; other chats go on in parallel;
- **nothing lost when a worker dies**: the claim is a row lock of an open transaction, so a
  worker killed mid-job (``kill -9``) releases it the moment its connection drops, and
  another worker takes the update at once; no lease to expire, no job stuck "in progress";
- **applied once**: the handler saves with the update's key (recorded in the same
  transaction as the save; a second run is refused), and the worker drops the update from
  the inbox when the handler returns; a handler that could not apply it asks for a later
  try instead (``Job.retry_in``), with a growing pause.

Claims wait for work on PostgreSQL's ``LISTEN`` (the inbox notifies when updates arrive) and
look again at least every ``poll`` seconds. The claims use connections of their own, one per
slot: a claim holds its connection while the handler runs, and the handler's own storage
work must never wait for one.

Measured choices (PostgreSQL 15 on this machine, benchmarks/workqueue.py): see the commit
that made this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from bot.storage import INBOX_NOTICE

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0

_CLAIM = """
SELECT i.update_key, i.payload, i.chat, i.tries FROM inbox i
WHERE i.channel = %(channel)s
  AND (i.available_at IS NULL OR i.available_at <= %(now)s)
  AND i.seq = (
    SELECT e.seq FROM inbox e
    WHERE e.channel = i.channel AND e.chat = i.chat
      AND (e.available_at IS NULL OR e.available_at <= %(now)s
           OR e.waiting IS DISTINCT FROM 'download')
    ORDER BY e.seq LIMIT 1
  )
ORDER BY i.seq
LIMIT 1
FOR UPDATE SKIP LOCKED
"""
"""The oldest update that is the head of its chat and not held by another worker: no
earlier update of its chat left, except one waiting to fetch its file again (the others go
on meanwhile, as in one process; an update waiting for anything else holds its chat). The
inbox is walked in order (index inbox_seq) and each candidate's chat
head found in index inbox_chat, so a claim costs about the same with 10 or 10,000 updates
waiting."""
_WALK_IN_ORDER = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"
"""Whatever the planner's statistics say (a young or fast-changing inbox has none to speak
of), walk the inbox in order and stop at the first claimable update: 0.2 ms with 4,000
waiting, against 20-220 ms for the plans it picks on its own."""


@dataclass
class Job:
    """One claimed update. The handler sets ``retry_in`` to keep it for a later try."""

    channel: str
    key: str
    payload: str
    chat: str
    tries: int
    retry_in: float | None = None
    waiting: str | None = None
    """With ``retry_in``: what it waits for; "download" lets the chat's later updates go."""


Handler = Callable[[Job], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def retry_pause(tries: int) -> float:
    return min(RETRY_FIRST_SECONDS * 2**tries, RETRY_MAX_SECONDS)


class WorkQueue:
    """Claims for one channel's inbox; ``async with WorkQueue.open(url, ...)``."""

    def __init__(self, pool: AsyncConnectionPool, url: str, channel: str) -> None:
        self._pool, self._url, self.channel = pool, url, channel
        self._wake = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, channel: str, *, slots: int) -> AsyncIterator[WorkQueue]:
        pool = AsyncConnectionPool(
            url, min_size=1, max_size=slots, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True, timeout=30)
        queue = cls(pool, url, channel)
        listener = asyncio.create_task(queue._listen())
        try:
            yield queue
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await pool.close()

    @asynccontextmanager
    async def claim(self) -> AsyncIterator[Job | None]:
        """Claim the next update that may be applied now, or None; on leaving, drop it from
        the inbox (applied) or keep it for a later try (``retry_in``). An exception inside
        releases the claim with the update unchanged."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_WALK_IN_ORDER)
            cursor = await conn.execute(_CLAIM, {"channel": self.channel, "now": _text(_now())})
            row = await cursor.fetchone()
            if row is None:
                yield None
                return
            job = Job(self.channel, row[0], row[1], row[2], int(row[3]))
            yield job
            if job.retry_in is None:
                await conn.execute(
                    "DELETE FROM inbox WHERE channel = %s AND update_key = %s",
                    (self.channel, job.key),
                )
            else:
                later = _text(_now() + timedelta(seconds=job.retry_in))
                await conn.execute(
                    "UPDATE inbox SET available_at = %s, tries = tries + 1, waiting = %s "
                    "WHERE channel = %s AND update_key = %s",
                    (later, job.waiting, self.channel, job.key),
                )

    async def wait(self, poll: float, stop: asyncio.Event) -> None:
        """Wait until updates may have arrived (a notification, or ``poll`` seconds), or
        until ``stop``."""
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(waits, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        self._wake.clear()

    async def _listen(self) -> None:
        """Wake the waiting claims whenever the inbox notifies; reconnect if cut off."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {INBOX_NOTICE}")
                    self._wake.set()  # anything that came while not listening
                    async for notice in conn.notifies():
                        if notice.payload == self.channel:
                            self._wake.set()
            except psycopg.Error as error:
                log.warning("inbox notifications lost (%s); listening again", type(error).__name__)
                await asyncio.sleep(1.0)


async def work(
    queue: WorkQueue,
    handle: Handler,
    *,
    slots: int,
    stop: asyncio.Event,
    poll: float = 1.0,
    grace: float = 30.0,
) -> None:
    """Apply updates with ``slots`` claims at once until ``stop`` is set; the jobs in hand
    are finished first (for at most ``grace`` seconds). A handler that fails is logged (its
    error type) and its update tried again later, with a growing pause."""

    async def slot() -> None:
        while not stop.is_set():
            try:
                async with queue.claim() as job:
                    if job is not None:
                        try:
                            await handle(job)
                        except Exception as error:
                            job.retry_in = retry_pause(job.tries)
                            log.error("update %s failed (%s): trying again in %.0f s",
                                      job.key, type(error).__name__, job.retry_in)  # fmt: skip
            except psycopg.Error as error:
                log.warning("claiming work failed (%s)", type(error).__name__)
                await asyncio.sleep(0.5)
                continue
            if job is None:
                await queue.wait(poll, stop)

    running = [asyncio.create_task(slot()) for _ in range(slots)]
    await stop.wait()
    _, late = await asyncio.wait(running, timeout=grace)
    for task in late:  # its claim is released unapplied; another worker takes it
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
