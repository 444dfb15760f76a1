"""The pure dialog, step by step and command by command (no I/O, no event loop)."""

from __future__ import annotations

import json

import pytest

from dialogs import Conversation, EvidenceKind, State, Step
from tests.conftest import Chat, walk_to

# Onboarding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("zh-hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("es-MX", "es"),
        ("en", "en"),
        (None, "es"),
        ("fr", "es"),
    ],
)
def test_language_is_picked_from_the_client_and_spanish_by_default(client, expected):
    chat = Chat(client_lang=client)
    assert chat.send("/start") == ["onboarding.welcome"]
    assert chat.last_result.lang == expected
    assert chat.options == ["lang:es", "lang:zh-Hans", "lang:en"]


def test_choosing_a_language_a_jurisdiction_and_borrower_opens_the_evidence_step(chat):
    chat.send("/start")
    chat.click("lang:zh-Hans")
    assert chat.conv.lang == "zh-Hans"
    assert chat.keys == ["onboarding.jurisdiction"]
    assert chat.options == ["jur:cn", "jur:mx", "jur:generic"]
    assert chat.click("jur:cn") == ["onboarding.jurisdiction_set", "onboarding.ask_speaker"]
    assert chat.case.jurisdiction == "cn"
    assert chat.click("who:borrower") == ["evidence.ask"]
    assert chat.case.speaker == "borrower"
    assert chat.state == "evidence"


def test_a_first_message_without_start_opens_a_case(chat):
    assert chat.send("hello?") == ["onboarding.welcome"]
    assert chat.state == "language"


def test_lang_changes_the_language_from_any_state_and_repeats_the_question(chat):
    walk_to(chat, "details_since")
    chat.send("/lang")
    assert chat.options == ["lang:es", "lang:zh-Hans", "lang:en"]
    assert chat.click("lang:es") == ["common.language_set", "details.ask_since"]
    assert chat.last_result.lang == "es"
    assert chat.state == "details_since"


# Step 1: evidence ---------------------------------------------------------------------


def test_each_item_is_acknowledged_with_its_number(chat):
    walk_to(chat, "evidence")
    assert chat.attach() == ["evidence.saved"]
    assert chat.replies[0].params["number"] == 1
    chat.attach(EvidenceKind.VOICE)
    assert chat.replies[0].params["number"] == 2
    assert [i.kind for i in chat.case.evidence] == [EvidenceKind.SCREENSHOT, EvidenceKind.VOICE]


def test_the_same_file_twice_is_recognised(chat):
    walk_to(chat, "evidence")
    chat.attach(sha256="a" * 64, unique_id="same")
    assert chat.attach(sha256="a" * 64, unique_id="same") == ["evidence.duplicate"]
    assert chat.replies[0].params["number"] == 1
    assert len(chat.case.evidence) == 1


def test_album_items_carry_their_album_as_reply_group(chat):
    walk_to(chat, "evidence")
    for _ in range(3):
        chat.attach(album="album-1")
        assert chat.replies[0].group == "album-1"
    assert [i.album_id for i in chat.case.evidence] == ["album-1"] * 3


def test_a_file_over_the_limit_is_explained_and_its_metadata_kept(chat):
    walk_to(chat, "evidence")
    assert chat.attach(EvidenceKind.VIDEO, size=30_000_000, too_large=True) == [
        "evidence.too_large"
    ]
    item = chat.case.evidence[0]
    assert item.too_large and item.sha256 is None and item.size == 30_000_000


def test_forwarded_text_is_evidence_with_its_origin_and_hash(chat):
    walk_to(chat, "evidence")
    assert chat.forward("还钱，不然打给你全家") == ["evidence.saved"]
    item = chat.case.evidence[0]
    assert item.kind == EvidenceKind.TEXT
    assert item.forward is not None and item.forward.name == "催收员"
    import hashlib

    assert item.sha256 == hashlib.sha256("还钱，不然打给你全家".encode()).hexdigest()


def test_evidence_in_any_state_lands_in_the_active_case(chat):
    walk_to(chat, "details_since")
    assert chat.attach() == ["evidence.saved"]
    assert chat.state == "details_since"
    assert len(chat.case.evidence) == 1


def test_evidence_before_any_case_opens_one(chat):
    keys = chat.attach()
    assert keys == ["evidence.saved", "onboarding.welcome"]
    assert len(chat.case.evidence) == 1


def test_message_for_contacts_is_rendered_on_request(chat):
    walk_to(chat, "evidence")
    chat.click("ev:contacts_message")
    assert chat.replies[0].render is not None
    assert chat.replies[0].render.template == "contacts_message"
    assert chat.state == "evidence"


