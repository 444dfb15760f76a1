"""Faults a hostile or unlucky world produces, each survived: the bot never stops, never loses.

Each test injects one fault against the real program or the real application on the tests'
own Bot API peer, and checks that nothing acknowledged is lost, that nothing of the content
reaches the logs, and that the bot goes on answering.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from telegram.ext import Application

from bot import db as db_module
from bot.app import DataDirInUse, only_writer, open_core
from bot.core import Core, OutLater, OutText
from bot.settings import Settings
from bot.storage import Storage
from bot.telegram import app as telegram_app
from bot.telegram.app import TelegramAdapter, build_application, running
from dialogs import Choice, Command, Start, Text
from tests.conftest import REPO
from tests.peer.botapi_peer import BotApiPeer
from tests.test_console import _env, run_bot
from tests.test_telegram_peer import (
    TOKEN,
    _free_port,
    acked_numbers,
    bot_on,
    onboard,
    quick_pacer,
    settings_for,
    texts,
)

NOW = datetime(2026, 11, 29, 10, tzinfo=UTC)


def local_settings(tmp_path: Path) -> Settings:
    """Settings for a core used directly, on a data directory of its own."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        telegram_bot_token=SecretStr("unused"),
    )


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    async with BotApiPeer(token=TOKEN) as started:
        yield started


async def test_an_update_whose_sender_is_not_its_private_chat_is_refused(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data") as bot:
        await onboard(peer, 501)
        victim, intruder = peer.user(501), peer.user(502, language_code="en")
        before = len(texts(peer, 501))
        forged = {
            "message_id": 90, "from": intruder.user, "chat": victim.chat,
            "date": int(NOW.timestamp()), "text": "/delete",
        }  # fmt: skip
        peer.push({"message": forged})
        intruder.send_command("/start")  # a real update after it, to know it was processed
        await peer.wait_for(lambda: any("You are not alone" in t for t in texts(peer, 502)))
        assert len(texts(peer, 501)) == before  # nothing was answered into the victim's chat
        assert await bot.core.storage.load("telegram", "502") is not None
        victim_case = await bot.core.storage.load("telegram", "501")
        assert victim_case is not None and victim_case.pending is None


async def test_user_text_echoed_back_arrives_escaped(peer, tmp_path):
    typed = "<b>Loans & Co</b> <a href='https://x.example'>y</a> <script>"
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 503)
        user = peer.user(503)
        user.click("1|1|ev:done")
        await peer.wait_for(lambda: any("name of the lending app" in t for t in texts(peer, 503)))
        user.send_text("QuickCash")
        await peer.wait_for(lambda: any("company that runs" in t for t in texts(peer, 503)))
        user.click("1|1|plat:operator_unknown")
        await peer.wait_for(lambda: any("What kind of company" in t for t in texts(peer, 503)))
        user.click("1|1|lender:unknown")
        await peer.wait_for(lambda: any("licensed company" in t for t in texts(peer, 503)))
        user.click("1|1|lic:unknown")
        await peer.wait_for(lambda: any("already complained" in t for t in texts(peer, 503)))
        user.click("1|1|plat:yes")
        await peer.wait_for(lambda: any("When did you complain" in t for t in texts(peer, 503)))
        user.send_text(typed)  # not a date: the bot says it could not read it, quoting it
        await peer.wait_for(lambda: any(typed in t for t in texts(peer, 503)))


async def test_the_lock_table_forgets_idle_users(tmp_path):
    settings = local_settings(tmp_path)
    async with open_core(settings) as core:
        for user in range(200):
            await core.handle("console", f"u{user}", Start(at=NOW, client_lang="en"))
        gc.collect()
        assert len(core._locks) == 0


def test_a_second_process_on_the_same_data_directory_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with only_writer(data):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "console"], input="/start\n", capture_output=True,
            text=True, env=_env(tmp_path), cwd=tmp_path, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2
        assert str(data) in done.stderr and "Traceback" not in done.stderr
        assert not (data / "bot.sqlite3").exists()  # it touched nothing
    try:
        with only_writer(data):
            pass  # free again once the first writer is gone
    except DataDirInUse:  # pragma: no cover - would be a bug
        raise AssertionError("the lock outlived its holder") from None


