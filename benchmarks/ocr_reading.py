"""What reading the screenshots costs: the OCR process alone, and the bot's acknowledgements
of a burst of screenshots with reading on and off.

Run from the repository root::

    python -m benchmarks.ocr_reading            # 60 screenshots read, 3 bursts each way
    python -m benchmarks.ocr_reading --quick    # 10 screenshots read, 1 burst each way

1. **The OCR process alone.** The bot's engine (bot/ocr.py ``OcrEngine``: rapidocr in one
   spawned child process, one thread, at a lower priority) is started and its models loaded
   (a no-op task is sent to its pool: the pool's initializer loads the models before any
   task), then it reads ``--shots`` screenshots of ``tests/screenshots.py``
   ``screenshot_set(0)`` (spread over the set: every language, style, encoding and size) one
   after the other, then a burst of ``--burst`` handed to it all at once. The child's CPU
   time is its utime + stime in ``/proc/<pid>/stat``, read before and after, so the figure
   per screenshot leaves the loading out (printed on its own line); its peak RSS is
   ``VmHWM`` in ``/proc/<pid>/status``, after loading and after the reading. The wall time
   per screenshot is what the bot waits for one reading (the picture checked, sent to the
   child, read, the result sent back).

2. **The bot's acknowledgements, reading on and off.** The real application long-polls the
   tests' loopback Bot API peer (tests/peer/botapi_peer.py on 127.0.0.1, ``--rtt`` on every
   request and download), with its SQLite storage in a new temporary folder for every run,
   wrapped as ``bot/telegram/app.py`` ``run_telegram`` wraps it: ``running(...)`` and
   ``reading(core, enabled)``, with the production pacer (``ChatPacer()``) and the peer
   enforcing Telegram's per-chat limit (bursts of 3, then one message a second; the
   acknowledgements of a burst are merged while the chat is paced). One user is onboarded
   to the evidence step, then sends ``--burst`` of the same screenshots as photos in one go.
   The latency of a screenshot is the time from queuing its update in the peer until the
   peer receives the bot's message acknowledging its item number (its own or a merged one).
   With reading on, the OCR process starts at the first picture, as after a restart
   (``--warm`` starts it before the burst), and the time from the last acknowledgement until
   the last picture was read (no reading job left) is printed too. Runs alternate off and on,
   ``--reps`` times each; printed per run and as the median over the runs.

The bot, the peer and the user share this process; the OCR process is the only other one.
Nothing here asserts anything: it prints figures (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import platform
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Before telegram is imported.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Only the standard library above: the OCR process is spawned, and a spawned process imports
# the main module (this one, under ``-m``) before it loads its models; whatever this module
# imported at its top would count in that process's memory. The rest is imported where used.

USER_ID = 424_242
ACK_SINGLE = re.compile(r"Saved as evidence item #(\d+)")
ACK_MERGED = re.compile(r"^Saved \d+ items as evidence: (.*)\.$", re.MULTILINE)


# -- small helpers ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # after the command's name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def proc_status_kib(pid: int, name: str) -> int:
    """A field of /proc/<pid>/status in KiB (VmRSS: now; VmHWM: the process's peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def machine() -> str:
    """The machine and the versions that matter here, on one line."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.machine(),
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    memory = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    return (
        f"{model}, {os.cpu_count()} CPUs, {memory:.1f} GiB; Linux {platform.release()}; "
        f"Python {platform.python_version()}, python-telegram-bot {version('python-telegram-bot')}"
        f", rapidocr {version('rapidocr')}, onnxruntime {version('onnxruntime')}"
    )


def spread(items: list[Any], count: int) -> list[Any]:
    """``count`` items taken evenly over ``items`` (screenshot_set is ordered by language,
    then style, then encoding: the first ten would all be Spanish WeChat and WhatsApp)."""
    count = min(count, len(items))
    return [items[i * len(items) // count] for i in range(count)]


async def start_child(engine: Any) -> int:
    """Start the engine's process and wait until its models are loaded; return its pid.

    The engine itself starts its process with the first picture, whose reading would then be
    counted with the loading; a no-op task (``os.getpid``) waits for the pool's initializer
    (``_start_child``: the models loaded) and nothing more. Uses the engine's private pool."""
    pool = engine._executor()
    pid: int = await asyncio.wrap_future(pool.submit(os.getpid))
    return pid


def child_pids(engine: Any) -> list[int]:
    """The pids of the engine's process (none when it was never started or was closed)."""
    pool = engine._pool
    return list(pool._processes) if pool is not None and pool._processes else []


# -- 1. the OCR process alone -----------------------------------------------------------------


@dataclass
class WorkerCost:
    load_wall: float = 0.0
    load_cpu: float = 0.0
    hwm_loaded_kib: int = 0
    walls: list[float] = field(default_factory=list)  # seconds, one per screenshot
    cpu: float = 0.0  # the child's, over the screenshots read one after the other
    lines: list[int] = field(default_factory=list)
    hwm_after_kib: int = 0
    burst: int = 0
    burst_wall: float = 0.0
    burst_cpu: float = 0.0
    hwm_burst_kib: int = 0


async def measure_worker(shots: list[Any], burst: list[Any]) -> WorkerCost:
    from bot.ocr import OcrEngine

    cost = WorkerCost(burst=len(burst))
    engine = OcrEngine()
    try:
        started = time.perf_counter()
        pid = await start_child(engine)
        cost.load_wall = time.perf_counter() - started
        cost.load_cpu = proc_cpu_seconds(pid)
        cost.hwm_loaded_kib = proc_status_kib(pid, "VmHWM")

        cpu = proc_cpu_seconds(pid)
        for shot in shots:
            started = time.perf_counter()
            page = await engine.read(shot.data)
            cost.walls.append(time.perf_counter() - started)
            cost.lines.append(len(page.lines))
        cost.cpu = proc_cpu_seconds(pid) - cpu
        cost.hwm_after_kib = proc_status_kib(pid, "VmHWM")

        cpu, started = proc_cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(engine.read(shot.data) for shot in burst))  # read in turn
        cost.burst_wall = time.perf_counter() - started
        cost.burst_cpu = proc_cpu_seconds(pid) - cpu
        cost.hwm_burst_kib = proc_status_kib(pid, "VmHWM")
        if child_pids(engine) != [pid]:
            print(f"WARNING: the OCR process changed (was {pid}, now {child_pids(engine)})")
    finally:
        await engine.close()
    return cost


