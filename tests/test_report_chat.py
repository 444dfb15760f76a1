"""Step 5 in the chat is short: cards, not walls of text, in every jurisdiction and language.

The dialog is walked to the report with a heavy case (threats, contacts reached, every
channel) and the real core turns its replies into messages: none the bot writes unasked is
over 1,500 characters; the full text of a document comes only when asked, as files always.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.content import Content
from bot.core import CHAT_LIMIT, FULL_TEXT_LIMIT, OutFile, OutText
from bot.settings import Settings
from tests.conftest import Chat, walk_to

CONTENT = Content.load()


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def heavy_case(jurisdiction: str, lang: str) -> Chat:
    chat = Chat(content=CONTENT.index, client_lang=lang)
    chat.send("/start")
    chat.click(f"lang:{lang}")
    chat.click(f"jur:{jurisdiction}")
    walk_to(chat, "details_behaviours")
    for behaviour in ("contacts_messaged", "violence_threats", "defamation", "data_published"):
        chat.click(f"beh:{behaviour}")
    walk_to(chat, "report")
    return chat


@pytest.mark.parametrize("lang", ["es", "zh-Hans", "en"])
async def test_no_unasked_message_of_step_5_is_long(tmp_path: Path, lang: str):
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        telegram_bot_token=SecretStr("unused"),
    )
    longest = 0
    async with open_core(settings) as core:
        for jurisdiction in CONTENT.jurisdictions:
            chat = heavy_case(jurisdiction, lang)
            outs = core.present(chat.last_result, html.escape)
            assert any(isinstance(o, OutFile) for o in outs), jurisdiction
            for more in ("rep:more:1", "rep:others"):
                if more in chat.options:
                    chat.click(more)
                    outs += core.present(chat.last_result, html.escape)
            texts = [o.text for o in outs if isinstance(o, OutText)]
            longest = max(longest, *(units(html.unescape(t)) for t in texts))
            for text in texts:
                assert units(html.unescape(text)) <= CHAT_LIMIT, (jurisdiction, text[:80])
            document = next(o for o in chat.options if o.startswith("rep:doc:"))
            chat.click(document)  # the full text, because the user asked for it
            full = [o.text for o in core.present(chat.last_result) if isinstance(o, OutText)]
            assert len(full) >= 2 and all(units(t) <= FULL_TEXT_LIMIT for t in full)
    assert longest > 300  # the cards were measured, not skipped
    print(f"longest unasked step-5 message ({lang}): {longest} characters")
