"""The WeChat Official Account channel end to end: our web app on 127.0.0.1, the real core and
storage, and a loopback fake of WeChat's servers (tests/wechat_peer.py) that encrypts what it
sends with wechatpy, an independent implementation, and checks our replies."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.core import Core
from bot.settings import Settings
from bot.web import WebServer, web_app
from bot.wechat.adapter import CHANNEL
from bot.wechat.app import WeChatChannel
from bot.wechat.messages import split_bytes
from dialogs import EvidenceKind
from tests.conftest import Chat, walk_to
from tests.wechat_peer import WeChatPeer

USER = "oUser1234567890abcdefghijklm"


def settings_for(tmp_path: Path, peer: WeChatPeer, *, verified: bool, **more: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        wechat_token=SecretStr(peer.token),
        wechat_app_id=peer.app_id,
        wechat_app_secret=SecretStr(peer.app_secret),
        wechat_encoding_aes_key=SecretStr(peer.encoding_aes_key)
        if peer.encoding_aes_key
        else None,
        wechat_account="verified" if verified else "unverified",
        wechat_api_base_url=peer.base_url,
        **more,
    )


@dataclass
class Running:
    core: Core
    channel: WeChatChannel
    url: str


@asynccontextmanager
async def wechat_bot(settings: Settings) -> AsyncIterator[Running]:
    async with open_core(settings) as core:
        channel = WeChatChannel(core, settings)
        server = WebServer(web_app({}, core.storage.ping, more=channel.routes()), "127.0.0.1", 0)
        await server.start()
        try:
            await channel.start()
            yield Running(core, channel, f"http://127.0.0.1:{server.port}/wechat")
        finally:
            await server.stop()
            await channel.stop()


def answer_slowly(bot: Running, seconds: float, passive: float | None = None) -> list[str]:
    """Make every answer take ``seconds`` (and the callback wait ``passive`` seconds at most);
    return the keys of the messages applied, as they are."""
    original, applied = bot.channel.adapter.apply, []

    async def slow(inbound: Any) -> list[str]:
        applied.append(inbound.key)
        await asyncio.sleep(seconds)
        return await original(inbound)

    bot.channel.adapter.apply = slow  # type: ignore[method-assign]
    if passive is not None:
        bot.channel.passive_seconds = passive
    return applied


def answer_at_once(bot: Running) -> None:
    del bot.channel.adapter.apply  # the adapter's own method again
    bot.channel.passive_seconds = 4.0


@asynccontextmanager
async def setup(
    tmp_path: Path, *, verified: bool = False, safe: bool = True
) -> AsyncIterator[tuple[WeChatPeer, Running]]:
    options: dict[str, Any] = {"verified": verified}
    if not safe:
        options["encoding_aes_key"] = None
    async with WeChatPeer(**options) as peer:  # noqa: SIM117 (the bot needs the peer's address)
        async with wechat_bot(settings_for(tmp_path, peer, verified=verified)) as bot:
            yield peer, bot


async def test_the_url_check_echoes_only_with_the_right_signature(tmp_path: Path) -> None:
    async with setup(tmp_path) as (peer, bot):
        status, body = await peer.verify_url(bot.url)
        assert status == 200 and body
        status, _ = await peer.verify_url(bot.url, token="not-ours")
        assert status == 403


@pytest.mark.parametrize("safe", [True, False], ids=["safe mode", "plaintext"])
async def test_a_first_message_gets_the_welcome_in_chinese_as_a_passive_reply(
    tmp_path: Path, safe: bool
) -> None:
    async with setup(tmp_path, safe=safe) as (peer, bot):
        reply = await peer.push(bot.url, peer.text(USER, "你好"))
        assert reply.status == 200 and reply.retries == 0
        assert reply.msg_type == "text" and reply.to_user == USER
        assert reply.content is not None and "这也不是您的错" in reply.content
        assert "1. Español" in reply.content and "2. 中文（简体）" in reply.content
        assert len(reply.content.encode()) <= 2048
        assert peer.violations == []


async def test_a_wrong_signature_is_refused_and_nothing_recorded(tmp_path: Path) -> None:
    async with setup(tmp_path) as (peer, bot):
        reply = await peer.push(bot.url, peer.text(USER, "你好"), wrong_signature=True)
        assert reply.status == 403
        assert await bot.core.storage.pending(CHANNEL) == []
        assert await bot.core.storage.load(CHANNEL, USER) is None


async def walk_to_evidence(peer: WeChatPeer, bot: Running) -> None:
    await peer.push(bot.url, peer.text(USER, "你好"))
    chosen = await peer.push(bot.url, peer.text(USER, "２"))  # full-width: 中文
    assert chosen.content is not None and "\n1. 中国" in chosen.content, chosen.content
    lines = chosen.content.splitlines()
    china = next(line for line in lines if "中国" in line).split(".")[0]
    reply = await peer.push(bot.url, peer.text(USER, china))
    while reply.content and "是我借的款" not in reply.content:  # a region question: skip
        reply = await peer.push(bot.url, peer.text(USER, "/skip"))
    assert reply.content is not None
    borrower = next(line for line in reply.content.splitlines() if "是我借的款" in line)
    await peer.push(bot.url, peer.text(USER, borrower.split(".")[0]))


async def test_a_picture_is_kept_from_its_picurl_on_an_unverified_account(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path) as (peer, bot):
        await walk_to_evidence(peer, bot)
        picture = b"\xff\xd8\xff\xe0" + os.urandom(3000)
        reply = await peer.push(bot.url, peer.image(USER, peer.add_media(picture, "image/jpeg")))
        assert reply.content is not None and "#1" in reply.content
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        item = conv.cases[0].evidence[0]
        assert item.kind == EvidenceKind.SCREENSHOT
        assert item.sha256 == hashlib.sha256(picture).hexdigest()


async def test_a_voice_note_an_unverified_account_cannot_keep_is_said_so(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path) as (peer, bot):
        await walk_to_evidence(peer, bot)
        voice = peer.voice(USER, peer.add_media(os.urandom(800), "audio/amr"), recognition="还钱")
        reply = await peer.push(bot.url, voice)
        assert reply.content is not None
        assert "无法保存语音消息" in reply.content and "还钱" in reply.content
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None and conv.cases[0].evidence == []


async def test_a_verified_account_keeps_voice_notes_with_their_recognition(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path, verified=True) as (peer, bot):
        await walk_to_evidence(peer, bot)
        audio = b"#!AMR\n" + os.urandom(900)
        voice = peer.voice(USER, peer.add_media(audio, "audio/amr"), recognition="不还钱就曝光")
        reply = await peer.push(bot.url, voice)
        assert reply.content is not None and "#1" in reply.content
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        item = conv.cases[0].evidence[0]
        assert item.kind == EvidenceKind.VOICE and item.caption == "不还钱就曝光"
        assert await bot.core.evidence.read(item.sha256 or "") == audio
        assert peer.menu is not None  # the menu is set on a verified account


async def test_a_message_wechat_sends_again_is_applied_once_and_answered(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path) as (peer, bot):
        await walk_to_evidence(peer, bot)
        calls = answer_slowly(bot, 0.7)  # longer than WeChat waits in this test, twice
        reply = await peer.push(bot.url, peer.text(USER, "催收员说要曝光我"), timeout=0.3)
        assert reply.retries == 2  # WeChat tried three times
        assert reply.content is not None  # the third try got the answer
        assert len(calls) == 1  # applied once
        assert await bot.core.storage.pending(CHANNEL) == []


async def test_an_answer_too_late_for_an_unverified_account_comes_with_the_next_reply(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path) as (peer, bot):
        await walk_to_evidence(peer, bot)
        answer_slowly(bot, 0.5, passive=0.1)
        picture = b"\xff\xd8\xff\xe0" + os.urandom(1000)
        late = await peer.push(bot.url, peer.image(USER, peer.add_media(picture, "image/jpeg")))
        assert late.content is None  # "success": WeChat shows nothing
        await bot.channel.order.drain()
        answer_at_once(bot)
        nxt = await peer.push(bot.url, peer.text(USER, "/status"))
        assert nxt.content is not None
        assert nxt.content.index("#1") < nxt.content.index("案件")  # the held answer first


async def test_a_late_answer_goes_out_as_a_customer_service_message_when_verified(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path, verified=True) as (peer, bot):
        answer_slowly(bot, 0.5, passive=0.1)
        reply = await peer.push(bot.url, peer.text(USER, "你好"))
        assert reply.content is None  # "success": nothing yet
        sent = await peer.wait_sent(1, to=USER, timeout=10)
        assert "这也不是您的错" in sent[0]["text"]["content"]


def test_texts_are_cut_at_2048_bytes_on_character_boundaries() -> None:
    text = "催收" * 1500 + "\n" + "end"
    pieces = split_bytes(text)
    assert all(len(p.encode()) <= 2048 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


async def test_a_reminder_waits_for_the_users_next_message_on_an_unverified_account(
    tmp_path: Path,
) -> None:
    async with setup(tmp_path) as (peer, bot):
        chat = Chat(content=bot.core.content.index, client_lang="zh-Hans")
        walk_to(chat, "report")
        chat.press("rep:remind", case=chat.conv.active)
        due = chat.case.report.remind_at
        assert due is not None
        await bot.core.storage.save(chat.conv.model_copy(update={"channel": CHANNEL,
                                                                 "user_id": USER}))  # fmt: skip
        bot.core.clock = lambda: due + timedelta(minutes=1)

        assert await bot.channel.remind() == 0  # the account cannot write first
        assert await bot.core.storage.due_for(CHANNEL, USER, due + timedelta(minutes=1))

        reply = await peer.push(bot.url, peer.text(USER, "/status"))
        assert reply.content is not None
        assert reply.content.startswith("⏰")  # the reminder, before the answer
        assert not await bot.core.storage.due_for(CHANNEL, USER, due + timedelta(minutes=2))


async def test_messages_recorded_before_a_stop_are_applied_after_the_restart(
    tmp_path: Path,
) -> None:
    async with WeChatPeer() as peer:
        settings = settings_for(tmp_path, peer, verified=False)
        async with wechat_bot(settings) as bot:
            await walk_to_evidence(peer, bot)
            stalled = asyncio.Event()

            async def never(inbound: Any) -> list[str]:
                await stalled.wait()  # the process "dies" before applying
                return []

            bot.channel.adapter.apply = never  # type: ignore[method-assign]
            bot.channel.passive_seconds = 0.1
            pictures = [b"\xff\xd8\xff\xe0" + os.urandom(700) for _ in range(3)]
            for picture in pictures:
                reply = await peer.push(
                    bot.url, peer.image(USER, peer.add_media(picture, "image/jpeg"))
                )
                assert reply.content is None  # "success": not answered yet
            assert len(await bot.core.storage.pending(CHANNEL)) == 3

        async with wechat_bot(settings) as bot:
            await bot.channel.order.drain()
            conv = await bot.core.storage.load(CHANNEL, USER)
            assert conv is not None
            assert [item.sha256 for item in conv.cases[0].evidence] == [
                hashlib.sha256(p).hexdigest() for p in pictures
            ]
            nxt = await peer.push(bot.url, peer.text(USER, "/status"))
            assert nxt.content is not None and "#3" in nxt.content  # the answers held, first


async def test_a_burst_of_pictures_is_kept_in_order(tmp_path: Path) -> None:
    async with setup(tmp_path) as (peer, bot):
        await walk_to_evidence(peer, bot)
        pictures = [b"\xff\xd8\xff\xe0" + os.urandom(500) for _ in range(15)]
        messages = [peer.image(USER, peer.add_media(p, "image/jpeg")) for p in pictures]
        replies = await asyncio.gather(*(peer.push(bot.url, m) for m in messages))
        assert all(r.status == 200 for r in replies)
        await bot.channel.order.drain()
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        assert [i.sha256 for i in conv.cases[0].evidence] == [
            hashlib.sha256(p).hexdigest() for p in pictures
        ]
        assert peer.violations == []


async def test_an_answer_held_for_the_next_message_survives_a_restart(tmp_path: Path) -> None:
    async with WeChatPeer() as peer:
        settings = settings_for(tmp_path, peer, verified=False)
        async with wechat_bot(settings) as bot:
            await walk_to_evidence(peer, bot)
            answer_slowly(bot, 0.4, passive=0.05)
            picture = b"\xff\xd8\xff\xe0" + os.urandom(900)
            late = await peer.push(
                bot.url, peer.image(USER, peer.add_media(picture, "image/jpeg"))
            )
            assert late.content is None
            await bot.channel.order.drain()

        async with wechat_bot(settings) as bot:  # restarted before the user wrote again
            nxt = await peer.push(bot.url, peer.text(USER, "/status"))
            assert nxt.content is not None and "#1" in nxt.content
