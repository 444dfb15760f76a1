"""Throughput and reply latency of our bot against a bare python-telegram-bot echo bot.

Run from the repository root::

    python -m benchmarks.telegram_throughput            # 200 users, 5 screenshots each
    python -m benchmarks.telegram_throughput --quick    # 20 users, 2 screenshots: a smoke run

Both bots long-poll the tests' loopback Bot API peer (tests/peer/botapi_peer.py), one after
the other, each on a fresh peer with the same round-trip delay and the same scripted users.
Each bot runs in a freshly spawned process of its own (so its CPU time and peak RSS are its
own); the peer and the simulated users run in this process. A user sends its next update only
once the bot has finished the previous one (a closed loop, like a person reading the answer);
the reply latency of an update is the time from enqueuing it in the peer until the bot's first
message to that chat reaches the peer. See benchmarks/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import logging
import math
import multiprocessing
import os
import platform
import pstats
import random
import resource
import struct
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

# Before telegram is imported, here and in the spawned bot processes (which import this module).
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Only the standard library above: a spawned bot process imports this module too, and what it
# imports counts in that process's memory. Everything else is imported where it is used.

REPO = Path(__file__).resolve().parent.parent
TOKEN = "7012345678:AAF" + "x" * 32
FIRST_USER_ID = 1_000_001
_UPDATE_ID = struct.Struct("<q")
RATE_LIMITER = {"overall_max_rate": 0, "max_retries": 5}
"""AIORateLimiter settings of both bots: Telegram's overall 30 messages/s limit is disabled."""


# -- the workload -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: str  # "command", "click", "photo" or "text"
    payload: str | bytes


def walk(index: int, shots: int, seed: int) -> list[Step]:
    """One user's script: onboarding, ``shots`` screenshots, the first answers, /status.

    Only the buttons of onboarding and of the evidence step are pressed, so that the script
    survives changes to the questions that follow."""
    rng = random.Random(seed * 1_000_003 + index)
    steps = [Step("command", "/start"), Step("click", "1|1|lang:en"), Step("click", "1|1|jur:cn")]
    steps.append(Step("click", "1|1|who:borrower"))
    steps += [Step("photo", rng.randbytes(rng.randint(200, 600))) for _ in range(shots)]
    steps += [
        Step("click", "1|1|ev:done"),
        Step("text", "QuickCash"),
        Step("text", "QuickCash Finance Ltd"),
        Step("command", "/status"),
    ]
    return steps


# -- the bot process --------------------------------------------------------------------------


@dataclass(frozen=True)
class BotConfig:
    kind: str  # "ours" or "echo"
    base_url: str
    base_file_url: str
    data_dir: str
    in_flight: int
    profile: bool
    token: str = TOKEN
    database_url: str | None = None


