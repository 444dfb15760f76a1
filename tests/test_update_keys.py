"""The chat key a receiver reads from an update's raw JSON is the one python-telegram-bot's
objects give, for every kind of update the Bot API describes (tests/botapi/api.json).

A receiver journals a webhook update without parsing it into python-telegram-bot's objects
(bot/telegram/inbox.py), and the key decides which updates are applied one after the other;
a key that differed from the one the single process uses would let two updates of one chat
be applied side by side. Each kind is built from the schema twice: with its required fields
only, and with its optional ones too (one level deep), chat and user ids never equal.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update

from bot.telegram.ordering import chat_key, raw_chat_key

_SPEC = json.loads((Path(__file__).parent / "botapi" / "api.json").read_text("utf-8"))
TYPES: dict[str, Any] = _SPEC["types"]
KINDS = [field["name"] for field in TYPES["Update"]["fields"] if field["name"] != "update_id"]
BOT = Bot("7012345678:AAF" + "x" * 32)


class Sampler:
    """Smallest objects of the schema's types, every integer a new number."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1000)

    def value(self, types: list[str], description: str, depth: int) -> Any:
        name = types[0]
        if name.startswith("Array of "):
            return [self.value([name.removeprefix("Array of ")], description, depth)]
        if name == "Integer":
            return next(self.numbers)
        if name == "Float":
            return 1.5
        if name == "Boolean":
            return True
        if name == "String":
            always = re.search(r'always “([^”]+)”|always "([^"]+)"', description)
            return next(g for g in always.groups() if g) if always else "x"
        return self.object(name, depth, optional=False)

    def object(self, name: str, depth: int, *, optional: bool) -> Any:
        spec = TYPES[name]
        if "subtypes" in spec:
            first = spec["subtypes"][0]
            if first not in TYPES:  # a plain value may stand for it (RichText: a string)
                return self.value([first], "", depth)
            return self.object(first, depth, optional=optional)
        found: dict[str, Any] = {}
        for field in spec.get("fields", []):
            if field["required"] or (optional and depth < 3):
                found[field["name"]] = self.value(field["types"], field["description"], depth + 1)
        if name == "Chat":  # a private chat's id is its user's; keep them apart here
            found["type"] = "private"
        return found


def updates() -> list[Any]:
    cases = []
    for kind in KINDS:
        (field,) = [f for f in TYPES["Update"]["fields"] if f["name"] == kind]
        for optional in (False, True):
            body = Sampler().object(field["types"][0], 1, optional=optional)
            cases.append(pytest.param({"update_id": 1, kind: body}, id=f"{kind}-{optional}"))
    return cases


@pytest.mark.parametrize("raw", updates())
def test_the_raw_key_is_the_parsed_key(raw: dict[str, Any]) -> None:
    update = Update.de_json(raw, BOT)
    assert raw_chat_key(raw) == str(chat_key(update))


def test_every_update_kind_is_covered() -> None:
    assert {"message", "callback_query", "chat_member", "poll_answer"} <= set(KINDS)
    assert len(KINDS) >= 20
