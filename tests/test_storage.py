"""Tests for bot.storage: round trips, isolation, deletion, update keys and migrations."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.storage import (
    EVIDENCE_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    AlreadyProcessed,
    ContentGone,
    EvidenceConflict,
    StaleConversation,
    Storage,
    StorageError,
    StorageUnavailable,
)
from dialogs.case import (
    Case,
    Conversation,
    Details,
    EvidenceItem,
    Finding,
    Pending,
    PlatformInfo,
    Privacy,
    Report,
    State,
    Step,
)
from dialogs.events import EvidenceKind, ForwardOrigin

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def item(number: int, sha256: str | None, **fields: object) -> EvidenceItem:
    values: dict[str, object] = {
        "number": number,
        "kind": EvidenceKind.SCREENSHOT,
        "received_at": T0 + timedelta(minutes=number),
        "sha256": sha256,
        "size": 1000 + number,
        "mime": "image/jpeg",
        "unique_id": f"uniq-{number}",
    }
    return EvidenceItem.model_validate(values | fields)


def case(number: int, evidence: list[EvidenceItem], **fields: object) -> Case:
    values: dict[str, object] = {
        "number": number,
        "state": State.EVIDENCE,
        "created_at": T0,
        "updated_at": T0 + timedelta(hours=number),
        "evidence": evidence,
    }
    return Case.model_validate(values | fields)


def rich_conversation(channel: str = "telegram", user_id: str = "1001") -> Conversation:
    first = case(
        1,
        [
            item(
                1,
                sha("threat screenshot"),
                caption="they sent this to my mother",
                album_id="album-7",
                forward=ForwardOrigin(
                    kind="user",
                    name="Collector Li",
                    username="li_collects",
                    sender_id=424242,
                    date=datetime(2024, 4, 30, 23, 5, tzinfo=BEIJING),
                ),
            ),
            item(2, sha("second screenshot"), album_id="album-7"),
            item(
                3,
                sha("voice"),
                kind=EvidenceKind.VOICE,
                mime="audio/ogg",
                received_at=datetime(2024, 5, 1, 18, 0, tzinfo=BEIJING),
            ),
            item(
                4,
                sha("pay now or else"),
                kind=EvidenceKind.TEXT,
                mime=None,
                size=15,
                unique_id=None,
                text="pay now or else 你的家人会知道",
                forward=ForwardOrigin(kind="hidden_user", name="Cobranza"),
            ),
        ],
        jurisdiction="CN",
        state=State.DETAILS_STORY,
        platform=PlatformInfo(name="QuickCash", complained=True, channel="in_app"),
        details=Details(
            story="They call twenty times a day.",
            story_voice=3,
            behaviours=["threats", "contacts"],
            collectors=["+86 138 0000 0000"],
        ),
        privacy=Privacy(findings=[Finding(kind="phone", value="+86 138 0000 0000")]),
        report=Report(generated_at=T0, remind_at=datetime(2024, 6, 1, 8, tzinfo=BEIJING)),
        history=[State.JURISDICTION, State.EVIDENCE],
        skipped=[State.PLATFORM_REFERENCE],
        done_steps=[Step.ONBOARDING, Step.EVIDENCE],
    )
    second = case(
        2,
        [
            item(
                1,
                None,
                kind=EvidenceKind.VIDEO,
                mime="video/mp4",
                size=50_000_000,
                too_large=True,
            ),
            item(2, sha("contract"), kind=EvidenceKind.DOCUMENT, file_name="contract.pdf"),
        ],
    )
    return Conversation(
        channel=channel,
        user_id=user_id,
        lang="zh-Hans",
        active=2,
        cases=[first, second, case(3, [])],
        next_case=4,
        pending=Pending(kind="delete", target="case"),
        start_payload="ref-abc",
    )


def without_case(conv: Conversation, number: int) -> Conversation:
    return conv.model_copy(update={"cases": [c for c in conv.cases if c.number != number]})


def with_evidence(conv: Conversation, number: int, evidence: list[EvidenceItem]) -> Conversation:
    cases = [
        c.model_copy(update={"evidence": evidence}) if c.number == number else c
        for c in conv.cases
    ]
    return conv.model_copy(update={"cases": cases})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """Where the storage lives: the contract holds on both backends."""
    if request.param == "sqlite":
        return db_path
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def storage(where: Path | str) -> AsyncIterator[Storage]:
    async with await Storage.open(where) as storage:
        yield storage


# -- round trips ---------------------------------------------------------------------------


async def test_rich_conversation_round_trips(storage: Storage) -> None:
    conv = rich_conversation()

    assert await storage.save(conv) == []
    loaded = await storage.load("telegram", "1001")

    assert loaded == conv
    assert loaded.model_dump(mode="json") == conv.model_dump(mode="json")


async def test_unknown_user_loads_none(storage: Storage) -> None:
    assert await storage.load("telegram", "nobody") is None


async def test_conversation_without_cases_is_kept(storage: Storage) -> None:
    conv = Conversation(channel="console", user_id="me", lang="es")

    await storage.save(conv)

    assert await storage.load("console", "me") == conv


async def test_reopening_resumes(where: Path | str) -> None:
    conv = rich_conversation()
    async with await Storage.open(where) as storage:
        await storage.save(conv)

    async with await Storage.open(where) as storage:
        loaded = await storage.load("telegram", "1001")
        assert loaded == conv
        grown = with_evidence(conv, 3, [item(1, sha("new screenshot"))])
        await storage.save(grown)

    async with await Storage.open(where) as storage:
        assert await storage.load("telegram", "1001") == grown


async def test_database_is_private_and_in_wal_mode(db_path: Path) -> None:
    async with await Storage.open(db_path) as storage:
        await storage.save(rich_conversation())

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_concurrent_saves_on_one_storage(storage: Storage) -> None:
    convs = [rich_conversation(user_id=str(n)) for n in range(10)]

    await asyncio.gather(*(storage.save(conv) for conv in convs))

    for conv in convs:
        assert await storage.load(conv.channel, conv.user_id) == conv


async def test_duplicate_case_numbers_are_rejected(storage: Storage) -> None:
    conv = Conversation(channel="telegram", user_id="1", cases=[case(1, []), case(1, [])])

    with pytest.raises(ValueError):
        await storage.save(conv)


def test_evidence_columns_match_the_model() -> None:
    # A field added to EvidenceItem needs a migration, or it would silently not be saved.
    assert set(EVIDENCE_COLUMNS) == set(EvidenceItem.model_fields)


# -- isolation -----------------------------------------------------------------------------


async def test_users_are_isolated(storage: Storage) -> None:
    alice = rich_conversation(user_id="alice")
    bob = Conversation(
        channel="telegram",
        user_id="bob",
        cases=[case(1, [item(1, sha("bob's screenshot"))]), case(2, [])],
        next_case=3,
    )
    same_id_elsewhere = rich_conversation(channel="console", user_id="alice")
    for conv in (alice, bob, same_id_elsewhere):
        await storage.save(conv)

    assert await storage.load("telegram", "alice") == alice
    assert await storage.load("telegram", "bob") == bob
    assert await storage.load("console", "alice") == same_id_elsewhere

    await storage.save(without_case(bob, 1))
    assert await storage.load("telegram", "alice") == alice
    await storage.delete_user("telegram", "alice")
    assert await storage.load("telegram", "bob") == without_case(bob, 1)
    assert await storage.load("console", "alice") == same_id_elsewhere


# -- deletion ------------------------------------------------------------------------------


async def test_deleting_a_case_returns_only_unreferenced_hashes(storage: Storage) -> None:
    shared_in_user, shared_across, only_here = sha("x"), sha("y"), sha("z")
    alice = Conversation(
        channel="telegram",
        user_id="alice",
        cases=[
            case(1, [item(1, shared_in_user), item(2, shared_across), item(3, only_here)]),
            case(2, [item(1, shared_in_user)]),
        ],
    )
    bob = Conversation(
        channel="telegram", user_id="bob", cases=[case(1, [item(1, shared_across)])]
    )
    await storage.save(alice)
    await storage.save(bob)

    assert await storage.save(without_case(alice, 1)) == [only_here]
    assert not await storage.sha256_referenced(only_here)
    assert await storage.sha256_referenced(shared_in_user)

    assert await storage.save(without_case(without_case(alice, 1), 2)) == [shared_in_user]
    assert await storage.delete_user("telegram", "bob") == [shared_across]
    assert not await storage.sha256_referenced(shared_across)


async def test_removed_evidence_of_a_kept_case_is_deleted(storage: Storage) -> None:
    conv = Conversation(
        channel="telegram", user_id="1", cases=[case(1, [item(1, sha("a")), item(2, None)])]
    )
    await storage.save(conv)

    shorter = with_evidence(conv, 1, [item(1, sha("a"))])
    assert await storage.save(shorter) == []
    assert await storage.load("telegram", "1") == shorter

    assert await storage.save(with_evidence(conv, 1, [])) == [sha("a")]


async def test_delete_user_removes_everything_of_that_user(storage: Storage) -> None:
    conv = rich_conversation()
    await storage.save(conv, update_key="update-1")
    hashes = sorted({e.sha256 for c in conv.cases for e in c.evidence if e.sha256 is not None})

    assert await storage.delete_user("telegram", "1001") == hashes

    assert await storage.load("telegram", "1001") is None
    assert await storage.untouched_since(T0 + timedelta(days=365)) == []
    assert await storage.is_processed("telegram", "update-1")
    assert await storage.delete_user("telegram", "1001") == []


# -- evidence is append-only ---------------------------------------------------------------


async def test_recorded_evidence_cannot_change(storage: Storage) -> None:
    conv = rich_conversation()
    await storage.save(conv)
    first = conv.cases[0]
    altered = first.evidence[0].model_copy(update={"caption": "edited"})
    tampered = with_evidence(without_case(conv, 2), 1, [altered, *first.evidence[1:]])

    with pytest.raises(EvidenceConflict):
        await storage.save(tampered)

    assert await storage.load("telegram", "1001") == conv  # case 2 not deleted either


async def test_case_data_may_change_while_evidence_grows(storage: Storage) -> None:
    conv = rich_conversation()
    await storage.save(conv)
    first = conv.cases[0]
    moved_on = first.model_copy(
        update={
            "state": State.REPORT,
            "updated_at": T0 + timedelta(days=2),
            "evidence": [*first.evidence, item(5, sha("later"))],
        }
    )
    changed = conv.model_copy(update={"cases": [moved_on, *conv.cases[1:]], "pending": None})

    await storage.save(changed)

    assert await storage.load("telegram", "1001") == changed


# -- processed updates ---------------------------------------------------------------------


async def test_update_keys_are_applied_once(storage: Storage) -> None:
    conv = rich_conversation()
    assert not await storage.is_processed("telegram", "42")

    await storage.save(conv, update_key="42")

    assert await storage.is_processed("telegram", "42")
    assert not await storage.is_processed("console", "42")
    with pytest.raises(AlreadyProcessed):
        await storage.save(without_case(conv, 1), update_key="42")
    assert await storage.load("telegram", "1001") == conv

    await storage.save(without_case(conv, 1), update_key="43")
    assert await storage.load("telegram", "1001") == without_case(conv, 1)


async def test_delete_user_records_its_update_key(storage: Storage) -> None:
    await storage.save(rich_conversation(), update_key="1")

    with pytest.raises(AlreadyProcessed):
        await storage.delete_user("telegram", "1001", update_key="1")
    assert await storage.load("telegram", "1001") is not None

    await storage.delete_user("telegram", "1001", update_key="2")
    assert await storage.is_processed("telegram", "2")


async def test_old_update_keys_can_be_forgotten(where: Path | str) -> None:
    now = T0

    async with await Storage.open(where, clock=lambda: now) as storage:
        await storage.save(rich_conversation(), update_key="old")
        now = T0 + timedelta(days=2)
        await storage.save(rich_conversation(), update_key="new")

        assert await storage.forget_processed(T0 + timedelta(days=1)) == 1

        assert not await storage.is_processed("telegram", "old")
        assert await storage.is_processed("telegram", "new")


# -- retention -----------------------------------------------------------------------------


async def test_untouched_since_lists_stale_cases(storage: Storage) -> None:
    await storage.save(rich_conversation())  # cases updated at T0 + 1h, 2h, 3h
    await storage.save(rich_conversation(channel="console", user_id="7"))

    cutoff = datetime(2024, 5, 1, 19, 0, tzinfo=BEIJING)  # T0 + 1h30
    assert await storage.untouched_since(cutoff) == [("console", "7", 1), ("telegram", "1001", 1)]
    with pytest.raises(ValueError):
        await storage.untouched_since(datetime(2024, 5, 2))


# -- schema and migrations -----------------------------------------------------------------


def build_schema(path: Path, version: int) -> None:
    """Create a database as an older release left it, at schema ``version``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as raw:
        for step in MIGRATIONS[:version]:
            for statement in step:
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {version}")
    raw.close()


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        (version,) = raw.execute("PRAGMA user_version").fetchone()
    raw.close()
    return int(version)