def report_worker(cost: WorkerCost) -> None:
    n = len(cost.walls)
    print("\n== 1. The OCR process alone (bot/ocr.py OcrEngine: one child, one thread, nice 10)")
    print(
        f"start and model loading: {cost.load_wall:.2f} s wall, {cost.load_cpu:.2f} s CPU, "
        f"peak RSS {mib(cost.hwm_loaded_kib)}"
    )
    print(f"{n} screenshots read one after the other:")
    print(
        f"  child CPU per screenshot {cost.cpu / n:.2f} s (loading excluded; "
        f"{cost.cpu:.1f} s in all)"
    )
    print(
        f"  wall per screenshot: mean {statistics.fmean(cost.walls):.2f} s, "
        f"median {median(cost.walls):.2f} s, max {max(cost.walls):.2f} s, "
        f"first {cost.walls[0]:.2f} s"
    )
    print(
        f"  lines read per screenshot: mean {statistics.fmean(cost.lines):.1f}, "
        f"min {min(cost.lines)}"
    )
    print(f"  child peak RSS after the {n}: {mib(cost.hwm_after_kib)}")
    print(
        f"burst of {cost.burst} handed over at once: all read {cost.burst_wall:.1f} s after "
        f"the first was handed over ({cost.burst_wall / cost.burst:.2f} s each; aim for 30: "
        f"about 30 s), child CPU {cost.burst_cpu:.1f} s, "
        f"peak RSS {mib(cost.hwm_burst_kib)}"
    )


# -- 2. the bot's acknowledgements, reading on and off ----------------------------------------


@dataclass
class AckRun:
    reading: bool
    latencies: list[float] = field(default_factory=list)  # seconds, one per acknowledged shot
    missing: int = 0
    ack_messages: int = 0  # the bot's messages that acknowledged them (a burst's are merged)
    all_acked: float = 0.0  # seconds from the first send to the last acknowledgement
    read_after_last_ack: float = math.nan  # seconds (reading on)
    read_count: int = 0
    unread: int = 0
    process_cpu: float = 0.0  # this process: bot, peer and user
    ocr_cpu: float = math.nan  # the OCR process, start and loading included
    ocr_hwm_kib: int = 0

    @property
    def name(self) -> str:
        return "on" if self.reading else "off"