def test_help_exits_zero():
    for args in (["--help"], ["-h"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0 and "python -m bot console" in done.stdout


def test_the_console_answers_any_input_and_keeps_going(tmp_path: Path):
    script = b"/start\nabc \xff def\nc\n" + b"1" * 5000 + b"\na\n/status\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=script, capture_output=True,
        env=_env(tmp_path), cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert b"Traceback" not in done.stderr
    assert b"Case #1" in done.stdout  # the input after the bad lines was applied
    out = run_bot(tmp_path, "/status\n", "console")
    assert "Case #1" in out


async def test_a_failed_command_menu_does_not_stop_the_bot(peer, tmp_path):
    peer.fail_next("setMyCommands", 1, error_code=500)
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 504)  # the bot answers although its menu failed at first
        await peer.wait_for(lambda: len(peer.requests("setMyCommands")) >= 4)  # then retried


async def test_an_unreadable_stored_conversation_is_set_aside_and_the_user_goes_on(tmp_path):
    settings = local_settings(tmp_path)
    async with open_core(settings) as core:
        await core.handle("console", "broken", Start(at=NOW, client_lang="en"))
        await core.handle("console", "fine", Start(at=NOW, client_lang="en"))
    with sqlite3.connect(settings.database_path) as raw:  # damaged on disk while stopped
        raw.execute(
            "UPDATE cases SET data = '{\"state\": \"no such state\"' WHERE user_id = 'broken'"
        )
    raw.close()
    async with open_core(settings) as core:
        outs = await core.handle("console", "broken", Text(at=NOW, client_lang="en", text="hi"))
        assert "set it aside" in outs[0].text  # told, in their language, and answered
        assert await core.storage.load("console", "broken") is not None  # a fresh start
        assert await core.storage.load("console", "fine") is not None  # others unaffected
        await core.handle("console", "broken", Command(at=NOW, name="delete"))
        await core.handle("console", "broken", Choice(at=NOW, choice="del:all"))
        await core.handle("console", "broken", Choice(at=NOW, choice="del:yes"))
    with sqlite3.connect(settings.database_path) as raw:
        left = raw.execute("SELECT user_id FROM cases").fetchall()
    raw.close()
    assert [row[0] for row in left] == ["fine"]  # the set-aside copy went with /delete


async def test_an_update_that_cannot_be_parsed_is_skipped_and_others_answered(peer, tmp_path):
    async with bot_on(peer, tmp_path / "data") as bot:
        await onboard(peer, 505)
        user = peer.user(505).user
        broken = {"message": {"message_id": 7, "text": "SECRET broken update", "from": user}}
        peer.push(broken)  # no date, no chat: python-telegram-bot cannot parse it
        peer.user(506, language_code="en").send_command("/start")
        await peer.wait_for(lambda: any("You are not alone" in t for t in texts(peer, 506)))
        await asyncio.sleep(1)
        calls = len(peer.requests("getUpdates"))
        await asyncio.sleep(1)
        assert len(peer.requests("getUpdates")) - calls < 20  # no tight loop of refetching
        assert peer.unconfirmed == []  # it was confirmed, never fetched again
        assert await bot.core.storage.load("telegram", "506") is not None


async def test_a_text_that_cannot_be_stored_does_not_stop_the_loop(peer, tmp_path, caplog):
    async with bot_on(peer, tmp_path / "data"):
        await onboard(peer, 507)
        user = peer.user(507)
        user.send_text("hello \ud800 world SECRET")  # a lone surrogate: not valid UTF-8
        user.send_command("/status")
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 507)))
        await peer.wait_for(lambda: any("could not read your last" in t for t in texts(peer, 507)))
        assert peer.unconfirmed == []
    assert "SECRET" not in caplog.text


async def test_a_file_that_cannot_be_fetched_is_not_called_safe_and_is_fetched_later(
    peer, tmp_path
):
    settings = settings_for(peer, tmp_path / "data")
    async with open_core(settings) as core:
        adapter = TelegramAdapter(core, download_retry_seconds=0.5)
        application = build_application(settings, adapter)
        async with running(application, adapter, settings, poll_timeout=1):
            await onboard(peer, 508)
            photos = [b"\x89PNG\r\n\x1a\n" + bytes([n]) * 500 for n in range(5)]
            peer.fail_next("getFile", 6, error_code=502)  # two files fail all three tries
            for data in photos:
                peer.user(508).send_photo(data)
            await peer.wait_for(
                lambda: sum("could not fetch this file" in t for t in texts(peer, 508)) == 2,
                timeout=30,
            )
            await peer.wait_for(lambda: len(acked_numbers(peer, 508)) == 5, timeout=30)
            conv = await core.storage.load("telegram", "508")
            assert conv is not None
            stored = sorted(item.sha256 or "" for item in conv.cases[0].evidence)
            assert stored == sorted(hashlib.sha256(data).hexdigest() for data in photos)
            assert peer.unconfirmed == []


