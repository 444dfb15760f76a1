"""Telegram, WhatsApp and WeChat served by one process, as ``python -m bot`` runs them when
all three are configured: Telegram by polling (WhatsApp and WeChat on a web app beside it) or
by webhook (all three on one web app)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.telegram.app import TelegramAdapter, build_application, running
from bot.web_channels import web_channels
from tests.peer.botapi_peer import BotApiPeer
from tests.test_telegram_peer import TOKEN, quick_pacer, settings_for, texts
from tests.wechat_peer import WeChatPeer
from tests.whatsapp_peer import GraphPeer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("telegram", ["polling", "webhook"])
async def test_three_channels_in_one_process(tmp_path: Path, telegram: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    extra: dict[str, object] = {"webhook_listen": "127.0.0.1", "webhook_port": port}
    if telegram == "webhook":
        extra |= {"webhook_url": f"{base}/telegram", "webhook_secret": SecretStr("s3cret")}
    async with BotApiPeer(token=TOKEN) as bot_api, GraphPeer() as graph, WeChatPeer() as wechat:
        extra |= {
            "whatsapp_token": SecretStr(graph.token),
            "whatsapp_phone_number_id": graph.phone_number_id,
            "whatsapp_app_secret": SecretStr(graph.app_secret),
            "whatsapp_verify_token": SecretStr("verify"),
            "whatsapp_api_base_url": graph.base_url,
            "wechat_token": SecretStr(wechat.token),
            "wechat_app_id": wechat.app_id,
            "wechat_app_secret": SecretStr(wechat.app_secret),
            "wechat_encoding_aes_key": SecretStr(wechat.encoding_aes_key or ""),
            "wechat_api_base_url": wechat.base_url,
        }
        settings = settings_for(bot_api, tmp_path / "data", **extra)
        async with open_core(settings) as core:
            adapter = TelegramAdapter(core)
            application = build_application(settings, adapter, rate_limiter=quick_pacer())
            channels = web_channels(core, settings, "")
            assert len(channels) == 2
            async with running(application, adapter, settings, poll_timeout=1,
                               channels=channels):  # fmt: skip
                if telegram == "polling":
                    bot_api.user(71, language_code="en").send_command("/start")
                else:
                    update = {"update_id": 1, "message": {
                        "message_id": 1, "date": 1764300000,
                        "chat": {"id": 71, "type": "private", "first_name": "Ana"},
                        "from": {"id": 71, "is_bot": False, "first_name": "Ana",
                                 "language_code": "en"},
                        "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0,
                                      "length": 6}]}}  # fmt: skip
                    bot_api.user(71, language_code="en")
                    async with httpx.AsyncClient() as client:
                        answer = await client.post(
                            f"{base}/telegram", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
                        )  # fmt: skip
                    assert answer.status_code == 200
                await bot_api.wait_for(lambda: any("You are not alone" in t
                                                   for t in texts(bot_api, 71)))  # fmt: skip

                message = graph.envelope(graph.text("MX.77", "Hola"))
                assert await graph.push(f"{base}/whatsapp", message) == 200
                sent = await graph.wait_sent(1, to="MX.77", timeout=15)
                assert "No te pasa solo a ti" in str(sent)

                reply = await wechat.push(f"{base}/wechat", wechat.text("oWeChatUser77", "你好"))
                assert reply.content is not None and "这也不是您的错" in reply.content

                async with httpx.AsyncClient() as client:
                    assert (await client.get(f"{base}/healthz")).status_code == 200
        assert graph.violations == [] and wechat.violations == [] and bot_api.violations == []
