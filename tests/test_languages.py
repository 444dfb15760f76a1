"""Languages are data: a fourth language is added by adding files to content/, nothing else.

The test copies the content to a temporary folder, adds French by adding files only (texts,
templates; jurisdiction names fall back to English until translated), and walks the whole
flow in it: every reply and every document resolves in French.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from bot.content import Content
from bot.documents import DOCUMENTS
from bot.render import Renderer
from dialogs.replies import Ref
from tests.conftest import REPO, Chat, walk_to

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def add_french(root: Path) -> Path:
    """Copy content/ and add French beside the other languages, by adding files only."""
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    texts = content / "texts"
    for path in sorted(texts.glob("en.*toml")):
        text = path.read_text(encoding="utf-8")
        if path.name == "en.toml":
            text = text.replace('name = "English"', 'name = "Français"', 1)
            text = text.replace("order = 3", "order = 4", 1)
            text = text.replace(
                'welcome = """<b>You are not alone', 'welcome = """<b>Vous n\'êtes pas seul·e', 1
            )
        if path.name == "en.documents.toml":
            text = text.replace('date = "Date: {value}"', 'date = "Date : {value}"', 1)
            text = text.replace('1 = "January"', '1 = "janvier"').replace(
                '11 = "November"', '11 = "novembre"'
            )
        (texts / path.name.replace("en", "fr", 1)).write_text(text, encoding="utf-8")
    shutil.copytree(content / "templates" / "en", content / "templates" / "fr")
    return content


def test_a_fourth_language_is_added_by_adding_files(tmp_path: Path):
    content = Content.load(add_french(tmp_path))
    assert content.index.languages == ("es", "zh-Hans", "en", "fr")
    assert content.text("language.fr", "es") == "Français"  # offered by its own name
    assert content.text("onboarding.welcome", "fr").startswith("<b>Vous n'êtes pas seul·e")

    chat = Chat(content=content.index, client_lang="fr")
    chat.send("/start")
    assert "lang:fr" in chat.options
    chat.click("lang:fr")
    assert chat.conv.lang == "fr"
    replies = []
    original = chat.event

    def recording(event):
        keys = original(event)
        replies.extend(chat.replies)
        return keys

    chat.event = recording  # type: ignore[method-assign]
    walk_to(chat, "report")
    seen = [r.key for r in replies]
    assert "report.intro" in seen
    for reply in replies:  # every reply of the walk exists in French, with its parameters
        if reply.key:
            content.text(reply.key, "fr", reply.params)
        for option in reply.options:
            content.text(option.label, "fr", option.params)
        for value in reply.params.values():
            if isinstance(value, Ref):
                content.text(value.key, "fr")

    renderer = Renderer(content)
    case = chat.case
    case.jurisdiction = "generic"  # its bodies read the user's own language
    assert renderer.document_lang(case, "fr") == "fr"
    for template in DOCUMENTS:
        document = renderer.render(template, case, "fr", NOW)
        if template != "contact_complaint":  # a form the contact dates when they send it
            assert "Date : 29 novembre 2026" in document, template
    for item in range(2):
        assert renderer.render("card", case, "fr", NOW, item=item).strip()
    assert renderer.render("contacts", case, "fr", NOW).strip()
