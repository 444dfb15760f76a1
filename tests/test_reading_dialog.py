"""What the reading of a kept picture found, in the dialog (dialogs/steps/reading.py): the
numbers a screenshot shows join those of forwarded messages, asked about one by one; the
victim's own number is proposed as theirs, never as a collector's; ID and card numbers read
in a picture are listed in the privacy review; the reading itself says nothing."""

from __future__ import annotations

from dialogs import EvidenceRead
from dialogs.steps.privacy import findings_for
from tests.conftest import Chat, walk_to
from tests.test_whose_number import chat_in, hurry_through_the_collectors

LINES = [
    "催收-王经理",
    "你再不还款，我们就打给你的联系人",
    "你的手机号 13800001111 已经登记",
    "有事打 13912345678 找我",
    "身份证 110101199003074514 已经上报",
]


def read(chat: Chat, item: int, lines: list[str], case: int = 1) -> list[str]:
    at = chat._at()
    return chat.event(EvidenceRead(**at, case=case, item=item, lines=lines))


def test_a_reading_is_kept_silently_once_per_picture() -> None:
    chat = chat_in("cn", "zh-Hans")
    chat.attach()
    state = chat.state
    assert read(chat, 1, LINES) == []
    assert chat.state == state
    (reading,) = chat.case.readings
    assert reading.item == 1
    assert [n for n, _ in reading.phones] == ["+86 138 0000 1111", "+86 139 1234 5678"]
    assert reading.private == [("resident_id", "110101199003074514")]
    assert read(chat, 1, ["13700000000"]) == []  # the same picture again: kept once
    assert len(chat.case.readings) == 1


def test_a_reading_of_a_deleted_item_or_case_is_dropped() -> None:
    chat = chat_in("cn", "zh-Hans")
    chat.attach()
    read(chat, 7, LINES)  # no such item
    read(chat, 1, LINES, case=5)  # no such case
    assert chat.case.readings == []


def test_numbers_read_in_a_picture_are_asked_about_and_the_users_own_is_proposed_as_theirs():
    chat = chat_in("cn", "zh-Hans")
    chat.attach()
    read(chat, 1, LINES)
    walk_to(chat, "loan")
    chat.click("loan:account")
    chat.send("13800001111")  # the account at the app: the user's own number
    walk_to(chat, "details_collectors")
    first = chat.replies[0]
    assert first.key == "numbers.ask_whose"
    assert first.params["number"] == "+86 138 0000 1111" and first.params["item"] == 1
    assert chat.options[0] == "col:mine:8613800001111"
    chat.click("col:mine:8613800001111")
    hurry_through_the_collectors(chat)
    assert chat.case.details.collectors == ["+86 139 1234 5678"]
    assert not any("13800001111" in c.replace(" ", "") for c in chat.case.details.collectors)


def test_an_id_read_in_a_picture_is_listed_for_the_privacy_review() -> None:
    chat = chat_in("cn", "zh-Hans")
    chat.attach()
    read(chat, 1, LINES)
    found = {(f.kind, f.value) for f in findings_for(chat.case, "CN")}
    assert ("resident_id", "110101199003074514") in found
    assert ("phone", "+86 138 0000 1111") in found  # not confirmed as a collector's


def test_the_pattern_is_asked_after_the_collectors_and_stated_only_when_confirmed() -> None:
    from bot.content import Content
    from bot.render import Renderer
    from dialogs.steps.report import case_documents
    from tests.test_whose_number import NOW

    def documents(chat: Chat) -> str:
        content = Content.load()
        renderer = Renderer(content)
        return "\n".join(
            renderer.render(t, chat.case, "en", NOW)
            for t in case_documents(chat.case, content.index, NOW.date())
        )

    lines = ["催收-王经理", "2025-12-19 23:04", "再不还钱就打给你妈", "23:40", "明天打给你老板",
             "2025-12-20 07:15", "打给 13912345678", "08:46", "最后通知"]  # fmt: skip
    for answer in ("yes", "no"):
        chat = chat_in("cn", "en")
        chat.attach()
        chat.attach()
        read(chat, 1, lines)
        read(chat, 2, lines[:4])  # an overlapping screenshot: the same moments count once
        walk_to(chat, "details_collectors")
        hurry_through_the_collectors(chat)
        assert chat.state == "details_pattern"
        keys = chat.keys
        assert keys[:3] == ["details.pattern.count_days", "details.pattern.busiest",
                            "details.pattern.night"]  # fmt: skip
        assert chat.replies[0].params == {"count": 4, "first": "2025-12-19",
                                          "last": "2025-12-20", "days": 2}  # fmt: skip
        assert chat.replies[2].params == {"night": 3}
        assert "details.pattern.collectors" in keys  # 13912345678, confirmed
        assert chat.options == ["pat:yes", "pat:no"]
        chat.click(f"pat:{answer}")
        assert chat.state == "privacy_review"
        walk_to(chat, "report")
        text = documents(chat)
        stated = "My screenshots show (dates and times read from them, checked by me): 4 " in text
        assert stated == (answer == "yes")
        assert ("screenshot #1 (dates read from it)" in text) == (answer == "yes")


