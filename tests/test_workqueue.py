"""Several worker processes on PostgreSQL: each chat's updates in order, each applied once,
nothing lost and no chat stalled when a worker is killed mid-burst.

The workers are real processes (tests/workqueue_worker.py) running the product's work loop
and saving through the product's storage; a producer fills the inbox the way the receiving
side does, with bursts; one worker is killed with SIGKILL while the bursts are being
applied. Afterwards every chat's conversation must hold exactly its updates, in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.conftest import REPO

CHATS = 200
PER_CHAT = 20
STALL_SECONDS = 2.0
RATE = 250
"""Updates added per second: well within what two workers apply here, so that a wait over
STALL_SECONDS is a chat held up, not a queue of work."""


def start_worker(url: str, log: Path, slots: int = 4) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    with log.with_suffix(".err").open("ab") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.workqueue_worker", url, "--slots", str(slots),
             "--log", str(log), "--delay", "0.002"],
            env=env, cwd=REPO, stderr=errors,
        )  # fmt: skip


async def ready(logs: list[Path], timeout: float = 60.0) -> None:
    """Wait until every worker has its queue open (Python and its imports starting on a
    busy machine can take seconds; that is not a chat waiting)."""
    deadline = time.monotonic() + timeout
    while not all(log.with_suffix(".ready").exists() for log in logs):
        assert time.monotonic() < deadline, "the workers did not start"
        await asyncio.sleep(0.05)


async def produce(storage: Storage, rng: random.Random) -> dict[str, float]:
    """Fill the inbox at about RATE updates a second, as the receiving side would: every
    chat's 20 updates, mostly one at a time, a tenth of the time a burst of ten at once;
    return when each update was added (monotonic seconds)."""
    pending = {f"chat{c}": 0 for c in range(CHATS)}
    added: dict[str, float] = {}
    seq = 0
    tick = 0.02
    while pending:
        batch = []
        while len(batch) < RATE * tick and pending:
            chat = rng.choice(sorted(pending))
            burst = 10 if rng.random() < 0.1 else 1
            for _ in range(min(burst, PER_CHAT - pending[chat])):
                n = pending[chat]
                seq += 1
                batch.append((f"{chat}:{n}", seq, json.dumps({"text": str(n)}), chat))
                pending[chat] = n + 1
            if pending[chat] == PER_CHAT:
                del pending[chat]
        await storage.journal("test", batch)
        now = time.monotonic()
        added.update({key: now for key, *_ in batch})
        await asyncio.sleep(tick)
    return added


async def inbox_size(storage: Storage) -> int:
    async with storage._db.transaction(write=False) as tx:
        ((count,),) = await tx.fetch("SELECT count(*) FROM inbox WHERE channel = 'test'")
    return int(count)


@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_keep_each_chats_order_apply_once_and_survive_a_kill(
    postgres_url: str, tmp_path: Path, workers: int
) -> None:
    rng = random.Random(workers)
    logs = [tmp_path / f"worker{n}.log" for n in range(workers + 1)]
    async with await Storage.open(postgres_url) as storage:
        procs = [start_worker(postgres_url, logs[n]) for n in range(workers)]
        try:
            await ready(logs[:workers])
            producing = asyncio.create_task(produce(storage, rng))
            await asyncio.sleep(4.0)  # mid-run, bursts coming
            victim = procs[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            added = await producing
            deadline = time.monotonic() + 120
            while await inbox_size(storage) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert await inbox_size(storage) == 0, "updates left unapplied"
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=60)

        for c in range(CHATS):
            conv = await storage.load("test", f"chat{c}")
            assert conv is not None, f"chat{c}: nothing applied"
            # each update once, none lost, in the order received
            assert conv.cases[0].drafts == [str(n) for n in range(PER_CHAT)], f"chat{c}"

    finished: dict[str, float] = {}
    for log in logs:
        if log.exists():
            for line in log.read_text().splitlines():
                _, key, at = line.split("\t")
                finished.setdefault(key, float(at))  # a re-run after the kill counts once
    assert set(finished) == set(added)
    stalls = []
    for c in range(CHATS):
        previous = 0.0
        for n in range(PER_CHAT):
            key = f"chat{c}:{n}"
            claimable = max(added[key], previous)
            stalls.append(finished[key] - claimable)
            previous = finished[key]
    assert max(stalls) < STALL_SECONDS, f"a chat waited {max(stalls):.2f} s"


async def _apply_with(url: str, fail_first: str) -> list[str]:
    """Two updates of one chat; the first fails once, waiting for ``fail_first``; return the
    order in which they were applied."""
    from bot.workqueue import Job, WorkQueue, work

    applied: list[str] = []
    tried: set[str] = set()
    async with await Storage.open(url) as storage:
        await storage.journal("test", [
            ("c:1", 1, json.dumps({"text": "1"}), "c"), ("c:2", 2, json.dumps({"text": "2"}), "c")
        ])  # fmt: skip
        stop = asyncio.Event()

        async def handle(job: Job) -> None:
            if job.key == "c:1" and job.key not in tried:
                tried.add(job.key)
                job.retry_in, job.waiting = 0.5, fail_first
                return
            applied.append(job.key)
            if len(applied) == 2:
                stop.set()

        async with WorkQueue.open(url, "test", slots=2) as queue:
            await asyncio.wait_for(work(queue, handle, slots=2, stop=stop, poll=0.1), 30)
    return applied


async def test_an_update_waiting_for_the_database_holds_its_chat_back(postgres_url: str) -> None:
    assert await _apply_with(postgres_url, "storage") == ["c:1", "c:2"]


async def test_an_update_waiting_for_its_file_lets_the_chat_go_on(postgres_url: str) -> None:
    assert await _apply_with(postgres_url, "download") == ["c:2", "c:1"]
