"""The bot as one receiver and several workers on PostgreSQL, against the tests' Bot API peer.

Real processes started with the very commands of the README (``python -m bot receiver``,
``python -m bot worker``): users walk through onboarding and forward screenshots while one
worker is killed with SIGKILL; every screenshot is stored once, in order, acknowledged, and
the users go on being answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from bot.storage import Storage
from tests.conftest import REPO
from tests.peer.botapi_peer import BotApiPeer
from tests.test_telegram_peer import TOKEN, acked_numbers, onboard, texts


def start(
    role: str,
    peer: BotApiPeer,
    data_dir: Path,
    url: str,
    log: Path,
    extra: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=peer.token, TELEGRAM_API_BASE_URL=peer.base_url,
        TELEGRAM_FILE_BASE_URL=peer.base_file_url, DATA_DIR=str(data_dir),
        DATABASE_URL=url, LOG_LEVEL="INFO", PYTHONPATH=str(REPO), LANG="C.UTF-8",
    )  # fmt: skip
    env.update(extra or {})
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", role], env=env, cwd=data_dir.parent,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def test_a_receiver_and_two_workers_serve_users_and_survive_a_killed_worker(
    tmp_path: Path, postgres_url: str
) -> None:
    data = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    async with BotApiPeer(token=TOKEN) as peer:
        procs = [start("receiver", peer, data, postgres_url, logs / "receiver.log")]
        procs += [start("worker", peer, data, postgres_url, logs / f"w{n}.log") for n in (1, 2)]
        try:
            users = [7101, 7102, 7103]
            await asyncio.gather(*(onboard(peer, u) for u in users))
            shots = {u: [os.urandom(500) + bytes([u % 256, n]) for n in range(8)] for u in users}
            for n in range(4):
                for u in users:
                    peer.user(u).send_photo(shots[u][n])
            procs[1].send_signal(signal.SIGKILL)  # a worker dies mid-burst
            await asyncio.to_thread(procs[1].wait)
            for n in range(4, 8):
                for u in users:
                    peer.user(u).send_photo(shots[u][n])
            for u in users:
                await peer.wait_for(lambda u=u: len(set(acked_numbers(peer, u))) == 8, timeout=60)
                peer.user(u).send_command("/status")
                await peer.wait_for(lambda u=u: any("Case #1" in t for t in texts(peer, u)))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:  # the peer must go on answering while they stop
                await asyncio.to_thread(proc.wait, 60)
    async with await Storage.open(postgres_url) as storage:
        for u in users:
            conv = await storage.load("telegram", str(u))
            assert conv is not None
            stored = [item.sha256 for item in conv.cases[0].evidence]
            # each screenshot once, numbered in the order sent
            assert stored == [hashlib.sha256(data).hexdigest() for data in shots[u]]
    for log in logs.iterdir():
        text = log.read_text(errors="replace")
        assert "Traceback" not in text or log.name == "w1.log", log.name


async def test_two_webhook_receivers_share_a_port_and_a_worker_answers(
    tmp_path: Path, postgres_url: str
) -> None:
    from tests.test_faults import private_text
    from tests.test_telegram_peer import _free_port

    data, logs = tmp_path / "data", tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    hook = {"WEBHOOK_URL": url, "WEBHOOK_SECRET": "s3cret", "WEBHOOK_PORT": str(port)}
    async with BotApiPeer(token=TOKEN) as peer:
        peer.user(7301, language_code="en")
        procs = [
            start("receiver", peer, data, postgres_url, logs / f"r{n}.log", hook) for n in (1, 2)
        ]
        procs.append(start("worker", peer, data, postgres_url, logs / "w.log"))
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(100):  # both receivers listening
                    try:
                        await client.get(f"http://127.0.0.1:{port}/readyz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
                headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                for n, text in enumerate(["/start", "/help", "/status"], start=1):
                    answer = await client.post(
                        url, json=private_text(7301, n, text), headers=headers
                    )
                    assert answer.status_code == 200
            await peer.wait_for(lambda: len(texts(peer, 7301)) >= 3, timeout=30)
            assert "You are not alone" in texts(peer, 7301)[0]  # in the order sent
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.to_thread(proc.wait, 60)
    for log in logs.iterdir():
        assert "Traceback" not in log.read_text(errors="replace"), log.name
