"""The real PTB bot against telegram-test-api 4.2.1 through the fixing shim (tests/emulator)."""

from __future__ import annotations

import asyncio
import os
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginUser,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.emulator.launcher import PINNED_VERSION, Emulator, node_missing_reason

_MISSING = node_missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

USER = 4242


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.effective_user is not None
    context.bot_data["language_code"] = update.effective_user.language_code
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Apple", callback_data="fruit:apple"),
                InlineKeyboardButton("Pear", callback_data="fruit:pear"),
            ]
        ]
    )
    sent = await update.message.reply_text("Pick one", reply_markup=keyboard)
    context.bot_data["sent_date"] = sent.date.timestamp()


async def _choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer("noted")
    context.bot_data["chat_instance"] = query.chat_instance
    edited = await query.edit_message_text(f"You chose {query.data.removeprefix('fruit:')}")
    context.bot_data["edited"] = edited


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message is not None and message.text is not None
    origin = message.forward_origin
    prefix = ""
    if isinstance(origin, MessageOriginUser):
        prefix = f"[forwarded from {origin.sender_user.first_name}] "
    await message.reply_text(f"{prefix}echo: {message.text}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message is not None and message.document is not None
    await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_DOCUMENT)
    received = await message.document.get_file()
    data = bytes(await received.download_as_bytearray())
    await message.reply_document(
        document=data[::-1], filename="reversed.bin", caption=f"{len(data)} bytes reversed"
    )


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.bot_base_url)
        .base_file_url(emu.bot_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_choose, pattern=r"^fruit:"))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    errors: list[object] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    application.add_error_handler(on_error)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
    assert errors == []
    assert emu.unsupported == []
    assert emu.unhandled_errors == []


async def test_start_keyboard_click_edits_message(emu: Emulator, bot: Application) -> None:
    emu.set_user(USER, "Ana", username="ana", language_code="es")
    await emu.send_command(USER, "/start")

    [menu] = await emu.wait_for_bot_messages(USER, 1)
    assert menu.text == "Pick one"
    assert menu.buttons == [("Apple", "fruit:apple"), ("Pear", "fruit:pear")]
    assert bot.bot_data["language_code"] == "es"
    assert abs(bot.bot_data["sent_date"] - time.time()) < 120  # seconds, not milliseconds

    callback_id = await emu.click(USER, "fruit:pear", menu.message_id)
    edited = await emu.wait_for_bot_message(USER, lambda m: m.text == "You chose pear")
    assert edited.message_id == menu.message_id
    assert edited.reply_markup is None  # Telegram drops the keyboard on an edit without one
    assert [m.text for m in await emu.bot_messages(USER)] == ["You chose pear"]

    answer = await emu.wait_for_request("answerCallbackQuery")
    assert answer.ok and answer.result is True
    assert answer.params["callback_query_id"] == callback_id
    assert answer.params["text"] == "noted"
    assert isinstance(bot.bot_data["chat_instance"], str) and bot.bot_data["chat_instance"]
    await emu.wait_for_request("editMessageText")
    returned = bot.bot_data["edited"]
    assert returned.message_id == menu.message_id and returned.text == "You chose pear"
    assert returned.from_user.id == emu.bot_id and returned.from_user.is_bot


async def test_text_is_echoed(emu: Emulator, bot: Application) -> None:
    message_id = await emu.send_text(USER, "hello there")
    [reply] = await emu.wait_for_bot_messages(USER, 1)
    assert reply.text == "echo: hello there"
    assert reply.message_id > message_id
    [send] = emu.calls("sendMessage")
    assert send.handled_by == "emulator" and send.params["chat_id"] == USER
    assert abs(send.result["date"] - time.time()) < 120


async def test_forwarded_text_keeps_its_origin(emu: Emulator, bot: Application) -> None:
    origin = {
        "type": "user",
        "date": int(time.time()) - 3600,
        "sender_user": {"id": 777, "is_bot": False, "first_name": "Collector"},
    }
    await emu.send_text(USER, "pay now", forward_origin=origin)
    [reply] = await emu.wait_for_bot_messages(USER, 1)
    assert reply.text == "[forwarded from Collector] echo: pay now"


