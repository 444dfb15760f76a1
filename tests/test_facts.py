"""The facts that decide where to complain: region, who is speaking, lender type, the loan,
the dates (read and confirmed), how people were reached, danger now, and the harassed
contact's short path. The pure dialog, with a content index of its own."""

from __future__ import annotations

from datetime import date

import pytest

from bot.content import Content
from dialogs import ContentIndex, Ref, State
from dialogs.steps.privacy import findings_for
from tests.conftest import CONTENT, Chat, walk_to

FACTS = CONTENT.model_copy(
    update={
        "lender_types": {
            "cn": ("bank", "consumer_finance", "small_loan"),
            "mx": ("sofom", "unregistered"),
        },
        "regions": {"mx": ("cdmx", "other_state")},
        "timezones": {"cn": "Asia/Shanghai", "mx": "America/Mexico_City"},
    }
)
"""The conftest content with lender types, regions and time zones (the clock starts on
Monday 2 November 2026, 09:00 UTC: the same day in Shanghai and in Mexico City)."""


def facts_chat(jurisdiction: str = "cn", lang: str = "en") -> Chat:
    chat = Chat(content=FACTS)
    chat.send("/start")
    chat.click(f"lang:{lang}")
    chat.click(f"jur:{jurisdiction}")
    return chat


def asked(chat: Chat) -> list[str]:
    """The content keys of the replies that carry buttons (the questions)."""
    return [r.key for r in chat.replies if r.options]


# Onboarding: region and speaker ----------------------------------------------------------


def test_the_region_is_asked_where_the_jurisdiction_has_regions():
    chat = facts_chat("mx", "es")
    assert chat.state == "region"
    assert chat.options == ["region:cdmx", "region:other_state"]
    assert chat.replies[-1].params["jurisdiction"] == Ref(key="jurisdiction.mx")
    assert chat.click("region:cdmx") == ["onboarding.ask_speaker"]
    assert chat.case.region == "cdmx"
    assert chat.state == "speaker"


def test_no_region_question_elsewhere():
    chat = facts_chat("cn")
    assert chat.keys == ["onboarding.jurisdiction_set", "onboarding.ask_speaker"]
    assert chat.options == ["who:borrower", "who:contact"]


def test_the_region_and_the_speaker_can_be_skipped():
    chat = facts_chat("mx")
    chat.send("/skip")
    assert chat.state == "speaker" and chat.case.region is None
    chat.send("/skip")
    assert chat.state == "evidence" and chat.case.speaker is None
    assert chat.case.skipped == [State.REGION, State.SPEAKER]


def test_back_from_the_evidence_step_returns_to_the_speaker_then_the_region():
    chat = facts_chat("mx")
    chat.click("region:other_state")
    chat.click("who:borrower")
    chat.send("/back")
    assert chat.state == "speaker"
    chat.send("/back")
    assert chat.state == "region"


# Step 2: lender type and licence -----------------------------------------------------------


def to_lender_type(jurisdiction: str = "cn") -> Chat:
    chat = facts_chat(jurisdiction)
    walk_to(chat, "platform_operator")
    chat.send("Fast Money Tech Ltd")
    return chat


def test_the_lender_type_is_asked_before_the_licence():
    chat = to_lender_type("cn")
    assert chat.state == "platform_lender_type"
    assert chat.options == [
        "lender:bank", "lender:consumer_finance", "lender:small_loan", "lender:unknown",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("jurisdiction", "lender_type", "licence"),
    [("cn", "bank", "licensed"), ("cn", "small_loan", "licensed"),
     ("mx", "sofom", "licensed"), ("mx", "unregistered", "unlicensed")],
)  # fmt: skip
def test_a_lender_type_that_implies_the_licence_skips_the_licence_question(
    jurisdiction, lender_type, licence
):
    chat = to_lender_type(jurisdiction)
    assert chat.click(f"lender:{lender_type}") == ["platform.ask_complained"]
    assert chat.case.platform.lender_type == lender_type
    assert chat.case.platform.licensed == licence
    assert State.PLATFORM_LICENSED not in chat.case.history