def test_typed_text_in_the_evidence_step_is_kept_as_a_text_item_when_the_user_says_so(chat):
    walk_to(chat, "evidence")
    assert chat.send("SMS from 13912345678: pay today") == ["evidence.text_what"]
    assert chat.case.evidence == []
    chat.click("ev:keep_text")
    assert chat.case.evidence[0].kind == EvidenceKind.TEXT
    assert chat.case.evidence[0].text == "SMS from 13912345678: pay today"
    assert chat.case.evidence[0].forward is None


# Step 2: the platform -------------------------------------------------------------------


def test_platform_answers_are_recorded(chat):
    walk_to(chat, "details_story")
    platform = chat.case.platform
    assert platform.name == "QuickCash"
    assert platform.operator == "Fast Money Tech Ltd"
    assert platform.complained is True
    assert (platform.complained_when, platform.channel) == ("2026-10-20", "in_app")
    assert (platform.reference, platform.outcome) == ("T-12345", "no_answer")


def test_not_yet_complained_explains_how_to_find_the_channel(chat):
    walk_to(chat, "platform_complained")
    assert chat.click("plat:no") == ["platform.how_to_find_channel", "loan.menu"]
    assert chat.case.platform.complained is False


@pytest.mark.parametrize("garbage", ["   ", "!!!", "x" * 500, "🙂🙂"])
def test_garbage_is_asked_again_kindly(chat, garbage):
    walk_to(chat, "platform_name")
    assert chat.send(garbage) == ["common.unclear_short"]
    assert chat.state == "platform_name"


# Step 3: details ------------------------------------------------------------------------


def test_the_story_can_take_several_messages(chat):
    walk_to(chat, "details_story")
    chat.send("They called my mother.")
    chat.send("Then my boss.")
    assert chat.case.details.story == "They called my mother.\nThen my boss."
    assert chat.options == ["det:story_done"]


def test_a_voice_note_can_tell_the_story(chat):
    walk_to(chat, "details_story")
    assert chat.attach(EvidenceKind.VOICE) == ["evidence.saved", "details.story_voice_added"]
    assert chat.case.details.story_voice == 1


def test_behaviours_toggle(chat):
    walk_to(chat, "details_behaviours")
    chat.click("beh:insults")
    chat.click("beh:violence_threats")
    chat.click("beh:insults")
    assert chat.case.details.behaviours == ["violence_threats"]
    marks = {o.id: o.params["mark"] for o in chat.replies[0].options if "mark" in o.params}
    assert marks["beh:violence_threats"] and not marks["beh:insults"]


def test_typed_number_of_contacts(chat):
    walk_to(chat, "details_contacts")
    assert chat.send("many") == ["details.contacts_number_please"]
    chat.send("37")
    assert chat.case.details.contacts_reached == "37"


def test_collectors_numbers_are_found_in_forwards_and_confirmed(chat):
    walk_to(chat, "evidence")
    chat.forward("再不还钱就打你公司 联系 13912345678")
    walk_to(chat, "details_collectors")
    assert chat.replies[0].params["found"] == "+86 139 1234 5678"
    chat.click("col:confirm_all")
    chat.send("Wang (collector)\nAlipay 2088 0000")
    assert chat.case.details.collectors == [
        "+86 139 1234 5678",
        "Wang (collector)",
        "Alipay 2088 0000",
    ]


# Step 4: privacy ------------------------------------------------------------------------


def test_sensitive_numbers_are_listed_masked_and_can_be_shown(chat):
    walk_to(chat, "details_story")
    chat.send("My ID 11010519491231002X and card 6222 0212 3456 7890 128 were sent to everyone")
    walk_to(chat, "privacy_review")
    findings = chat.case.privacy.findings
    assert [f.kind for f in findings] == ["resident_id", "bank_card"]
    labels = [o.params.get("shown") for o in chat.replies[0].options]
    assert labels[:2] == ["**************002X", "***************0128"]
    chat.click("prv:toggle:1")
    assert chat.case.privacy.findings[1].show is True


def test_collectors_numbers_are_not_treated_as_the_victims(chat):
    walk_to(chat, "evidence")
    chat.forward("call 13912345678")
    walk_to(chat, "details_story")
    chat.send("The collector 13912345678 called my sister at 13800001111")
    walk_to(chat, "details_collectors")
    chat.click("col:confirm_all")
    chat.click("col:done")
    values = [f.value for f in chat.case.privacy.findings]
    assert values == ["13800001111"]


def test_no_name_skips_the_name_question(chat):
    walk_to(chat, "privacy_name_mode")
    chat.click("name:none")
    assert chat.state == "privacy_contact"


def test_the_warning_cannot_be_skipped(chat):
    walk_to(chat, "privacy_warning")
    assert chat.send("/skip") == ["common.cannot_skip", "privacy.warning"]
    assert chat.state == "privacy_warning"


# Step 5: the report ---------------------------------------------------------------------