async def test_document_round_trip(emu: Emulator, bot: Application) -> None:
    await emu.send_document(USER, b"evidence-bytes", "chat.txt", "text/plain")
    [reply] = await emu.wait_for_bot_messages(USER, 1)
    assert reply.caption == "14 bytes reversed"
    assert reply.document is not None and reply.document["file_name"] == "reversed.bin"
    [sent] = emu.sent_files
    assert sent.kind == "document" and sent.chat_id == USER
    assert sent.file.data == b"evidence-bytes"[::-1]
    assert sent.message_id == reply.message_id
    [action] = emu.calls("sendChatAction")
    assert action.params["action"] == "upload_document" and action.handled_by == "shim"
    assert [r.handled_by for r in emu.calls("getFile")] == ["shim"]


async def test_shim_answers_methods_the_emulator_lacks(emu: Emulator, bot: Application) -> None:
    commands = [BotCommand("start", "Start over")]
    assert await bot.bot.set_my_commands(commands) is True
    assert await bot.bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest, match="implemented neither by telegram-test-api"):
        await bot.bot.send_poll(USER, "Q?", ["a", "b"])
    assert [r.method for r in emu.unsupported] == ["sendPoll"]
    # Expected here; the bot fixture fails the test on any other unsupported request.
    emu.requests[:] = [r for r in emu.requests if r.handled_by != "unsupported"]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.bot.edit_message_text("nope", chat_id=USER, message_id=999)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


async def test_photo_caption_edit_and_delete(emu: Emulator, bot: Application) -> None:
    sent = await bot.bot.send_photo(USER, _png(3, 2), caption="before")
    assert sent.photo[-1].width == 3 and sent.photo[-1].height == 2
    assert sent.caption == "before" and sent.from_user is not None and sent.from_user.is_bot
    [stored] = await emu.wait_for_bot_messages(USER, 1)
    assert stored.message_id == sent.message_id and stored.photo is not None
    assert emu.sent_files[0].file.data == _png(3, 2)

    edited = await bot.bot.edit_message_caption(USER, sent.message_id, caption="after")
    assert not isinstance(edited, bool) and edited.caption == "after"
    assert [m.caption for m in await emu.bot_messages(USER)] == ["after"]

    assert await bot.bot.delete_message(USER, sent.message_id) is True
    assert await emu.bot_messages(USER) == []
    with pytest.raises(BadRequest, match="wasn't found"):
        await bot.bot.delete_message(USER, sent.message_id)


async def _shim_get_updates(
    session: aiohttp.ClientSession, emu: Emulator, **params: Any
) -> list[dict[str, Any]]:
    async with session.post(f"{emu.bot_base_url}{emu.token}/getUpdates", data=params) as resp:
        payload = await resp.json()
    assert resp.status == 200 and payload["ok"] is True, payload
    return list(payload["result"])