def _status_kib(name: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS: now; VmHWM: the process's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0


def _machine_busy_seconds() -> float:
    """CPU time all processes of the machine spent busy so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _readable(conn: Connection, timeout: float | None = None) -> None:
    """Wait, without a thread, until ``conn`` has something to read (or was closed)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await asyncio.wait_for(ready, timeout)
    finally:
        loop.remove_reader(conn.fileno())


class _Session:
    """The bot process's side of the control pipe: ready, then wait for stop."""

    def __init__(self, kind: str, ctrl: Connection, profile: bool) -> None:
        self.kind, self.ctrl, self.profile = kind, ctrl, profile
        self.stats: dict[str, Any] = {}

    async def serve(self) -> None:
        self.stats["rss_start_kib"] = _status_kib("VmRSS")
        cpu = _cpu_seconds()
        profiler = cProfile.Profile() if self.profile else None
        self.ctrl.send(("ready", None))
        if profiler is not None:
            profiler.enable()
        await _readable(self.ctrl)
        if profiler is not None:
            profiler.disable()
        self.stats["cpu_s"] = _cpu_seconds() - cpu
        self.ctrl.recv()  # "stop" (EOFError if the driver died: the process ends)
        if profiler is not None:
            self.stats["profile"] = _profile_text(profiler)
            path = Path(tempfile.gettempdir()) / f"benchmark-{self.kind}-bot.pstats"
            profiler.dump_stats(path)
            self.stats["profile_path"] = str(path)


def _profile_text(profiler: cProfile.Profile, top: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(f"-- top {top} by own time --\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"-- top {top} by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


Handler = Callable[[Any, Any], Awaitable[None]]


def bot_process(config: BotConfig, ctrl: Connection, done: Connection) -> None:
    """Entry point of a spawned bot process: run one bot until told to stop, send figures."""
    logging.basicConfig(
        level=logging.WARNING, format=f"[{config.kind} bot] %(levelname)s %(name)s: %(message)s"
    )
    try:
        stats = asyncio.run(_run_bot(config, ctrl, done))
    except Exception:
        ctrl.send(("error", traceback.format_exc()))
        return
    stats["peak_rss_kib"] = _status_kib("VmHWM")
    ctrl.send(("stats", stats))


async def _run_bot(config: BotConfig, ctrl: Connection, done: Connection) -> dict[str, Any]:
    counters = {"handled": 0, "handler_errors": 0}

    def instrument(callback: Handler) -> Handler:
        """Tell the driver when an update is finished (so a user never runs ahead of it)."""

        async def handler(update: Any, context: Any) -> None:
            try:
                await callback(update, context)
            except Exception:
                counters["handler_errors"] += 1
                raise
            finally:
                counters["handled"] += 1
                done.send_bytes(_UPDATE_ID.pack(update.update_id))

        return handler

    session = _Session(config.kind, ctrl, config.profile)
    if config.kind == "ours":
        await _serve_ours(config, instrument, session)
    elif config.kind == "receiver":
        await _serve_receiver(config, session)
    elif config.kind == "worker":
        await _serve_worker(config, instrument, session)
    else:
        await _serve_echo(config, instrument, session)
    return session.stats | counters


async def _serve_ours(
    config: BotConfig, instrument: Callable[[Handler], Handler], session: _Session
) -> None:
    """Our bot, built exactly as tests/test_telegram_peer.py builds it (without recording)."""
    from telegram.ext import AIORateLimiter

    from bot.app import open_core
    from bot.telegram.app import TelegramAdapter, build_application, running

    settings = _settings(config)
    async with open_core(settings) as core:
        adapter = TelegramAdapter(core)
        # build_application registers adapter.on_update: the instrumented one, shadowing it.
        adapter.on_update = instrument(adapter.on_update)  # type: ignore[method-assign]
        application = build_application(
            settings, adapter, rate_limiter=AIORateLimiter(**RATE_LIMITER)
        )
        async with running(application, adapter, settings, poll_timeout=1):
            await session.serve()


def _settings(config: BotConfig) -> Any:
    from pydantic import SecretStr

    from bot.settings import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(config.token),
        telegram_api_base_url=config.base_url,
        telegram_file_base_url=config.base_file_url,
        data_dir=Path(config.data_dir),
        database_url=SecretStr(config.database_url) if config.database_url else None,
    )


async def _serve_receiver(config: BotConfig, session: _Session) -> None:
    """Our receiver (python -m bot receiver), with the same rate limiter as the others."""
    from telegram.ext import AIORateLimiter

    from bot.app import open_core
    from bot.telegram.app import TelegramAdapter, build_application, running

    settings = _settings(config)
    async with open_core(settings, shared=True) as core:
        adapter = TelegramAdapter(core)
        application = build_application(
            settings, adapter, role="receiver", rate_limiter=AIORateLimiter(**RATE_LIMITER)
        )
        async with running(application, adapter, settings, poll_timeout=1):
            await session.serve()


async def _serve_worker(
    config: BotConfig, instrument: Callable[[Handler], Handler], session: _Session
) -> None:
    """One of our workers (python -m bot worker), with the same rate limiter as the others."""
    from telegram.ext import AIORateLimiter

    from bot.app import open_core
    from bot.telegram.app import CHANNEL, TelegramAdapter, build_application
    from bot.workers import job_handler
    from bot.workqueue import WorkQueue, work

    settings = _settings(config)
    assert config.database_url is not None
    async with open_core(settings, shared=True) as core:
        adapter = TelegramAdapter(core)
        adapter.worker = True
        adapter.on_update = instrument(adapter.on_update)  # type: ignore[method-assign]
        application = build_application(
            settings, adapter, role="worker", rate_limiter=AIORateLimiter(**RATE_LIMITER)
        )
        slots = config.in_flight
        async with application, WorkQueue.open(config.database_url, CHANNEL, slots=slots) as q:
            stop = asyncio.Event()
            working = asyncio.create_task(
                work(q, job_handler(application, adapter), slots=slots, stop=stop, poll=0.2)
            )
            await session.serve()
            stop.set()
            await working


def _load_ordering() -> ModuleType:
    """bot/telegram/ordering.py on its own: importing it as ``bot.telegram.ordering`` runs
    bot/telegram/__init__.py, which would load our whole bot into the echo bot's process."""
    path = REPO / "bot" / "telegram" / "ordering.py"
    spec = importlib.util.spec_from_file_location("_benchmark_ordering", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _serve_echo(
    config: BotConfig, instrument: Callable[[Handler], Handler], session: _Session
) -> None:
    """A bare PTB bot: one handler, one "ok" per update, no storage; our concurrency."""
    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, TypeHandler
    from telegram.request import HTTPXRequest

    ordering = _load_ordering()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, "ok")

    application = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .concurrent_updates(ordering.PerChatOrderedProcessor(in_flight=config.in_flight))
        .rate_limiter(AIORateLimiter(**RATE_LIMITER))
        .request(HTTPXRequest(connection_pool_size=config.in_flight, read_timeout=30))
        .build()
    )
    application.add_handler(TypeHandler(Update, instrument(echo)))
    updater = application.updater
    assert updater is not None
    await application.initialize()
    try:
        await application.start()
        await updater.start_polling(poll_interval=0, timeout=1)
        try:
            await session.serve()
        finally:
            await updater.stop()
            await application.stop()
    finally:
        await application.shutdown()


# -- the driver: peer, users, figures ---------------------------------------------------------


@dataclass
class BotRun:
    kind: str
    users: int
    updates_sent: int = 0
    updates_done: int = 0
    wall_s: float = 0.0
    replies: list[float] = field(default_factory=list)  # seconds, one per replied update
    done: list[float] = field(default_factory=list)  # seconds until the update was finished
    missing_replies: int = 0
    users_failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    downloads: int = 0
    violations: int = 0
    driver_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # every process of the machine, during the run
    bot: dict[str, Any] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.updates_done / self.wall_s if self.wall_s else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.replies, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.replies, 0.99)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def make_peer(rtt: float) -> Any:
    """The tests' peer, noting when each bot message appears (imported here, not in bots)."""
    from tests.peer.botapi_peer import BotApiPeer

    class TimedPeer(BotApiPeer):
        def __init__(self) -> None:
            super().__init__(token=TOKEN, rtt=rtt)
            self.reply_waiters: dict[int, asyncio.Future[float]] = {}
            self.last_message: dict[int, int] = {}
            self.downloads = 0

        def _bot_message(self, chat: Any, params: Any, **content: Any) -> Any:
            now = time.perf_counter()
            message = super()._bot_message(chat, params, **content)
            self.last_message[chat["id"]] = message["message_id"]
            waiter = self.reply_waiters.pop(chat["id"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
            return message

        async def _download(self, request: Any) -> Any:
            self.downloads += 1
            return await super()._download(request)

    return TimedPeer()


class _DoneFeed:
    """Reads the bot process's "update finished" notices and resolves the users' waiters."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(conn.fileno(), self._read)
        self.open = True

    def _read(self) -> None:
        try:
            while self.conn.poll():
                (update_id,) = _UPDATE_ID.unpack(self.conn.recv_bytes())
                waiter = self.waiters.pop(update_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(time.perf_counter())
        except (EOFError, OSError):
            self.close()
            for waiter in self.waiters.values():
                if not waiter.done():
                    waiter.set_exception(RuntimeError("the bot process ended"))
            self.waiters.clear()

    def close(self) -> None:
        if self.open:
            self.loop.remove_reader(self.conn.fileno())
            self.open = False


async def drive_user(
    peer: Any,
    feed: _DoneFeed,
    user_id: int,
    steps: list[Step],
    *,
    buttons: bool,
    delay: float,
    timeout: float,
    run: BotRun,
) -> None:
    """Play one user's script, each update after the bot finished the previous one."""
    await asyncio.sleep(delay)
    user = peer.user(user_id, language_code="en")
    loop = asyncio.get_running_loop()
    for step in steps:
        replied: asyncio.Future[float] = loop.create_future()
        finished: asyncio.Future[float] = loop.create_future()
        peer.reply_waiters[user_id] = replied
        try:
            update = _send(peer, user, step, buttons)
        except LookupError:
            run.failures["button not found"] += 1
            run.users_failed += 1
            return
        sent_at = time.perf_counter()
        feed.waiters[update["update_id"]] = finished
        run.updates_sent += 1
        try:
            done_at = await asyncio.wait_for(finished, timeout)
        except (TimeoutError, RuntimeError) as error:
            run.failures[f"no end of update: {type(error).__name__}"] += 1
            run.users_failed += 1
            return
        run.updates_done += 1
        run.done.append(done_at - sent_at)
        peer.reply_waiters.pop(user_id, None)
        if replied.done():
            run.replies.append(replied.result() - sent_at)
        else:
            run.missing_replies += 1


def _send(peer: Any, user: Any, step: Step, buttons: bool) -> Any:
    if step.kind == "command":
        return user.send_command(str(step.payload))
    if step.kind == "text":
        return user.send_text(str(step.payload))
    if step.kind == "photo":
        assert isinstance(step.payload, bytes)
        return user.send_photo(step.payload)
    if buttons:  # our bot: press the button on the newest message that has it
        return user.click(str(step.payload))
    # The echo bot shows no buttons: press one on its last message, as a stale button would be.
    return user.click(str(step.payload), message_id=peer.last_message[user.id], check=False)


async def _receive(conn: Connection, expected: str, timeout: float) -> Any:
    await _readable(conn, timeout)
    try:
        kind, payload = conn.recv()
    except EOFError:
        raise RuntimeError("the bot process ended without a word") from None
    if kind == "error":
        raise RuntimeError(f"the bot process failed:\n{payload}")
    if kind != expected:
        raise RuntimeError(f"expected {expected!r} from the bot process, got {kind!r}")
    return payload


def _roles(kind: str) -> list[str]:
    """The processes of one bot: itself, or a receiver and N workers ("workers-N")."""
    if kind.startswith("workers-"):
        return ["receiver"] + ["worker"] * int(kind.removeprefix("workers-"))
    return [kind]


async def run_bot(kind: str, options: Options, workloads: list[list[Step]]) -> BotRun:
    """Start a fresh peer and the bot's processes, play every user, stop them; return figures."""
    run = BotRun(kind, users=len(workloads))
    peer = make_peer(options.rtt)
    await peer.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bot-", dir=options.data_dir) as data:
            ctx = multiprocessing.get_context("spawn")  # a clean interpreter: honest RSS
            done_read, done_write = ctx.Pipe(duplex=False)
            procs = []
            for role in _roles(kind):
                database = options.database_url if role != "echo" else None
                config = BotConfig(
                    role, peer.base_url, peer.base_file_url, data, options.in_flight,
                    options.profile, database_url=database,
                )  # fmt: skip
                ctrl, ctrl_child = ctx.Pipe()
                process = ctx.Process(
                    target=bot_process,
                    args=(config, ctrl_child, done_write),
                    name=f"benchmark-{role}-bot",
                    daemon=True,
                )
                process.start()
                ctrl_child.close()
                procs.append((process, ctrl))
            done_write.close()
            feed: _DoneFeed | None = None
            try:
                for _, ctrl in procs:
                    await _receive(ctrl, "ready", timeout=60)
                feed = _DoneFeed(done_read)
                await _play(peer, feed, run, options, workloads)
                stats = []
                for _, ctrl in procs:
                    ctrl.send("stop")
                    stats.append(await _receive(ctrl, "stats", timeout=60))
                run.bot = _summed(stats)
            finally:
                if feed is not None:
                    feed.close()
                for process, ctrl in procs:
                    await _reap(process)
                    ctrl.close()
                done_read.close()
    finally:
        await peer.stop()
    run.violations = len(peer.violations)
    return run


def _summed(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """One bot's figures from its processes' (CPU, memory and counts added up)."""
    if len(stats) == 1:
        return stats[0]
    total: dict[str, Any] = {}
    for key in ("cpu_s", "rss_start_kib", "peak_rss_kib", "handled", "handler_errors"):
        total[key] = sum(s.get(key) or 0 for s in stats)
    return total


async def _play(
    peer: Any, feed: _DoneFeed, run: BotRun, options: Options, workloads: list[list[Step]]
) -> None:
    sent_before, downloads_before = len(peer.sent), peer.downloads
    cpu, busy, started = _cpu_seconds(), _machine_busy_seconds(), time.perf_counter()
    users, buttons, timeout = len(workloads), run.kind != "echo", options.step_timeout
    await asyncio.gather(
        *(
            drive_user(
                peer,
                feed,
                FIRST_USER_ID + i,
                steps,
                buttons=buttons,
                delay=options.ramp * i / users,
                timeout=timeout,
                run=run,
            )
            for i, steps in enumerate(workloads)
        )
    )
    run.wall_s = time.perf_counter() - started
    run.driver_cpu_s = _cpu_seconds() - cpu
    run.machine_busy_s = _machine_busy_seconds() - busy
    run.requests = Counter(r.method for r in peer.sent[sent_before:])
    run.downloads = peer.downloads - downloads_before


async def _reap(process: Any) -> None:
    """Wait for the bot process to end; terminate, then kill it if it does not."""
    for stop in (None, process.terminate, process.kill):
        if stop is not None:
            stop()
        deadline = time.monotonic() + 15
        while process.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not process.is_alive():
            break
    process.join(timeout=1)


# -- output -----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def _mib(kib: int | None) -> str:
    return "n/a" if not kib else f"{kib / 1024:.1f}"


def report(runs: list[BotRun], options: Options) -> None:
    rows: list[tuple[str, Callable[[BotRun], str]]] = [
        ("users", lambda r: str(r.users)),
        ("updates sent", lambda r: str(r.updates_sent)),
        ("updates finished", lambda r: str(r.updates_done)),
        ("wall time (s)", lambda r: f"{r.wall_s:.2f}"),
        ("updates/s", lambda r: f"{r.throughput:.1f}"),
        ("p50 reply latency (ms)", lambda r: _ms(r.p50)),
        ("p99 reply latency (ms)", lambda r: _ms(r.p99)),
        ("p99 update finished (ms)", lambda r: _ms(percentile(r.done, 0.99))),
        ("Bot API calls per update", lambda r: f"{_per_update(r, r.requests.total()):.2f}"),
        ("file downloads per update", lambda r: f"{_per_update(r, r.downloads):.2f}"),
        ("bot CPU per update (ms)", lambda r: f"{_per_update(r, r.bot['cpu_s']) * 1000:.2f}"),
        ("bot CPU (% of one core)", lambda r: f"{100 * r.bot['cpu_s'] / r.wall_s:.0f}"),
        ("peer+users CPU (% of one core)", lambda r: f"{100 * r.driver_cpu_s / r.wall_s:.0f}"),
        ("other processes' CPU (% of 1 core)", lambda r: f"{100 * _others(r) / r.wall_s:.0f}"),
        ("bot RSS when ready (MiB)", lambda r: _mib(r.bot.get("rss_start_kib"))),
        ("bot peak RSS (MiB)", lambda r: _mib(r.bot.get("peak_rss_kib"))),
        ("bot peak RSS above ready (MiB)", lambda r: _mib(_growth(r))),
    ]
    width = max(len(label) for label, _ in rows) + 2
    print()
    print(f"{'':<{width}}" + "".join(f"{r.kind:>12}" for r in runs))
    for label, cell in rows:
        print(f"{label:<{width}}" + "".join(f"{cell(r):>12}" for r in runs))
    for r in runs:
        calls = ", ".join(f"{m} {n / max(r.updates_done, 1):.2f}" for m, n in r.requests.items())
        print(f"{r.kind} Bot API calls per update: {calls}")
        problems = [f"{n} x {what}" for what, n in r.failures.items()]
        problems += [f"{r.missing_replies} updates without a reply"] * bool(r.missing_replies)
        problems += [f"{r.bot['handler_errors']} handler errors"] * bool(r.bot["handler_errors"])
        problems += [f"{r.violations} Bot API schema violations"] * bool(r.violations)
        problems += [f"{r.users_failed} users gave up"] * bool(r.users_failed)
        if problems:
            print(f"WARNING {r.kind}: " + "; ".join(problems))
        if _others(r) / max(r.wall_s, 1e-9) > 0.15:
            print(
                f"WARNING {r.kind}: other processes used the CPU during the run; "
                "its figures are not reliable (run again on a quiet machine)"
            )
        if 100 * r.driver_cpu_s / max(r.wall_s, 1e-9) > 85:
            print(
                f"WARNING {r.kind}: the peer+users process was near one full core; "
                "the bot may have been waiting on the peer, not on itself"
            )
    by_kind = {r.kind: r for r in runs}
    if "ours" in by_kind and "echo" in by_kind:
        ours, echo = by_kind["ours"], by_kind["echo"]
        tput = round(ours.throughput / echo.throughput, 2) if echo.throughput else math.nan
        p99 = round(ours.p99 / echo.p99, 2) if echo.p99 else math.nan
        print()
        print(
            f"ours/echo throughput: {tput:.2f}x  (goal >= 0.8x at 200 users: "
            f"{'met' if tput >= 0.8 else 'NOT met'})"
        )
        print(
            f"ours/echo p99 reply latency: {p99:.2f}x  (goal < 2x at 200 users: "
            f"{'met' if p99 < 2 else 'NOT met'})"
        )
        if options.users != 200:
            print(f"(this run had {options.users} users; the goal is stated for 200)")
    workers = sorted((r for r in runs if r.kind.startswith("workers-")), key=lambda r: r.kind)
    for r in workers:
        against = [("echo", by_kind.get("echo")), ("workers-1", by_kind.get("workers-1"))]
        ratios = [
            f"{r.throughput / base.throughput:.2f}x {name}"
            for name, base in against
            if base is not None and base is not r and base.throughput
        ]
        if ratios:
            print(f"{r.kind} throughput: " + ", ".join(ratios))
    for r in runs:
        if "profile" in r.bot:
            print(f"\n== cProfile of the {r.kind} bot process (figures above are inflated) ==")
            print(r.bot["profile"])
            print(f"raw statistics (pstats): {r.bot['profile_path']}")


def _per_update(run: BotRun, amount: float) -> float:
    return amount / run.updates_done if run.updates_done else math.nan


def _others(run: BotRun) -> float:
    """CPU seconds that neither the bot nor the peer+users used during the run (roughly)."""
    return max(0.0, run.machine_busy_s - run.driver_cpu_s - run.bot["cpu_s"])


def _growth(run: BotRun) -> int | None:
    peak, start = run.bot.get("peak_rss_kib"), run.bot.get("rss_start_kib")
    return peak - start if peak and start else None


# -- main -------------------------------------------------------------------------------------


@dataclass
class Options:
    users: int
    shots: int
    rtt: float
    ramp: float
    seed: int
    step_timeout: float
    bots: tuple[str, ...]
    data_dir: str | None
    in_flight: int
    profile: bool
    postgres: bool = False
    database_url: str | None = None


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.telegram_throughput",
        description="Our bot against a bare PTB echo bot on the loopback Bot API peer.",
    )
    parser.add_argument("--users", type=int, help="simulated users (default 200; --quick 20)")
    parser.add_argument("--shots", type=int, help="screenshots per user (default 5; --quick 2)")
    parser.add_argument("--rtt", type=float, default=0.1, help="delay of every Bot API request")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users, 2 shots")
    parser.add_argument(
        "--ramp", type=float, default=1.0, help="seconds over which the users start (default 1)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the screenshots' bytes")
    parser.add_argument(
        "--step-timeout", type=float, default=60.0, help="give a user up after this many seconds"
    )
    parser.add_argument(
        "--bots", choices=("both", "ours", "echo"), default="both", help="which bots to run"
    )
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[],
        help="also run our bot as one receiver and N workers on a private PostgreSQL, "
        "for each N given (e.g. --workers 1 2)",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", help="where our bot's temporary data folder goes (default: system temp)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="ours keeps its records in PostgreSQL (a private server, started as the tests do)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile each bot process and print the top functions (slows the bots down)",
    )
    args = parser.parse_args(argv)
    users = args.users if args.users is not None else (20 if args.quick else 200)
    shots = args.shots if args.shots is not None else (2 if args.quick else 5)
    if users < 1 or shots < 0 or args.rtt < 0 or args.ramp < 0:
        parser.error("--users must be >= 1; --shots, --rtt and --ramp >= 0")
    from bot.telegram.app import IN_FLIGHT  # the driver's process only

    bots = ("echo", "ours") if args.bots == "both" else (args.bots,)
    bots += tuple(f"workers-{n}" for n in args.workers)
    return Options(
        users, shots, args.rtt, args.ramp, args.seed, args.step_timeout, bots,
        args.data_dir, IN_FLIGHT, args.profile, args.postgres or bool(args.workers),
    )  # fmt: skip


async def main_async(options: Options) -> list[BotRun]:
    workloads = [walk(i, options.shots, options.seed) for i in range(options.users)]
    runs = []
    server = None
    if options.postgres:
        sys.path.insert(0, str(REPO))
        from tests.postgres import PostgresServer

        server = PostgresServer().start()
    try:
        for kind in options.bots:
            if server is not None and (kind == "ours" or kind.startswith("workers-")):
                options.database_url = server.new_database()
            elif kind == "echo":
                options.database_url = None
            print(f"running the {kind} bot...", flush=True)
            runs.append(await run_bot(kind, options, workloads))
    finally:
        if server is not None:
            server.stop()
    return runs


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    import telegram

    per_user = len(walk(0, options.shots, options.seed))
    print("Telegram throughput: our bot vs a bare python-telegram-bot echo bot")
    print(
        f"Python {platform.python_version()}, python-telegram-bot {telegram.__version__}, "
        f"{os.cpu_count()} CPUs; peer: tests/peer/botapi_peer.py on 127.0.0.1"
    )
    print(
        f"{options.users} users x {per_user} updates ({options.shots} screenshots), "
        f"closed loop, started over {options.ramp:g} s; rtt {options.rtt * 1000:g} ms on "
        "every Bot API request and file download"
    )
    print(
        f"both bots: {options.in_flight} updates in flight (PerChatOrderedProcessor), HTTP pool "
        f"{options.in_flight}, AIORateLimiter(overall_max_rate=0, max_retries=5): Telegram's "
        "30 msg/s overall limit is OFF for both, so this measures processing, not that limit"
    )
    print(
        "each bot runs alone in a freshly spawned process (CPU and RSS are that process's "
        "own: peak = VmHWM, 'when ready' = VmRSS once polling); the peer and users run here"
    )
    print(f"our bot's data: a new folder under {options.data_dir or tempfile.gettempdir()}")
    runs = asyncio.run(main_async(options))
    report(runs, options)
    failed = any(r.users_failed or r.updates_done < r.updates_sent for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
