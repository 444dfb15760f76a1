"""Choices on channels without buttons (WeChat) or with too few (WhatsApp beyond ten options):
the options go out as marked lines of text, and what the user types back is read as one of
them: its mark or its label, as typed.

Two styles of mark: letters (a, b, ... z, aa...; WhatsApp and the console), so that a typed
number (how many contacts, a phone number) is never taken for an option, and numbers (1, 2...;
WeChat, where numbered menus are what users know). Full-width forms, as Chinese keyboards
type them, count as their plain ones.

What was offered is kept in the storage, per channel and user, until the next message without
options: the user's answer may be applied by another worker, or after a restart.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

from bot.storage import Storage

Style = Literal["letters", "numbers"]
Option = tuple[str, str]
"""An option's id and its label."""

_TRAILING = ".)、）:："


def letter(index: int) -> str:
    """The letters an option is chosen by: a, b, ... z, aa, ab..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def mark(index: int, style: Style) -> str:
    return letter(index) if style == "letters" else str(index + 1)


def _typed(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def read_choice(
    text: str, options: Sequence[Option], style: Style, plain: Callable[[str], str]
) -> str | None:
    """The id of the option ``text`` names, by its mark (``b``, ``b)``, ``(2)``, ``２``) or
    its label as shown (``plain`` turns a label into what the user saw); None if none."""
    typed = _typed(text)
    bare = typed.rstrip(_TRAILING).lstrip("(").strip()
    for index, (option_id, _) in enumerate(options):
        if bare == mark(index, style):
            return option_id
    for option_id, label in options:
        if _typed(plain(label)) == typed:
            return option_id
    return None


class TypedChoices:
    """One channel's options offered as text, remembered in the storage."""

    def __init__(
        self, storage: Storage, channel: str, style: Style, plain: Callable[[str], str]
    ) -> None:
        self.storage, self.channel, self.style, self.plain = storage, channel, style, plain

    def lines(self, labels: Sequence[str]) -> list[str]:
        """The options as the user reads them: ``a) label`` or ``1. label``."""
        sep = ")" if self.style == "letters" else "."
        return [f"{mark(n, self.style)}{sep} {label}" for n, label in enumerate(labels)]

    async def offer(self, user: str, options: Sequence[Option], case: int | None) -> None:
        """Remember what was just offered to the user as text."""
        payload = json.dumps([list(option) for option in options], ensure_ascii=False)
        await self.storage.offer(self.channel, user, payload, case)

    async def withdraw(self, user: str) -> None:
        """Forget it: the user was sent something else since. A read first: most replies
        follow no text offer, and a write on every reply would queue behind other writers."""
        if await self.storage.offered(self.channel, user) is not None:
            await self.storage.offer(self.channel, user, None, None)

    async def read(self, user: str, text: str) -> tuple[int | None, str] | None:
        """The case and option id the user's text chooses among what was last offered to
        them as text; None when nothing is offered or the text names none of it."""
        stored = await self.storage.offered(self.channel, user)
        if stored is None:
            return None
        payload, case = stored
        options = [(str(option_id), str(label)) for option_id, label in json.loads(payload)]
        chosen = read_choice(text, options, self.style, self.plain)
        return None if chosen is None else (case, chosen)