async def test_shim_long_polls_and_honours_offset(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        assert await _shim_get_updates(session, emu, timeout=1) == []
        assert time.monotonic() - started >= 0.9

        await emu.send_text(USER, "one")
        await emu.send_text(USER, "two")
        first = await _shim_get_updates(session, emu, timeout=0)
        assert [u["message"]["text"] for u in first] == ["one", "two"]
        # Not confirmed yet: delivered again; limit is honoured.
        again = await _shim_get_updates(session, emu, timeout=0, limit=1)
        assert [u["update_id"] for u in again] == [first[0]["update_id"]]
        message = first[0]["message"]
        assert message["from"]["is_bot"] is False and "botToken" not in message
        assert message["chat"]["type"] == "private"
        assert abs(message["date"] - time.time()) < 120

        offset = first[-1]["update_id"] + 1
        assert await _shim_get_updates(session, emu, offset=offset, timeout=0) == []

        async def later() -> None:
            await asyncio.sleep(0.3)
            await emu.send_command(USER, "/start")

        task = asyncio.create_task(later())
        started = time.monotonic()
        woken = await _shim_get_updates(session, emu, offset=offset, timeout=5)
        await task
        assert time.monotonic() - started < 3
        assert [u["message"]["text"] for u in woken] == ["/start"]
        assert woken[0]["message"]["entities"] == [
            {"offset": 0, "length": 6, "type": "bot_command"}
        ]


async def test_shim_completes_callback_queries(emu: Emulator) -> None:
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    async with aiohttp.ClientSession() as session:
        url = f"{emu.bot_base_url}{emu.token}/sendMessage"
        data = {"chat_id": str(USER), "text": "Ready?", "reply_markup": markup}
        async with session.post(url, data=data) as resp:
            sent = (await resp.json())["result"]
        assert sent["from"]["is_bot"] is True and "chat_id" not in sent
        callback_id = await emu.click(USER, "go", sent["message_id"])
        [update] = await _shim_get_updates(session, emu, timeout=1)
    query = update["callback_query"]
    assert query["id"] == callback_id and query["data"] == "go"
    assert query["chat_instance"]
    assert query["message"]["message_id"] == sent["message_id"]
    assert query["message"]["text"] == "Ready?"
    assert query["from"] == {"id": USER, "is_bot": False, "first_name": f"User{USER}"}
    Update.de_json(update, None)  # PTB parses it


async def test_emulator_defects_the_shim_fixes_are_still_there(emu: Emulator) -> None:
    """Pins what telegram-test-api 4.2.1 gets wrong; when a fix lands upstream, drop the shim's."""
    base = f"{emu.emulator_url}/bot{emu.token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/getMe") as resp:
            me = (await resp.json())["result"]
        assert "is_bot" not in me and me["id"] == 666
        async with session.post(f"{base}/sendMessage", json={"chat_id": USER, "text": "x"}) as r:
            sent = (await r.json())["result"]
        assert sent["date"] > 10**12  # milliseconds
        assert "from" not in sent and sent["chat_id"] == USER  # request params echoed
        edit = {"chat_id": USER, "message_id": sent["message_id"], "text": "y"}
        async with session.post(f"{base}/editMessageText", json=edit) as resp:
            assert (await resp.json())["result"] is None
        async with session.post(f"{base}/sendChatAction", json={"chat_id": USER}) as resp:
            assert resp.status == 500 and "ok" not in await resp.json()
        gone = {"chat_id": USER, "message_id": 999}
        async with session.post(f"{base}/deleteMessage", json=gone) as resp:
            assert resp.status == 200 and (await resp.json())["ok"] is False
        callback = {"botToken": emu.token, "from": {"id": USER}, "data": "d", "message": {}}
        async with session.post(f"{emu.emulator_url}/sendCallback", json=callback) as resp:
            assert resp.status == 200
        async with session.post(f"{base}/getUpdates", json={"offset": 10**6}) as resp:
            [update] = (await resp.json())["result"]  # offset ignored
        assert "chat_instance" not in update["callback_query"]
        # A command without entities fails after the route answered ok (Node would exit;
        # server.js logs it and keeps the emulator up).
        bad = {"botToken": emu.token, "text": "/start"}
        async with session.post(f"{emu.emulator_url}/sendCommand", json=bad) as resp:
            assert (await resp.json()) == {"ok": True, "result": None}
        for _ in range(100):
            if emu.unhandled_errors:
                break
            await asyncio.sleep(0.02)
        assert "Command should have entities" in emu.unhandled_errors[0]
        async with session.post(f"{base}/getMe") as resp:
            assert resp.status == 200
    assert PINNED_VERSION == "4.2.1"


async def test_wrong_token_is_unauthorized(emu: Emulator) -> None:
    url = f"{emu.bot_base_url}123:wrong/getMe"
    async with aiohttp.ClientSession() as session, session.post(url) as resp:
        assert resp.status == 401
        assert (await resp.json())["ok"] is False


async def test_processes_and_ports_are_released() -> None:
    async with Emulator() as emulator:
        pid = emulator.pid
        assert pid is not None
        shim, node = emulator.shim_url, emulator.emulator_url
        assert emulator.timings["emulator_start"] is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    async with aiohttp.ClientSession() as session:
        for url in (shim, node):
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get(url):
                    pass
