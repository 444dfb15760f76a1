"""The WhatsApp channel end to end: our web app on 127.0.0.1, the real core and storage, and
a loopback fake of Meta's Graph API (tests/whatsapp_peer.py) that checks every request
against Meta's OpenAPI description and plays the user's side through signed webhooks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.choices import letter
from bot.core import Core
from bot.settings import Settings
from bot.web import WebServer, web_app
from bot.whatsapp.adapter import CHANNEL, PAIR_BURST, decode_option, to_whatsapp
from bot.whatsapp.app import WhatsAppChannel
from dialogs import EvidenceKind
from tests.conftest import Chat, walk_to
from tests.whatsapp_peer import GraphPeer

VERIFY = "verify-me"
USER = "MX.1234567890"


def settings_for(tmp_path: Path, peer: GraphPeer, **more: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        whatsapp_token=SecretStr(peer.token),
        whatsapp_phone_number_id=peer.phone_number_id,
        whatsapp_app_secret=SecretStr(peer.app_secret),
        whatsapp_verify_token=SecretStr(VERIFY),
        whatsapp_api_base_url=peer.base_url,
        webhook_listen="127.0.0.1",
        webhook_port=0,
        **more,
    )


@dataclass
class Running:
    core: Core
    channel: WhatsAppChannel
    url: str

    async def settle(self) -> None:
        """Wait until every message delivered so far was applied and answered."""
        await self.channel.order.drain()


@asynccontextmanager
async def whatsapp_bot(settings: Settings, pair_pause: float = 0.05) -> AsyncIterator[Running]:
    async with open_core(settings) as core:
        channel = WhatsAppChannel(core, settings, pair_pause=pair_pause)
        server = WebServer(web_app({}, core.storage.ping, more=channel.routes()), "127.0.0.1", 0)
        await server.start()
        try:
            await channel.start()
            yield Running(core, channel, f"http://127.0.0.1:{server.port}/whatsapp")
        finally:
            await server.stop()
            await channel.stop()


@pytest.fixture
async def peer() -> AsyncIterator[GraphPeer]:
    async with GraphPeer() as running:
        yield running


def last_options(peer: GraphPeer, user: str = USER) -> list[tuple[str, str]]:
    """The (id, title) of the options in the last interactive message sent to the user."""
    for sent in reversed(peer.sent_to(user)):
        interactive = sent.get("interactive")
        if not interactive:
            continue
        if interactive["type"] == "button":
            return [
                (b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]
            ]
        rows = [row for s in interactive["action"]["sections"] for row in s["rows"]]
        return [(row["id"], row["title"]) for row in rows]
    return []


def texts_to(peer: GraphPeer, user: str = USER) -> list[str]:
    out = []
    for sent in peer.sent_to(user):
        if sent.get("type") == "text":
            out.append(sent["text"]["body"])
        elif sent.get("type") == "interactive":
            out.append(sent["interactive"]["body"]["text"])
    return out


async def say(bot: Running, peer: GraphPeer, message: dict[str, Any]) -> None:
    assert await peer.push(bot.url, peer.envelope(message)) == 200
    await bot.settle()


async def choose(bot: Running, peer: GraphPeer, option: str) -> None:
    """Pick ``option`` as a user would: tap it in the last buttons or list, or, when the
    options came as lettered text (more than ten), type its letter."""
    last = peer.sent_to(USER)[-1]
    if last.get("type") == "interactive":
        options = last_options(peer)
        chosen = [(i, title) for i, title in options if decode_option(i)[1] == option]
        assert chosen, (option, options)
        option_id, title = chosen[0]
        context = peer.sent_ids[peer.sent.index(last)] or "wamid.unknown"
        await say(bot, peer, peer.button_reply(USER, option_id, title, context_id=context))
        return
    stored = await bot.core.storage.offered(CHANNEL, USER)  # what any worker would read
    assert stored is not None
    index = [option_id for option_id, _ in json.loads(stored[0])].index(option)
    mark = letter(index)
    assert f"\n{mark}) " in last["text"]["body"]
    await say(bot, peer, peer.text(USER, mark))


async def test_the_handshake_answers_the_challenge_only_with_the_right_token(
    tmp_path: Path, peer: GraphPeer
) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        assert await peer.verify(bot.url, token=VERIFY, challenge="1158201444") == (
            200, "1158201444",
        )  # fmt: skip
        status, _ = await peer.verify(bot.url, token="wrong")
        assert status == 403


async def test_a_delivery_with_a_wrong_signature_is_refused_and_not_recorded(
    tmp_path: Path, peer: GraphPeer
) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        payload = peer.envelope(peer.text(USER, "hola"))
        assert await peer.push(bot.url, payload, signature="sha256=" + "0" * 64) == 403
        await bot.settle()
        assert await bot.core.storage.pending(CHANNEL) == []
        assert peer.sent_to(USER) == []


async def test_a_first_message_is_welcomed_in_spanish_with_buttons_sent_to_the_bsuid(
    tmp_path: Path, peer: GraphPeer
) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        await say(bot, peer, peer.text(USER, "Hola, necesito ayuda"))
        sent = peer.sent_to(USER)
        assert sent, peer.sent
        assert all(s.get("recipient") == USER and "to" not in s for s in peer.sent if "type" in s)
        assert "No te pasa solo a ti" in "\n".join(texts_to(peer))
        titles = [title for _, title in last_options(peer)]
        assert titles == ["Español", "中文（简体）", "English"]
        assert peer.violations == []
        read = [s for s in peer.sent if s.get("status") == "read"]
        assert read and read[0].get("typing_indicator") == {"type": "text"}


async def walk_to_evidence(bot: Running, peer: GraphPeer) -> None:
    await say(bot, peer, peer.text(USER, "Hola"))
    await choose(bot, peer, "lang:es")
    offered = peer.sent_to(USER)[-1]["text"]["body"]
    assert "\na) México\n" in offered  # the country of the user's id, first
    await choose(bot, peer, "jur:mx")
    options = [decode_option(i)[1] for i, _ in last_options(peer)]
    if any(o.startswith("region:") for o in options):
        await choose(bot, peer, next(o for o in options if o.startswith("region:")))
    await choose(bot, peer, "who:borrower")


async def test_a_lettered_choice_offered_before_a_restart_is_read_after_it(
    tmp_path: Path, peer: GraphPeer
) -> None:
    """The countries go out as lettered text (more than ten); the bot stops; the user's
    letter, applied by the new process (or by another worker), still picks México."""
    settings = settings_for(tmp_path, peer)
    async with whatsapp_bot(settings) as bot:
        await say(bot, peer, peer.text(USER, "Hola"))
        await choose(bot, peer, "lang:es")
        assert "\na) México\n" in peer.sent_to(USER)[-1]["text"]["body"]
    async with whatsapp_bot(settings) as bot:
        await say(bot, peer, peer.text(USER, "a"))
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None and conv.cases[0].jurisdiction == "mx"


async def test_evidence_of_every_kind_is_kept_once_and_acknowledged(
    tmp_path: Path, peer: GraphPeer
) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        await walk_to_evidence(bot, peer)
        screenshot = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
        voice = b"OggS" + os.urandom(1500)
        pdf = b"%PDF-1.4\n" + os.urandom(1000)
        image = peer.image(USER, peer.add_media(screenshot, "image/png"), caption="amenaza")
        await say(bot, peer, image)
        await say(bot, peer, peer.audio(USER, peer.add_media(voice, "audio/ogg; codecs=opus")))
        document = peer.add_media(pdf, "application/pdf", filename="contrato.pdf")
        await say(bot, peer, peer.document(USER, document, filename="contrato.pdf"))
        await say(bot, peer, peer.text(USER, "Paga o publicamos tus fotos", forwarded=True))
        await say(bot, peer, peer.text(USER, "Te vamos a exponer", frequently=True))
        await say(
            bot, peer, peer.sticker(USER, peer.add_media(b"RIFF" + os.urandom(50), "image/webp"))
        )

        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        items = conv.cases[0].evidence
        assert [i.kind for i in items] == [
            EvidenceKind.SCREENSHOT, EvidenceKind.VOICE, EvidenceKind.DOCUMENT,
            EvidenceKind.TEXT, EvidenceKind.TEXT,
        ]  # fmt: skip
        assert items[0].sha256 == hashlib.sha256(screenshot).hexdigest()
        assert items[0].caption == "amenaza"
        assert await bot.core.evidence.read(items[1].sha256 or "") == voice
        assert items[2].file_name == "contrato.pdf"
        assert items[3].forward is not None and items[3].forward.kind == "unknown"
        assert not items[3].forward.frequently
        assert items[4].forward is not None and items[4].forward.frequently
        said = "\n".join(texts_to(peer))
        assert "#1" in said and "#5" in said
        assert "No puedo guardar este tipo de mensaje" in said  # the sticker

        await say(bot, peer, peer.text(USER, "/export"))
        documents = [s["document"] for s in peer.sent_to(USER) if s.get("type") == "document"]
        assert [d["filename"].rpartition(".")[2] for d in documents] == ["pdf"]
        report = peer.uploads[documents[0]["id"]]
        assert report[0].startswith(b"%PDF") and report[1] == "application/pdf"
        assert "WhatsApp no me deja enviar un archivo ZIP" in "\n".join(texts_to(peer))
        assert peer.violations == []


async def test_a_redelivered_message_is_applied_once(tmp_path: Path, peer: GraphPeer) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        await walk_to_evidence(bot, peer)
        message = peer.text(USER, "Te vamos a exponer", forwarded=True)
        await say(bot, peer, message)
        before = len(peer.sent_to(USER))
        await say(bot, peer, message)  # Meta delivers at least once
        await say(bot, peer, message)
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None and len(conv.cases[0].evidence) == 1
        assert len(peer.sent_to(USER)) == before


async def test_messages_recorded_before_a_stop_are_applied_after_the_restart(
    tmp_path: Path, peer: GraphPeer
) -> None:
    settings = settings_for(tmp_path, peer)
    async with whatsapp_bot(settings) as bot:
        await walk_to_evidence(bot, peer)
        sent_before = len(peer.sent_to(USER))
        release = asyncio.Event()
        original = bot.channel.adapter.apply

        async def stalled(inbound: Any) -> None:
            await release.wait()  # the process "dies" before applying
            await original(inbound)

        bot.channel.order._apply = stalled  # type: ignore[assignment]
        for n in range(3):
            message = peer.text(USER, f"amenaza {n}", forwarded=True)
            assert await peer.push(bot.url, peer.envelope(message)) == 200
        assert len(await bot.core.storage.pending(CHANNEL)) == 3
    assert len(peer.sent_to(USER)) == sent_before  # nothing applied

    async with whatsapp_bot(settings) as bot:
        await bot.settle()
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        assert [i.text for i in conv.cases[0].evidence] == ["amenaza 0", "amenaza 1", "amenaza 2"]
        assert await bot.core.storage.pending(CHANNEL) == []


async def test_a_pair_rate_limit_delays_the_reply_and_loses_nothing(
    tmp_path: Path, peer: GraphPeer
) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        peer.fail_next(131056, times=2)
        await say(bot, peer, peer.text(USER, "Hola"))
        assert "No te pasa solo a ti" in "\n".join(texts_to(peer))


async def test_one_users_burst_is_paced_before_meta_refuses_it_and_others_go_on(
    tmp_path: Path, peer: GraphPeer
) -> None:
    """Sixteen forwarded threats at once: their acknowledgements go out at the pair rate
    the bot keeps (here 4 a second after a burst of PAIR_BURST; Meta's is one every 6 s),
    so Meta refuses none of them, and another user's first message is answered meanwhile."""
    async with whatsapp_bot(settings_for(tmp_path, peer), pair_pause=0.25) as bot:
        await walk_to_evidence(bot, peer)
        peer.limit_pairs(per_second=4.0, burst=PAIR_BURST + 1)  # one spare: network jitter
        for n in range(16):
            message = peer.text(USER, f"amenaza {n}", forwarded=True)
            assert await peer.push(bot.url, peer.envelope(message)) == 200
        assert await peer.push(bot.url, peer.envelope(peer.text("MX.777", "Hola"))) == 200
        await bot.settle()
        assert [code for _, code in peer.rejected] == []
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None and len(conv.cases[0].evidence) == 16
        order = [sent.get("recipient") for sent in peer.sent if sent.get("type") != "read"]
        assert "MX.777" in order
        assert order.index("MX.777") < max(i for i, r in enumerate(order) if r == USER)


async def test_a_changed_user_id_keeps_the_case(tmp_path: Path, peer: GraphPeer) -> None:
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        await walk_to_evidence(bot, peer)
        await say(bot, peer, peer.text(USER, "Paga ya", forwarded=True))
        await say(bot, peer, peer.system_user_changed(USER, "MX.999"))
        assert await bot.core.storage.load(CHANNEL, USER) is None
        moved = await bot.core.storage.load(CHANNEL, "MX.999")
        assert moved is not None and moved.cases[0].evidence[0].text == "Paga ya"


def test_formatting_becomes_whatsapps_own_and_user_text_stays_as_typed() -> None:
    assert to_whatsapp("<b>Paso 1</b> &lt;b&gt;mío&lt;/b&gt; &amp; <i>nota</i>") == (
        "*Paso 1* <b>mío</b> & _nota_"
    )


async def test_python_m_bot_serves_whatsapp_when_configured(
    tmp_path: Path, peer: GraphPeer
) -> None:
    """The real program, started as an operator would, with WhatsApp alone configured."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))}
    env.update(
        DATA_DIR=str(tmp_path / "data"), WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port),
        WHATSAPP_TOKEN=peer.token, WHATSAPP_PHONE_NUMBER_ID=peer.phone_number_id,
        WHATSAPP_APP_SECRET=peer.app_secret, WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_API_BASE_URL=peer.base_url,
    )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/whatsapp"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        assert await peer.verify(url, token=VERIFY, challenge="42") == (200, "42")
        assert await peer.push(url, peer.envelope(peer.text(USER, "Hola"))) == 200
        await peer.wait_sent(1, to=USER, timeout=20)
        assert "No te pasa solo a ti" in "\n".join(texts_to(peer))
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 0, err.decode()
    assert b"Hola" not in err  # no message text in the log


async def seed_reminder(bot: Running, *, lang: str = "es") -> datetime:
    """A user at the report step who asked to be reminded, and the bot's clock a minute past
    when it is due; return that moment."""
    chat = Chat(content=bot.core.content.index, client_lang=lang)
    walk_to(chat, "report")
    chat.press("rep:remind", case=chat.conv.active)
    due = chat.case.report.remind_at
    assert due is not None
    conv = chat.conv.model_copy(update={"channel": CHANNEL, "user_id": USER})
    await bot.core.storage.save(conv)
    now = due + timedelta(minutes=1)
    bot.core.clock = lambda: now
    return now


async def test_a_reminder_within_the_window_is_a_message_and_after_it_the_template(
    tmp_path: Path, peer: GraphPeer
) -> None:
    settings = settings_for(tmp_path, peer, whatsapp_reminder_template="case_reminder")
    async with whatsapp_bot(settings) as bot:
        await seed_reminder(bot)
        peer.open_window(USER)  # the user wrote lately
        assert await bot.channel.remind() == 1
        first = peer.sent_to(USER)[0]
        assert first["type"] == "interactive"  # the reminder itself, with its button
        assert "#1" in first["interactive"]["body"]["text"]

    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:  # no template configured
        now = await seed_reminder(bot)
        peer.advance(25 * 3600)  # more than a day since the user last wrote
        before = len(peer.sent_to(USER))
        assert await bot.channel.remind() == 0  # nothing may be sent: it waits, still due
        assert len(peer.sent_to(USER)) == before
        assert await bot.core.storage.due(now) == [(CHANNEL, USER)]
        await say(bot, peer, peer.text(USER, "/status"))  # they write again
        assert await bot.channel.remind() == 1  # and get it
        reminder = peer.sent_to(USER)[-1]
        assert reminder["type"] == "interactive"
        assert "#1" in reminder["interactive"]["body"]["text"]

    async with whatsapp_bot(settings) as bot:
        await seed_reminder(bot)
        peer.advance(25 * 3600)  # a day since the user last wrote: only a template will do
        assert await bot.channel.remind() == 1
        template = peer.sent_to(USER)[-1]
        assert template["type"] == "template"
        assert template["template"]["name"] == "case_reminder"
        conv = await bot.core.storage.load(CHANNEL, USER)
        assert conv is not None
        expected = {"es": "es_MX", "en": "en_US", "zh-Hans": "zh_CN"}[conv.lang or ""]
        assert template["template"]["language"]["code"] == expected
        assert peer.violations == []


async def test_bursts_from_many_users_are_kept_in_order_each_once(
    tmp_path: Path, peer: GraphPeer
) -> None:
    """Five users forward 12 screenshots each, in deliveries of several messages at once,
    with one delivery sent twice; each user's items are numbered in the order sent."""
    users = [f"MX.50{n}" for n in range(5)]
    async with whatsapp_bot(settings_for(tmp_path, peer)) as bot:
        for user in users:
            await say(bot, peer, peer.text(user, "Hola"))
        shots = {
            user: [b"\x89PNG\r\n\x1a\n" + os.urandom(600) for _ in range(12)] for user in users
        }
        deliveries = []
        for index in range(0, 12, 3):  # three screenshots of every user per delivery
            messages = [
                peer.image(user, peer.add_media(shot, "image/png"))
                for user in users
                for shot in shots[user][index : index + 3]
            ]
            deliveries.append(peer.envelope(*messages))
        statuses = await asyncio.gather(*(peer.push(bot.url, d) for d in deliveries))
        assert statuses == [200] * len(deliveries)
        assert await peer.push(bot.url, deliveries[1]) == 200  # Meta delivers again
        await bot.settle()
        for user in users:
            conv = await bot.core.storage.load(CHANNEL, user)
            assert conv is not None
            stored = [item.sha256 for item in conv.cases[0].evidence]
            assert stored == [hashlib.sha256(shot).hexdigest() for shot in shots[user]]
        assert await bot.core.storage.pending(CHANNEL) == []
        assert peer.violations == []


async def test_a_reminder_that_cannot_be_delivered_comes_with_the_next_answer(
    tmp_path: Path, peer: GraphPeer
) -> None:
    settings = settings_for(tmp_path, peer, whatsapp_reminder_template="case_reminder")
    async with whatsapp_bot(settings) as bot:
        await seed_reminder(bot)
        peer.advance(25 * 3600)  # outside the window: only the template may go
        peer.fail_next(132001)  # and Meta refuses it (template missing in that language)
        assert await bot.channel.remind() == 0
        assert not any(s.get("type") == "template" for s in peer.sent_to(USER))

        await say(bot, peer, peer.text(USER, "/status"))  # the user writes again
        said = texts_to(peer)
        assert said and said[0].startswith("⏰")  # the reminder first, then the answer
        assert len(said) >= 2
        assert await bot.core.storage.take_held(CHANNEL, USER) == []
