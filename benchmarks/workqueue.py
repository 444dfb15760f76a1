"""Updates per second applied by 1, 2 and 4 worker processes from the PostgreSQL inbox.

Run from the repository root::

    python -m benchmarks.workqueue               # 200 chats x 20 updates, 1, 2 and 4 workers
    python -m benchmarks.workqueue --workers 2

A private PostgreSQL server is started as the tests start it (tests/postgres.py: a
throw-away cluster on 127.0.0.1, fsync off). For each worker count: a fresh database, the
inbox filled with 200 chats x 20 updates at once (a backlog, interleaved), then the worker
processes (tests/workqueue_worker.py: the product's work loop, each update loaded, changed
and saved through the product's storage with its key) are started and timed until the inbox
is empty. Printed: updates per second, and the workers' CPU per update (their user + system
time, from the operating system, over the updates). PostgreSQL's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def one_run(server: object, workers: int, chats: int, per_chat: int, slots: int) -> None:
    from bot.storage import Storage

    url = server.new_database()  # type: ignore[attr-defined]
    async with await Storage.open(url) as storage:
        batch = [
            (f"chat{c}:{n}", n * chats + c, json.dumps({"text": str(n)}), f"chat{c}")
            for n in range(per_chat)
            for c in range(chats)
        ]
        await storage.journal("test", batch)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            env = os.environ | {"PYTHONPATH": str(REPO)}
            command = [sys.executable, "-m", "tests.workqueue_worker", url, "--slots", str(slots)]
            logs = [str(Path(tmp) / f"w{n}.log") for n in range(workers)]
            procs = [subprocess.Popen([*command, "--log", log], env=env, cwd=REPO) for log in logs]
            while True:
                async with storage._db.transaction(write=False) as tx:
                    ((left,),) = await tx.fetch("SELECT count(*) FROM inbox")
                if not left:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = chats * per_chat
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{workers} worker(s) x {slots} slots: {total} updates in {elapsed:.2f} s = "
          f"{total / elapsed:.0f} updates/s; worker CPU {cpu / total * 1000:.2f} ms per update "
          f"(start-up included)")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--per-chat", type=int, default=20)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.postgres import PostgresServer

    print(f"PostgreSQL 15 (private, fsync off) on 127.0.0.1, {os.cpu_count()} CPUs")
    with PostgresServer() as server:
        for workers in args.workers:
            await one_run(server, workers, args.chats, args.per_chat, args.slots)


if __name__ == "__main__":
    asyncio.run(main())
