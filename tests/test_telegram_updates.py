"""Real Bot API update JSON -> dialog events (the translation layer, no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Update

from bot.telegram.updates import Incoming, decode_callback, encode_callback, to_event
from dialogs import Choice, Command, EvidenceKind, EvidenceReceived, Start, Text, Unsupported

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
USER = {"id": 42, "is_bot": False, "first_name": "Ana", "language_code": "es"}
CHAT = {"id": 42, "type": "private", "first_name": "Ana"}


def update(**message) -> Update:
    base = {"message_id": 7, "date": 1764300000, "chat": CHAT, "from": USER}
    return Update.de_json({"update_id": 1000, "message": {**base, **message}}, None)


def file(file_id: str, size: int, **extra) -> dict:
    return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": size, **extra}


def test_start_with_a_deep_link_payload():
    event = to_event(update(text="/start contact_abc", entities=[_command(6)]), AT)
    assert isinstance(event, Start) and event.payload == "contact_abc"
    assert event.client_lang == "es"


def test_commands_lose_their_bot_name_and_keep_arguments():
    event = to_event(update(text="/Status@ReportBot now", entities=[_command(17)]), AT)
    assert isinstance(event, Command) and (event.name, event.args) == ("status", "now")


def test_plain_text():
    event = to_event(update(text="QuickCash"), AT)
    assert isinstance(event, Text) and event.text == "QuickCash" and event.forward is None


@pytest.mark.parametrize(
    ("origin", "kind", "name"),
    [
        ({"type": "user", "date": 1764000000, "sender_user": {"id": 9, "is_bot": False,
          "first_name": "Collector", "last_name": "Wang", "username": "cw"}}, "user",
         "Collector Wang"),
        ({"type": "hidden_user", "date": 1764000000, "sender_user_name": "催收"}, "hidden_user",
         "催收"),
        ({"type": "chat", "date": 1764000000, "sender_chat": {"id": -5, "type": "group",
          "title": "Debtors"}}, "chat", "Debtors"),
        ({"type": "channel", "date": 1764000000, "message_id": 3, "chat": {"id": -100,
          "type": "channel", "title": "Shame list"}}, "channel", "Shame list"),
    ],
)  # fmt: skip
def test_forwarded_text_keeps_its_origin(origin, kind, name):
    event = to_event(update(text="pay now", forward_origin=origin), AT)
    assert isinstance(event, Text)
    assert event.forward is not None
    assert (event.forward.kind, event.forward.name) == (kind, name)
    assert event.forward.date == datetime.fromtimestamp(1764000000, UTC)


def test_a_forwarded_command_is_text_not_a_command():
    origin = {"type": "hidden_user", "date": 1764000000, "sender_user_name": "x"}
    event = to_event(update(text="/start", entities=[_command(6)], forward_origin=origin), AT)
    assert isinstance(event, Text) and event.forward is not None


def test_a_photo_takes_its_largest_size_caption_and_album():
    sizes = [file("s", 1000, width=90, height=90), file("l", 90000, width=1280, height=1280)]
    event = to_event(update(photo=sizes, caption="threat", media_group_id="alb"), AT)
    assert isinstance(event, Incoming)
    assert (event.file_id, event.kind, event.caption, event.album_id) == (
        "l", EvidenceKind.SCREENSHOT, "threat", "alb")  # fmt: skip
    assert event.file.size == 90000 and event.file.unique_id == "u-l"


@pytest.mark.parametrize(
    ("field", "payload", "kind"),
    [
        ("document", file("d", 10, file_name="a.png", mime_type="image/png"),
         EvidenceKind.SCREENSHOT),
        ("document", file("d", 10, file_name="a.pdf", mime_type="application/pdf"),
         EvidenceKind.DOCUMENT),
        ("voice", file("v", 10, duration=3, mime_type="audio/ogg"), EvidenceKind.VOICE),
        ("audio", file("a", 10, duration=3, file_name="call.m4a"), EvidenceKind.AUDIO),
        ("video", file("w", 10, width=1, height=1, duration=1), EvidenceKind.VIDEO),
        ("video_note", file("n", 10, length=1, duration=1), EvidenceKind.VIDEO),
    ],
)  # fmt: skip
def test_every_file_kind(field, payload, kind):
    event = to_event(update(**{field: payload}), AT)
    assert isinstance(event, Incoming) and event.kind == kind
    made = event.event(event.file.model_copy(update={"sha256": "a" * 64}))
    assert isinstance(made, EvidenceReceived) and made.kind == kind


def test_a_shared_contact_is_evidence_text():
    contact = {"phone_number": "+86 139 1234 5678", "first_name": "Collector"}
    event = to_event(update(contact=contact), AT)
    assert isinstance(event, EvidenceReceived) and event.kind == EvidenceKind.CONTACT
    assert event.text == "Collector +86 139 1234 5678"


@pytest.mark.parametrize(
    ("field", "payload"),
    [
        ("sticker", {**file("st", 10), "width": 1, "height": 1, "is_animated": False,
                     "is_video": False, "type": "regular"}),
        ("location", {"latitude": 1.0, "longitude": 2.0}),
        ("dice", {"emoji": "🎲", "value": 3}),
    ],
)  # fmt: skip
def test_unsupported_messages_get_a_kind_reply(field, payload):
    event = to_event(update(**{field: payload}), AT)
    assert isinstance(event, Unsupported) and event.what == field


def test_an_edited_message_is_answered_not_recorded():
    data = {"message_id": 7, "date": 1, "edit_date": 2, "chat": CHAT, "from": USER, "text": "x"}
    event = to_event(Update.de_json({"update_id": 3, "edited_message": data}, None), AT)
    assert isinstance(event, Unsupported) and event.what == "edit"


def test_a_reaction_needs_no_answer():
    reaction = {"chat": CHAT, "message_id": 7, "date": 1, "user": USER, "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}]}  # fmt: skip
    update = Update.de_json({"update_id": 4, "message_reaction": reaction}, None)
    assert to_event(update, AT) is None


def test_callback_data_round_trip_and_stale_data():
    data = encode_callback(3, "case:open:12")
    assert len(data.encode()) <= 64
    assert decode_callback(data) == (3, "case:open:12")
    assert decode_callback("0|3|old-format") == (None, "")
    assert decode_callback(None) == (None, "")
    query = {"id": "q", "from": USER, "chat_instance": "ci", "data": data,
             "message": {"message_id": 9, "date": 1, "chat": CHAT, "text": "?"}}  # fmt: skip
    event = to_event(Update.de_json({"update_id": 5, "callback_query": query}, None), AT)
    assert isinstance(event, Choice) and (event.choice, event.case) == ("case:open:12", 3)


def test_callback_data_that_is_too_long_is_refused():
    with pytest.raises(ValueError):
        encode_callback(1, "x" * 70)


def _command(length: int) -> dict:
    return {"type": "bot_command", "offset": 0, "length": length}


def test_consecutive_short_replies_go_out_as_one_message():
    from bot.core import OutFile, OutText
    from bot.telegram.app import merge_short

    outs = [
        OutText("Thank you.", "en", key="onboarding.jurisdiction_set"),
        OutText("Step 1", "en", (("ev:done", "Done"),), 1, "evidence.ask"),
        OutText("Saved #1", "en", key="evidence.saved", group="album", number=1),
        OutText("a long complaint", "en"),  # a document chunk: never merged
        OutFile("case1.txt", b"x", "en"),
    ]
    merged = merge_short(outs)
    assert [type(o).__name__ for o in merged] == ["OutText", "OutText", "OutText", "OutFile"]
    first = merged[0]
    assert isinstance(first, OutText)
    assert first.text == "Thank you.\n\nStep 1" and first.buttons == (("ev:done", "Done"),)
