"""The real bot on Telegram's terms: walked through all five steps on telegram-test-api.

The application runs unchanged (python-telegram-bot, long polling, our core, a SQLite file
and evidence files in a temporary directory) against the npm emulator on 127.0.0.1, behind
the tests' shim for the emulator's known defects. The user is driven through the
emulator's client routes: messages, commands, button presses, files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.core import CHAT_LIMIT, Core
from bot.settings import Settings
from bot.telegram.app import TelegramAdapter, build_application, running
from dialogs.steps.report import case_documents
from tests.botapi.recording_request import RecordingRequest
from tests.emulator.launcher import Emulator, node_missing_reason

pytestmark = pytest.mark.skipif(
    node_missing_reason() is not None, reason=str(node_missing_reason())
)

USER = 5001


@dataclass
class Bot:
    emu: Emulator
    core: Core
    settings: Settings


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with Emulator() as emu:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=SecretStr(emu.token),
            telegram_api_base_url=emu.bot_base_url,
            telegram_file_base_url=emu.bot_file_url,
            data_dir=tmp_path / "data",
        )
        request, updates = RecordingRequest(connection_pool_size=32), RecordingRequest()
        async with open_core(settings) as core:
            adapter = TelegramAdapter(core)
            application = build_application(
                settings, adapter, request=request, get_updates_request=updates
            )
            async with running(application, adapter, settings, poll_timeout=1):
                yield Bot(emu, core, settings)
        assert emu.unhandled_errors == []
        assert request.violations == [] and updates.violations == []


async def press(emu: Emulator, label: str, timeout: float = 10) -> None:
    """Press the button with this label on the newest bot message that has it (waiting for
    the bot to show it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for message in reversed(await emu.bot_messages(USER)):
            for text, data in message.buttons:
                if text == label and data:
                    await emu.click(USER, data, message.message_id)
                    return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no button {label!r}")


async def reply_containing(emu: Emulator, fragment: str, timeout: float = 10) -> None:
    await emu.wait_for_bot_message(USER, lambda m: fragment in (m.text or ""), timeout=timeout)


async def test_a_user_walks_through_all_five_steps(bot: Bot):
    emu = bot.emu
    emu.set_user(USER, "Ana", language_code="en")
    await emu.send_command(USER, "/start")
    await reply_containing(emu, "You are not alone")
    await press(emu, "English")
    await reply_containing(emu, "Where do you live?")
    await press(emu, "China (mainland)")
    await press(emu, "I took the loan")
    await reply_containing(emu, "Step 1 of 5")

    origin = {"type": "hidden_user", "date": 1764000000, "sender_user_name": "催收员"}
    await emu.send_text(USER, "不还钱就打给你全家 13912345678", forward_origin=origin)
    await reply_containing(emu, "evidence item #1")

    photos = [b"\x89PNG\r\n\x1a\n" + os.urandom(1500 + i) for i in range(5)]
    for data in photos:
        await emu.send_photo(USER, data, media_group_id="album-1")
    await reply_containing(emu, "Saved 5 items from the album: #2, #3, #4, #5, #6.")

    voice, audio, pdf = os.urandom(3000), os.urandom(5000), b"%PDF-1.4\n" + os.urandom(4000)
    await emu.send_media(USER, "voice", voice, mime_type="audio/ogg")
    await reply_containing(emu, "evidence item #7 (voice note)")
    await emu.send_media(USER, "audio", audio, file_name="call.m4a", mime_type="audio/mp4")
    await reply_containing(emu, "evidence item #8 (audio or call recording)")
    await emu.send_document(USER, pdf, "fake-court-order.pdf", "application/pdf")
    await reply_containing(emu, "evidence item #9 (document)")
    await emu.send_media(
        USER, "video", b"tiny", file_name="call.mp4", mime_type="video/mp4",
        declared_size=25 * 1024 * 1024,
    )  # fmt: skip
    await reply_containing(emu, "larger than the 20 MB")

    await press(emu, "✅ I have sent everything")
    await reply_containing(emu, "What is the name of the lending app")
    await emu.send_text(USER, "QuickCash")
    await reply_containing(emu, "company that runs the app")
    await press(emu, "I don't know")
    await reply_containing(emu, "What kind of company lent you the money")
    await press(emu, "I don't know")
    await reply_containing(emu, "Is the lender a licensed company")
    await press(emu, "No licence")
    await press(emu, "Not yet")
    await reply_containing(emu, "Your loan")
    await press(emu, "✅ Done")
    await reply_containing(emu, "Tell me in your own words")
    await emu.send_text(USER, "They sent my photo to my whole address book & called my boss.")
    await reply_containing(emu, "Added to your story")
    await press(emu, "✅ That's all")
    await emu.send_text(USER, "2026-09")
    await reply_containing(emu, "How many of your contacts")
    await press(emu, "More than 50")
    await reply_containing(emu, "What did the collectors do?")
    await press(emu, "Threats of violence")
    await emu.wait_for_bot_message(
        USER, lambda m: any(text == "✅ Threats of violence" for text, _ in m.buttons), timeout=10
    )
    asked = [m for m in await emu.bot_messages(USER) if "What did the collectors do" in m.text]
    assert len(asked) == 1, "a toggle edits the keyboard in place"
    await press(emu, "✅ Done")
    await reply_containing(emu, "Are you in danger right now?")
    await press(emu, "No")
    await reply_containing(emu, "How did they reach you")
    await press(emu, "✅ Done")
    await reply_containing(emu, "Did they tell the people")
    await press(emu, "I don't know")
    await reply_containing(emu, "Did they post anything publicly")
    await press(emu, "I don't know")
    await reply_containing(emu, "Collectors' phone numbers")
    await press(emu, "These are the collectors'")
    await reply_containing(emu, "Collectors' details in the complaint: 1")
    await press(emu, "✅ Done")
    await reply_containing(emu, "Step 4 of 5")
    await press(emu, "Continue")
    await press(emu, "No name")
    await press(emu, "Leave it out")
    await press(emu, "I understand")
    # an unlicensed app and threats: the police come first, with their statement first
    await reply_containing(emu, "1. Police (110")
    await reply_containing(emu, "📄 Statement for the police")

    conv = await bot.core.storage.load("telegram", str(USER))
    assert conv is not None
    documents = case_documents(conv.cases[0], bot.core.content.index, datetime.now(UTC).date())
    assert documents[0] == "police_statement"
    expected = sorted(
        f"case1-{d.replace('_', '-')}-{lang}.txt" for d in documents for lang in ("zh-Hans", "en")
    )  # Chinese bodies read Chinese; the user gets an English copy to read
    for _ in range(400):  # paced as Telegram asks: about one message a second in a chat
        if len(emu.sent_files) >= len(expected):
            break
        await asyncio.sleep(0.1)
    names = sorted(str(f.file.file_name) for f in emu.sent_files)
    assert names == expected
    copy = next(f for f in emu.sent_files if f.file.file_name == "case1-police-statement-en.txt")
    text = copy.file.data.decode()
    assert "QuickCash" in text and "address book & called" in text  # plain text, not HTML
    for message in await emu.bot_messages(USER):  # the bot's own messages stay short
        assert len(message.text or "") <= CHAT_LIMIT
    evidence = conv.cases[0].evidence
    served = [*photos, voice, audio, pdf]
    assert [e.sha256 for e in evidence[1:9]] == [hashlib.sha256(d).hexdigest() for d in served]
    for item, data in zip(evidence[1:9], served, strict=True):
        assert bot.core.evidence.path_for(item.sha256).read_bytes() == data  # type: ignore[arg-type]
    big = evidence[9]
    assert big.too_large and big.sha256 is None and big.size == 25 * 1024 * 1024
    assert evidence[0].forward is not None and evidence[0].forward.name == "催收员"
    assert [e.album_id for e in evidence[1:6]] == ["album-1"] * 5
    album_acks = [m for m in await emu.bot_messages(USER) if "from the album" in (m.text or "")]
    assert len(album_acks) == 1


async def test_commands_are_registered_in_three_languages(bot: Bot):
    for _ in range(100):  # registered beside the start, not before it
        calls = bot.emu.calls("setMyCommands")
        if len(calls) >= 4:
            break
        await asyncio.sleep(0.1)
    codes = sorted(str(c.params.get("language_code")) for c in calls)
    assert codes == ["None", "en", "es", "zh"]
