"""One acknowledgement per album, and per burst.

Telegram delivers an album as separate messages sharing a ``media_group_id``, with no end
marker. Each item is stored and recorded as it arrives; the acknowledgements are held back
and merged into one message once no new item of the album arrived for ``delay`` seconds.
The same is done for items forwarded one by one faster than the chat's messages may be sent
(a burst): their acknowledgements are merged instead of queueing one message each. Before
any other message goes to a chat, what is held for it is sent, so the order holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

Flush = Callable[["Held"], Coroutine[Any, Any, None]]
"""Sends what was held for one album or burst."""


@dataclass
class Held:
    chat_id: int
    lang: str
    album: bool
    """An album (else a burst of single forwards)."""
    saved: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """Each acknowledgement as it would have been sent alone."""
    timer: asyncio.TimerHandle | None = None


class AlbumAcks:
    def __init__(self, flush: Flush, delay: float = 1.5) -> None:
        self.flush = flush
        self.delay = delay
        self._albums: dict[str, Held] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending: dict[int, set[asyncio.Task[None]]] = {}
        """Acknowledgements being sent, by chat: a later message waits for them."""

    def add(
        self,
        album_id: str,
        chat_id: int,
        lang: str,
        number: int,
        duplicate: bool,
        album: bool = True,
        text: str = "",
    ) -> None:
        """Hold an acknowledgement and (re)start the album's quiet-period timer."""
        held = self._albums.setdefault(album_id, Held(chat_id, lang, album))
        held.lang = lang
        held.texts.append(text)
        (held.duplicates if duplicate else held.saved).append(number)
        if held.timer is not None:
            held.timer.cancel()
        loop = asyncio.get_running_loop()
        held.timer = loop.call_later(self.delay, self._fire, album_id)

    def holds(self, chat_id: int) -> bool:
        return any(album.chat_id == chat_id for album in self._albums.values())

    def _fire(self, album_id: str) -> asyncio.Task[None] | None:
        album = self._albums.pop(album_id, None)
        if album is None:
            return None
        if album.timer is not None:
            album.timer.cancel()
        task = asyncio.create_task(self.flush(album))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._sending.setdefault(album.chat_id, set()).add(task)
        task.add_done_callback(lambda done: self._sent(album.chat_id, done))
        return task

    def _sent(self, chat_id: int, task: asyncio.Task[None]) -> None:
        sending = self._sending.get(chat_id)
        if sending is not None:
            sending.discard(task)
            if not sending:
                del self._sending[chat_id]

    async def flush_chat(self, chat_id: int) -> None:
        """Send now what is held for one chat (before another message to it)."""
        held = [key for key, album in self._albums.items() if album.chat_id == chat_id]
        for key in held:
            self._fire(key)
        tasks = list(self._sending.get(chat_id, ()))  # also those whose timer already fired
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Send every held acknowledgement now (at shutdown, and in tests)."""
        for album_id in list(self._albums):
            self._fire(album_id)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
