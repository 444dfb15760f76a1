"""Webhook ingest: what the web app does before it answers 200, against a bare handler.

Run from the repository root::

    python -m benchmarks.webhook_ingest              # 200 concurrent senders, 20 requests each
    python -m benchmarks.webhook_ingest --quick      # 50 senders, 5 requests each

One process serves, on 127.0.0.1, the bot's real routes and a bare Starlette handler:

- ``/bare``: reads the body and answers 200, nothing else;
- ``/whatsapp``: the signature checked on the raw body (HMAC-SHA256), the JSON read, the
  message journaled in the inbox (SQLite, as ``python -m bot`` runs), then 200;
- ``/telegram``: the secret header checked, the JSON read and journaled as it came with its
  chat key (a receiver parses nothing more; the worker does), then 200.

Nothing is applied (the journal is what the 200 promises; applying comes after and is
measured by ``benchmarks.telegram_throughput``). The senders run in this process, each
sending its requests one after the other over its own connection; requests per second and
reply latencies are measured here, the server's CPU time in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

APP_SECRET = "bench-app-secret"
TELEGRAM_SECRET = "bench-secret"
TOKEN = "7012345678:AAF" + "x" * 32


def _serve(pipe: Connection, data_dir: str) -> None:
    """The server process: the three routes on a free port; answers its CPU time on request."""

    async def main() -> None:
        from starlette.requests import Request
        from starlette.responses import Response
        from telegram import Bot

        from bot.storage import Storage
        from bot.telegram.inbox import JournalingQueue
        from bot.web import WebServer, telegram_endpoint, web_app
        from bot.whatsapp.webhook import Inbound, deliveries

        async with await Storage.open(Path(data_dir) / "bot.sqlite3") as storage:
            queue = JournalingQueue(storage, "telegram", apply_here=False)
            bot = Bot(TOKEN)

            async def bare(request: Request) -> Response:
                await request.body()
                return Response(status_code=200)

            async def accept_telegram(raw: dict[str, Any]) -> None:
                await queue.accept(raw, bot, 10.0)

            async def accept_whatsapp(found: list[Inbound]) -> None:
                seq = time.time_ns() // 1000
                await storage.journal(
                    "whatsapp",
                    [(i.key, seq + n, i.payload(), i.user) for n, i in enumerate(found)],
                )

            app = web_app({
                "/bare": bare,
                "/telegram": telegram_endpoint(TELEGRAM_SECRET, accept_telegram),
                "/whatsapp": deliveries(APP_SECRET, accept_whatsapp),
            })  # fmt: skip
            server = WebServer(app, "127.0.0.1", 0)
            await server.start()
            pipe.send(server.port)
            loop = asyncio.get_running_loop()
            while True:
                ready = await loop.run_in_executor(None, pipe.poll, 0.2)
                if not ready:
                    continue
                command = pipe.recv()
                if command == "cpu":
                    usage = resource.getrusage(resource.RUSAGE_SELF)
                    pipe.send(usage.ru_utime + usage.ru_stime)
                elif command == "stop":
                    break
            await server.stop()

    asyncio.run(main())


def _whatsapp_body(n: int) -> tuple[bytes, dict[str, str]]:
    message = {
        "from": "5215511112222", "from_user_id": f"MX.{100000 + n % 200}",
        "id": f"wamid.BENCH{n:08d}", "timestamp": "1764400000", "type": "text",
        "text": {"body": "Te vamos a exponer con tus contactos"},
    }  # fmt: skip
    delivery = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5215500000000", "phone_number_id": "1"},
        "contacts": [{"profile": {"name": "V"}, "wa_id": "5215511112222",
                      "user_id": message["from_user_id"]}],
        "messages": [message]}}]}]}  # fmt: skip
    body = json.dumps(delivery, separators=(",", ":")).encode()
    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={signature}"}


def _telegram_body(n: int) -> tuple[bytes, dict[str, str]]:
    chat = 1_000_000 + n % 200
    update = {"update_id": n, "message": {
        "message_id": n, "date": 1764300000, "chat": {"id": chat, "type": "private",
        "first_name": "Ana"}, "from": {"id": chat, "is_bot": False, "first_name": "Ana"},
        "text": "Te vamos a exponer con tus contactos"}}  # fmt: skip
    headers = {"content-type": "application/json",
               "x-telegram-bot-api-secret-token": TELEGRAM_SECRET}  # fmt: skip
    return json.dumps(update).encode(), headers


def _bare_body(n: int) -> tuple[bytes, dict[str, str]]:
    return _telegram_body(n)[0], {"content-type": "application/json"}


async def _run(url: str, make: Any, senders: int, each: int, first: int) -> dict[str, float]:
    """Each sender opens its connection (one warm-up request), then all send together."""
    import aiohttp

    latencies: list[float] = []
    failures = 0
    go = asyncio.Event()
    ready = 0

    async def sender(index: int) -> None:
        nonlocal failures, ready
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            body, headers = make(first + index * (each + 1))
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            ready += 1
            if ready == senders:
                go.set()
            await go.wait()
            for k in range(1, each + 1):
                body, headers = make(first + index * (each + 1) + k)
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(sender(i)) for i in range(senders)]
    await go.wait()
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)]
    return {
        "rps": len(latencies) / wall,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": p99 * 1000,
        "failures": failures,
        "requests": len(latencies),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook_ingest")
    parser.add_argument("--senders", type=int, default=None, help="concurrent senders (200)")
    parser.add_argument("--each", type=int, default=None, help="requests per sender (20)")
    parser.add_argument("--quick", action="store_true", help="50 senders, 5 requests each")
    args = parser.parse_args(argv)
    senders = args.senders or (50 if args.quick else 200)
    each = args.each or (5 if args.quick else 20)
    print("Webhook ingest: the bot's routes (check, journal, 200) against a bare handler")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; server: one process, "
        "uvicorn, SQLite inbox; senders: aiohttp, one connection each, in this process"
    )
    print(f"{senders} concurrent senders x {each} requests each, on 127.0.0.1")
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as data_dir:
        process = context.Process(target=_serve, args=(theirs, data_dir), daemon=True)
        process.start()
        port = ours.recv()
        results: dict[str, dict[str, float]] = {}
        first = 1
        for name, make in (("bare", _bare_body), ("whatsapp", _whatsapp_body),
                           ("telegram", _telegram_body)):  # fmt: skip
            ours.send("cpu")
            before = ours.recv()
            results[name] = asyncio.run(
                _run(f"http://127.0.0.1:{port}/{name}", make, senders, each, first)
            )
            ours.send("cpu")
            results[name]["cpu_ms"] = (ours.recv() - before) * 1000 / results[name]["requests"]
            first += senders * (each + 1)
        ours.send("stop")
        process.join(10)
    print()
    print(f"{'':28}{'bare':>10}{'whatsapp':>10}{'telegram':>10}")
    rows = (
        ("requests/s", "rps", "{:.0f}"),
        ("p50 latency (ms)", "p50", "{:.0f}"),
        ("p99 latency (ms)", "p99", "{:.0f}"),
        ("server CPU per request (ms)", "cpu_ms", "{:.2f}"),
        ("non-200 answers", "failures", "{:.0f}"),
    )
    for label, key, form in rows:
        cells = [form.format(results[n][key]) for n in ("bare", "whatsapp", "telegram")]
        print(f"{label:28}" + "".join(f"{cell:>10}" for cell in cells))
    for name in ("whatsapp", "telegram"):
        ratio = results[name]["rps"] / results["bare"]["rps"]
        p99 = results[name]["p99"] / results["bare"]["p99"]
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"{name}/bare throughput: {ratio:.2f}x (aim >= 0.5x: {verdict}); p99 {p99:.2f}x")


if __name__ == "__main__":
    main()
