"""Follow-up: /sent records a complaint, the reminder survives a restart and fires once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import open_core
from bot.settings import Settings
from dialogs import Choice, Command, Start, Text, Tick
from dialogs.followup import _add_weekdays
from tests.conftest import Chat, walk_to


def test_sent_records_the_destination_reference_and_due_date(chat: Chat):
    walk_to(chat, "report")
    chat.send("/sent")
    assert chat.keys == ["followup.where"]
    assert {"sent:platform", "sent:nfra"} <= set(chat.options)
    chat.click("sent:nfra")
    assert chat.keys == ["followup.reference"]
    chat.send("12378-2026-0042")
    sent = chat.case.sent[0]
    assert (sent.destination, sent.reference) == ("nfra", "12378-2026-0042")
    assert sent.due_at == _add_weekdays(sent.sent_at, 15)  # 15 working days
    assert chat.keys == ["followup.recorded"]


def test_no_reference_and_a_default_period(chat: Chat):
    walk_to(chat, "report")
    chat.send("/sent")
    chat.click("sent:platform")
    chat.click("sent:noref")
    sent = chat.case.sent[0]
    assert sent.reference is None and sent.due_at - sent.sent_at == timedelta(days=15)


def test_a_due_reminder_asks_once_and_offers_the_next_destination(chat: Chat):
    walk_to(chat, "report")
    chat.send("/sent")
    chat.click("sent:platform")
    chat.click("sent:noref")
    due = chat.case.sent[0].due_at
    assert chat.event(Tick(at=due - timedelta(hours=1))) == []
    assert chat.event(Tick(at=due + timedelta(minutes=1))) == ["followup.due"]
    assert chat.event(Tick(at=due + timedelta(days=2))) == []
    chat.press("fu:no:1:0", case=1)  # the button of the reminder message
    assert chat.keys[0] == "followup.next"
    assert chat.replies[1].render is not None
    assert chat.replies[1].render.template == "regulator_complaint"


def test_status_lists_what_was_sent(chat: Chat):
    walk_to(chat, "report")
    chat.send("/sent")
    chat.click("sent:nfra")
    chat.send("REF-1")
    chat.send("/status")
    assert chat.keys[:2] == ["status.summary", "followup.status_line"]
    assert chat.replies[1].params["reference"] == "REF-1"


def settings_for(tmp_path: Path, retention_days: int = 0) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr("unused"),
        data_dir=tmp_path / "data",
        retention_days=retention_days,
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.now


async def test_a_reminder_fires_exactly_once_across_a_restart(tmp_path: Path):
    settings = settings_for(tmp_path)
    clock = Clock()

    async def say(core, event_factory) -> list:
        return await core.handle("console", "u1", event_factory(clock.now))

    async with open_core(settings) as core:
        core.clock = clock
        await say(core, lambda at: Start(at=at, client_lang="en"))
        for choice in ("lang:en", "jur:cn"):
            await say(core, lambda at, c=choice: Choice(at=at, choice=c, case=1))
        await say(core, lambda at: Command(at=at, name="sent"))
        await say(core, lambda at: Choice(at=at, choice="sent:nfra", case=1))
        outs = await say(core, lambda at: Text(at=at, text="REF-9"))
        assert "I will ask you on 2026-12-21" in outs[0].text  # 15 working days later
        assert await core.remind() == []

    clock.now += timedelta(days=22)  # past 15 working days
    async with open_core(settings) as core:  # a restart: a new core on the same files
        core.clock = clock
        fired = await core.remind()
        assert [(channel, user) for channel, user, _ in fired] == [("console", "u1")]
        assert "answer has passed" in fired[0][2][0].text
        assert await core.remind() == []
    async with open_core(settings) as core:
        core.clock = clock
        assert await core.remind() == []


async def test_retention_warns_first_then_deletes_untouched_cases(tmp_path: Path):
    settings = settings_for(tmp_path, retention_days=30)
    clock = Clock()
    async with open_core(settings) as core:
        core.clock = clock
        await core.handle("console", "u1", Start(at=clock.now, client_lang="en"))
        await core.handle("console", "u1", Choice(at=clock.now, choice="lang:en", case=1))
        clock.now += timedelta(days=26)
        assert await core.remind() == []
        clock.now += timedelta(days=1, hours=1)  # 27 days untouched: three days left
        warned = await core.remind()
        assert len(warned) == 1 and "will be deleted on 2026-12-30" in warned[0][2][0].text
        assert await core.remind() == [], "warned once"
        clock.now += timedelta(days=4)
        deleted = await core.remind()
        assert "was deleted" in deleted[0][2][0].text
        conv = await core.storage.load("console", "u1")
        assert conv is not None and conv.cases == []


async def test_using_a_case_resets_the_retention_clock(tmp_path: Path):
    settings = settings_for(tmp_path, retention_days=30)
    clock = Clock()
    async with open_core(settings) as core:
        core.clock = clock
        await core.handle("console", "u1", Start(at=clock.now, client_lang="en"))
        clock.now += timedelta(days=28)
        assert len(await core.remind()) == 1
        await core.handle("console", "u1", Command(at=clock.now, name="status"))
        clock.now += timedelta(days=5)
        assert await core.remind() == []
        conv = await core.storage.load("console", "u1")
        assert conv is not None and len(conv.cases) == 1


def test_the_reminder_asked_for_at_the_report_step_is_given_once() -> None:
    chat = Chat()
    walk_to(chat, "report")
    assert chat.press("rep:remind", case=chat.conv.active)[0] == "report.reminder_set"
    due = chat.case.report.remind_at
    assert due is not None

    assert chat.event(Tick(at=due - timedelta(hours=1))) == []
    assert chat.event(Tick(at=due + timedelta(minutes=1))) == ["followup.asked_reminder"]
    assert chat.options == ["rep:sent"]
    assert chat.event(Tick(at=due + timedelta(days=2))) == []  # once


async def test_a_reminder_asked_for_is_found_due_by_the_storage(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    chat = Chat()
    walk_to(chat, "report")
    chat.press("rep:remind", case=chat.conv.active)
    due = chat.case.report.remind_at
    assert due is not None
    async with open_core(settings) as core:
        await core.storage.save(chat.conv)
        assert await core.storage.due(due - timedelta(minutes=1)) == []
        assert await core.storage.due(due) == [("test", "u1")]


def test_a_user_who_cannot_be_written_to_keeps_reminders_but_loses_expired_cases() -> None:
    chat = Chat()
    walk_to(chat, "report")
    chat.press("rep:remind", case=chat.conv.active)
    due = chat.case.report.remind_at
    assert due is not None
    late = due + timedelta(days=400)

    # Unreachable: the expired case is deleted (policy), but nothing is marked as told.
    assert chat.event(Tick(at=due + timedelta(minutes=1), reachable=False)) == []
    assert not chat.case.report.reminded
    chat.event(Tick(at=late, retention_days=30, reachable=False))
    assert chat.conv.cases == []
