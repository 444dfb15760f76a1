"""Pacing shared by several processes: two senders for one bot (as two workers are), each
with its own connection to PostgreSQL, keep one chat within Telegram's limit together."""

from __future__ import annotations

import asyncio

from telegram.ext import ExtBot

from bot.pacing import SharedPacing
from bot.storage import Storage
from bot.telegram.pacing import ChatPacer
from tests.peer.botapi_peer import BotApiPeer
from tests.test_telegram_peer import TOKEN


async def _send_from_two(peer: BotApiPeer, pacers: list[ChatPacer], chat: int) -> None:
    bots = [
        ExtBot(TOKEN, base_url=peer.base_url, base_file_url=peer.base_file_url, rate_limiter=p)
        for p in pacers
    ]
    for bot in bots:
        await bot.initialize()
    try:
        await asyncio.gather(*(
            bots[n % 2].send_message(chat, f"message {n}") for n in range(16)
        ))  # fmt: skip
    finally:
        for bot in bots:
            await bot.shutdown()


async def test_two_senders_share_one_chats_pace(postgres_url: str) -> None:
    await (await Storage.open(postgres_url)).close()  # the schema, with its pacing table
    shared = [await SharedPacing.open(postgres_url) for _ in range(2)]
    try:
        async with BotApiPeer(token=TOKEN) as peer:
            peer.user(8101)
            peer.limit_chats(per_second=10.0, burst=3)  # Telegram's rule, ten times faster
            pacers = [
                ChatPacer(chat_rate=8.0, chat_burst=2, overall_rate=0, max_retries=0, shared=s)
                for s in shared
            ]
            await _send_from_two(peer, pacers, 8101)
            assert len(peer.messages_to(8101)) == 16
            assert peer.chat_429s == 0  # together within the limit: nothing refused
    finally:
        for s in shared:
            await s.close()


async def test_two_senders_pacing_alone_are_refused_by_telegram() -> None:
    """What the shared pacing prevents: each sender alone within the limit, both together
    over it."""
    async with BotApiPeer(token=TOKEN) as peer:
        peer.user(8102)
        peer.limit_chats(per_second=10.0, burst=3)
        pacers = [
            ChatPacer(chat_rate=8.0, chat_burst=2, overall_rate=0, max_retries=5) for _ in range(2)
        ]
        await _send_from_two(peer, pacers, 8102)
        assert len(peer.messages_to(8102)) == 16  # delivered, after 429s and waits
        assert peer.chat_429s > 0
