"""Other users' reply latency while one chat forwards a burst of 30 screenshots.

Run from the repository root::

    python -m benchmarks.chat_flood                 # 20 other users, our pacer and PTB's
    python -m benchmarks.chat_flood --limiter ours  # only ours

The real application long-polls the tests' loopback Bot API peer (tests/peer/botapi_peer.py),
which enforces Telegram's limit per chat (bursts of 3, then one message a second; a message
over it gets 429 with the seconds to wait) and answers every request after ``--rtt``. The
other users each send ``/status`` in a closed loop (the next one once the answer arrived,
after a pause of 1-2 s, as a person reads) and their reply latency is recorded: first for
``--quiet`` seconds with no burst, then from the moment one user forwards 30 screenshots at
once until all 30 are acknowledged (and at least as long as the first window). Printed: p50
and p99 of both windows and their ratio, for each rate limiter. Everything stays on
127.0.0.1; the bot, the peer and the users share this process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "1")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


async def measure(limiter_name: str, others: int, rtt: float, quiet: float) -> dict[str, object]:
    from telegram.ext import AIORateLimiter

    from bot.app import open_core
    from bot.telegram.app import TelegramAdapter, build_application, running
    from bot.telegram.pacing import ChatPacer
    from tests.peer.botapi_peer import BotApiPeer
    from tests.test_telegram_peer import TOKEN, acked_numbers, onboard, settings_for, texts

    async with BotApiPeer(token=TOKEN, rtt=rtt) as peer:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(peer, Path(tmp) / "data")
            async with open_core(settings) as core:
                adapter = TelegramAdapter(core)
                limiter = ChatPacer() if limiter_name == "ours" else AIORateLimiter(max_retries=5)
                application = build_application(settings, adapter, rate_limiter=limiter)
                async with running(application, adapter, settings, poll_timeout=1):
                    flooder, users = 700_000, [700_001 + n for n in range(others)]
                    await asyncio.gather(*(onboard(peer, u) for u in [flooder, *users]))
                    peer.limit_chats(per_second=1.0, burst=3)
                    await asyncio.sleep(4)  # every chat's allowance refills after onboarding
                    phase = {"name": "quiet"}
                    latencies: dict[str, list[float]] = {"quiet": [], "burst": []}
                    stop = asyncio.Event()

                    async def ask(user_id: int) -> None:
                        rng = random.Random(user_id)
                        while not stop.is_set():
                            seen = len(texts(peer, user_id))
                            started, name = time.monotonic(), phase["name"]
                            peer.user(user_id).send_command("/status")
                            await peer.wait_for(
                                lambda u=user_id, s=seen: len(texts(peer, u)) > s, timeout=60
                            )
                            latencies[name].append(time.monotonic() - started)
                            await asyncio.sleep(1.0 + rng.random())  # a person reads first

                    askers = [asyncio.create_task(ask(u)) for u in users]
                    await asyncio.sleep(quiet)
                    phase["name"] = "burst"
                    burst_started = time.monotonic()
                    for n in range(30):
                        peer.user(flooder).send_photo(
                            b"\x89PNG\r\n\x1a\n" + os.urandom(600) + bytes([n])
                        )
                    await peer.wait_for(
                        lambda: len(acked_numbers(peer, flooder)) >= 30, timeout=300
                    )
                    burst_seconds = time.monotonic() - burst_started
                    await asyncio.sleep(max(0.0, quiet - burst_seconds))  # windows of one size
                    stop.set()
                    await asyncio.gather(*askers)
                    return {
                        "limiter": limiter_name,
                        "quiet": latencies["quiet"],
                        "burst": latencies["burst"],
                        "burst_seconds": burst_seconds,
                        "flooder_messages": len(texts(peer, flooder)),
                        "chat_429s": peer.chat_429s,
                    }


def report(result: dict[str, object]) -> None:
    quiet, burst = result["quiet"], result["burst"]
    assert isinstance(quiet, list) and isinstance(burst, list)
    q50, q99 = percentile(quiet, 0.5), percentile(quiet, 0.99)
    b50, b99 = percentile(burst, 0.5), percentile(burst, 0.99)
    print(f"\n== rate limiter: {result['limiter']}")
    print(f"other users' replies without a burst: n={len(quiet)}  p50 {q50 * 1000:.0f} ms  "
          f"p99 {q99 * 1000:.0f} ms  mean {statistics.fmean(quiet) * 1000:.0f} ms")  # fmt: skip
    print(f"other users' replies during the burst: n={len(burst)}  p50 {b50 * 1000:.0f} ms  "
          f"p99 {b99 * 1000:.0f} ms  mean {statistics.fmean(burst) * 1000:.0f} ms")  # fmt: skip
    print(f"p99 during / without: {b99 / q99:.2f}x   p50: {b50 / q50:.2f}x")
    print(f"burst of 30 acknowledged in {result['burst_seconds']:.1f} s, "
          f"{result['flooder_messages']} messages in that chat, "
          f"429 answers for chats: {result['chat_429s']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--others", type=int, default=20, help="users asking /status")
    parser.add_argument("--rtt", type=float, default=0.05, help="seconds per Bot API request")
    parser.add_argument("--quiet", type=float, default=10.0, help="seconds without a burst")
    parser.add_argument("--limiter", choices=("ours", "ptb", "both"), default="both")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    names = ("ours", "ptb") if args.limiter == "both" else (args.limiter,)
    print(f"{args.others} other users, rtt {args.rtt * 1000:.0f} ms, per-chat limit 1/s "
          f"(bursts of 3) enforced by the peer, {os.cpu_count()} CPUs")  # fmt: skip
    for name in names:
        report(asyncio.run(measure(name, args.others, args.rtt, args.quiet)))


if __name__ == "__main__":
    main()