async def test_a_new_database_gets_the_latest_schema(db_path: Path) -> None:
    await (await Storage.open(db_path)).close()

    assert user_version(db_path) == SCHEMA_VERSION


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_older_schemas_are_migrated(db_path: Path, version: int) -> None:
    build_schema(db_path, version)

    async with await Storage.open(db_path) as storage:
        assert user_version(db_path) == SCHEMA_VERSION
        conv = rich_conversation()
        await storage.save(conv, update_key="1")
        assert await storage.load("telegram", "1001") == conv
        assert await storage.is_processed("telegram", "1")


async def test_data_written_at_version_1_survives_migration(db_path: Path) -> None:
    build_schema(db_path, 1)
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "INSERT INTO conversations VALUES ('telegram', '5', ?, ?)",
            ('{"lang": "en", "active": 1, "next_case": 2}', T0.isoformat()),
        )
        raw.execute(
            "INSERT INTO cases VALUES (10, 'telegram', '5', 1, ?, ?, ?)",
            (case(1, []).model_dump_json(exclude={"evidence"}), T0.isoformat(), T0.isoformat()),
        )
        raw.execute(
            "INSERT INTO evidence (case_id, number, kind, sha256, too_large, received_at) "
            "VALUES (10, 1, 'screenshot', ?, 0, ?)",
            (sha("old"), "2024-05-01T09:30:00Z"),
        )
    raw.close()

    async with await Storage.open(db_path) as storage:
        loaded = await storage.load("telegram", "5")

    evidence = EvidenceItem(
        number=1, kind=EvidenceKind.SCREENSHOT, received_at=T0, sha256=sha("old")
    )
    assert loaded == Conversation(
        channel="telegram",
        user_id="5",
        lang="en",
        active=1,
        next_case=2,
        cases=[case(1, [evidence])],
    )