@asynccontextmanager
async def watched_bot(
    peer: BotApiPeer, data_dir: Path, **extra: object
) -> AsyncIterator[tuple[Core, TelegramAdapter, Application]]:
    """The real application on the peer, with short retry pauses and a quick watchdog."""
    settings = settings_for(peer, data_dir, **extra)
    async with open_core(settings) as core:
        adapter = TelegramAdapter(core, storage_retry_seconds=0.3, download_retry_seconds=0.5)
        application = build_application(settings, adapter, rate_limiter=quick_pacer())
        async with running(application, adapter, settings, poll_timeout=1, watchdog_seconds=0.3):
            yield core, adapter, application


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another program takes the database's write lock and keeps it for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        db.execute("COMMIT")
        db.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    return thread


def private_text(user_id: int, update_id: int, text: str) -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1764300000, "text": text, "from": person,
        "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
    }}  # fmt: skip


async def test_a_locked_database_delays_updates_and_loses_none(
    peer, tmp_path, monkeypatch, caplog
):
    """Another program holds the write lock longer than the bot waits for it: fetched updates
    stay unconfirmed and are recorded once it is free; the polling goes on."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    data = tmp_path / "data"
    async with watched_bot(peer, data) as (core, _, application):
        await onboard(peer, 601)
        holder = hold_write_lock(data / "bot.sqlite3", 2.5)
        peer.user(601).send_command("/status")
        peer.user(602, language_code="en").send_command("/start")
        await asyncio.to_thread(holder.join)
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 601)), timeout=20)
        await peer.wait_for(
            lambda: any("You are not alone" in t for t in texts(peer, 602)), timeout=20
        )
        assert peer.unconfirmed == []
        assert not any("went wrong" in t for t in texts(peer, 601) + texts(peer, 602))
        assert await core.storage.load("telegram", "602") is not None
        assert application.updater is not None and application.updater.running
    assert "not recorded (SQLITE_BUSY)" in caplog.text
    assert "/status" not in caplog.text and "Ana" not in caplog.text


async def test_updates_that_cannot_be_saved_wait_in_order_and_the_user_is_told(
    peer, tmp_path, monkeypatch, caplog
):
    """Updates recorded before a stop are queued again at start while the database is
    locked: the user reads the truth (kept, not saved yet), and once the lock is gone every
    update is applied, in the order sent, once."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    data = tmp_path / "data"
    async with watched_bot(peer, data):
        await onboard(peer, 611)
    async with await Storage.open(data / "bot.sqlite3") as storage:
        updates = [private_text(611, 9001 + n, f"note {n} SECRET") for n in range(3)]
        await storage.journal("telegram", [
            (f"update:{u['update_id']}", u["update_id"], json.dumps(u)) for u in updates
        ])  # fmt: skip
    holder = hold_write_lock(data / "bot.sqlite3", 2.0)
    async with watched_bot(peer, data) as (core, adapter, _):
        await peer.wait_for(
            lambda: any("could not save this just now" in t for t in texts(peer, 611)),
            timeout=10,
        )
        await asyncio.to_thread(holder.join)
        peer.user(612, language_code="en").send_command("/start")
        await peer.wait_for(
            lambda: any("You are not alone" in t for t in texts(peer, 612)), timeout=20
        )

        async def drafts() -> list[str]:
            conv = await core.storage.load("telegram", "611")
            assert conv is not None
            return conv.cases[0].drafts

        for _ in range(100):
            if len(await drafts()) == 3:
                break
            await asyncio.sleep(0.2)
        assert await drafts() == ["note 0 SECRET", "note 1 SECRET", "note 2 SECRET"]
        assert sum("could not save this just now" in t for t in texts(peer, 611)) == 1
        assert adapter.waiting == {}
        assert await core.storage.pending("telegram") == []
    assert "SECRET" not in caplog.text