def test_an_unknown_lender_type_asks_the_licence():
    chat = to_lender_type()
    assert chat.click("lender:unknown") == ["platform.ask_licensed"]
    chat.click("lic:unlicensed")
    assert (chat.case.platform.lender_type, chat.case.platform.licensed) == (
        "unknown", "unlicensed",
    )  # fmt: skip


def test_changing_the_lender_type_after_back_drops_the_implied_licence():
    chat = to_lender_type()
    chat.click("lender:bank")
    chat.send("/back")
    assert chat.state == "platform_lender_type"
    chat.click("lender:unknown")
    assert chat.state == "platform_licensed"
    assert chat.case.platform.licensed is None


def test_without_lender_types_the_licence_is_asked_straight_away():
    chat = facts_chat("generic")
    walk_to(chat, "platform_operator")
    assert chat.send("Fast Money Tech Ltd") == ["platform.ask_licensed"]


def test_skipping_the_lender_type_asks_the_licence():
    chat = to_lender_type()
    assert chat.send("/skip") == ["common.skipped", "platform.ask_licensed"]


# Step 2: the date the platform was asked ------------------------------------------------------


def to_when(jurisdiction: str = "mx", lang: str = "es") -> Chat:
    chat = facts_chat(jurisdiction, lang)
    walk_to(chat, "platform_when")
    return chat


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("es", "hace dos semanas", date(2026, 10, 19)),
        ("es", "el lunes pasado", date(2026, 10, 26)),  # 2 November 2026 is a Monday
        ("zh-Hans", "10月20日", date(2026, 10, 20)),
        ("en", "yesterday", date(2026, 11, 1)),
    ],
)
def test_the_date_is_read_and_confirmed(lang, text, expected):
    chat = to_when("cn", lang)
    assert chat.send(text) == ["platform.when_confirm.day"]
    assert chat.state == "platform_when_confirm"
    params = chat.replies[0].params
    assert (params["day"], params["month"], params["year"]) == (
        expected.day, Ref(key=f"date.month.{expected.month}"), expected.year,
    )  # fmt: skip
    assert chat.options == ["when:yes", "when:retype"]
    assert chat.click("when:yes") == ["platform.ask_channel"]
    assert chat.case.platform.complained_on == expected
    assert chat.case.platform.complained_when == text


def test_no_means_type_it_again():
    chat = to_when()
    chat.send("ayer")
    assert chat.click("when:retype") == ["platform.ask_when"]
    assert chat.state == "platform_when"
    assert chat.case.platform.complained_when is None
    chat.send("2 de noviembre")
    chat.click("when:yes")
    assert chat.case.platform.complained_on == date(2026, 11, 2)


def test_typing_another_date_instead_of_confirming_asks_about_that_one():
    chat = to_when()
    chat.send("ayer")
    assert chat.send("hace 3 días") == ["platform.when_confirm.day"]
    assert chat.replies[0].params["day"] == 30
    chat.click("when:yes")
    assert chat.case.platform.complained_on == date(2026, 10, 30)


@pytest.mark.parametrize("future", ["3 de noviembre de 2026", "2027-01-10"])
def test_a_date_in_the_future_is_refused(future):
    chat = to_when()
    assert chat.send(future) == ["platform.when_future"]
    assert chat.state == "platform_when"
    assert chat.options == ["when:go_on"]
    assert chat.case.platform.complained_on is None
    chat.send("el lunes pasado")
    assert chat.state == "platform_when_confirm"


def test_an_unreadable_answer_is_kept_and_the_user_may_go_on():
    chat = to_when()
    assert chat.send("no me acuerdo bien") == ["platform.when_unreadable"]
    assert chat.replies[0].params["text"] == "no me acuerdo bien"
    assert chat.state == "platform_when"
    assert chat.click("when:go_on") == ["platform.ask_channel"]
    platform = chat.case.platform
    assert (platform.complained_when, platform.complained_on) == ("no me acuerdo bien", None)


def test_a_month_is_confirmed_as_a_month_and_counts_from_its_last_day():
    chat = to_when()
    assert chat.send("en octubre") == ["platform.when_confirm.month"]
    chat.click("when:yes")
    assert chat.case.platform.complained_on == date(2026, 10, 31)


