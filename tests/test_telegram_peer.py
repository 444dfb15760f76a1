"""The real bot against the tests' own Bot API peer: order, floods, crashes, errors, webhook.

The peer (tests/peer) speaks the Bot API's JSON on 127.0.0.1 with what the npm emulator
lacks: getUpdates offsets and redelivery, long polling, files, 429/403/400 answers. Every
request the bot sends is checked against the Bot API schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.core import Core
from bot.settings import Settings
from bot.storage import Storage
from bot.telegram.app import TelegramAdapter, build_application, running
from bot.telegram.pacing import ChatPacer
from tests.botapi.recording_request import RecordingRequest
from tests.conftest import REPO
from tests.peer.botapi_peer import BotApiPeer

TOKEN = "7012345678:AAF" + "x" * 32


@dataclass
class Running:
    core: Core
    adapter: TelegramAdapter
    requests: RecordingRequest


def settings_for(peer: BotApiPeer, data_dir: Path, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(peer.token),
        telegram_api_base_url=peer.base_url,
        telegram_file_base_url=peer.base_file_url,
        data_dir=data_dir,
        **extra,  # type: ignore[arg-type]
    )


def quick_pacer() -> ChatPacer:
    """Per-chat pacing as in production, with limits high enough not to slow the tests."""
    return ChatPacer(chat_rate=50, chat_burst=10, overall_rate=0, max_retries=10)


@asynccontextmanager
async def bot_on(peer: BotApiPeer, data_dir: Path, **extra: object) -> AsyncIterator[Running]:
    """Run the real application against the peer, checking every request against the schema."""
    settings = settings_for(peer, data_dir, **extra)
    request = RecordingRequest(connection_pool_size=32, read_timeout=30)
    updates = RecordingRequest(read_timeout=30)
    async with open_core(settings) as core:
        adapter = TelegramAdapter(core)
        application = build_application(
            settings, adapter, request=request, get_updates_request=updates,
            rate_limiter=quick_pacer(),
        )  # fmt: skip
        async with running(application, adapter, settings, poll_timeout=1):
            yield Running(core, adapter, request)
    assert request.violations == [] and updates.violations == []
    assert peer.violations == []


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    async with BotApiPeer(token=TOKEN) as started:
        yield started


def texts(peer: BotApiPeer, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in peer.messages_to(chat_id)]


def acked_numbers(peer: BotApiPeer, chat_id: int) -> list[int]:
    found = []
    for text in texts(peer, chat_id):
        found += [int(n) for n in re.findall(r"evidence item #(\d+)", text)]
        if merged := re.match(r"Saved \d+ items as evidence: (.*)\.$", text):  # a burst's
            found += [int(n) for n in re.findall(r"#(\d+)", merged.group(1))]
    return found


async def onboard(peer: BotApiPeer, user_id: int) -> None:
    user = peer.user(user_id, language_code="en")
    user.send_command("/start")
    await peer.wait_for(lambda: any("You are not alone" in t for t in texts(peer, user_id)))
    user.click("1|1|lang:en")
    await peer.wait_for(lambda: any("Where do you live" in t for t in texts(peer, user_id)))
    user.click("1|1|jur:cn")
    await peer.wait_for(lambda: any("Did you take the loan" in t for t in texts(peer, user_id)))
    user.click("1|1|who:borrower")
    await peer.wait_for(lambda: any("Step 1 of 5" in t for t in texts(peer, user_id)))


async def test_a_burst_of_30_screenshots_from_20_users_with_429s(peer, tmp_path):
    users = list(range(9001, 9021))
    shots = {u: [os.urandom(600) + bytes([i]) for i in range(30)] for u in users}
    async with bot_on(peer, tmp_path / "data") as bot:
        await asyncio.gather(*(onboard(peer, u) for u in users))
        peer.flood(rate=0.02, retry_after=1)
        sent_ids: dict[int, list[str]] = {u: [] for u in users}
        for i in range(30):  # interleaved, as 20 phones forwarding at once
            for u in users:
                update = peer.user(u).send_photo(shots[u][i])
                sent_ids[u].append(update["message"]["photo"][-1]["file_unique_id"])
        await peer.wait_for(
            lambda: all(len(acked_numbers(peer, u)) == 30 for u in users), timeout=120
        )
        flooded = [r for r in peer.sent if r.error_code == 429]
        assert flooded, "the peer injected 429s"
        for u in users:
            assert acked_numbers(peer, u) == list(range(1, 31)), u
            conv = await bot.core.storage.load("telegram", str(u))
            assert conv is not None
            items = conv.cases[0].evidence
            assert [i.unique_id for i in items] == sent_ids[u]
            assert [i.sha256 for i in items] == [hashlib.sha256(d).hexdigest() for d in shots[u]]


async def test_a_redelivered_update_is_applied_once(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data") as bot:
        await onboard(peer, 77)
        update = peer.user(77).send_photo(b"\x89PNG" + os.urandom(100))
        await peer.wait_for(lambda: acked_numbers(peer, 77) == [1])
        peer.push({k: v for k, v in update.items() if k != "update_id"} | {"update_id": 10**6})
        duplicate_key = f"update:{update['update_id']}"
        assert await bot.core.storage.is_processed("telegram", duplicate_key)
        await peer.wait_for(lambda: any("already have" in t for t in texts(peer, 77)))
        conv = await bot.core.storage.load("telegram", "77")
        assert conv is not None and len(conv.cases[0].evidence) == 1


async def test_files_over_20_mb_are_explained_and_their_metadata_kept(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data") as bot:
        await onboard(peer, 78)
        peer.user(78).send_document_of_size(21 * 1024 * 1024, "recording.zip", "application/zip")
        await peer.wait_for(lambda: any("larger than the 20 MB" in t for t in texts(peer, 78)))
        conv = await bot.core.storage.load("telegram", "78")
        assert conv is not None
        item = conv.cases[0].evidence[0]
        assert (
            item.too_large and item.size == 21 * 1024 * 1024 and item.file_name == "recording.zip"
        )
        assert not peer.requests("getFile"), "a file known to be too big is not requested"


async def test_unsupported_messages_get_kind_replies_and_reactions_none(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 79)
        user = peer.user(79)
        before = len(texts(peer, 79))
        for send in (user.send_sticker, user.send_location, user.send_poll, user.send_dice):
            send()
        await peer.wait_for(lambda: len(texts(peer, 79)) == before + 4)
        assert all("can't keep this kind" in t for t in texts(peer, 79)[before:])
        user.react(peer.messages_to(79)[-1]["message_id"])
        own = user.send_text("pasted note")["message"]["message_id"]
        await peer.wait_for(lambda: len(texts(peer, 79)) == before + 5)
        user.edit_message(own, "edited note")
        await peer.wait_for(lambda: any("edits are not recorded" in t for t in texts(peer, 79)))
        await asyncio.sleep(0.3)
        assert len(texts(peer, 79)) == before + 6, "a reaction gets no reply"


async def test_a_stale_button_after_a_restart_gets_a_helpful_reply(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 80)
    async with bot_on(peer, tmp_path / "data"):
        peer.user(80).click("1|1|out:refused", check=False)
        await peer.wait_for(lambda: any("older question" in t for t in texts(peer, 80)))
        peer.user(80).click("0|1|something-from-an-old-version", check=False)
        await peer.wait_for(lambda: sum("older question" in t for t in texts(peer, 80)) == 2)


async def test_user_text_is_escaped_in_html(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 81)
        user = peer.user(81)
        user.click("1|1|ev:done")
        await peer.wait_for(lambda: any("name of the lending app" in t for t in texts(peer, 81)))
        user.send_text("<b>Loans & Co</b> <script>")
        await peer.wait_for(lambda: any("company that runs" in t for t in texts(peer, 81)))
        user.send_command("/status")
        await peer.wait_for(lambda: any("Case #1: step 2" in t for t in texts(peer, 81)))


async def test_a_blocked_user_and_an_unexpected_error_do_not_stop_the_bot(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data") as bot:
        await onboard(peer, 82)
        peer.block_user(82)
        peer.user(82).send_text("hello")
        await asyncio.sleep(0.5)
        peer.unblock_user(82)
        peer.fail_next("sendMessage", 1, error_code=500)
        peer.user(82).send_photo(b"\x89PNG" + os.urandom(50))
        await peer.wait_for(lambda: any("went wrong on my side" in t for t in texts(peer, 82)))
        conv = await bot.core.storage.load("telegram", "82")
        assert conv is not None, "nothing is lost"
        case = conv.cases[0]  # the photo is evidence; the typed text waits to be asked about
        assert len(case.evidence) == 1 and case.drafts == ["hello"]


async def test_the_webhook_rejects_requests_without_the_secret(peer, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    extra = {
        "webhook_url": url,
        "webhook_secret": SecretStr("s3cret-Token_1"),
        "webhook_port": port,
    }
    async with bot_on(peer, tmp_path / "data", **extra):
        assert peer.webhook_url == url
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 1764300000, "chat": {"id": 83, "type": "private",
            "first_name": "Ana"}, "from": {"id": 83, "is_bot": False, "first_name": "Ana",
            "language_code": "en"}, "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}  # fmt: skip
        peer.user(83, language_code="en")
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, json=update)
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            accepted = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
            )
        assert (refused.status_code, wrong.status_code, accepted.status_code) == (403, 403, 200)
        await peer.wait_for(lambda: any("You are not alone" in t for t in texts(peer, 83)))
        assert len(texts(peer, 83)) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bot_process(peer: BotApiPeer, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=peer.token, TELEGRAM_API_BASE_URL=peer.base_url,
        TELEGRAM_FILE_BASE_URL=peer.base_file_url, DATA_DIR=str(data_dir),
        LOG_LEVEL="DEBUG", PYTHONPATH=str(REPO),
    )  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=data_dir.parent,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def test_kill_9_mid_burst_loses_nothing_acknowledged_and_stores_nothing_twice(
    peer, tmp_path
):
    data_dir, log = tmp_path / "data", tmp_path / "bot.log"
    users = list(range(9101, 9111))
    shots = {u: [os.urandom(400) + bytes([i]) for i in range(30)] for u in users}
    process = _bot_process(peer, data_dir, log)
    try:
        for u in users:
            peer.user(u, language_code="en").send_photo(shots[u][0])
        await peer.wait_for(lambda: all(acked_numbers(peer, u) for u in users), timeout=60)
        for i in range(1, 30):
            for u in users:
                peer.user(u).send_photo(shots[u][i])
        await peer.wait_for(lambda: sum(len(acked_numbers(peer, u)) for u in users) > 120, 60)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 10)
        acked_before = {u: acked_numbers(peer, u) for u in users}
        process = _bot_process(peer, data_dir, log)
        await _until_stored(data_dir / "bot.sqlite3", users, 30, timeout=90)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 40)
    async with await Storage.open(data_dir / "bot.sqlite3") as storage:
        for u in users:
            conv = await storage.load("telegram", str(u))
            assert conv is not None
            items = conv.cases[0].evidence
            digests = [hashlib.sha256(d).hexdigest() for d in shots[u]]
            assert [i.sha256 for i in items] == digests, "all 30, in order, each once"
            assert set(acked_before[u]) <= {i.number for i in items}
    logged = log.read_text(errors="replace")
    assert peer.token not in logged and peer.token.split(":")[1] not in logged
    assert "evidence item" not in logged and "You are not alone" not in logged


async def _until_stored(database: Path, users: list[int], count: int, timeout: float) -> None:
    """Wait until every user's case holds ``count`` items (read beside the running bot)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with await Storage.open(database) as storage:
        while loop.time() < deadline:
            convs = [await storage.load("telegram", str(u)) for u in users]
            if all(c is not None and len(c.cases[0].evidence) >= count for c in convs):
                return
            await asyncio.sleep(0.2)
        counts = [len(c.cases[0].evidence) if c else 0 for c in convs]
    raise TimeoutError(f"the restarted bot did not store every item: {counts}")


async def test_the_bot_runs_on_postgresql_and_resumes_after_a_restart(
    peer, tmp_path, postgres_url
):
    extra = {"database_url": SecretStr(postgres_url)}
    shot = b"\x89PNG\r\n\x1a\n" + os.urandom(800)
    async with bot_on(peer, tmp_path / "data", **extra) as bot:
        assert bot.core.storage.dialect == "postgresql"
        await onboard(peer, 91)
        peer.user(91).send_photo(shot)
        await peer.wait_for(lambda: acked_numbers(peer, 91) == [1])
    assert not (tmp_path / "data" / "bot.sqlite3").exists()  # the records are in PostgreSQL
    async with bot_on(peer, tmp_path / "data", **extra) as bot:
        peer.user(91).send_photo(shot)  # the same file again: recognised, not stored twice
        peer.user(91).send_command("/status")
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 91)))
        conv = await bot.core.storage.load("telegram", "91")
        assert conv is not None and len(conv.cases[0].evidence) == 1
        assert conv.cases[0].evidence[0].sha256 == hashlib.sha256(shot).hexdigest()
