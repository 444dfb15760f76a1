"""The loopback Bot API peer and the schema validator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as f

from tests.botapi.recording_request import RecordingRequest
from tests.botapi.schema import validate_object, validate_request, validate_result
from tests.peer.botapi_peer import MB, NOT_MODIFIED, BotApiPeer

TOKEN = "123456789:TEST-token-for-the-loopback-peer"


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    async with BotApiPeer(TOKEN) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def call(
    http: httpx.AsyncClient, peer: BotApiPeer, method: str, **params: Any
) -> tuple[int, Any]:
    response = await http.post(f"{peer.base_url}{TOKEN}/{method}", json=params)
    return response.status_code, response.json()


async def test_get_updates_redelivers_until_confirmed_by_offset(peer, http):
    ana = peer.user(1001)
    first, second = ana.send_text("hola"), ana.send_text("me amenazan")
    _, body = await call(http, peer, "getUpdates")
    assert body == {"ok": True, "result": [first, second]}
    _, again = await call(http, peer, "getUpdates")  # a crash before confirming: delivered again
    assert again["result"] == [first, second]
    _, rest = await call(http, peer, "getUpdates", offset=first["update_id"] + 1)
    assert rest["result"] == [second]
    _, limited = await call(http, peer, "getUpdates", limit=1)
    assert limited["result"] == [second]
    _, none = await call(http, peer, "getUpdates", offset=second["update_id"] + 1)
    assert none["result"] == [] and peer.unconfirmed == []


async def test_get_updates_long_polls_until_update_or_timeout(peer, http):
    started = time.monotonic()
    _, body = await call(http, peer, "getUpdates", timeout=1)
    assert body["result"] == [] and 0.9 <= time.monotonic() - started < 3
    poll = asyncio.create_task(call(http, peer, "getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    update = peer.user(7).send_text("¿Me oyes?")
    started = time.monotonic()
    _, body = await poll
    assert body["result"] == [update] and time.monotonic() - started < 1


async def test_a_second_poller_terminates_the_first_with_409(peer, http):
    first = asyncio.create_task(call(http, peer, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(call(http, peer, "getUpdates", timeout=5))
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    update = peer.user(1).send_text("x")
    assert (await second)[1]["result"] == [update]


async def test_rtt_delays_requests_and_a_webhook_blocks_polling(http):
    async with BotApiPeer(TOKEN, rtt=0.2) as slow:
        started = time.monotonic()
        status, _ = await call(http, slow, "getMe")
        assert status == 200 and time.monotonic() - started >= 0.2
        await call(http, slow, "setWebhook", url="https://example.invalid/hook")
        status, body = await call(http, slow, "getUpdates")
        assert status == 409 and "webhook is active" in body["description"]
        _, info = await call(http, slow, "getWebhookInfo")
        assert info["result"]["url"] == "https://example.invalid/hook"
        await call(http, slow, "deleteWebhook", drop_pending_updates=True)
        assert (await call(http, slow, "getUpdates"))[0] == 200


async def test_reactions_are_delivered_only_when_asked_for(peer, http):
    ana = peer.user(5)
    sent = ana.send_text("x")
    ana.react(sent["message"]["message_id"])
    _, body = await call(http, peer, "getUpdates")
    assert [u["update_id"] for u in body["result"]] == [sent["update_id"]]
    reaction = ana.react(sent["message"]["message_id"], "👎", old="👍")
    _, body = await call(http, peer, "getUpdates", allowed_updates=["message_reaction"])
    assert body["result"] == [reaction]


async def test_injected_429_has_the_bot_api_shape(peer, http):
    peer.user(42)
    peer.fail_next("sendMessage", 1, error_code=429, retry_after=3)
    status, body = await call(http, peer, "sendMessage", chat_id=42, text="hola")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    status, body = await call(http, peer, "sendMessage", chat_id=42, text="hola")
    assert status == 200 and body["result"]["text"] == "hola"
    assert [r.error_code for r in peer.requests("sendMessage")] == [429, None]


async def test_flood_is_seeded_and_blocking_answers_403(peer, http):
    peer.user(42)
    peer.flood(rate=0.5, retry_after=2)
    codes = [(await call(http, peer, "sendChatAction", chat_id=42, action="typing"))[0]]
    codes += [(await call(http, peer, "sendMessage", chat_id=42, text="x"))[0] for _ in range(19)]
    assert 0 < codes.count(429) < 20 and set(codes) == {200, 429}
    flooded = next(r for r in peer.sent if r.error_code == 429)
    status, body = await call(http, peer, "sendMessage", chat_id=42, text="x")
    while status != 429:
        status, body = await call(http, peer, "sendMessage", chat_id=42, text="x")
    assert body["parameters"] == {"retry_after": 2} and flooded.method.startswith("send")
    peer.flood(0)
    peer.block_user(42)
    status, body = await call(http, peer, "sendMessage", chat_id=42, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    status, body = await call(http, peer, "sendMessage", chat_id=999, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_unknown_method_and_wrong_token(peer, http):
    status, body = await call(http, peer, "sendTelepathy", chat_id=1)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    response = await http.post(f"{peer.base_url}1:wrong/getMe")
    assert response.status_code == 401


async def test_edit_not_modified_and_markup_edits(peer, http):
    peer.user(42)
    markup = {"inline_keyboard": [[{"text": "Sí", "callback_data": "yes"}]]}
    _, sent = await call(
        http, peer, "sendMessage", chat_id=42, text="¿Seguro?", reply_markup=markup
    )
    ids = {"chat_id": 42, "message_id": sent["result"]["message_id"]}
    status, body = await call(
        http, peer, "editMessageText", **ids, text="¿Seguro?", reply_markup=markup
    )
    assert (status, body["description"]) == (400, NOT_MODIFIED)
    status, body = await call(http, peer, "editMessageText", **ids, text="Hecho")
    assert (
        status == 200
        and body["result"]["text"] == "Hecho"
        and "reply_markup" not in body["result"]
    )
    status, _ = await call(http, peer, "editMessageReplyMarkup", **ids, reply_markup=markup)
    assert status == 200 and peer.messages_to(42)[0]["reply_markup"] == markup
    status, _ = await call(http, peer, "deleteMessage", **ids)
    assert status == 200 and peer.messages_to(42) == []
    status, body = await call(http, peer, "deleteMessage", **ids)
    assert body["description"] == "Bad Request: message to delete not found"


async def test_get_file_and_download_bytes(peer, http):
    data = bytes(range(256)) * 40
    update = peer.user(3).send_document(data, "contrato.pdf")
    file_id = update["message"]["document"]["file_id"]
    status, body = await call(http, peer, "getFile", file_id=file_id)
    assert status == 200 and set(body["result"]) == {
        "file_id",
        "file_unique_id",
        "file_size",
        "file_path",
    }
    assert body["result"]["file_size"] == len(data)
    download = await http.get(f"{peer.base_file_url}{TOKEN}/{body['result']['file_path']}")
    assert download.status_code == 200 and download.content == data


async def test_photos_come_in_sizes_with_the_real_bytes_in_the_largest(peer, http):
    data = b"\xff\xd8" + bytes(5000)
    photo = peer.user(3).send_photo(data, caption="captura", media_group_id="g1")["message"]
    sizes = photo["photo"]
    assert [s["width"] for s in sizes] == sorted(s["width"] for s in sizes)
    assert sizes[-1]["file_size"] == len(data) > sizes[0]["file_size"]
    ids = {s["file_id"] for s in sizes} | {s["file_unique_id"] for s in sizes}
    assert len(ids) == 2 * len(sizes)
    _, body = await call(http, peer, "getFile", file_id=sizes[-1]["file_id"])
    download = await http.get(f"{peer.base_file_url}{TOKEN}/{body['result']['file_path']}")
    assert download.content == data


async def test_get_file_refuses_files_over_20_mb(peer, http):
    update = peer.user(3).send_document_of_size(21 * MB)
    document = update["message"]["document"]
    assert document["file_size"] == 21 * MB
    status, body = await call(http, peer, "getFile", file_id=document["file_id"])
    assert (status, body["description"]) == (400, "Bad Request: file is too big")


async def test_send_document_upload_is_recorded(peer, http):
    peer.user(42)
    markup = json.dumps({"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]})
    response = await http.post(
        f"{peer.base_url}{TOKEN}/sendDocument",
        data={"chat_id": "42", "caption": "Denuncia", "reply_markup": markup},
        files={"document": ("denuncia.pdf", b"%PDF-1.7 ...", "application/pdf")},
    )
    result = response.json()["result"]
    assert result["document"]["file_name"] == "denuncia.pdf" and result["caption"] == "Denuncia"
    request = peer.requests("sendDocument")[0]
    assert request.params["chat_id"] == 42  # form strings decoded per schema
    assert request.params["reply_markup"] == json.loads(markup)
    assert request.files["document"].data == b"%PDF-1.7 ..."
    assert request.files["document"].filename == "denuncia.pdf"
    assert peer.violations == []


async def test_uploads_over_the_limit_get_413(http):
    async with BotApiPeer(TOKEN, upload_limit=1000) as small:
        small.user(42)
        response = await http.post(
            f"{small.base_url}{TOKEN}/sendDocument",
            data={"chat_id": "42"},
            files={"document": ("big.bin", bytes(2000))},
        )
        assert response.status_code == 413
        assert response.json()["description"] == "Request Entity Too Large"


async def test_user_helpers_build_schema_valid_updates_ptb_can_read(peer):
    ana = peer.user(1001, "Ana", language_code="es", username="ana_mx")
    first = ana.send_text("hola")
    updates = [
        first,
        ana.send_command("/start", payload="ref_42"),
        *(ana.forward_text("Paga ya", origin=kind) for kind in ("user", "hidden_user")),
        *(ana.forward_text("Paga ya", origin=kind) for kind in ("chat", "channel")),
        ana.send_photo(b"jpeg"),
        ana.send_document(b"pdf", "a.pdf", "application/pdf"),
        ana.send_voice(b"ogg"),
        ana.send_audio(b"mp3", "llamada.mp3"),
        ana.send_video(b"mp4"),
        ana.send_video_note(b"mp4"),
        ana.send_contact("+5215512345678", "Cobrador"),
        ana.send_sticker(),
        ana.send_location(),
        ana.send_poll(),
        ana.send_dice(),
        ana.edit_message(first["message"]["message_id"], "hola otra vez"),
        ana.react(first["message"]["message_id"]),
        ana.click("stale", message_id=99, check=False),
    ]
    async with Bot(TOKEN, base_url=peer.base_url) as bot:
        for update in updates:
            assert validate_object("Update", update) == []
            assert Update.de_json(update, bot) is not None
    assert len({u["update_id"] for u in updates}) == len(updates)
    command = updates[1]["message"]
    assert command["text"] == "/start ref_42" and command["entities"][0]["length"] == 6


def test_validator_catches_what_telegram_would_refuse():
    assert validate_request("sendTelepathy", {}) == ["unknown method 'sendTelepathy'"]
    assert validate_request("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}) == [
        "sendMessage: unknown parameter 'colour'"
    ]
    assert validate_request("sendMessage", {"chat_id": 1}) == [
        "sendMessage: missing required parameter 'text'"
    ]
    bad_button = {"inline_keyboard": [[{"text": "Sí", "callback_data": 7}]]}
    errors = validate_request(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": bad_button}
    )
    assert errors == [
        "sendMessage.reply_markup.inline_keyboard[0][0].callback_data: expected String, got int"
    ]
    errors = validate_request("sendMessage", {"chat_id": 1, "text": "x" * 4097})
    assert errors == ["sendMessage.text: 4097 characters, must be 1-4096"]
    assert (
        validate_request(
            "sendMessage", {"chat_id": 1, "text": "<b>ok</b>" * 512, "parse_mode": "HTML"}
        )
        == []
    )
    long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
    errors = validate_request(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": long_data}
    )
    assert errors == [
        "sendMessage.reply_markup.inline_keyboard[0][0].callback_data: 66 bytes, must be 1-64"
    ]
    caption = validate_request("sendPhoto", {"chat_id": 1, "photo": b"jpg", "caption": "x" * 1025})
    assert caption == ["sendPhoto.caption: 1025 characters, must be 0-1024"]


def test_validator_decodes_form_strings_and_accepts_any_fitting_alternative():
    keyboard = json.dumps({"keyboard": [[{"text": "Enviar contacto", "request_contact": True}]]})
    form = {"chat_id": "-100123", "text": "x", "reply_markup": keyboard, "protect_content": "true"}
    assert validate_request("sendMessage", form) == []
    assert validate_request("sendMessage", {"chat_id": "@canal", "text": "x"}) == []
    assert validate_request("sendMessage", {"chat_id": 1.5, "text": "x"}) == [
        "sendMessage.chat_id: expected Integer or String, got float"
    ]
    media = [{"type": "photo", "media": "attach://a"}, {"type": "video", "media": "file_id"}]
    assert validate_request("sendMediaGroup", {"chat_id": 1, "media": media}) == []
    media[1]["type"] = "document"
    assert validate_request("sendMediaGroup", {"chat_id": 1, "media": media}) == [
        "sendMediaGroup.media: audio and documents mix only with their own kind"
    ]
    wrong_kind = [{"type": "sticker", "media": "attach://a"}]
    assert validate_request("sendMediaGroup", {"chat_id": 1, "media": wrong_kind}) != []
    scope = {"type": "chat", "chat_id": 5}
    commands = [{"command": "start", "description": "Empezar"}]
    assert validate_request("setMyCommands", {"commands": commands, "scope": scope}) == []
    bad = [{"command": "Start-Now", "description": "x"}]
    assert validate_request("setMyCommands", {"commands": bad}) == [
        "setMyCommands.commands[0].command: must be 1-32 of [a-z0-9_]"
    ]
    assert validate_result("getMe", {"id": 1, "is_bot": True, "first_name": "B"}) == []
    assert validate_result("getMe", {"id": "1", "is_bot": True}) != []


async def test_ptb_bot_against_the_peer_without_violations(peer, monkeypatch):
    # PTB 22 constructs RetryAfter by reading its deprecated int ``retry_after``, which warns
    # (an error under filterwarnings=error) unless time periods are opted into as timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    ana = peer.user(1001, "Ana")
    document = ana.send_document(b"evidence " * 100, "captura.pdf")["message"]["document"]
    request = RecordingRequest(check_results=True)
    async with Bot(
        TOKEN, base_url=peer.base_url, base_file_url=peer.base_file_url, request=request
    ) as bot:
        me = await bot.get_me()
        assert me.username == peer.bot_user["username"] and me.id == 123456789
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="yes")]])
        sent = await bot.send_message(
            1001, "<b>¿Guardar?</b>", parse_mode="HTML", reply_markup=keyboard
        )
        assert sent.text == "¿Guardar?" and sent.reply_markup == keyboard
        file = await bot.get_file(document["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"evidence " * 100
        uploaded = await bot.send_document(1001, b"%PDF", filename="denuncia.pdf", caption="x")
        assert peer.requests("sendDocument")[0].files["document"].data == b"%PDF"
        assert uploaded.document and uploaded.document.file_name == "denuncia.pdf"
        await bot.set_my_commands([("start", "Empezar")], language_code="es")
        assert peer.commands_for("es") == [{"command": "start", "description": "Empezar"}]
        with pytest.raises(BadRequest, match="Message is not modified"):
            await sent.edit_text("<b>¿Guardar?</b>", parse_mode="HTML", reply_markup=keyboard)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(1001, "deuda < 500", parse_mode="HTML")
        peer.fail_next("sendMessage", error_code=429, retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(1001, "x")
        assert flood.value.retry_after == datetime.timedelta(seconds=7)
        peer.block_user(1001)
        with pytest.raises(Forbidden):
            await bot.send_chat_action(1001, "typing")
    methods = [m for m, _ in request.calls]
    assert methods[:4] == ["getMe", "getMe", "sendMessage", "getFile"]  # initialize() + get_me()
    bad_html = 'sendMessage.text: can\'t parse entities: Unsupported start tag "" at byte offset 6'
    assert request.violations == peer.violations == [bad_html]  # the only deliberate one
    assert request.result_violations == []
    assert TOKEN not in repr(request.calls)


async def test_ptb_application_polls_replies_and_confirms(peer):
    async def start(update: Update, context: Any) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="yes")]])
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Hola {context.args}", reply_markup=keyboard)

    async def pressed(update: Update, context: Any) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("Guardado")

    async def echo(update: Update, context: Any) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await message.reply_text(message.text)

    requests = RecordingRequest(), RecordingRequest()
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(peer.base_url)
        .base_file_url(peer.base_file_url)
        .request(requests[0])
        .get_updates_request(requests[1])
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(f.TEXT & ~f.COMMAND, echo))
    ana = peer.user(1001)
    ana.send_command("/start", "ref")
    assert app.updater is not None
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await peer.wait_for(lambda: peer.messages_to(1001))
        ana.click("yes")
        await peer.wait_for(lambda: peer.messages_to(1001)[0]["text"] == "Guardado")
        ana.send_text("eco")
        await peer.wait_for(lambda: len(peer.messages_to(1001)) == 2)
        await app.updater.stop()
        await app.stop()
    texts = [m["text"] for m in peer.messages_to(1001)]
    assert texts == ["Guardado", "eco"]
    assert requests[0].violations == requests[1].violations == peer.violations == []
    assert peer.requests("answerCallbackQuery")[0].error_code is None
    assert peer.unconfirmed == []