def test_the_date_question_and_its_confirmation_can_be_skipped():
    chat = to_when()
    chat.send("ayer")
    assert chat.send("/skip") == ["common.skipped", "platform.ask_channel"]
    assert chat.case.platform.complained_on is None


# Step 2: the loan ----------------------------------------------------------------------------

LOAN_OPTIONS = [
    "loan:account", "loan:contract", "loan:amount", "loan:borrowed_on", "loan:due_on",
    "loan:repaid", "loan:demanded", "loan:done",
]  # fmt: skip


def to_loan() -> Chat:
    chat = facts_chat("mx", "es")
    walk_to(chat, "loan")
    return chat


def test_the_loan_menu_follows_the_platform_questions():
    chat = to_loan()
    assert asked(chat) == ["loan.menu"]
    assert chat.options == LOAN_OPTIONS
    assert all(o.params["mark"] == "" for o in chat.replies[-1].options[:-1])


def test_a_loan_field_is_asked_recorded_and_marked():
    chat = to_loan()
    assert chat.click("loan:amount") == ["loan.ask.amount"]
    assert chat.state == "loan_field" and chat.case.loan_field == "amount"
    assert chat.send("3000 pesos") == ["loan.menu"]
    assert chat.case.loan.amount == "3000 pesos"
    assert chat.case.loan_field is None
    marks = {o.id: o.params.get("mark") for o in chat.replies[-1].options}
    assert marks["loan:amount"] == "✅ " and marks["loan:contract"] == ""
    chat.click("loan:account")
    chat.send("55 1234 5678")
    chat.click("loan:contract")
    chat.send("PR-2026-0042")
    assert (chat.case.loan.account, chat.case.loan.contract) == ("55 1234 5678", "PR-2026-0042")


def test_loan_dates_are_read_and_a_due_date_may_be_ahead():
    chat = to_loan()
    chat.click("loan:borrowed_on")
    assert chat.send("2 de septiembre") == ["date.noted.day", "loan.menu"]
    chat.click("loan:due_on")
    chat.send("5 de diciembre")
    assert chat.case.loan.borrowed_on == date(2026, 9, 2)
    assert chat.case.loan.due_on == date(2026, 12, 5)


def test_a_loan_date_that_is_no_date_or_in_the_future_is_asked_again():
    chat = to_loan()
    chat.click("loan:borrowed_on")
    assert chat.send("hace mucho") == ["date.unreadable"]
    assert chat.send("2027-01-01") == ["date.future"]
    assert chat.send("septiembre") == ["date.need_day"]
    assert chat.state == "loan_field" and chat.case.loan.borrowed_on is None


def test_a_loan_field_can_be_left_with_its_button_or_skip():
    chat = to_loan()
    chat.click("loan:repaid")
    assert chat.click("loanf:back") == ["loan.menu"]
    chat.click("loan:demanded")
    assert chat.send("/skip") == ["common.skipped", "loan.menu"]
    assert not chat.case.loan.given()


def test_going_on_without_any_loan_field_is_fine():
    chat = to_loan()
    assert chat.click("loan:done") == ["details.ask_story"]
    chat.send("/back")
    assert chat.state == "loan"
    assert chat.send("/skip") == ["common.skipped", "details.ask_story"]


def test_text_on_the_loan_menu_asks_for_a_button():
    chat = to_loan()
    assert chat.send("3000") == ["common.use_buttons", "loan.menu"]


def test_the_loan_account_is_a_private_number_in_the_privacy_review():
    chat = facts_chat("cn")
    walk_to(chat, "loan")
    chat.click("loan:account")
    chat.send("13800001111")
    walk_to(chat, "privacy_review")
    assert [f.value for f in chat.case.privacy.findings] == ["13800001111"]


# Step 3: since when, how they reached people, danger now -------------------------------------


def test_since_names_a_date_it_is_kept_and_said_back():
    chat = facts_chat("mx", "es")
    walk_to(chat, "details_since")
    assert chat.send("desde agosto") == ["details.since_noted.month", "details.ask_contacts"]
    assert chat.case.details.since == "desde agosto"
    assert chat.case.details.since_on == date(2026, 8, 1)


def test_since_without_a_date_is_kept_as_text():
    chat = facts_chat("mx", "es")
    walk_to(chat, "details_since")
    assert chat.send("desde que pedí el préstamo") == ["details.ask_contacts"]
    assert chat.case.details.since_on is None