def make_peer(rtt: float) -> Any:
    """The tests' peer, noting when each item number is first acknowledged in a chat."""
    from tests.peer.botapi_peer import BotApiPeer
    from tests.test_telegram_peer import TOKEN

    class TimedPeer(BotApiPeer):
        def __init__(self) -> None:
            super().__init__(token=TOKEN, rtt=rtt)
            self.acked: dict[int, dict[int, float]] = {}  # chat -> item number -> when
            self.ack_messages: dict[int, int] = {}  # chat -> messages acknowledging items

        def _bot_message(self, chat: Any, params: Any, **content: Any) -> Any:
            now = time.perf_counter()
            text = str(content.get("text") or "")
            numbers = [int(n) for n in ACK_SINGLE.findall(text)]
            for merged in ACK_MERGED.findall(text):
                numbers += [int(n) for n in re.findall(r"#(\d+)", merged)]
            if numbers:
                self.ack_messages[chat["id"]] = self.ack_messages.get(chat["id"], 0) + 1
            for number in numbers:
                self.acked.setdefault(chat["id"], {}).setdefault(number, now)
            return super()._bot_message(chat, params, **content)

    return TimedPeer()


async def ack_run(enabled: bool, shots: list[Any], options: argparse.Namespace) -> AckRun:
    from bot.app import open_core
    from bot.ocr import OcrEngine
    from bot.reading import reading
    from bot.telegram.app import TelegramAdapter, build_application, running
    from bot.telegram.pacing import ChatPacer
    from tests.test_telegram_peer import onboard, settings_for

    run = AckRun(enabled)
    async with make_peer(options.rtt) as peer:
        with tempfile.TemporaryDirectory(prefix="ocr-reading-") as tmp:
            settings = settings_for(peer, Path(tmp) / "data", ocr=enabled)
            async with open_core(settings) as core:
                adapter = TelegramAdapter(core)
                pacer = ChatPacer() if options.chat_limit else ChatPacer(50, 10, 0, 10)
                application = build_application(settings, adapter, rate_limiter=pacer)
                # The engine reading() would make, made here to read its process's figures.
                engine = OcrEngine() if enabled else None
                async with (
                    running(application, adapter, settings, poll_timeout=1),
                    reading(core, settings.ocr, engine) as reader,
                ):
                    await onboard(peer, USER_ID)
                    if engine is not None and options.warm:
                        await start_child(engine)
                    if options.chat_limit:
                        peer.limit_chats(per_second=1.0, burst=3)
                    await asyncio.sleep(4)  # the chat's allowance refills after onboarding
                    acked: dict[int, float] = peer.acked.setdefault(USER_ID, {})
                    acked.clear()
                    peer.ack_messages[USER_ID] = 0
                    user = peer.user(USER_ID)
                    cpu, sent = time.process_time(), {}
                    for number, shot in enumerate(shots, 1):  # items #1... of the new case
                        sent[number] = time.perf_counter()
                        user.send_photo(shot.data)
                    try:
                        await peer.wait_for(
                            lambda: len(acked) >= len(shots), timeout=options.timeout
                        )
                    except TimeoutError:
                        print(
                            f"WARNING: {len(shots) - len(acked)} screenshots not acknowledged "
                            f"within {options.timeout:g} s"
                        )
                    run.latencies = [acked[n] - sent[n] for n in sent if n in acked]
                    run.missing = len(shots) - len(run.latencies)
                    run.ack_messages = peer.ack_messages[USER_ID]
                    last_ack = max(acked.values(), default=math.nan)
                    run.all_acked = last_ack - sent[1]
                    if reader is not None and engine is not None:
                        deadline = time.perf_counter() + options.timeout
                        run.unread = await core.storage.reading_jobs()
                        while run.unread and time.perf_counter() < deadline:
                            await asyncio.sleep(0.05)
                            run.unread = await core.storage.reading_jobs()
                        if run.unread:
                            print(
                                f"WARNING: {run.unread} pictures not read within "
                                f"{options.timeout:g} s"
                            )
                        else:
                            run.read_after_last_ack = time.perf_counter() - last_ack
                        run.read_count = reader.read_count
                        pids = child_pids(engine)
                        if pids:
                            run.ocr_cpu = sum(proc_cpu_seconds(pid) for pid in pids)
                            run.ocr_hwm_kib = max(proc_status_kib(pid, "VmHWM") for pid in pids)
                    run.process_cpu = time.process_time() - cpu
    return run


def report_ack_run(run: AckRun, index: int) -> None:
    line = (
        f"  reading {run.name:<3} #{index}: p50 {ms(percentile(run.latencies, 0.5))}, "
        f"p99 {ms(percentile(run.latencies, 0.99))}, max {ms(max(run.latencies, default=0))}; "
        f"all acknowledged in {run.ack_messages} messages, the last {run.all_acked:.1f} s after "
        "the first photo was sent; "
        f"CPU of this process (bot, peer, user) {run.process_cpu:.1f} s"
    )
    if run.missing:
        line += f"; {run.missing} NOT ACKNOWLEDGED"
    print(line)
    if run.reading:
        read = (
            f"{run.read_after_last_ack:.1f} s after the last acknowledgement"
            if not math.isnan(run.read_after_last_ack)
            else f"NOT ALL READ ({run.unread} left)"
        )
        print(
            f"      last picture read {read}; {run.read_count} read by the reader; "
            f"OCR process CPU {run.ocr_cpu:.1f} s (start and loading included), "
            f"peak RSS {mib(run.ocr_hwm_kib)}"
        )


