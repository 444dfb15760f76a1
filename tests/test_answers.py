"""What people type instead of pressing a button is understood as a person would.

Languages and countries by name in any of the languages, the country question skipped as
"another country", and in the evidence step a typed text that is not silently evidence and
the words for "done" that close the step.
"""

from __future__ import annotations

import pytest

from bot.content import Content
from tests.conftest import Chat, walk_to

INDEX = Content.load().index


def fresh(lang: str = "en") -> Chat:
    chat = Chat(content=INDEX, client_lang=lang)
    chat.send("/start")
    return chat


@pytest.mark.parametrize(
    ("typed", "lang"),
    [("中文", "zh-Hans"), ("español", "es"), ("Espanol", "es"), ("English", "en"),
     ("chino", "zh-Hans"), ("英语", "en"), ("Spanish", "es")],
)  # fmt: skip
def test_a_language_typed_by_name_is_chosen(typed, lang):
    chat = fresh()
    chat.send(typed)
    assert chat.conv.lang == lang
    assert chat.state == "jurisdiction"


@pytest.mark.parametrize(
    ("typed", "jurisdiction"),
    [("China", "cn"), ("中国", "cn"), ("México", "mx"), ("mexico", "mx"), ("Perú", "pe"),
     ("España", "es"), ("vivo en Colombia", "co"), ("墨西哥", "mx"),
     ("Another country", "generic"), ("otro país", "generic")],
)  # fmt: skip
def test_a_country_typed_by_name_is_chosen(typed, jurisdiction):
    chat = fresh()
    chat.click("lang:en")
    chat.send(typed)
    assert chat.case.jurisdiction == jurisdiction


def test_an_unknown_country_gets_a_hint_and_skip_means_another_country():
    chat = fresh()
    chat.click("lang:en")
    assert chat.send("Narnia")[0] == "onboarding.jurisdiction_unknown"
    assert chat.case.jurisdiction is None and chat.state == "jurisdiction"
    chat.send("/skip")
    assert chat.case.jurisdiction == "generic"
    assert chat.state == "speaker"


def test_a_typed_text_in_the_evidence_step_is_not_silently_evidence():
    chat = fresh()
    walk_to(chat, "evidence")
    assert chat.send("they call me every day") == ["evidence.text_what"]
    chat.click("ev:drop_text")
    assert chat.case.evidence == [] and chat.case.drafts == []
    assert chat.state == "evidence"


@pytest.mark.parametrize(
    "done",
    [
        "listo",
        "ya",
        "Ya lo envié todo",
        "好了",
        "done",
        "I have sent everything",
        "✅ 我已全部发送",
    ],
)
def test_words_that_mean_done_close_the_evidence_step(done):
    chat = fresh()
    walk_to(chat, "evidence")
    chat.attach()
    chat.send(done)
    assert chat.state != "evidence"
    assert [e.kind.value for e in chat.case.evidence] == ["screenshot"]  # no text item


def test_a_text_left_unanswered_is_kept_when_the_step_ends():
    chat = fresh()
    walk_to(chat, "evidence")
    chat.send("SMS: paga hoy")
    chat.send("SMS: te vamos a exhibir")
    chat.click("ev:done")
    assert [e.text for e in chat.case.evidence] == ["SMS: paga hoy", "SMS: te vamos a exhibir"]