def to_behaviours() -> Chat:
    chat = facts_chat("cn")
    walk_to(chat, "details_behaviours")
    return chat


def test_how_they_reached_people_is_a_multiple_choice():
    chat = to_behaviours()
    assert chat.click("beh:done") == ["details.ask_reach"]
    chat.click("reach:calls")
    chat.click("reach:messaging")
    chat.click("reach:calls")
    chat.click("reach:posts")
    assert chat.case.details.reach == ["messaging", "posts"]
    marks = {o.id: o.params.get("mark") for o in chat.replies[0].options}
    assert marks["reach:posts"] == "✅ " and marks["reach:calls"] == ""
    assert chat.click("reach:done") == ["details.ask_disclosed"]
    assert chat.options == ["disc:yes", "disc:no", "disc:unknown"]
    assert chat.click("disc:yes") == ["details.ask_posted"]
    assert chat.click("post:unknown") == ["details.ask_collectors_none"]  # nothing forwarded
    assert (chat.case.details.disclosed, chat.case.details.posted) == (True, None)


def test_disclosure_is_not_asked_when_no_contact_was_reached():
    chat = facts_chat("cn")
    walk_to(chat, "details_contacts")
    chat.click("cnt:none")
    chat.click("beh:done")
    assert chat.click("reach:done") == ["details.ask_posted"]
    chat.click("post:no")
    assert (chat.case.details.disclosed, chat.case.details.posted) == (None, False)


@pytest.mark.parametrize("threat", ["violence_threats", "extortion"])
def test_threats_bring_the_question_of_danger_now(threat):
    chat = to_behaviours()
    chat.click(f"beh:{threat}")
    assert chat.click("beh:done") == ["details.ask_danger"]
    assert chat.options == ["dng:yes", "dng:no"]
    keys = chat.click("dng:yes")
    assert keys == ["crisis.first", "crisis.then", "details.ask_reach"]
    assert chat.replies[0].render is not None and chat.replies[0].render.template == "crisis"
    assert chat.case.details.danger is True


def test_not_in_danger_goes_on_quietly():
    chat = to_behaviours()
    chat.click("beh:violence_threats")
    chat.click("beh:done")
    assert chat.click("dng:no") == ["details.ask_reach"]
    assert chat.case.details.danger is False


def test_back_from_reach_returns_to_danger_then_behaviours():
    chat = to_behaviours()
    chat.click("beh:extortion")
    chat.click("beh:done")
    chat.click("dng:no")
    chat.send("/back")
    assert chat.state == "details_danger"
    chat.send("/back")
    assert chat.state == "details_behaviours"


# Every new question: skip, and an answer for every event --------------------------------------

NEW_QUESTIONS = [
    ("mx", "region", "speaker"),
    ("cn", "speaker", "evidence"),
    ("cn", "platform_lender_type", "platform_licensed"),
    ("cn", "platform_when", "platform_channel"),
    ("cn", "loan", "details_story"),
    ("cn", "details_reach", "details_disclosed"),
    ("cn", "details_disclosed", "details_posted"),
    ("cn", "details_posted", "details_collectors"),
]


def walk_facts(jurisdiction: str, state: str) -> Chat:
    chat = facts_chat(jurisdiction)
    if state in ("region", "speaker"):
        return chat
    walk_to(chat, state)
    return chat


@pytest.mark.parametrize(("jurisdiction", "state", "after"), NEW_QUESTIONS)
def test_every_new_question_can_be_skipped(jurisdiction, state, after):
    chat = walk_facts(jurisdiction, state)
    assert chat.state == state
    assert chat.send("/skip")[0] == "common.skipped"
    assert chat.state == after
    assert chat.case.skipped[-1] == State(state)


@pytest.mark.parametrize(("jurisdiction", "state", "after"), NEW_QUESTIONS)
def test_every_new_question_answers_every_event(jurisdiction, state, after):
    chat = walk_facts(jurisdiction, state)
    for act in (
        lambda: chat.send("¿qué?"),
        lambda: chat.press("plat:yes", case=1),
        lambda: chat.unsupported(),
        lambda: chat.send("/help"),
        lambda: chat.attach(),
    ):
        assert act(), state
    assert chat.state == state