async def test_a_full_disk_delays_the_update_until_there_is_room(peer, tmp_path, caplog):
    data = tmp_path / "data"
    async with watched_bot(peer, data) as (core, _, _):
        await onboard(peer, 621)
        db = core.storage._db._db  # type: ignore[attr-defined]  # the SQLite connection
        async with core.storage._db._lock:  # type: ignore[attr-defined]
            await db.execute("VACUUM")  # no free pages left to fill
            ((pages,),) = await db.execute_fetchall("PRAGMA page_count")
            await db.execute(f"PRAGMA max_page_count = {pages}")
        long_text = "催收 SECRET " * 800  # needs new pages: the disk is "full"
        peer.user(621).send_text(long_text)
        await peer.wait_for(lambda: "SQLITE_FULL" in caplog.text, timeout=10)
        async with core.storage._db._lock:  # type: ignore[attr-defined]
            await db.execute("PRAGMA max_page_count = 1073741823")
        await peer.wait_for(
            lambda: any("save this text as evidence" in t for t in texts(peer, 621)), timeout=20
        )
        conv = await core.storage.load("telegram", "621")
        assert conv is not None and conv.cases[0].drafts == [long_text]
        assert peer.unconfirmed == []
    assert "SECRET" not in caplog.text


async def test_the_watchdog_starts_polling_again_after_it_died(peer, tmp_path, caplog):
    async with watched_bot(peer, tmp_path / "data") as (_, _, application):
        await onboard(peer, 631)
        task = getattr(application.updater, "_Updater__polling_task", None)
        assert task is not None
        task.cancel()  # the polling task dies, as it does on an error it does not expect
        await peer.wait_for(lambda: "receiving updates stopped" in caplog.text, timeout=10)
        peer.user(631).send_command("/status")
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 631)), timeout=10)


