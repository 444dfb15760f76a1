"""Crisis care: self-harm told apart from threats by others, safety first, and a crisis
sentence never copied into a document meant for others.

The detection is measured on a hand-labelled set (``tests/data/crisis_set.toml``); the test
prints the figures (run with ``-s`` to see them).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import Content
from bot.documents import DOCUMENTS
from bot.render import Renderer
from dialogs import EvidenceKind, EvidenceReceived, StoredFile
from dialogs.crisis import (
    CrisisPhrases,
    Verdict,
    classify,
    normalise,
    sentences,
    signals,
    without_self_harm,
)
from dialogs.router import PLATFORM, POLICE, route
from tests.conftest import REPO, Chat, walk_to

CONTENT = Content.load()
INDEX = CONTENT.index
PHRASES = INDEX.crisis
RENDERER = Renderer(CONTENT)
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
LANGS = ("es", "zh-Hans", "en")
SAFETY = tomllib.loads((REPO / "content" / "safety" / "crisis.toml").read_text("utf-8"))
LABELLED = tomllib.loads((REPO / "tests" / "data" / "crisis_set.toml").read_text("utf-8"))
SETS = {"self_harm": Verdict.SELF_HARM, "threat": Verdict.THREAT, "not_crisis": Verdict.NONE}


# --- the phrase sets (content) ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_has_at_least_60_self_harm_phrasings_and_threats_apart(lang):
    assert len(SAFETY["self_harm"][lang]) >= 60
    assert len(SAFETY["threat"][lang]) >= 30
    assert SAFETY["not_crisis"][lang]


@pytest.mark.parametrize("name", SETS)
def test_every_plain_phrase_alone_is_read_as_its_own_set(name):
    wrong = [
        (phrase, classify(phrase, PHRASES))
        for lang in LANGS
        for phrase in SAFETY[name][lang]
        if not set(phrase) & set("*…/#$") and classify(phrase, PHRASES) != SETS[name]
    ]
    assert wrong == []


def test_a_phrase_that_is_only_punctuation_is_refused():
    with pytest.raises(ValueError):
        signals("anything", CrisisPhrases(self_harm=("¡!",)))


# --- what the issue saw ----------------------------------------------------------------------

MISSED_BEFORE = [
    "me quiero quitar la vida",
    "mejor me muero",
    "no quiero seguir viviendo",
    "ya no aguanto más, quiero desaparecer",
    "我真想一死了之",
    "活着没意思了",
    "ya no quiero vivir, me da mucha vergüenza",
]
THREATS = ["van a matarme", "they will kill me", "要弄死你", "te vamos a matar"]


@pytest.mark.parametrize("text", MISSED_BEFORE)
def test_the_crisis_phrasings_the_issue_saw_missed_are_caught(text):
    assert classify(text, PHRASES) == Verdict.SELF_HARM


@pytest.mark.parametrize("text", THREATS)
def test_threats_by_others_are_threats_never_self_harm(text):
    assert classify(text, PHRASES) == Verdict.THREAT


@pytest.mark.parametrize(
    "text",
    [
        "no me quiero morir, solo quiero que paren",
        "I don't want to die, I want them to stop",
        "我不想死，只想让他们别打了",
        "Me muero de vergüenza",
        "Mi mamá me va a matar cuando se entere",
        "My mom is going to kill me",
        "vi que un chavo se suicidó por estas apps",
        "砍头息太高了",
    ],
)
def test_negations_figures_of_speech_and_others_deaths_are_neither(text):
    assert classify(text, PHRASES) == Verdict.NONE


@pytest.mark.parametrize(
    "text",
    [
        "ME QUIERO QUITAR LA VIDA",  # case
        "mé quíero quitar lá vida",  # accents
        "ｍｅ ｑｕｉｅｒｏ ｑｕｉｔａｒ ｌａ ｖｉｄａ",  # full-width forms
        "me   quiero\tquitar  la vida",  # spacing
        "me quiero... quitar la vida!!",  # pauses and punctuation
        "我 真 想 一 死 了 之",  # spaces between Chinese characters
        "q ya no kiero vivir",  # chat spelling
        "I don’t want to live",  # curly apostrophe
        "me quiero moriiiir",  # letters typed again and again
    ],
)
def test_matching_is_normalised(text):
    assert classify(text, PHRASES) == Verdict.SELF_HARM


def test_a_latin_phrase_matches_whole_words_only():
    assert normalise("Re-MATARME, ¿ya?") == "re matarme | ya |"
    assert classify("rematarme", CrisisPhrases(self_harm=("matarme",))) == Verdict.NONE
    assert classify("quiero matarme", CrisisPhrases(self_harm=("matarme",))) == Verdict.SELF_HARM


def test_the_longest_phrase_decides_and_both_signals_can_hold():
    phrases = CrisisPhrases(self_harm=("matarme",), threat=("van a matarme",))
    assert classify("van a matarme", phrases) == Verdict.THREAT
    both = signals("dicen que van a matarme y yo ya quiero matarme", phrases)
    assert (both.self_harm, both.threat, both.verdict) == (True, True, Verdict.SELF_HARM)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_classified_and_its_documents_copy_holds_no_self_harm(text):
    assert classify(text, PHRASES) in Verdict
    kept = without_self_harm(text, PHRASES)
    assert kept is None or not signals(kept, PHRASES).self_harm
    assert "".join(sentences(text)) == text


# --- the labelled set ------------------------------------------------------------------------


def _lines(label: str) -> list[tuple[str, str]]:
    return [(lang, line) for lang in LANGS for line in LABELLED[label].get(lang, [])]


def test_the_labelled_set_is_large_varied_and_not_the_phrase_list():
    assert sum(len(_lines(label)) for label in ("self_harm", "threat", "neither")) >= 300
    for label in ("self_harm", "threat", "neither"):
        for lang in LANGS:
            assert len(LABELLED[label][lang]) >= 20, (label, lang)
    plain = {normalise(p, PHRASES.spelling) for lang in LANGS for p in SAFETY["self_harm"][lang]}
    verbatim = [
        line for _, line in _lines("self_harm") if normalise(line, PHRASES.spelling) in plain
    ]
    assert len(verbatim) * 2 < len(_lines("self_harm")), "most lines must be new phrasings"


def test_crisis_detection_on_the_labelled_set():
    def rate(hit: int, total: int) -> str:
        return f"{hit}/{total} = {100 * hit / total:.1f}%"

    results = {
        label: [(lang, line, classify(line, PHRASES)) for lang, line in _lines(label)]
        for label in ("self_harm", "threat", "neither")
    }
    caught = [r for r in results["self_harm"] if r[2] == Verdict.SELF_HARM]
    alarms = [r for r in results["neither"] if r[2] != Verdict.NONE]
    routed = [r for r in results["threat"] if r[2] == Verdict.THREAT]
    by_lang = ", ".join(
        f"{lang} {sum(1 for r in caught if r[0] == lang)}/"
        f"{sum(1 for r in results['self_harm'] if r[0] == lang)}"
        for lang in LANGS
    )
    total = sum(len(rows) for rows in results.values())
    print(f"\ncrisis set: {total} labelled lines")
    print(f"self-harm recall: {rate(len(caught), len(results['self_harm']))} ({by_lang})")
    print(
        f"false alarms on neither: {rate(len(alarms), len(results['neither']))} "
        f"(as self-harm {sum(1 for r in alarms if r[2] == Verdict.SELF_HARM)}, "
        f"as threat {sum(1 for r in alarms if r[2] == Verdict.THREAT)})"
    )
    print(
        f"threats routed to police: {rate(len(routed), len(results['threat']))} "
        f"(taken for self-harm: "
        f"{sum(1 for r in results['threat'] if r[2] == Verdict.SELF_HARM)})"
    )
    for lang, line, verdict in results["self_harm"]:
        if verdict != Verdict.SELF_HARM:
            print(f"  missed ({lang}): {line}")
    for lang, line, verdict in alarms:
        print(f"  false alarm ({lang}, {verdict}): {line}")
    assert len(caught) >= 0.95 * len(results["self_harm"])
    assert len(alarms) <= 0.02 * len(results["neither"])
    assert len(routed) == len(results["threat"])


def test_every_labelled_threat_typed_in_the_story_puts_the_police_first():
    chat = Chat(content=INDEX)
    walk_to(chat, "details_story")
    start = chat.conv
    bodies = {b.id: b for b in INDEX.bodies["cn"]}
    for _, line in _lines("threat"):
        chat.conv = start
        keys = chat.send(line)
        assert "crisis.first" not in keys, line
        assert keys[:2] == ["crisis.threat_first", "crisis.police_first"], line
        assert chat.case.details.danger is True
        first = route(chat.case, INDEX.bodies["cn"], NOW.date())[0]
        assert first.body != PLATFORM and bodies[first.body].role in POLICE, line


# --- documents -------------------------------------------------------------------------------


def test_sentences_join_back_and_do_not_split_at_a_pause_or_a_number():
    text = "Debo 1.500 pesos. Ya no... quiero vivir! Me llaman\n他们天天打。我想死。"
    assert "".join(sentences(text)) == text
    assert sentences(text)[:2] == ["Debo 1.500 pesos.", " Ya no... quiero vivir!"]


def test_only_the_self_harm_sentences_of_a_story_are_left_out():
    story = (
        "Me llaman todos los días. Ya no quiero vivir, me da mucha vergüenza.\n"
        "Escribieron a mi jefe. Dicen que van a matarme."
    )
    kept = without_self_harm(story, PHRASES)
    assert kept == "Me llaman todos los días.\nEscribieron a mi jefe. Dicen que van a matarme."
    assert without_self_harm("我真想一死了之。", PHRASES) is None
    assert without_self_harm("They call me daily.", PHRASES) == "They call me daily."


# --- the dialog ------------------------------------------------------------------------------


def mexico_chat() -> Chat:
    chat = Chat(content=INDEX, client_lang="es")
    chat.send("/start")
    chat.press("lang:es", case=chat.conv.active)
    chat.press("jur:mx", case=chat.conv.active)
    return chat


def rendered_documents(chat: Chat) -> dict[str, str]:
    case, texts = chat.case, {}
    for lang in dict.fromkeys([RENDERER.document_lang(case, "es"), "es"]):
        for template in DOCUMENTS:
            texts[f"{template}-{lang}"] = RENDERER.render(
                template, case, lang, NOW, user_lang="es"
            )
    return texts


def test_crisis_in_the_story_gets_care_first_resumes_and_stays_out_of_documents():
    chat = mexico_chat()
    walk_to(chat, "details_story")
    chat.send("Me llaman todos los días y escriben a mis contactos.")
    keys = chat.send("ya no quiero vivir, me da mucha vergüenza")
    assert keys == ["crisis.first", "crisis.kept_private", "crisis.then", "details.story_added"]
    render = chat.replies[0].render
    assert render is not None and render.template == "crisis" and not render.as_file
    assert chat.state == "details_story", "the flow resumes at the same question"
    assert chat.case.details.danger is False, "the user's own crisis is not danger from others"

    shown = RENDERER.render("crisis", chat.case, "es", NOW)
    emergency, line = shown.index("911"), shown.index("800 911 2000")
    assert emergency < line < shown.index("24 horas"), "emergency number, then the line's hours"

    keys = chat.send("Mejor me muero.")
    assert keys == ["crisis.first", "crisis.then", "details.story_added"], "told only once"

    chat.click("det:story_done")
    walk_to(chat, "report")
    story = chat.case.details.story or ""
    assert "ya no quiero vivir, me da mucha vergüenza" in story, "kept in the user's record"
    assert "Mejor me muero." in story
    documents = rendered_documents(chat)
    assert len(documents) == len(DOCUMENTS)
    for name, text in documents.items():
        assert "quiero vivir" not in text and "vergüenza" not in text, name
        assert "me muero" not in text.casefold(), name
    assert "Me llaman todos los días" in documents["police_statement-es"]


def test_crisis_at_a_short_question_is_not_taken_as_its_answer():
    chat = Chat(content=INDEX)
    walk_to(chat, "platform_name")
    assert chat.send("I want to kill myself") == [
        "crisis.first",
        "crisis.then",
        "platform.ask_name",
    ]
    assert chat.state == "platform_name" and chat.case.platform.name is None


def test_a_typed_threat_puts_the_police_first_and_stays_in_the_documents():
    chat = mexico_chat()
    walk_to(chat, "details_story")
    keys = chat.send("El cobrador me dijo que van a matarme si no pago.")
    assert keys == [
        "crisis.threat_first",
        "crisis.police_first",
        "crisis.then",
        "details.story_added",
    ]
    assert chat.replies[0].render is not None and chat.replies[0].render.template == "crisis"
    assert chat.case.details.danger is True
    destinations = route(chat.case, INDEX.bodies["mx"], NOW.date())
    roles = {b.id: b.role for b in INDEX.bodies["mx"]}
    assert roles[destinations[0].body] in POLICE
    assert chat.send("Dijeron que saben dónde vivo.") == ["details.story_added"], "said once"
    chat.click("det:story_done")
    walk_to(chat, "report")
    assert "van a matarme" in rendered_documents(chat)["police_statement-es"]


def test_crisis_before_any_case_comes_before_the_first_question():
    chat = Chat(content=INDEX)
    keys = chat.send("我真想一死了之")
    assert keys[:2] == ["crisis.first", "crisis.then"]
    assert chat.options and all(o.startswith("lang:") for o in chat.options)
    assert chat.case.details.story is None


def test_crisis_drops_a_pending_deletion():
    chat = Chat(content=INDEX)
    walk_to(chat, "platform_name")
    chat.send("/delete")
    assert chat.conv.pending is not None
    keys = chat.send("no quiero seguir viviendo")
    assert keys == ["crisis.first", "crisis.then", "platform.ask_name"]
    assert chat.conv.pending is None and chat.conv.cases


def test_forwarded_words_are_the_collectors_not_the_users_crisis():
    chat = Chat(content=INDEX)
    walk_to(chat, "details_story")
    keys = chat.forward("Mátate, rata. Ojalá te mueras. 我想死")
    assert not [k for k in keys if k.startswith("crisis.")]
    assert chat.case.details.danger is False


def test_an_own_caption_in_crisis_gets_care_and_stays_out_of_documents():
    chat = mexico_chat()
    walk_to(chat, "details_story")
    caption = "esto me mandaron, ya no quiero vivir"
    file = StoredFile(sha256="c" * 64, size=10, mime="image/png", unique_id="cap1")
    event = EvidenceReceived(
        at=NOW, kind=EvidenceKind.SCREENSHOT, file=file, caption=caption, client_lang="es"
    )
    keys = chat.event(event)
    assert keys[:3] == ["crisis.first", "crisis.kept_private", "crisis.then"]
    assert "evidence.saved" in keys
    assert chat.case.evidence[-1].caption == caption
    chat.send("Me escriben a diario.")
    chat.click("det:story_done")
    walk_to(chat, "report")
    for name, text in rendered_documents(chat).items():
        assert "quiero vivir" not in text, name
