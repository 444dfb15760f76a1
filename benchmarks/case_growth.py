"""CPU per update as one case grows: items 1-50 against items 551-600.

Run from the repository root::

    python -m benchmarks.case_growth                      # SQLite, 600 screenshots
    python -m benchmarks.case_growth --items 1200
    python -m benchmarks.case_growth --database postgresql://bot@127.0.0.1:5432/bench

One user, one case, evidence forwarded one item at a time through the real core (storage,
evidence store, dialog, replies), as the channels call it: store the file, load the
conversation, apply the event, save, present the replies. The CPU time of this process per
item (``time.process_time``, so waiting for the disk or the database server is not counted;
the database server's own CPU is not either) is averaged over the first 50 items and the
last 50, and their ratio printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


async def run(items: int, database: str | None) -> list[float]:
    from pydantic import SecretStr

    from bot.app import open_core
    from bot.settings import Settings
    from dialogs import Choice, EvidenceKind, EvidenceReceived, Start, StoredFile

    with tempfile.TemporaryDirectory() as tmp:
        extra = {"database_url": SecretStr(database)} if database else {}
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", **extra)  # type: ignore[call-arg]
        async with open_core(settings) as core:
            moment = datetime(2026, 11, 2, 9, tzinfo=UTC)
            user = f"growth-{os.getpid()}"
            await core.handle("bench", user, Start(at=moment, client_lang="en"))
            for choice in ("lang:en", "jur:cn", "who:borrower"):
                await core.handle("bench", user, Choice(at=moment, choice=choice))
            cpu: list[float] = []
            for n in range(items):
                moment += timedelta(seconds=5)
                data = os.urandom(700) + n.to_bytes(4, "big")

                async def chunks(data: bytes = data):  # type: ignore[no-untyped-def]
                    yield data

                file = StoredFile(sha256=None, size=len(data), mime="image/png", unique_id=f"u{n}")
                started = time.process_time()
                await core.handle_file(
                    "bench", user, chunks, file,
                    lambda stored, at=moment: EvidenceReceived(
                        at=at, kind=EvidenceKind.SCREENSHOT, file=stored
                    ),
                    update_key=f"update:{n}",
                )  # fmt: skip
                cpu.append(time.process_time() - started)
            return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    cpu = asyncio.run(run(args.items, args.database))
    first, last = cpu[:50], cpu[-50:]
    engine = "PostgreSQL" if args.database else "SQLite"
    print(f"{engine}, {args.items} screenshots in one case, {os.cpu_count()} CPUs")
    print(f"CPU per update, items 1-50:   {statistics.fmean(first) * 1000:.2f} ms")
    print(f"CPU per update, items {args.items - 49}-{args.items}: "
          f"{statistics.fmean(last) * 1000:.2f} ms")  # fmt: skip
    print(f"growth: {statistics.fmean(last) / statistics.fmean(first):.2f}x")


if __name__ == "__main__":
    main()
