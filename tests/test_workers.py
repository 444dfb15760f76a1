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
import pytest

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
    *,
    telegram: bool = True,
) -> subprocess.Popen[bytes]:
    """Start ``python -m bot <role>``; ``telegram=False``: with no Telegram token at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=peer.token, TELEGRAM_API_BASE_URL=peer.base_url,
        TELEGRAM_FILE_BASE_URL=peer.base_file_url, DATA_DIR=str(data_dir),
        DATABASE_URL=url, LOG_LEVEL="INFO", PYTHONPATH=str(REPO), LANG="C.UTF-8",
    )  # fmt: skip
    if not telegram:
        del env["TELEGRAM_BOT_TOKEN"]
    env.update(extra or {})
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", role], env=env, cwd=data_dir.parent,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def inbox_left(url: str) -> int:
    async with await Storage.open(url) as storage:
        return len(await storage.pending("telegram"))


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
                # recorded as it came; the worker finds it cannot be read and says so
                broken = private_text(7301, 90, "SECRET broken")
                del broken["message"]["date"]
                answer = await client.post(url, json=broken, headers=headers)
                assert answer.status_code == 200
                for n, text in enumerate(["/start", "/help", "/status"], start=1):
                    answer = await client.post(
                        url, json=private_text(7301, n, text), headers=headers
                    )
                    assert answer.status_code == 200
            await peer.wait_for(lambda: len(texts(peer, 7301)) >= 4, timeout=30)
            said = texts(peer, 7301)
            assert sum("could not read your last" in t for t in said) == 1
            answers = [t for t in said if "could not read your last" not in t]
            assert "You are not alone" in answers[0]  # in the order sent
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.to_thread(proc.wait, 60)
    for log in logs.iterdir():
        assert "Traceback" not in log.read_text(errors="replace"), log.name
        assert "SECRET" not in log.read_text(errors="replace"), log.name
    assert await inbox_left(postgres_url) == 0


@pytest.mark.parametrize("telegram", [True, False], ids=["with-telegram", "whatsapp-alone"])
async def test_whatsapp_messages_recorded_by_the_receiver_are_applied_by_the_workers(
    tmp_path: Path, postgres_url: str, telegram: bool
) -> None:
    """The receiver records WhatsApp's deliveries; two workers apply them, each user's in
    order and once, while one of them is killed; beside Telegram, or with no Telegram token
    at all."""
    import socket

    from tests.whatsapp_peer import GraphPeer

    data = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with BotApiPeer(token=TOKEN) as peer, GraphPeer() as graph:
        extra = {
            "WHATSAPP_TOKEN": graph.token, "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
            "WHATSAPP_APP_SECRET": graph.app_secret, "WHATSAPP_VERIFY_TOKEN": "verify",
            "WHATSAPP_API_BASE_URL": graph.base_url,
            "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port),
        }  # fmt: skip
        procs = [
            start("receiver", peer, data, postgres_url, logs / "receiver.log", extra,
                  telegram=telegram),
        ] + [
            start("worker", peer, data, postgres_url, logs / f"w{n}.log", extra,
                  telegram=telegram) for n in (1, 2)
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}/whatsapp"
        users = ["MX.301", "MX.302", "MX.303"]
        shots = {u: [b"\x89PNG\r\n\x1a\n" + os.urandom(400) for _ in range(8)] for u in users}
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).is_success:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            for user in users:
                assert await graph.push(url, graph.envelope(graph.text(user, "Hola"))) == 200
            for n in range(8):
                if n == 4:
                    procs[1].send_signal(signal.SIGKILL)  # a worker dies mid-burst
                    await asyncio.to_thread(procs[1].wait)
                messages = [
                    graph.image(u, graph.add_media(shots[u][n], "image/png")) for u in users
                ]
                assert await graph.push(url, graph.envelope(*messages)) == 200
            async with await Storage.open(postgres_url) as storage:
                for _ in range(600):
                    done = []
                    for user in users:
                        conv = await storage.load("whatsapp", user)
                        done.append(conv is not None and conv.cases
                                    and len(conv.cases[0].evidence) == 8)  # fmt: skip
                    if all(done):
                        break
                    await asyncio.sleep(0.1)
                for user in users:
                    conv = await storage.load("whatsapp", user)
                    assert conv is not None
                    stored = [item.sha256 for item in conv.cases[0].evidence]
                    assert stored == [hashlib.sha256(s).hexdigest() for s in shots[user]]
            for user in users:
                said = str(graph.sent_to(user))
                assert "#8" in said
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.to_thread(proc.wait, 60)
    assert graph.violations == []
    if not telegram:
        assert peer.requests("getUpdates") == [] and peer.requests("getMe") == []
    for log in logs.iterdir():
        text = log.read_text(errors="replace")
        assert "Traceback" not in text or log.name == "w1.log", (log.name, text[-2000:])


@pytest.mark.parametrize("role", ["receiver", "worker"])
def test_a_receiver_or_worker_with_nothing_to_serve_says_what_to_set(
    tmp_path: Path, role: str
) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "WHATSAPP_", "WECHAT_", "DATABASE_"))}  # fmt: skip
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO), LANG="C.UTF-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", role], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "WHATSAPP_" in done.stderr
    assert "Traceback" not in done.stderr