async def test_the_webhook_checks_the_secret_and_the_size_before_reading_the_body(peer, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    extra = {"webhook_url": url, "webhook_secret": SecretStr("s3cret"), "webhook_port": port}
    async with watched_bot(peer, tmp_path / "data", **extra):
        wrong = await _raw_post(port, "/telegram", "nope", 90_000_000)
        huge = await _raw_post(port, "/telegram", "s3cret", 90_000_000)
        assert wrong.startswith(b"HTTP/1.1 403") and huge.startswith(b"HTTP/1.1 413")
        async with httpx.AsyncClient() as client:
            chunked = await client.post(
                url, content=_chunks(3 * 1024 * 1024),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )  # fmt: skip
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
        assert chunked.status_code == 413 and health.status_code == 200
        assert ready.status_code == 200 and ready.text == "ready"


async def test_the_webhook_answers_503_while_the_inbox_is_locked_and_the_watchdog_restarts_it(
    peer, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(telegram_app, "JOURNAL_PATIENCE_SECONDS", 1.0)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    extra = {"webhook_url": url, "webhook_secret": SecretStr("s3cret"), "webhook_port": port}
    data = tmp_path / "data"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    peer.user(641, language_code="en")
    async with watched_bot(peer, data, **extra):
        holder = hold_write_lock(data / "bot.sqlite3", 2.0)
        async with httpx.AsyncClient() as client:
            busy = await client.post(url, json=private_text(641, 1, "/start"), headers=headers)
            await asyncio.to_thread(holder.join)
            assert busy.status_code == 503  # not recorded: Telegram sends it again later
            ok = await client.post(url, json=private_text(641, 1, "/start"), headers=headers)
            assert ok.status_code == 200
            await peer.wait_for(lambda: any("You are not alone" in t for t in texts(peer, 641)))
            receiver_server = next(
                t for t in asyncio.all_tasks() if "Server.serve" in repr(t.get_coro())
            )
            receiver_server.cancel()  # the web server dies
            await peer.wait_for(lambda: "receiving updates stopped" in caplog.text, timeout=10)
            for _ in range(50):  # refused until the watchdog has started it again
                try:
                    again = await client.post(
                        url, json=private_text(641, 2, "/help"), headers=headers
                    )
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.2)
            assert again.status_code == 200
            await peer.wait_for(lambda: len(texts(peer, 641)) >= 2)


async def _raw_post(port: int, path: str, secret: str, length: int) -> bytes:
    """Send only the headers of a POST declaring ``length`` bytes; return the answer. A server
    that tried to read the body first would never answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), timeout=5)
    writer.close()
    return answer


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 65536):
        yield b" " * 65536


@asynccontextmanager
async def paced_bot(peer: BotApiPeer, data_dir: Path) -> AsyncIterator[Core]:
    """The real application with the production pacing (1 message/s per chat, bursts of 3)."""
    settings = settings_for(peer, data_dir)
    async with open_core(settings) as core:
        adapter = TelegramAdapter(core)
        application = build_application(settings, adapter)
        async with running(application, adapter, settings, poll_timeout=1):
            yield core


async def test_a_429_for_one_chat_delays_that_chat_only(peer, tmp_path):
    async with paced_bot(peer, tmp_path / "data"):
        await onboard(peer, 651)
        await onboard(peer, 652)
        before = len(texts(peer, 651))
        peer.fail_next("sendMessage", 1, error_code=429, retry_after=4, chat_id=651)
        peer.user(651).send_command("/status")
        await peer.wait_for(lambda: len(peer.requests("sendMessage")) and any(
            r.error_code == 429 for r in peer.requests("sendMessage")
        ))  # fmt: skip
        peer.user(652).send_command("/status")
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 652)))
        assert len(texts(peer, 651)) == before  # 651 still waits for its turn...
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 651)), timeout=10)
        # ...and gets its answer once the pause is over: delayed, not lost.


async def test_one_chats_burst_is_paced_and_merged_while_others_are_answered(peer, tmp_path):
    peer.limit_chats(per_second=1.0, burst=3)  # as Telegram does
    async with paced_bot(peer, tmp_path / "data") as core:
        await onboard(peer, 661)
        await onboard(peer, 662)
        shots = [b"\x89PNG\r\n\x1a\n" + os.urandom(400) for _ in range(30)]
        before = len(texts(peer, 661))
        for data in shots:
            peer.user(661).send_photo(data)
        await peer.wait_for(lambda: len(acked_numbers(peer, 661)) >= 3, timeout=10)
        peer.user(662).send_command("/status")
        await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 662)), timeout=10)
        await peer.wait_for(lambda: len(acked_numbers(peer, 661)) == 30, timeout=60)
        assert sorted(acked_numbers(peer, 661)) == list(range(1, 31))
        assert len(texts(peer, 661)) - before < 15  # merged, not 30 messages queued
        conv = await core.storage.load("telegram", "661")
        assert conv is not None and len(conv.cases[0].evidence) == 30


async def test_an_export_cut_short_by_a_restart_is_reported_at_the_next_message(tmp_path):
    settings = local_settings(tmp_path)
    async with open_core(settings) as core:
        await core.handle("console", "ana", Start(at=NOW, client_lang="en"))
        outs = await core.handle("console", "ana", Command(at=NOW, name="export"))
        assert any(isinstance(out, OutLater) for out in outs)
        # the process dies here: the dossier is never built nor sent, and what the process
        # held (the marker's lock) is let go
        del outs
        gc.collect()
    async with open_core(settings) as core:
        await core.handle("console", "other", Start(at=NOW, client_lang="en"))
        outs = await core.handle("console", "ana", Text(at=NOW, client_lang="en", text="hi"))
        first = outs[0]
        assert isinstance(first, OutText) and "case #1" in first.text
        assert "not finished" in first.text and "/export" in first.text
        again = await core.handle("console", "ana", Text(at=NOW, client_lang="en", text="hi"))
        assert not any("not finished" in getattr(out, "text", "") for out in again)  # once
        outs = await core.handle("console", "ana", Command(at=NOW, name="export"))
        later = next(out for out in outs if isinstance(out, OutLater))
        assert await later.build(None)
        later.delivered()
    async with open_core(settings) as core:  # delivered: nothing to report after a restart
        outs = await core.handle("console", "ana", Text(at=NOW, client_lang="en", text="hi"))
        assert not any("not finished" in getattr(out, "text", "") for out in outs)


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in _env(tmp_path).items() if not k.startswith("WEBHOOK_")}
    full = clean | {"LANG": "en_US.UTF-8", "TELEGRAM_BOT_TOKEN": TOKEN} | env
    return subprocess.run(
        [sys.executable, "-m", "bot"], capture_output=True, text=True, env=full,
        cwd=tmp_path, timeout=60,
    )  # fmt: skip


async def test_a_failed_start_names_its_real_cause(peer, tmp_path):
    closed = _free_port()
    unreachable = await asyncio.to_thread(
        _start, tmp_path, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot"
    )
    wrong = await asyncio.to_thread(
        _start, tmp_path, TELEGRAM_API_BASE_URL=peer.base_url,
        TELEGRAM_BOT_TOKEN="7012345678:AAF" + "y" * 32,
    )  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = await asyncio.to_thread(
            _start, tmp_path, TELEGRAM_API_BASE_URL=peer.base_url,
            WEBHOOK_URL="https://bot.example.org/telegram", WEBHOOK_SECRET="s3cret",
            WEBHOOK_PORT=str(port),
        )  # fmt: skip
    for done in (unreachable, wrong, busy):
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "still running" not in done.stderr and "AAF" not in done.stderr
    assert f"Bot API at http://127.0.0.1:{closed}/bot could not be reached" in unreachable.stderr
    assert "Telegram refused the token" in wrong.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "Address already in use" in busy.stderr