def test_the_report_delivers_complaints_contacts_and_files(chat):
    walk_to(chat, "report")
    renders = [r.render for r in chat.replies if r.render]
    # licensed lender in China that did not answer: the regulators first, the lender later;
    # a short card for each of the first three destinations, then every document as a file
    cards, files = renders[:3], renders[3:]
    assert [(r.template, r.item, r.in_chat, r.as_file) for r in cards] == [
        ("card", 0, True, False), ("card", 1, True, False), ("card", 2, True, False),
    ]  # fmt: skip
    assert [r.template for r in files][:2] == ["regulator_complaint", "association_report"]
    assert "platform_complaint" in [r.template for r in files]
    assert all(r.as_file and not r.in_chat for r in files)
    assert "rep:more:1" in chat.options
    chat.click("rep:more:1")
    assert [r.render.item for r in chat.replies if r.render] == [3, 4, 5]
    assert chat.case.done_steps == [
        Step.ONBOARDING,
        Step.EVIDENCE,
        Step.PLATFORM,
        Step.DETAILS,
        Step.PRIVACY,
    ]


def test_the_report_menu_shows_documents_again_and_sets_a_reminder(chat):
    walk_to(chat, "report")
    assert "rep:doc:contact_complaint" in chat.options
    chat.click("rep:doc:regulator_complaint")
    assert chat.replies[0].render.template == "regulator_complaint"
    assert chat.replies[0].render.full and chat.replies[0].render.in_chat
    chat.click("rep:remind")
    assert chat.keys[0] == "report.reminder_set"
    assert (chat.case.report.remind_at - chat.case.report.generated_at).days == 15
    assert "rep:remind" not in chat.options


def test_report_text_is_answered_with_the_menu(chat):
    walk_to(chat, "report")
    assert chat.send("thanks") == ["common.use_buttons", "report.menu"]


# Common commands ------------------------------------------------------------------------


def test_help_from_every_state(chat):
    for state in ["language", "evidence", "details_behaviours", "report"]:
        walk_to(chat, state)
        keys = chat.send("/help")
        assert keys[0] == "help.text" and len(keys) == 2
        assert chat.state == state


def test_status_reports_step_and_evidence(chat):
    walk_to(chat, "evidence")
    chat.attach()
    walk_to(chat, "details_since")
    chat.send("/status")
    params = chat.replies[0].params
    assert (params["case"], params["step"], params["evidence"]) == (1, 3, 1)


def test_back_returns_to_the_previous_question(chat):
    walk_to(chat, "platform_complained")
    chat.send("/back")
    assert chat.state == "platform_licensed"
    chat.send("/back")
    assert chat.state == "platform_operator"


def test_back_at_the_first_question(chat):
    chat.send("/start")
    assert chat.send("/back") == ["common.nothing_before", "onboarding.welcome"]


def test_skip_records_the_skipped_question(chat):
    walk_to(chat, "platform_name")
    chat.send("/skip")
    assert chat.state == "platform_operator"
    assert chat.case.skipped == [State.PLATFORM_NAME]


def test_skipping_everything_still_reaches_the_report_only_after_each_step(chat):
    chat.send("/start")
    for _ in range(40):
        if chat.state == "report":
            break
        if chat.state in ("jurisdiction", "privacy_warning"):
            chat.click(chat.options[0])
        else:
            chat.send("/skip")
    assert chat.state == "report"
    assert chat.case.done_steps == [
        Step.ONBOARDING,
        Step.EVIDENCE,
        Step.PLATFORM,
        Step.DETAILS,
        Step.PRIVACY,
    ]


def test_cases_new_and_switch(chat):
    walk_to(chat, "details_since")
    chat.send("/new")
    assert chat.keys == ["cases.opened", "onboarding.jurisdiction"]
    assert chat.conv.active == 2
    chat.send("/cases")
    assert chat.options == ["case:open:1", "case:open:2", "case:new"]
    chat.click("case:open:1")
    assert chat.conv.active == 1 and chat.state == "details_since"


def test_a_case_number_that_is_not_the_users_does_nothing(chat):
    walk_to(chat, "evidence")
    assert chat.press("case:open:99") == ["common.stale_button", "evidence.ask"]
    assert chat.conv.active == 1


def test_stale_button_from_another_case(chat):
    walk_to(chat, "platform_complained")
    chat.send("/new")
    keys = chat.press("plat:yes", case=1)
    assert keys == ["common.stale_button", "onboarding.jurisdiction"]


def test_stale_button_from_an_old_question(chat):
    walk_to(chat, "details_since")
    assert chat.press("plat:yes", case=1) == ["common.stale_button", "details.ask_since"]


def test_cancel_and_pause(chat):
    walk_to(chat, "evidence")
    assert chat.send("/cancel") == ["common.paused"]
    chat.send("/delete")
    assert chat.send("/cancel") == ["common.cancelled"]
    assert chat.conv.pending is None