async def test_opening_twice_is_idempotent(db_path: Path) -> None:
    async with await Storage.open(db_path) as first, await Storage.open(db_path) as second:
        await first.save(rich_conversation())
        assert await second.load("telegram", "1001") == rich_conversation()

    async with await Storage.open(db_path) as storage:
        assert await storage.load("telegram", "1001") == rich_conversation()
    assert user_version(db_path) == SCHEMA_VERSION


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    build_schema(db_path, SCHEMA_VERSION)
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()

    with pytest.raises(StorageError, match="newer"):
        await Storage.open(db_path)


async def test_postgres_schema_is_made_once_by_processes_starting_together(postgres_url: str):
    opened = await asyncio.gather(*(Storage.open(postgres_url) for _ in range(4)))
    try:
        await opened[0].save(rich_conversation())
        assert await opened[3].load("telegram", "1001") == rich_conversation()
    finally:
        for storage in opened:
            await storage.close()
    async with await Storage.open(postgres_url) as storage:  # and opened again, unchanged
        assert await storage.load("telegram", "1001") == rich_conversation()


async def test_postgres_refuses_a_newer_schema(postgres_url: str) -> None:
    await (await Storage.open(postgres_url)).close()
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(StorageError, match="newer"):
        await Storage.open(postgres_url)


