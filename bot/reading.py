"""Reading the pictures, beside the conversation, never in its way.

A picture is read after it was stored, recorded and acknowledged: the save that records a
new screenshot or photo also records a reading job, in the same transaction (Storage,
``reads_pictures``), so a crash or a restart finishes what was pending. :class:`Reader`
takes the jobs one at a time (on PostgreSQL each worker's reader takes its own, with a
lease), has the picture read by the OCR engine (bot/ocr.py: a process of its own, the model
loaded once, one thread, at a lower priority than the bot), keeps what was read per content
(``readings``: the lines and the boxes of their characters, which the export uses to hide
private numbers in the copies of the picture), and hands the lines to the conversation as an
:class:`~dialogs.EvidenceRead` event, applied like any update of that user (in order, once).

A picture that cannot be read (not an image, the engine failed) is tried again a few times,
then left unread: its evidence stays as it was, only nothing was read in it. ``OCR=off``
turns the whole of it off: no jobs are made, nothing is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core import Core
from bot.ocr import Engine, OcrEngine, Page, Unreadable
from bot.storage import ReadingJob, StorageUnavailable
from dialogs import EvidenceRead

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
"""How long a job is held by the reader that took it (one picture takes about a second)."""
POLL_SECONDS = 2.0
MAX_TRIES = 3
RETRY_SECONDS = 30.0


class Reader:
    """Reads the pictures waiting in the storage's reading jobs, one at a time."""

    def __init__(
        self,
        core: Core,
        engine: Engine,
        *,
        poll: float = POLL_SECONDS,
        lease: float = LEASE_SECONDS,
        retry: float = RETRY_SECONDS,
    ) -> None:
        self.core, self.engine = core, engine
        self.poll, self.lease, self.retry = poll, lease, retry
        self._wake = asyncio.Event()
        self.read_count = 0

    def wake(self) -> None:
        """Look for work now (a picture was just recorded)."""
        self._wake.set()

    async def run(self) -> None:
        """Read until cancelled."""
        storage = self.core.storage
        while True:
            self._wake.clear()  # before looking: a picture kept meanwhile wakes the wait
            try:
                job = await storage.claim_reading(self.lease)
            except StorageUnavailable as error:
                log.warning("reading jobs unavailable (%s)", type(error).__name__)
                job = None
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                continue
            await self._one(job)

    async def drain(self) -> int:
        """Read every job waiting now (tests and tools); return how many were handled."""
        done = 0
        while (job := await self.core.storage.claim_reading(self.lease)) is not None:
            await self._one(job)
            done += 1
        return done

    async def _one(self, job: ReadingJob) -> None:
        storage = self.core.storage
        try:
            page = await self._page(job)
            lines = [line.text for line in page.lines] if page is not None else []
            event = EvidenceRead(at=self.core.clock(), case=job.case, item=job.item, lines=lines)
            key = f"read:{job.case}:{job.item}:{job.sha256[:16]}"
            await self.core.handle(job.channel, job.user_id, event, update_key=key)
            await storage.reading_done(job)
            self.read_count += 1
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the job stays; its lease lets it go if this fails too
            if job.tries + 1 >= MAX_TRIES and not isinstance(error, StorageUnavailable):
                log.error("picture of case item %d not read (%s): left unread after %d tries",
                          job.item, type(error).__name__, job.tries + 1)  # fmt: skip
                await storage.reading_done(job)
                return
            log.warning("picture of case item %d not read (%s): trying again in %.0f s",
                        job.item, type(error).__name__, self.retry)  # fmt: skip
            await storage.reading_later(job, self.retry)

    async def _page(self, job: ReadingJob) -> Page | None:
        """What the picture says: read before (any case holding the same file), or now."""
        storage = self.core.storage
        known = await storage.reading(job.sha256)
        if known is not None:
            return Page.from_json(known)
        data = await self.core.evidence.read(job.sha256)
        try:
            page = await self.engine.read(data)
        except Unreadable:
            log.info("case item %d is no picture that can be read", job.item)
            return None
        await storage.store_reading(job.sha256, page.to_json())
        return page


@asynccontextmanager
async def reading(
    core: Core, enabled: bool, engine: Engine | None = None
) -> AsyncIterator[Reader | None]:
    """Read the pictures while inside (``enabled``: the OCR setting): new pictures get
    reading jobs, and a reader takes them (waking when one is kept); None when off."""
    if not enabled:
        yield None
        return
    engine = engine or OcrEngine()
    reader = Reader(core, engine)
    core.storage.reads_pictures = True
    core.picture_kept = reader.wake
    task = asyncio.create_task(reader.run(), name="reader")
    try:
        yield reader
    finally:
        core.picture_kept = lambda: None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.close()