def test_delete_a_case_after_confirmation(chat):
    walk_to(chat, "evidence")
    chat.attach()
    chat.send("/delete")
    assert chat.options == ["del:case", "del:all", "del:keep"]
    chat.click("del:case")
    assert chat.keys == ["delete.confirm_case"]
    chat.send("yes")  # text does not confirm a deletion
    assert chat.conv.cases
    chat.click("del:yes")
    assert chat.keys == ["delete.done_case"]
    assert chat.conv.cases == [] and chat.conv.active is None


def test_delete_all_asks_the_adapter_to_erase(chat):
    walk_to(chat, "evidence")
    chat.send("/delete")
    chat.click("del:all")
    chat.click("del:yes")
    assert chat.last_result.erase_user
    assert chat.conv.cases == []


def test_evidence_during_a_confirmation_is_still_saved(chat):
    walk_to(chat, "evidence")
    chat.send("/delete")
    chat.attach()
    assert len(chat.case.evidence) == 1
    assert chat.conv.pending is not None


def test_keep_drops_the_deletion(chat):
    walk_to(chat, "evidence")
    chat.send("/delete")
    chat.click("del:keep")
    assert chat.keys == ["delete.kept", "evidence.ask"]


def test_unknown_command_and_unsupported_message(chat):
    walk_to(chat, "evidence")
    assert chat.send("/frobnicate") == ["common.unknown_command", "evidence.ask"]
    assert chat.unsupported() == ["common.unsupported"]


def test_commands_without_a_case(chat):
    for command in ["/status", "/back", "/skip", "/export"]:
        assert chat.send(command) == ["common.no_case"]
    assert chat.send("/help") == ["help.text"]


def test_start_again_welcomes_back_where_the_user_was(chat):
    walk_to(chat, "details_since")
    assert chat.send("/start") == ["common.welcome_back", "details.ask_since"]


def test_export_asks_for_the_dossier(chat):
    walk_to(chat, "evidence")
    chat.attach()
    chat.send("/export")
    renders = [r.render for r in chat.replies if r.render]
    assert [r.template for r in renders] == ["dossier"] and renders[0].as_file


def test_the_conversation_survives_json_at_every_step(chat):
    for state in ["language", "evidence", "details_collectors", "privacy_review", "report"]:
        walk_to(chat, state)
        chat.attach()
        data = json.loads(chat.conv.model_dump_json())
        assert Conversation.model_validate(data) == chat.conv


def test_step_does_not_touch_the_callers_conversation(chat):
    walk_to(chat, "evidence")
    before = chat.conv.model_copy(deep=True)
    from dialogs import step

    step(
        chat.conv,
        chat.conv and __import__("dialogs").Command(at=before.cases[0].created_at, name="skip"),
        chat.content,
    )
    assert chat.conv == before


@pytest.mark.parametrize(
    "text", ["No puedo más, me quiero morir", "我真的不想活了", "I want to end my life"]
)
def test_crisis_words_put_safety_first_and_keep_the_answer(text):
    from bot.content import Content

    chat = Chat(content=Content.load().index)
    walk_to(chat, "details_story")
    keys = chat.send(text)
    assert keys == ["crisis.first", "crisis.kept_private", "crisis.then", "details.story_added"]
    assert chat.replies[0].render is not None and chat.replies[0].render.template == "crisis"
    assert chat.case.details.danger is False, "the user's crisis is not danger from others"
    assert chat.case.details.story == text, "what was typed is still kept"


def test_a_collectors_threat_is_not_taken_for_the_users_crisis():
    from bot.content import Content

    chat = Chat(content=Content.load().index)
    walk_to(chat, "details_story")
    keys = chat.send("They said they will kill my family")
    assert keys == [
        "crisis.threat_first", "crisis.police_first", "crisis.then", "details.story_added"
    ]  # fmt: skip
    assert chat.case.details.danger is True
    assert chat.case.details.story == "They said they will kill my family"


def test_the_country_the_channel_suggests_is_offered_first_and_still_asked() -> None:
    from datetime import UTC, datetime

    from dialogs import Choice, Conversation, Start, step
    from tests.conftest import CONTENT

    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    conv = Conversation(channel="whatsapp", user_id="MX.1")
    first = step(conv, Start(at=at, client_lang="es", client_region="MX"), CONTENT)
    chosen = step(first.conversation, Choice(at=at, choice="lang:es", client_region="MX"), CONTENT)
    options = [o.id for r in chosen.replies for o in r.options]
    assert options[0] == "jur:mx"  # first, but the user still chooses
    assert sorted(options) == sorted(f"jur:{j}" for j in CONTENT.jurisdictions)
    assert chosen.conversation.case() is not None
    assert chosen.conversation.case().jurisdiction is None  # type: ignore[union-attr]