# The harassed contact's short path ------------------------------------------------------------

PLATFORM_AND_PRIVACY = {s for s in State if s.value.startswith(("platform", "loan", "privacy"))}


def test_a_contact_reaches_the_report_in_eight_answers_with_a_forwarded_message():
    chat = Chat(content=FACTS, client_lang="es")
    chat.send("/start")
    answers = [
        lambda: chat.click("lang:es"),
        lambda: chat.click("jur:mx"),
        lambda: chat.click("region:cdmx"),
        lambda: chat.click("who:contact"),
        lambda: chat.forward("Dile a Juan que pague o publicamos todo. Cobranza 55 1234 5678"),
        lambda: chat.click("ct:num:0"),
        lambda: chat.click("ctw:yesterday"),
        lambda: chat.send("Juan Pérez"),
    ]
    for answer in answers:
        answer()
    assert len(answers) <= 8
    assert chat.state == "report"
    case = chat.case
    assert case.speaker == "contact" and case.region == "cdmx"
    assert case.contact.sender == "+52 55 1234 5678"
    assert case.contact.received_on == date(2026, 11, 1)
    assert case.contact.borrower == "Juan Pérez"
    assert not set(case.history) & PLATFORM_AND_PRIVACY, "never asked about the loan"
    assert case.platform.complained is None and not case.loan.given()
    assert case.privacy.name_mode is None


def test_a_contact_with_screenshots_types_the_number_and_the_date():
    chat = Chat(content=FACTS, client_lang="zh-Hans")
    chat.send("/start")
    answers = [
        lambda: chat.click("lang:zh-Hans"),
        lambda: chat.click("jur:cn"),
        lambda: chat.click("who:contact"),
        lambda: chat.attach(),
        lambda: chat.send("139 1234 5678"),
        lambda: chat.send("上周一"),
        lambda: chat.click("ctb:none"),
    ]
    for answer in answers:
        answer()
    assert len(answers) <= 8 and chat.state == "report"
    assert chat.case.contact.sender == "139 1234 5678"
    assert chat.case.contact.received_on == date(2026, 10, 26)
    assert chat.case.contact.borrower is None
    assert len(chat.case.evidence) == 1


def to_received(jurisdiction: str = "mx") -> Chat:
    chat = facts_chat(jurisdiction, "es")
    if chat.state == "region":
        chat.click("region:cdmx")
    chat.click("who:contact")
    return chat


def test_the_contact_is_asked_for_what_they_received_then_the_number():
    chat = to_received()
    assert asked(chat) == ["contact.ask_received"]
    assert chat.options == ["ct:unknown"]
    assert chat.attach() == ["evidence.saved", "contact.ask_sender"]
    assert chat.attach() == ["evidence.saved"]  # no new number: no new question
    assert chat.forward("Paga ya. 55 1234 5678") == ["evidence.saved", "contact.ask_sender"]
    assert chat.options == ["ct:num:0", "ct:unknown"]
    assert chat.replies[-1].options[0].params["number"] == "+52 55 1234 5678"


def test_the_contacts_own_number_is_not_offered_as_the_collectors():
    chat = to_received()
    chat.forward("Cobranza: tu amigo debe. Llama al 55 1234 5678")
    chat.send(
        "Me escribieron a mi número 55 8765 4321 diciendo que mi amigo les debe dinero, "
        "y me siguen llamando"
    )  # long typed text: kept as evidence, and written by the contact
    assert [o.params.get("number") for o in chat.replies[-1].options] == [
        "+52 55 1234 5678", None,
    ]  # fmt: skip
    chat.click("ct:num:0")
    findings = findings_for(chat.case, "MX")
    assert [f.value for f in findings] == ["55 8765 4321"], "the sender is not the contact's"


def test_the_contact_may_go_on_without_the_number_or_skip():
    chat = to_received()
    assert chat.click("ct:unknown") == ["contact.ask_when"]
    assert chat.case.contact.sender is None
    chat.send("/back")
    assert chat.send("/skip") == ["common.skipped", "contact.ask_when"]