def report_acks(runs: list[AckRun], count: int) -> None:
    off = [r for r in runs if not r.reading]
    on = [r for r in runs if r.reading]

    def med(chosen: list[AckRun], share: float) -> float:
        return median([percentile(r.latencies, share) for r in chosen])

    print(f"\nmedian over the runs ({len(off)} off, {len(on)} on), {count} screenshots each:")
    print(f"{'':14}{'p50':>10}{'p99':>10}{'max':>10}")
    for name, chosen in (("reading off", off), ("reading on", on)):
        cells = [ms(med(chosen, share)) for share in (0.5, 0.99, 1.0)]
        print(f"{name:14}" + "".join(f"{cell:>10}" for cell in cells))
    ratio = med(on, 0.99) / med(off, 0.99)
    print(
        f"on/off: p99 {ratio:.2f}x (aim: within 1.2x), p50 {med(on, 0.5) / med(off, 0.5):.2f}x, "
        f"max {med(on, 1.0) / med(off, 1.0):.2f}x"
    )
    after = median([r.read_after_last_ack for r in on])
    print(
        f"reading on: the last picture read {after:.1f} s after the last acknowledgement (median)"
    )


async def measure_acks(shots: list[Any], options: argparse.Namespace) -> list[AckRun]:
    runs: list[AckRun] = []
    for rep in range(1, options.reps + 1):
        for enabled in (False, True):
            run = await ack_run(enabled, shots, options)
            report_ack_run(run, rep)
            runs.append(run)
    return runs


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 10 screenshots read, 1 burst each way"
    )
    parser.add_argument("--shots", type=int, help="screenshots read one by one (60; quick: 10)")
    parser.add_argument("--burst", type=int, default=30, help="screenshots in a burst (30)")
    parser.add_argument("--reps", type=int, help="bursts with reading off, and on (3; quick: 1)")
    parser.add_argument("--rtt", type=float, default=0.05, help="seconds per Bot API request")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="start the OCR process before the burst, not at its first picture",
    )
    parser.add_argument(
        "--no-chat-limit",
        dest="chat_limit",
        action="store_false",
        help="no per-chat limit: the peer enforces none, the bot's pacer allows "
        "50 messages/s (measures processing rather than what a user sees)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the acknowledgements, and for the reading",
    )
    parser.add_argument("--part", choices=("worker", "acks", "both"), default="both")
    options = parser.parse_args(argv)
    if options.shots is None:
        options.shots = 10 if options.quick else 60
    if options.reps is None:
        options.reps = 1 if options.quick else 3
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from tests.screenshots import screenshot_set

    print("OCR reading: the OCR process's cost, and the bot's acknowledgements with it on/off")
    print(machine())
    made = time.perf_counter()
    everything = screenshot_set(0)
    shots, burst = spread(everything, options.shots), spread(everything, options.burst)
    kinds = Counter(f"{s.mime.split('/')[1].upper()} {s.width} px wide" for s in burst)
    print(
        f"screenshots: tests/screenshots.py screenshot_set(0), {len(everything)} made in "
        f"{time.perf_counter() - made:.1f} s; read one by one: {len(shots)}, in a burst: "
        f"{len(burst)} ({min(len(s.data) for s in burst) // 1024}-"
        f"{max(len(s.data) for s in burst) // 1024} KiB; "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        + ")"
    )
    if options.part in ("worker", "both"):
        report_worker(asyncio.run(measure_worker(shots, burst)))
    if options.part in ("acks", "both"):
        limit = (
            "the peer enforces Telegram's per-chat limit (3, then 1/s), ChatPacer() as in "
            "production"
            if options.chat_limit
            else "no per-chat limit (peer), ChatPacer at 50 messages/s"
        )
        start = "before the burst (--warm)" if options.warm else "at the first picture"
        print(
            f"\n== 2. The bot's acknowledgements of a burst of {len(burst)} screenshots, "
            "reading off and on"
        )
        print(
            f"tests/peer/botapi_peer.py on 127.0.0.1, rtt {ms(options.rtt)}; {limit}; SQLite "
            f"in a new folder under {tempfile.gettempdir()} per run; the OCR process starts "
            f"{start}; latency: from queuing the photo's update to the bot's message "
            "acknowledging its item number"
        )
        report_acks(asyncio.run(measure_acks(burst, options)), len(burst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
