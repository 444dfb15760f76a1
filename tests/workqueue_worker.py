"""A worker process for the work-queue contract tests: ``python -m tests.workqueue_worker``.

It runs the product's work loop (bot/workqueue.py) with a handler that applies each update
the way the bot does: load the user's conversation, change it, save it with the update's
key (a second run is refused), again from what is stored if another process saved it
meanwhile. The change is the update's payload appended to the case's drafts, so the test
can read back, per chat, what was applied and in which order. Each applied update is also
logged (chat, payload, monotonic end time) to ``--log``, one line each, flushed at once.
Once its queue is open it creates ``<log>.ready``, so that a test measures waits from when
the workers could work, not from when their processes were started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.storage import AlreadyProcessed, StaleConversation, Storage
from bot.workqueue import Job, WorkQueue, work
from dialogs.case import Case, Conversation

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


async def main(url: str, slots: int, log_path: Path, delay: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    log = log_path.open("a", buffering=1)
    async with (
        await Storage.open(url) as storage,
        WorkQueue.open(url, "test", slots=slots) as queue,
    ):

        async def handle(job: Job) -> None:
            if delay:
                await asyncio.sleep(delay)  # as if the bot were talking to Telegram
            for _ in range(5):
                conv = await storage.load("test", job.chat) or Conversation(
                    channel="test", user_id=job.chat,
                    cases=[Case(number=1, created_at=NOW, updated_at=NOW)],
                )  # fmt: skip
                conv.cases[0].drafts.append(json.loads(job.payload)["text"])
                try:
                    await storage.save(conv, update_key=job.key)
                except AlreadyProcessed:
                    pass  # applied by a worker that died before it could drop it
                except StaleConversation:
                    continue
                log.write(f"{job.chat}\t{job.key}\t{time.monotonic()}\n")
                return
            raise RuntimeError("stale five times")

        log_path.with_suffix(".ready").touch()
        await work(queue, handle, slots=slots, stop=stop, poll=0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.slots, args.log, args.delay))