def test_no_pattern_question_without_enough_times_read() -> None:
    chat = chat_in("cn", "en")
    chat.attach()
    read(chat, 1, ["2025-12-19 23:04", "还钱"])
    walk_to(chat, "details_collectors")
    hurry_through_the_collectors(chat)
    assert chat.state == "privacy_review"


def test_app_names_read_in_the_screenshots_are_offered_for_the_platforms_name() -> None:
    chat = chat_in("mx", "es")
    chat.attach()
    chat.attach()
    read(chat, 1, ["Cobranza DineroFácil", "Paga hoy en la app DineroFácil"])
    read(chat, 2, ["CrediRápido te avisa", "Cobranza DineroFácil"])
    walk_to(chat, "platform_name")
    assert chat.keys[-1] == "platform.ask_name_read"
    assert chat.options == ["plat:read:0", "plat:read:1"]
    assert chat.replies[-1].options[0].params == {"app": "DineroFácil"}  # the most seen first
    chat.click("plat:read:1")
    assert chat.case.platform.name == "CrediRápido"
    assert chat.state == "platform_operator"


def test_without_names_read_the_platforms_name_is_typed_as_before() -> None:
    chat = chat_in("mx", "es")
    chat.attach()
    read(chat, 1, ["Paga hoy"])
    walk_to(chat, "platform_name")
    assert chat.options == []
    chat.send("PrestaYa")
    assert chat.case.platform.name == "PrestaYa"


def test_a_threat_read_in_a_picture_is_pointed_at_in_the_behaviours_question() -> None:
    chat = chat_in("mx", "es")
    chat.attach()
    chat.attach()
    read(chat, 1, ["Cobranza", "Paga hoy"])
    read(chat, 2, ["Si no pagas te vamos a matar", "a ti y a tu familia"])
    assert [r.behaviours for r in chat.case.readings] == [[], ["violence_threats"]]
    assert chat.keys == []  # reading a threat starts no crisis answer: the collectors wrote it
    walk_to(chat, "details_behaviours")
    assert chat.keys[-2:] == ["details.behaviour_read.violence_threats", "details.ask_behaviours"]
    assert chat.replies[-2].params == {"items": "#2"}
    chat.click("beh:violence_threats")
    assert "details.behaviour_read.violence_threats" not in chat.keys


def test_insults_and_fake_papers_read_in_pictures_are_pointed_at_too() -> None:
    chat = chat_in("cn", "zh-Hans")
    for _ in range(3):
        chat.attach()
    read(chat, 1, ["你这个老赖，骗子"])
    read(chat, 2, ["律师函已经发出，准备起诉"])
    read(chat, 3, ["老赖还钱"])
    assert [r.behaviours for r in chat.case.readings] == [["insults"], ["fake_legal"], ["insults"]]
    walk_to(chat, "details_behaviours")
    assert chat.keys == ["details.behaviour_read.insults", "details.behaviour_read.fake_legal",
                         "details.ask_behaviours"]  # fmt: skip
    assert chat.replies[0].params == {"items": "#1, #3"}


def test_behaviour_words_match_whole_latin_words_and_chinese_anywhere() -> None:
    from dialogs.found import behaviours

    words = {"insults": ("rata", "estafador*", "老赖")}
    assert behaviours(["Eres una RATA"], words) == ["insults"]
    assert behaviours(["el pirata"], words) == []
    assert behaviours(["Estafadora!"], words) == ["insults"]
    assert behaviours(["还钱吧老赖"], words) == ["insults"]


def test_every_behaviour_with_words_has_them_in_every_language_and_a_hint() -> None:
    import tomllib

    from bot.content import Content
    from dialogs.steps.details import BEHAVIOURS, READ_HINTS

    content = Content.load()
    with (content.directory / "behaviour_words.toml").open("rb") as fh:
        table = tomllib.load(fh)
    for behaviour, by_lang in table.items():
        assert behaviour in BEHAVIOURS and behaviour in READ_HINTS, behaviour
        assert set(by_lang) == set(content.index.languages), behaviour
        assert all(by_lang.values()), behaviour
        for lang in content.index.languages:
            assert content.text(f"details.behaviour_read.{behaviour}", lang, {"items": "#1"})