async def test_postgres_out_of_reach_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import db
    from tests.postgres import _free_port

    monkeypatch.setattr(db, "OPEN_TIMEOUT_SECONDS", 1.0)
    with pytest.raises(StorageUnavailable):
        await Storage.open(f"postgresql://bot@127.0.0.1:{_free_port()}/nothing")


# -- versions: a save from an old version is refused; an unchanged one is not read again ----


async def test_a_save_from_an_older_version_is_refused(where: Path | str) -> None:
    async with await Storage.open(where) as first, await Storage.open(where) as second:
        await first.save(rich_conversation())
        mine = await first.load("telegram", "1001")
        theirs = await second.load("telegram", "1001")
        assert mine is not None and theirs is not None
        theirs = with_evidence(theirs, 3, [item(1, sha("theirs"))])
        await second.save(theirs, update_key="b")  # another process saved meanwhile

        with pytest.raises(StaleConversation):
            await first.save(with_evidence(mine, 3, [item(1, sha("mine"))]), update_key="a")

        assert not await first.is_processed("telegram", "a")  # nothing of it was saved
        assert await first.load("telegram", "1001") == theirs  # read again: the newer one
        again = with_evidence(theirs, 3, [item(1, sha("theirs")), item(2, sha("mine"))])
        await first.save(again, update_key="a")  # from the newer version: accepted
        assert await second.load("telegram", "1001") == again