def test_the_contacts_date_is_read_and_said_back():
    chat = to_received()
    chat.click("ct:unknown")
    assert chat.options == ["ctw:today", "ctw:yesterday"]
    assert chat.send("no sé") == ["date.unreadable"]
    assert chat.send("mañana") == ["date.future"]
    assert chat.send("2026-12-24") == ["date.future"]
    assert chat.send("el 30/10") == ["date.noted.day", "contact.ask_borrower"]
    assert chat.case.contact.received_on == date(2026, 10, 30)


def test_the_contacts_path_answers_every_event():
    chat = to_received()
    for state in ("contact_received", "contact_when", "contact_borrower"):
        assert chat.state == state
        assert chat.unsupported() and chat.send("/help") and chat.press("loan:done", case=1)
        assert chat.state == state
        chat.send("/skip")
    assert chat.state == "report"


# Texts ----------------------------------------------------------------------------------------


def test_every_lender_type_and_region_of_the_real_content_has_a_label():
    content = Content.load()
    index: ContentIndex = content.index
    for lang, texts in content.texts.items():
        for jurisdiction in index.jurisdictions:
            for lender_type in index.lender_types.get(jurisdiction, ()):
                assert f"option.lender.{lender_type}" in texts, (lang, lender_type)
            for region in index.regions.get(jurisdiction, ()):
                assert f"option.region.{region}" in texts, (lang, region)
        for month in range(1, 13):
            assert f"date.month.{month}" in texts, (lang, month)


def test_the_collectors_screen_says_so_when_nothing_was_found():
    chat = to_behaviours()
    chat.click("beh:done")
    chat.click("reach:done")
    chat.click("disc:no")
    assert chat.click("post:no") == ["details.ask_collectors_none"]
    assert chat.options == ["col:done"]  # no "these are the collectors'" without numbers
    chat.send("+52 55 1111 2222")
    assert chat.case.details.collectors == ["+52 55 1111 2222"]


def test_a_due_date_without_a_year_is_the_last_one_unless_before_the_loan():
    chat = to_loan()
    chat.click("loan:due_on")
    chat.send("15 de abril")  # said in November: the April just gone, not next year's
    assert chat.case.loan.due_on == date(2026, 4, 15)
    chat.click("loan:borrowed_on")
    chat.send("2 de septiembre")
    chat.click("loan:due_on")
    chat.send("5 de agosto")  # before the loan was taken: next year's
    assert chat.case.loan.due_on == date(2027, 8, 5)


# How many contacts: typed digits are the count, rough counts their range --------------------


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [("3", "3"), ("1", "1"), ("37", "37"), ("0", "none"), ("25 personas", "25"), ("12个", "12")],
)
def test_typed_digits_are_the_number_of_contacts_never_a_button(typed, recorded):
    chat = facts_chat("cn")
    walk_to(chat, "details_contacts")
    assert chat.send(typed) == ["details.ask_behaviours"]
    assert chat.case.details.contacts_reached == recorded


@pytest.mark.parametrize(
    ("typed", "range_"),
    [
        ("200多个", "many"), ("几十个", "some"), ("unos 80", "many"), ("como 80", "many"),
        ("more than 50", "many"), ("about 30", "some"), ("una veintena", "some"),
        ("十几个", "some"), ("三十多人", "some"), ("80左右", "many"), ("a few", "few"),
        ("hundreds", "many"), ("no sé", "unknown"), ("less than 5", "few"),
    ],
)  # fmt: skip
def test_a_rough_number_of_contacts_is_taken_as_its_range_and_said_back(typed, range_):
    chat = facts_chat("cn")
    walk_to(chat, "details_contacts")
    assert chat.send(typed) == ["numbers.count_noted", "details.ask_behaviours"]
    assert chat.case.details.contacts_reached == range_
    assert chat.replies[0].params["range"] == Ref(key=f"option.cnt.{range_}")


@pytest.mark.parametrize("typed", ["many", "menos de 30", "lots", "3 or 4 hundred maybe"])
def test_a_count_that_cannot_be_read_is_asked_again(typed):
    chat = facts_chat("cn")
    walk_to(chat, "details_contacts")
    assert chat.send(typed) == ["details.contacts_number_please"]
    assert chat.case.details.contacts_reached is None
