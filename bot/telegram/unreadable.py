"""Updates the bot cannot read are skipped, by id, instead of stopping the update loop.

python-telegram-bot parses every update of a ``getUpdates`` answer before handing any over;
one it cannot parse (a message without ``date`` or ``chat``) fails the whole batch, the
offset never moves past it, and the bot asks for the same batch again and again, answering
nobody. A text with a lone surrogate parses, but cannot be stored as UTF-8, and stops the
journal the same way after every restart.

:class:`SkipUnreadable` wraps the request object used for ``getUpdates`` and replaces such an
update in the answer by its bare ``update_id``: PTB then confirms it like any update it has
no handler for, and the loop goes on. Only the id and the update's kind are logged, never the
content; ``on_unreadable`` receives the update so that its sender can be told.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.telegram.inbox import readable, update_kind

log = logging.getLogger(__name__)


class SkipUnreadable(BaseRequest):
    """A ``getUpdates`` request object that hands PTB only updates it can handle."""

    def __init__(
        self,
        inner: BaseRequest,
        on_unreadable: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> None:
        self.inner = inner
        self.on_unreadable = on_unreadable

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await self.inner.do_request(
            url, method, request_data, read_timeout=read_timeout,
            write_timeout=write_timeout, connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )  # fmt: skip
        if url.rsplit("/", 1)[-1] != "getUpdates":
            return code, payload
        return code, readable_updates(payload, self.on_unreadable)


def readable_updates(
    payload: bytes, on_unreadable: Callable[[int, dict[str, Any]], None] | None = None
) -> bytes:
    """Return a ``getUpdates`` answer with every unreadable update reduced to its id."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload  # not JSON: PTB reports it as a network error and retries
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, list):
        return payload
    changed = False
    for index, update in enumerate(result):
        if readable(update):
            continue
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int):
            continue  # nothing to confirm it by; PTB will report the batch
        log.error("update %d (%s) could not be read and was skipped",
                  update_id, update_kind(update))  # fmt: skip
        if on_unreadable is not None:
            on_unreadable(update_id, update)
        result[index] = {"update_id": update_id}
        changed = True
    return json.dumps(answer).encode() if changed else payload