async def test_a_loaded_conversation_is_a_copy(storage: Storage) -> None:
    await storage.save(rich_conversation())
    loaded = await storage.load("telegram", "1001")
    assert loaded is not None
    loaded.cases[0].evidence.clear()  # what a caller does with it stays with the caller
    loaded.lang = "es"
    assert await storage.load("telegram", "1001") == rich_conversation()


async def test_a_growing_case_is_saved_item_by_item(storage: Storage) -> None:
    conv = Conversation(channel="telegram", user_id="7", cases=[case(1, [])])
    for number in range(1, 41):
        loaded = await storage.load("telegram", "7") or conv
        grown = with_evidence(
            loaded, 1, [*loaded.cases[0].evidence, item(number, sha(f"{number}"))]
        )
        assert await storage.save(grown, update_key=str(number)) == []
    stored = await storage.load("telegram", "7")
    assert stored is not None
    assert [i.number for i in stored.cases[0].evidence] == list(range(1, 41))
    changed = stored.cases[0].evidence[4].model_copy(update={"caption": "edited"})
    tampered = with_evidence(
        stored, 1, [*stored.cases[0].evidence[:4], changed, *stored.cases[0].evidence[5:]]
    )
    with pytest.raises(EvidenceConflict):
        await storage.save(tampered)


async def test_postgres_refuses_a_record_whose_file_another_process_removed(
    postgres_url: str,
) -> None:
    async def gone(sha256: str) -> bool:
        return False

    async def there(sha256: str) -> bool:
        return True

    async with await Storage.open(postgres_url) as storage:
        conv = rich_conversation()
        with pytest.raises(ContentGone):  # the file went between storing and saving
            await storage.save(conv, update_key="1", content_present=gone)
        assert await storage.load("telegram", "1001") is None  # nothing was saved
        assert not await storage.is_processed("telegram", "1")
        await storage.save(conv, update_key="1", content_present=there)
        assert await storage.load("telegram", "1001") == conv


async def test_orphans_are_removed_only_when_no_record_points_to_them(where: Path | str) -> None:
    removed: list[str] = []

    async def remove(sha256s: list[str]) -> None:
        removed.extend(sha256s)

    async with await Storage.open(where) as storage:
        await storage.save(rich_conversation())
        kept = rich_conversation().cases[0].evidence[0].sha256
        assert kept is not None
        await storage.remove_orphans([kept, sha("nobody's")], remove)
    assert removed == [sha("nobody's")]


