"""Whose a number is: the collectors', the user's own, a contact's, or not sure.

Numbers found in the evidence are asked about one at a time. A number the collectors give
as someone else's ("llámale al...", "她电话...") or equal to the user's own is never offered
as the collectors' in bulk, never ends in a complaint as theirs, and is masked like any
private number; a contact's number is masked as a third party's. What a harassed contact
received comes from the collectors: its number is not the contact's private number.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.content import Content
from bot.render import Renderer
from dialogs import Ref
from dialogs.numbers import same_number
from dialogs.steps.privacy import CONTACT_PHONE, findings_for
from dialogs.steps.report import case_documents
from tests.conftest import Chat, walk_to

CONTENT = Content.load()
RENDERER = Renderer(CONTENT)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RATA = "Tu amiga Ana Torres es una RATA, no paga lo que debe. Llámale al 55 1234 9876"
HER_PHONE = "你朋友欠钱不还，她电话13612345678，让她赶紧还"


def chat_in(jurisdiction: str, lang: str = "en", speaker: str = "borrower") -> Chat:
    chat = Chat(content=CONTENT.index)
    walk_to(chat, "jurisdiction")
    chat.click(f"lang:{lang}") if chat.state == "language" else None
    chat.click(f"jur:{jurisdiction}")
    if chat.state == "region":
        chat.send("/skip")
    chat.click(f"who:{speaker}")
    return chat


def documents_of(chat: Chat) -> dict[str, str]:
    """Every document of the case, in every language, as the user would send it."""
    templates = case_documents(chat.case, CONTENT.index, NOW.date())
    return {
        f"{template}-{lang}": RENDERER.render(template, chat.case, lang, NOW)
        for template in [*templates, "evidence_index"]
        for lang in ("es", "zh-Hans", "en")
    }


def collectors_in_documents(chat: Chat) -> list[str]:
    listed: list[str] = []
    for template in case_documents(chat.case, CONTENT.index, NOW.date()):
        context = RENDERER.document_context(template, chat.case, "en", NOW)
        listed += context["fact"]("details.collectors") or []
    return listed


def hurry_through_the_collectors(chat: Chat) -> None:
    """A user in a hurry: "these are the collectors'" whenever it is offered, then done."""
    while "col:confirm_all" in chat.options:
        chat.click("col:confirm_all")
    chat.click("col:done")


# The user's own number, quoted by the collectors -------------------------------------------


def test_the_victims_own_number_quoted_by_the_collectors_never_becomes_a_collectors():
    chat = chat_in("mx", "es")
    chat.forward(RATA, sender="Cobranza")
    walk_to(chat, "details_collectors")
    hurry_through_the_collectors(chat)
    walk_to(chat, "privacy_contact")
    chat.send("55 1234 9876")  # the same number, given as the user's own contact
    walk_to(chat, "report")
    assert not any(same_number(c, "5512349876") for c in chat.case.details.collectors)
    assert not any(same_number(c, "5512349876") for c in collectors_in_documents(chat))
    for name, text in documents_of(chat).items():
        assert "+52 55 1234 9876" not in text, name
        assert "Llámale al 55 1234 9876" not in text, name


def test_same_in_chinese_with_her_phone():
    chat = chat_in("cn", "zh-Hans")
    chat.forward(HER_PHONE)
    walk_to(chat, "details_collectors")
    hurry_through_the_collectors(chat)
    walk_to(chat, "privacy_contact")
    chat.send("13612345678")
    walk_to(chat, "report")
    assert chat.case.details.collectors == []
    assert collectors_in_documents(chat) == []
    for name, text in documents_of(chat).items():
        assert "她电话13612345678" not in text and "136 1234 5678" not in text, name


def test_a_number_after_call_her_is_asked_about_alone_as_the_users_or_a_contacts():
    for jurisdiction, forwarded, number in (
        ("mx", RATA, "+52 55 1234 9876"),
        ("cn", HER_PHONE, "+86 136 1234 5678"),
        ("generic", "Your friend owes us. Contact her at +52 55 1234 9876", "+52 55 1234 9876"),
    ):
        chat = chat_in(jurisdiction)
        chat.forward(forwarded)
        walk_to(chat, "details_collectors")
        assert chat.replies[0].key == "numbers.ask_whose"
        assert chat.replies[0].params["number"] == number
        assert chat.replies[0].params["hint"] == Ref(key="numbers.hint.contact")
        digits = "".join(ch for ch in number if ch.isdigit())
        assert chat.options == [
            f"col:mine:{digits}", f"col:contact:{digits}", f"col:collector:{digits}",
            f"col:unsure:{digits}", "col:done",
        ]  # fmt: skip


def test_the_users_own_account_number_is_proposed_as_theirs():
    chat = chat_in("cn")
    chat.forward("还钱！联系 13800001111 或者 13912345678")
    walk_to(chat, "loan")
    chat.click("loan:account")
    chat.send("13800001111")
    walk_to(chat, "details_collectors")
    assert chat.replies[0].params["number"] == "+86 138 0000 1111"
    assert chat.replies[0].params["hint"] == Ref(key="numbers.hint.mine")
    assert "col:confirm_all" not in chat.options


def test_a_number_said_to_be_the_collectors_but_given_as_the_users_contact_is_taken_off():
    chat = chat_in("mx", "es")
    chat.forward(RATA)
    walk_to(chat, "details_collectors")
    chat.click("col:collector:525512349876")  # a slip of the finger
    assert chat.case.details.collectors == ["+52 55 1234 9876"]
    walk_to(chat, "privacy_contact")
    assert "numbers.collector_is_yours" not in chat.keys
    keys = chat.send("55 1234 9876")
    assert keys[0] == "numbers.collector_is_yours"
    assert chat.case.details.collectors == []
    assert chat.case.details.owners["+52 55 1234 9876"] == "mine"


def test_typing_the_users_own_number_as_a_collectors_is_refused():
    chat = chat_in("cn")
    walk_to(chat, "loan")
    chat.click("loan:account")
    chat.send("13800001111")
    walk_to(chat, "details_collectors")
    assert chat.send("138 0000 1111") == ["numbers.collector_is_own"]
    assert chat.case.details.collectors == []


# One number at a time ---------------------------------------------------------------------


def test_numbers_are_asked_about_one_by_one_and_each_answer_is_kept():
    chat = chat_in("cn")
    chat.forward(HER_PHONE)
    chat.forward("三天内还款，否则后果自负。联系 13912345678")
    chat.forward("有事打 13700002222")
    walk_to(chat, "details_collectors")
    # the number given as someone else's comes first, alone
    assert chat.replies[0].params["number"] == "+86 136 1234 5678"
    assert "col:confirm_all" not in chat.options
    chat.click("col:contact:8613612345678")
    # then the others, which the shortcut confirms as listed, and only them
    assert chat.replies[0].key == "numbers.ask_whose_all"
    assert chat.replies[0].params["found"] == "+86 139 1234 5678\n+86 137 0000 2222"
    assert chat.options == [
        "col:collector:8613912345678", "col:mine:8613912345678", "col:contact:8613912345678",
        "col:unsure:8613912345678", "col:confirm_all", "col:done",
    ]  # fmt: skip
    chat.click("col:collector:8613912345678")
    assert chat.replies[0].params["number"] == "+86 137 0000 2222"
    assert chat.click("col:unsure:8613700002222") == ["details.collectors_added"]
    details = chat.case.details
    assert details.collectors == ["+86 139 1234 5678"]
    assert details.owners == {
        "+86 136 1234 5678": "contact",
        "+86 139 1234 5678": "collector",
        "+86 137 0000 2222": "unsure",
    }
    chat.click("col:done")
    kinds = {f.value: f.kind for f in chat.case.privacy.findings}
    assert kinds == {"13612345678": CONTACT_PHONE, "13700002222": "phone"}
    assert all(not f.show for f in chat.case.privacy.findings)


def test_a_stale_answer_about_another_number_changes_nothing():
    chat = chat_in("cn")
    chat.forward("联系 13912345678")
    walk_to(chat, "details_collectors")
    assert chat.press("col:mine:8613800001111", case=1) == [
        "common.stale_button",
        "numbers.ask_whose",
    ]
    assert chat.case.details.owners == {}


def test_a_stray_digit_is_not_a_collector():
    chat = chat_in("cn")
    chat.forward("联系 13912345678")
    walk_to(chat, "details_collectors")
    assert chat.send("2") == ["numbers.collector_not_a_number"]
    assert chat.case.details.collectors == []
    chat.send("2\nWang (collector)")
    assert chat.case.details.collectors == ["Wang (collector)"]


# Contacts' numbers are third parties' private data ----------------------------------------


def test_a_contacts_number_in_a_forwarded_text_is_masked_in_every_document():
    chat = chat_in("cn")
    chat.forward(HER_PHONE)
    walk_to(chat, "details_collectors")
    chat.click("col:contact:8613612345678")
    walk_to(chat, "report")
    assert [(f.kind, f.show) for f in chat.case.privacy.findings] == [(CONTACT_PHONE, False)]
    quoted = 0
    for name, text in documents_of(chat).items():
        assert "13612345678" not in text and "136 1234 5678" not in text, name
        quoted += "*******5678" in text
    assert quoted  # the message is quoted, masked


def test_without_an_answer_a_number_given_as_someone_elses_is_still_masked_as_theirs():
    chat = chat_in("mx", "es")
    chat.forward("Su número es 55 4444 3333, cobrale tú")
    walk_to(chat, "report")  # every question passed with "done"
    assert [(f.kind, f.value) for f in chat.case.privacy.findings] == [
        (CONTACT_PHONE, "55 4444 3333")
    ]


# A harassed contact: the number that wrote to them is the collectors' ---------------------


def test_a_collectors_number_in_a_contacts_story_is_offered_and_never_masked_as_theirs():
    chat = chat_in("cn", speaker="contact")
    chat.send(
        "催收用13912345678这个号码给我发了很多短信，说我朋友欠钱不还，"
        "让我转告她，不然就把我们所有人都曝光，还一直打电话骚扰我"
    )  # long typed text: kept as evidence
    assert chat.replies[-1].key == "contact.ask_sender"
    assert chat.replies[-1].options[0].params["number"] == "+86 139 1234 5678"
    assert findings_for(chat.case, "CN") == []  # not the contact's private number
    chat.click("ct:num:0")
    walk_to_report_as_contact(chat)
    for name, text in documents_of(chat).items():
        if name.startswith("contact_complaint"):
            assert "139" in text and "1234" in text and "*******5678" not in text, name


def test_a_contact_who_names_no_sender_still_keeps_the_collectors_number_visible():
    chat = chat_in("cn", speaker="contact")
    chat.send(
        "他们用13912345678给我打了二十多个电话，说我同事借了钱不还，要我替他还钱，"
        "还说不还就把我的照片发到网上，我根本不认识他们说的这个人"
    )  # long typed text: kept as evidence
    chat.click("ct:unknown")
    assert findings_for(chat.case, "CN") == []


def test_a_contacts_own_number_they_wrote_down_stays_masked():
    chat = chat_in("mx", "es", speaker="contact")
    chat.send("Me escribieron a mi número 55 8765 4321 diciendo que mi amiga les debe dinero")
    assert [f.value for f in findings_for(chat.case, "MX")] == ["55 8765 4321"]
    assert chat.replies[-1].options[0].id == "ct:unknown"  # not offered as the sender


def walk_to_report_as_contact(chat: Chat) -> None:
    while chat.state != "report":
        chat.send("/skip")
