"""One acknowledgement per album.

Telegram delivers an album as separate messages sharing a ``media_group_id``, with no end
marker. Each item is stored and recorded as it arrives; the acknowledgements are held back
and merged into one message once no new item of the album arrived for ``delay`` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

Flush = Callable[[int, str, list[int], list[int]], Coroutine[Any, Any, None]]
"""(chat id, language, numbers saved, numbers that were duplicates) -> send."""


@dataclass
class _Album:
    chat_id: int
    lang: str
    saved: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class AlbumAcks:
    def __init__(self, flush: Flush, delay: float = 1.5) -> None:
        self.flush = flush
        self.delay = delay
        self._albums: dict[str, _Album] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, album_id: str, chat_id: int, lang: str, number: int, duplicate: bool) -> None:
        """Hold an acknowledgement and (re)start the album's quiet-period timer."""
        album = self._albums.setdefault(album_id, _Album(chat_id, lang))
        album.lang = lang
        (album.duplicates if duplicate else album.saved).append(number)
        if album.timer is not None:
            album.timer.cancel()
        loop = asyncio.get_running_loop()
        album.timer = loop.call_later(self.delay, self._fire, album_id)

    def _fire(self, album_id: str) -> None:
        album = self._albums.pop(album_id, None)
        if album is None:
            return
        task = asyncio.create_task(
            self.flush(album.chat_id, album.lang, album.saved, album.duplicates)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Send every held acknowledgement now (at shutdown, and in tests)."""
        for album_id in list(self._albums):
            album = self._albums[album_id]
            if album.timer is not None:
                album.timer.cancel()
            self._fire(album_id)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