async def test_a_deleted_conversation_held_elsewhere_does_not_come_back(where: Path | str) -> None:
    async with await Storage.open(where) as first, await Storage.open(where) as second:
        await first.save(rich_conversation())
        assert await first.load("telegram", "1001") is not None  # held in first's memory
        await second.load("telegram", "1001")
        await second.delete_user("telegram", "1001")
        fresh = Conversation(channel="telegram", user_id="1001", cases=[case(1, [])])
        for n in range(3):  # as many saves as before the deletion
            loaded = await second.load("telegram", "1001") or fresh
            await second.save(loaded.model_copy(update={"lang": ["es", "en", "zh-Hans"][n]}))
        seen = await first.load("telegram", "1001")
        assert seen is not None and seen.cases[0].evidence == []  # the erased case is gone
        assert seen == await second.load("telegram", "1001")


async def test_two_saves_from_one_version_at_once_one_wins(where: Path | str) -> None:
    async with await Storage.open(where) as first, await Storage.open(where) as second:
        await first.save(rich_conversation())
        mine = await first.load("telegram", "1001")
        theirs = await second.load("telegram", "1001")
        assert mine is not None and theirs is not None
        results = await asyncio.gather(
            first.save(mine.model_copy(update={"lang": "es"})),
            second.save(theirs.model_copy(update={"lang": "en"})),
            return_exceptions=True,
        )
        assert sum(isinstance(r, StaleConversation) for r in results) == 1
        assert sum(isinstance(r, list) for r in results) == 1


async def test_a_caller_that_changes_nothing_may_share_the_kept_conversation(
    storage: Storage,
) -> None:
    conv = rich_conversation()
    await storage.save(conv, hand_over=True)
    assert await storage.load("telegram", "1001", shared=True) is conv  # no copy made
    assert await storage.load("telegram", "1001") is not conv  # unless asked for

    # Changed in place after all, and saved: the new item is still recorded.
    conv.cases[0].evidence.append(item(len(conv.cases[0].evidence) + 1, sha("late")))
    await storage.save(conv, hand_over=True)
    storage._forget(("telegram", "1001"))  # read from the database, not from memory
    stored = await storage.load("telegram", "1001")
    assert stored is not None and stored.cases[0].evidence[-1].sha256 == sha("late")


async def test_a_user_whose_id_changed_keeps_their_conversation(storage: Storage) -> None:
    conv = rich_conversation(channel="whatsapp", user_id="MX.1")
    await storage.save(conv)
    await storage.save(rich_conversation(channel="whatsapp", user_id="MX.3"))

    assert await storage.rekey("whatsapp", "MX.1", "MX.2")
    assert await storage.load("whatsapp", "MX.1") is None
    moved = await storage.load("whatsapp", "MX.2")
    assert moved is not None
    assert moved.cases == conv.cases
    assert not await storage.rekey("whatsapp", "MX.2", "MX.3")  # taken: nothing moves
    assert await storage.load("whatsapp", "MX.2") is not None


async def test_journal_calls_at_the_same_moment_share_a_commit(storage: Storage) -> None:
    commits: list[int] = []
    insert = storage._insert_inbox

    async def counted(rows: list[tuple[object, ...]]) -> None:
        commits.append(len(rows))
        await insert(rows)

    storage._insert_inbox = counted  # type: ignore[method-assign]
    await asyncio.gather(*(
        storage.journal("whatsapp", [(f"wamid.{n}", n, "{}", f"MX.{n % 7}")]) for n in range(60)
    ))  # fmt: skip
    assert sum(commits) == 60 and len(commits) < 60  # grouped, and every row committed
    assert len(await storage.pending("whatsapp")) == 60


async def test_an_entry_that_cannot_be_stored_fails_alone(storage: Storage) -> None:
    async def journal(key: str, payload: str) -> str:
        try:
            await storage.journal("whatsapp", [(key, 1, payload, "MX.1")])
        except Exception as error:
            return type(error).__name__
        return "ok"

    results = await asyncio.gather(
        journal("good-1", "{}"), journal("bad", '{"t": "\ud800"}'), journal("good-2", "{}")
    )
    assert results[0] == "ok" and results[2] == "ok" and results[1] != "ok"
    assert sorted(key for key, _ in await storage.pending("whatsapp")) == ["good-1", "good-2"]


async def test_held_answers_come_back_once_in_order_and_go_with_the_user(
    storage: Storage,
) -> None:
    await storage.hold("wechat", "o1", ["first", "second"])
    await storage.hold("wechat", "o1", ["third"])
    await storage.hold("wechat", "o2", ["other user"])
    assert await storage.take_held("wechat", "o1") == ["first", "second", "third"]
    assert await storage.take_held("wechat", "o1") == []

    await storage.save(rich_conversation(channel="wechat", user_id="o2"))
    await storage.delete_user("wechat", "o2")
    assert await storage.take_held("wechat", "o2") == []  # erased with everything else


async def test_options_offered_as_text_are_read_by_any_process_and_go_with_the_user(
    where: Path | str,
) -> None:
    """What one process offered as text, another reads (a worker applying the answer, or the
    same bot after a restart); a later message without options withdraws it; a new id for
    the user takes it along; the user's deletion erases it."""
    from bot.choices import TypedChoices

    options = [(f"opt{n}", f"Opción {n}") for n in range(12)]
    async with await Storage.open(where) as first, await Storage.open(where) as second:
        offering = TypedChoices(first, "whatsapp", "letters", str)
        answering = TypedChoices(second, "whatsapp", "letters", str)
        await offering.offer("u1", options, 3)
        assert await answering.read("u1", "l") == (3, "opt11")
        assert await answering.read("u1", "Opción 2") == (3, "opt2")
        assert await answering.read("u2", "a") is None  # offered to someone else
        await offering.offer("u1", options[:2], None)  # a newer offer replaces it
        assert await answering.read("u1", "c") is None
        assert await answering.read("u1", "b") == (None, "opt1")
        await offering.withdraw("u1")
        assert await answering.read("u1", "a") is None

        await offering.offer("u1", options, 1)
        await first.save(rich_conversation(channel="whatsapp", user_id="u1"))
        assert await first.rekey("whatsapp", "u1", "u9")
        assert await answering.read("u9", "a") == (1, "opt0")
        await second.delete_user("whatsapp", "u9")
        assert await second.offered("whatsapp", "u9") is None


async def test_reading_jobs_are_made_with_the_pictures_and_shared_out_by_lease(
    where: Path | str,
) -> None:
    """A save that records new pictures records their reading jobs (only when reading is
    on); two processes take different jobs; a taken job is not taken again until its lease
    ends or it is put back; a done job is gone, and so are the jobs of a deleted case."""
    async with await Storage.open(where) as first, await Storage.open(where) as second:
        await first.save(rich_conversation(user_id="off"))
        assert await first.reading_jobs() == 0  # reading off: no jobs
        first.reads_pictures = True
        await first.save(rich_conversation(user_id="on"))
        assert await first.reading_jobs() == 2  # the two screenshots, not the voice or text
        one = await first.claim_reading(60)
        two = await second.claim_reading(60)
        assert one is not None and two is not None
        assert {one.item, two.item} == {1, 2} and one.user_id == "on" and one.case == 1
        assert await first.claim_reading(60) is None  # both held
        await second.reading_later(two, 0)  # put back at once
        again = await first.claim_reading(0)  # taken with a lease that ends at once
        assert again is not None and again.item == two.item and again.tries == 1
        assert (await second.claim_reading(60) or again).item == two.item  # lease over
        await first.reading_done(one)
        assert await first.reading_jobs() == 1
        await first.store_reading(one.sha256, '{"lines": []}')
        assert await second.reading(one.sha256) == '{"lines": []}'
        await second.delete_user("telegram", "on")
        assert await first.reading_jobs() == 0
